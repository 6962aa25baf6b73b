// The DICOM TLS options shared by `echo2ecg serve` and `echo2ecg pacs`: --tls-key, --tls-cert,
// --tls-ca (repeatable), --tls-ca-dir, --tls-profile and --tls-no-verify; any of them turns TLS on.
#pragma once
#include <string>
#include <vector>

#include "commands.h"
#include "net/net_common.h"

namespace e2e::cli {

inline const char* kTlsUsage =
    "TLS:   --tls-key KEY.pem --tls-cert CERT.pem   our private key (unencrypted PEM) and certificate\n"
    "       --tls-ca CA.pem (repeatable) | --tls-ca-dir DIR   trusted CA certificates (PEM; DIR hashed)\n"
    "       --tls-profile bcp195|bcp195-nd|bcp195-ext   cipher suites (default bcp195)\n"
    "       --tls-no-verify   do not verify the peer's certificate (no CA needed; not recommended)\n";

inline std::vector<std::string> withTlsOptions(std::vector<std::string> valued) {
  for (const char* o : {"tls-key", "tls-cert", "tls-ca", "tls-ca-dir", "tls-profile"}) valued.emplace_back(o);
  return valued;
}
inline std::vector<std::string> withTlsFlags(std::vector<std::string> flags) {
  flags.emplace_back("tls-no-verify");
  return flags;
}

// Throws std::invalid_argument for an unknown profile.
inline net::TlsOptions tlsOptionsFrom(const ParsedArgs& a) {
  net::TlsOptions t;
  for (const char* o : {"tls-key", "tls-cert", "tls-ca", "tls-ca-dir", "tls-profile", "tls-no-verify"})
    t.enabled = t.enabled || a.has(o);
  t.keyFile = a.get("tls-key");
  t.certFile = a.get("tls-cert");
  if (a.has("tls-ca")) t.caFiles = a.options.at("tls-ca");
  t.caDir = a.get("tls-ca-dir");
  t.verifyPeer = !a.has("tls-no-verify");
  if (a.has("tls-profile")) t.profile = net::parseTlsProfile(a.get("tls-profile"));
  return t;
}

}  // namespace e2e::cli
