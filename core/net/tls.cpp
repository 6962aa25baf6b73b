#include "net/tls.h"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace e2e::net {
namespace {

[[noreturn]] void fail(const std::string& what) { throw NetError(NetError::Kind::Tls, "TLS set-up: " + what); }

// The file must exist, be a regular file and be readable: a clear message before OpenSSL's.
void checkReadable(const std::string& path, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(what + " '" + path + "' does not exist");
  if (!fs::is_regular_file(path, ec)) fail(what + " '" + path + "' is not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(what + " '" + path + "' cannot be read: " + std::strerror(errno));
  char c = 0;
  if (!in.get(c)) fail(what + " '" + path + "' is empty");
}

std::string reason(const OFCondition& c) {
  std::string r = takeOpenSslErrors();
  return r.empty() ? std::string(c.text()) : r;
}

DcmTLSSecurityProfile dcmtkProfile(TlsProfile p) {
  switch (p) {
    case TlsProfile::Bcp195NonDowngrading: return TSP_Profile_BCP195_ND;
    case TlsProfile::Bcp195Extended: return TSP_Profile_BCP195_Extended;
    default: return TSP_Profile_BCP195;
  }
}

}  // namespace

const char* toString(TlsProfile p) {
  switch (p) {
    case TlsProfile::Bcp195NonDowngrading: return "bcp195-nd";
    case TlsProfile::Bcp195Extended: return "bcp195-ext";
    default: return "bcp195";
  }
}

TlsProfile parseTlsProfile(const std::string& s) {
  if (s == "bcp195") return TlsProfile::Bcp195;
  if (s == "bcp195-nd") return TlsProfile::Bcp195NonDowngrading;
  if (s == "bcp195-ext") return TlsProfile::Bcp195Extended;
  throw std::invalid_argument("unknown TLS profile '" + s + "' (bcp195, bcp195-nd, bcp195-ext)");
}

std::string takeOpenSslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const char* r = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += r ? r : buf;
  }
  return out;
}

std::string describeTlsFailure(const std::string& cond, const std::string& ssl) {
  auto has = [](const std::string& s, const char* w) { return s.find(w) != std::string::npos; };
  std::string alerts;  // the peer's TLS alerts ("tlsv13 alert certificate required", ...)
  std::size_t start = 0;
  while (start < ssl.size()) {
    std::size_t end = ssl.find("; ", start);
    if (end == std::string::npos) end = ssl.size();
    const std::string r = ssl.substr(start, end - start);
    if (has(r, "alert")) alerts += (alerts.empty() ? "" : ", ") + r;
    start = end + 2;
  }
  std::string why;
  if (has(cond, "certificate verify failed"))
    why = "the peer's certificate is not signed by a CA we trust (or has expired)";
  else if (has(alerts, "certificate required"))
    why = "the peer requires a client certificate and we have none (give our key and certificate)";
  else if (has(alerts, "unknown ca") || has(alerts, "bad certificate") || has(alerts, "certificate unknown") ||
           has(alerts, "certificate expired"))
    why = "the peer does not accept our certificate (not signed by a CA it trusts?)";
  else if (has(cond, "eset by peer") || has(cond, "Peer aborted"))
    why = "the peer closed the connection after the TLS handshake: it does not accept our certificate?";
  else if (has(cond, "SSL_ERROR_SYSCALL") || has(ssl, "wrong version number") || has(cond, "wrong version number"))
    why = "the peer broke off the TLS handshake: does it speak DICOM TLS on this port?";
  else
    why = "TLS handshake or transfer failed";
  return why + " (" + cond + (alerts.empty() ? "" : "; peer alert: " + alerts) + ")";
}

std::unique_ptr<DcmTLSTransportLayer> makeTlsLayer(const TlsOptions& o, bool server) {
  if (o.keyFile.empty() != o.certFile.empty()) fail("a certificate needs its private key (give both, or neither)");
  if (server && o.certFile.empty()) fail("the TLS server needs a certificate and its private key");
  if (o.verifyPeer && o.caFiles.empty() && o.caDir.empty())
    fail(std::string("verifying the peer needs trusted CA certificates (a CA file or folder)"));
  if (!o.keyFile.empty()) checkReadable(o.keyFile, "private key");
  if (!o.certFile.empty()) checkReadable(o.certFile, "certificate");
  for (const auto& ca : o.caFiles) checkReadable(ca, "CA certificate");
  std::error_code ec;
  if (!o.caDir.empty() && !std::filesystem::is_directory(o.caDir, ec)) fail("CA folder '" + o.caDir + "' does not exist");

  takeOpenSslErrors();
  auto layer = std::make_unique<DcmTLSTransportLayer>(server ? NET_ACCEPTOR : NET_REQUESTOR, nullptr, OFTrue);
  if (!*layer) fail("cannot create the TLS context: " + takeOpenSslErrors());
  OFCondition c = layer->setTLSProfile(dcmtkProfile(o.profile));
  if (c.good()) c = layer->activateCipherSuites();
  if (c.bad()) fail(std::string("cannot set the ") + toString(o.profile) + " cipher suites: " + reason(c));
  if (!o.keyFile.empty()) {
    layer->setPrivateKeyPasswd("");  // an encrypted key fails instead of prompting on the console
    c = layer->setPrivateKeyFile(o.keyFile.c_str(), DCF_Filetype_PEM);
    if (c.bad()) fail("cannot load the private key '" + o.keyFile + "' (PEM, unencrypted): " + reason(c));
    c = layer->setCertificateFile(o.certFile.c_str(), DCF_Filetype_PEM);
    if (c.bad()) fail("cannot load the certificate '" + o.certFile + "' (PEM): " + reason(c));
    if (!layer->checkPrivateKeyMatchesCertificate())
      fail("the private key '" + o.keyFile + "' does not belong to the certificate '" + o.certFile + "'");
  }
  for (const auto& ca : o.caFiles) {
    c = layer->addTrustedCertificateFile(ca.c_str(), DCF_Filetype_PEM);
    if (c.bad()) fail("cannot load the CA certificate '" + ca + "' (PEM): " + reason(c));
  }
  if (!o.caDir.empty()) {
    c = layer->addTrustedCertificateDir(o.caDir.c_str(), DCF_Filetype_PEM);
    if (c.bad()) fail("cannot use the CA folder '" + o.caDir + "': " + reason(c));
  }
  layer->setCertificateVerification(o.verifyPeer ? DCV_requireCertificate : DCV_ignoreCertificate);
  takeOpenSslErrors();
  return layer;
}

}  // namespace e2e::net
