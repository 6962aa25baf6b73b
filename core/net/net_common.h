// DICOM networking (DCMTK dcmnet), shared pieces: peers, association settings, typed errors,
// the storage SOP classes and transfer syntaxes we negotiate, DIMSE status texts. Qt-free.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace e2e::net {

// A remote application entity: "AET@HOST:PORT".
struct Peer {
  std::string aet, host;
  int port = 0;
  std::string str() const;  // "AET@HOST:PORT"
};
// Parses "AET@HOST:PORT"; throws std::invalid_argument with a clear message.
Peer parsePeer(const std::string& text);

// An allow-list entry "AET@HOST" (HOST: name or IP address; "*" matches any host).
struct AllowedPeer {
  std::string aet, host;
};
AllowedPeer parseAllowedPeer(const std::string& text);

// 1..16 characters of printable ASCII without backslash, not all spaces.
bool validAeTitle(const std::string& aet);

// DICOM TLS (PS3.15 Annex B) on DCMTK's dcmtls / OpenSSL. Certificates and keys are PEM files; the
// private key must not be encrypted (no console prompt). The peer's host name is not checked
// against its certificate (DCMTK does not); trust comes from the CAs given.
enum class TlsProfile {
  Bcp195,                // BCP 195: TLS 1.2+ preferred, falls back to TLS 1.0 / the AES profile
  Bcp195NonDowngrading,  // TLS 1.2+ only, the four BCP 195 AES-GCM suites
  Bcp195Extended,        // TLS 1.2 only, BCP 195 suites plus ECDSA
};
const char* toString(TlsProfile p);
TlsProfile parseTlsProfile(const std::string& s);  // "bcp195" / "bcp195-nd" / "bcp195-ext"; throws invalid_argument

struct TlsOptions {
  bool enabled = false;
  // Our certificate and its private key. Required for the SCP; for an SCU needed only when the peer
  // asks for a client certificate (both or neither).
  std::string keyFile, certFile;
  // Trusted CA certificates (PEM files, and/or a folder of hashed certificates as made by
  // `openssl rehash`). Required when verifyPeer.
  std::vector<std::string> caFiles;
  std::string caDir;
  // SCU: the server's certificate must chain to a trusted CA. SCP: a client certificate is
  // required and must chain to a trusted CA (mutual TLS).
  bool verifyPeer = true;
  TlsProfile profile = TlsProfile::Bcp195;
};

// How we associate with a peer.
struct Association {
  std::string ourAet = "ECHO2ECG";
  Peer peer;
  int connectTimeoutS = 10;  // TCP connect
  int acseTimeoutS = 30;     // association negotiation / release
  int dimseTimeoutS = 60;    // each DIMSE message
  TlsOptions tls;            // DICOM TLS when tls.enabled
};

// A network failure, with what the caller needs to tell the user (and map to exit codes).
class NetError : public std::runtime_error {
 public:
  enum class Kind {
    Unreachable,  // no TCP connection (refused, no route, unknown host)
    Rejected,     // the peer rejected the association (AE titles, allow list)
    NoContext,    // association accepted but not for the SOP class / transfer syntax needed
    Timeout,      // the peer did not answer in time
    Protocol,     // the association broke down (aborted, unexpected message)
    Tls,          // TLS set-up (key, certificate, CA files) or handshake failed
  };
  NetError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};
const char* toString(NetError::Kind k);

// Storage SOP classes we send and receive: ECG and other waveforms, US multi-frame and
// single-frame (and their retired variants), Encapsulated PDF, Comprehensive SR, Secondary Capture.
const std::vector<std::string>& storageSopClasses();
bool isStorageSopClass(const std::string& uid);
// Transfer syntaxes the importer decodes: explicit/implicit little endian, RLE, JPEG baseline,
// JPEG lossless (process 14 and its first-order selection value 1).
const std::vector<std::string>& decodableTransferSyntaxes();
// What our SCP accepts: the decodable ones first, then JPEG 2000 and JPEG-LS (stored and
// imported, flagged undecodable exactly as for files).
const std::vector<std::string>& acceptedTransferSyntaxes();

// "Success", "Pending", "Refused: out of resources (0xA700)", ...
std::string dimseStatusText(std::uint16_t status);
inline bool isDimseSuccess(std::uint16_t s) { return s == 0x0000; }
inline bool isDimseWarning(std::uint16_t s) { return s == 0x0001 || (s & 0xF000) == 0xB000 || s == 0x0107 || s == 0x0116; }
inline bool isDimsePending(std::uint16_t s) { return s == 0xFF00 || s == 0xFF01; }
inline bool isDimseCancel(std::uint16_t s) { return s == 0xFE00; }

// Once per process, before the first association: silences DCMTK's own console logging (core never
// prints) and disables Nagle's algorithm on DICOM sockets (DCMTK reads TCP_NODELAY; Debian's build
// leaves Nagle on, which costs a delayed-ACK wait of ~40 ms per C-STORE). A TCP_NODELAY the user set
// is kept. Idempotent.
void initNetworking();

// A DIMSE status we answer for a SOP Instance UID already stored with different content.
constexpr std::uint16_t kStatusDuplicateConflict = 0x0111;  // PS3.7 C.5: "Duplicate SOP Instance"

}  // namespace e2e::net
