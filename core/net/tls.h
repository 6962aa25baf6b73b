// Internal to core/net: a DCMTK TLS transport layer (dcmtls, OpenSSL) made from TlsOptions, with
// every file checked first so that a missing or unreadable key, certificate or CA gives a clear
// NetError(Tls) before any connection. Not part of the public API (see net/net_common.h).
#pragma once
#include <memory>
#include <string>

#include <dcmtk/dcmtls/tlslayer.h>

#include "net/net_common.h"

namespace e2e::net {

// Throws NetError(Kind::Tls) naming the file and the reason. `server`: the SCP side (key and
// certificate required; verifyPeer asks for a client certificate).
std::unique_ptr<DcmTLSTransportLayer> makeTlsLayer(const TlsOptions& o, bool server);

// For a failed TLS connection: the OpenSSL reasons still queued on this thread ("" if none),
// then clears the queue.
std::string takeOpenSslErrors();

// Why a TLS client connection failed, in words, from DCMTK's condition text and the OpenSSL
// reasons (the peer's TLS alerts among them): an untrusted server certificate, a client certificate
// the peer requires or refuses, a peer that does not speak TLS.
std::string describeTlsFailure(const std::string& condition, const std::string& openSslReasons);

}  // namespace e2e::net
