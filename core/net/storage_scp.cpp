#include "net/storage_scp.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/tls.h"

namespace e2e::net {
namespace {

// The numeric addresses of a host name ("localhost" -> 127.0.0.1, ::1).
std::vector<std::string> addressesOf(const std::string& host) {
  std::vector<std::string> out{host};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (addrinfo* a = res; a; a = a->ai_next) {
    char buf[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0) out.emplace_back(buf);
  }
  freeaddrinfo(res);
  return out;
}

std::string plainIp(std::string ip) {
  if (ip.rfind("::ffff:", 0) == 0) ip = ip.substr(7);
  const auto colon = ip.find(':');
  if (colon != std::string::npos && ip.find(':', colon + 1) == std::string::npos) ip = ip.substr(0, colon);
  return ip;
}

std::string trimmed(const char* s) {
  std::string v = s ? s : "";
  while (!v.empty() && v.back() == ' ') v.pop_back();
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

}  // namespace

const char* toString(ScpEvent::Type t) {
  switch (t) {
    case ScpEvent::Type::Listening: return "listening";
    case ScpEvent::Type::AssociationAccepted: return "association accepted";
    case ScpEvent::Type::AssociationRefused: return "association refused";
    case ScpEvent::Type::Echo: return "echo";
    case ScpEvent::Type::ObjectStored: return "object";
    case ScpEvent::Type::ObjectAborted: return "object aborted";
    case ScpEvent::Type::AssociationReleased: return "association released";
    case ScpEvent::Type::AssociationAborted: return "association aborted";
    default: return "stopped";
  }
}

bool peerAllowed(const std::vector<AllowedPeer>& allow, const std::string& callingAet, const std::string& peerIp) {
  const std::string ip = plainIp(peerIp);
  for (const auto& a : allow) {
    if (a.aet != callingAet) continue;
    if (a.host == "*") return true;
    for (const auto& addr : addressesOf(a.host))
      if (plainIp(addr) == ip) return true;
  }
  return false;
}

struct StorageScp::Impl {
  ScpOptions opts;
  std::function<void(const ScpEvent&)> onEvent;
  std::unique_ptr<ReceivedStore> store;
  std::unique_ptr<DcmTLSTransportLayer> tls;
  ScpStats stats;
  std::mutex eventMu;  // events come from the SCP's thread and from the importer's
  std::mutex socketMu;
  int assocSocket = -1;  // the connected socket of the association being served (-1: none known)

  void emit(ScpEvent::Type t, const std::string& aet, const std::string& host, const std::string& msg,
            const StoreResult* obj = nullptr) {
    std::lock_guard<std::mutex> lk(eventMu);
    if (!onEvent) return;
    ScpEvent e;
    e.type = t;
    e.callingAet = aet;
    e.peerHost = host;
    e.message = msg;
    if (obj) e.object = *obj;
    onEvent(e);
  }
  // An object's final outcome: counted and reported.
  void objectDone(const StoreResult& r) {
    {
      std::lock_guard<std::mutex> lk(eventMu);
      count(r);
    }
    emit(ScpEvent::Type::ObjectStored, r.callingAet, r.peerHost, r.message, &r);
  }
  void count(const StoreResult& r) {
    ++stats.received;
    switch (r.outcome) {
      case StoreOutcome::Added: ++stats.added; break;
      case StoreOutcome::Stored: ++stats.stored; break;
      case StoreOutcome::NotImported: ++stats.notImported; break;
      case StoreOutcome::Skipped: ++stats.skipped; break;
      case StoreOutcome::Conflict: ++stats.conflicts; break;
      default: ++stats.failed; break;
    }
  }
};

namespace {

// A TLS handshake that fails on our side (a plain client, a certificate from an unknown CA, no
// client certificate) never reaches DcmSCP's hooks; OpenSSL's info callback reports it.
int tlsExIndex() {
  static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}

std::string peerIpOf(const SSL* ssl) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  const int fd = SSL_get_fd(ssl);
  char buf[NI_MAXHOST] = "";
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      getnameinfo(reinterpret_cast<sockaddr*>(&a), len, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) != 0)
    return "";
  return plainIp(buf);
}

void onTlsInfo(const SSL* ssl, int where, int ret) {
  auto* impl = static_cast<StorageScp::Impl*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tlsExIndex()));
  if (!impl) return;
  if (where & SSL_CB_HANDSHAKE_START) {
    // The handshake reads block (DCMTK's socket receive timeout, 60 s): a client that connects and
    // says nothing holds the SCP no longer than the ACSE timeout, as a plain one does.
    const timeval tv{impl->opts.acseTimeoutS, 0};
    setsockopt(SSL_get_fd(ssl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return;
  }
  if (!(where & SSL_CB_ACCEPT_EXIT) || ret > 0) return;
  const int err = SSL_get_error(ssl, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  const std::string r = reason ? reason : "";
  std::string why;
  if (r.find("wrong version number") != std::string::npos || r.find("http request") != std::string::npos)
    why = "the client does not speak TLS (a plain DICOM client?)";
  else if (r.find("certificate verify failed") != std::string::npos)
    why = "the client's certificate is not signed by a trusted CA (or has expired)";
  else if (r.find("did not return a certificate") != std::string::npos)
    why = "the client sent no certificate (client certificates are required)";
  else if (r.find("alert") != std::string::npos)
    why = "the client refused the handshake (does it trust our certificate's CA?)";
  else
    why = "the handshake broke off";
  ++impl->stats.refusedAssociations;
  impl->emit(ScpEvent::Type::AssociationRefused, "", peerIpOf(ssl),
             "TLS handshake failed: " + why + (r.empty() ? "" : " (" + r + ")"));
}

int portOf(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// The connected socket of the association being served: the one socket of this process whose own
// port is the SCP's and that has a peer (DcmSCP serves one association at a time and does not
// expose its socket). -1 when there is not exactly one.
int associationSocket(int port) {
  namespace fs = std::filesystem;
  int found = -1, n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/self/fd", ec)) {
    const int fd = std::atoi(e.path().filename().c_str());
    sockaddr_storage a{}, b{};
    socklen_t la = sizeof a, lb = sizeof b;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &la) != 0 || portOf(a) != port) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&b), &lb) != 0) continue;  // the listening socket
    found = fd;
    ++n;
  }
  return n == 1 ? found : -1;
}

class Scp : public DcmSCP {
 public:
  Scp(StorageScp::Impl& impl, const job::CancelToken& cancel) : impl_(impl), cancel_(cancel) {}

 protected:
  void notifyAssociationRequest(const T_ASC_Parameters& params, DcmSCPActionType& /*desired*/) override {
    aet_ = trimmed(params.DULparams.callingAPTitle);
    host_ = plainIp(params.DULparams.callingPresentationAddress);
    called_ = trimmed(params.DULparams.calledAPTitle);
    accepted_ = false;
  }
  OFBool checkCalledAETitleAccepted(const OFString& calledAE) override {
    if (trimmed(calledAE.c_str()) == impl_.opts.aet) return OFTrue;
    refuse("called AE title '" + called_ + "' is not ours ('" + impl_.opts.aet + "')");
    return OFFalse;
  }
  OFBool checkCallingAETitleAccepted(const OFString& /*callingAE*/) override {
    if (impl_.opts.allowAny || peerAllowed(impl_.opts.allow, aet_, host_)) return OFTrue;
    refuse("calling peer " + aet_ + "@" + host_ + " is not in the allow list");
    return OFFalse;
  }
  void notifyAssociationAcknowledge() override {
    {
      std::lock_guard<std::mutex> lk(impl_.socketMu);
      impl_.assocSocket = associationSocket(impl_.opts.port);
    }
    accepted_ = true;
    ++impl_.stats.associations;
    impl_.emit(ScpEvent::Type::AssociationAccepted, aet_, host_, "");
  }
  void notifyReleaseRequest() override { impl_.emit(ScpEvent::Type::AssociationReleased, aet_, host_, ""); }
  void notifyAbortRequest() override {
    aborted(cancel_.cancelled() ? "stopped" : "the peer aborted the association");
  }
  void notifyAssociationTermination() override {
    std::lock_guard<std::mutex> lk(impl_.socketMu);  // before DcmSCP closes the socket
    impl_.assocSocket = -1;
  }
  void notifyDIMSEError(const OFCondition& cond) override {
    aborted(cancel_.cancelled() ? "stopped" : std::string("association ended: ") + cond.text());
  }
  OFBool stopAfterCurrentAssociation() override { return cancel_.cancelled(); }
  OFBool stopAfterConnectionTimeout() override { return cancel_.cancelled(); }

  OFCondition handleIncomingCommand(T_DIMSE_Message* msg, const DcmPresentationContextInfo& info) override {
    OFCondition c;
    if (msg->CommandField == DIMSE_C_STORE_RQ) {
      c = handleStore(msg->msg.CStoreRQ, info.presentationContextID);
    } else {
      c = DcmSCP::handleIncomingCommand(msg, info);
      if (c.good() && msg->CommandField == DIMSE_C_ECHO_RQ) {
        ++impl_.stats.echoes;
        impl_.emit(ScpEvent::Type::Echo, aet_, host_, "");
      }
    }
    if (c.good() && cancel_.cancelled()) return NET_EC_StopAfterAssociation;  // ends (aborts) the association
    return c;
  }

 private:
  OFCondition handleStore(T_DIMSE_C_StoreRQ& req, T_ASC_PresentationContextID pc) {
    const std::string temp = impl_.store->newTempPath();
    OFCondition c = receiveSTORERequest(req, pc, temp.c_str());
    if (c.bad()) {
      ReceivedStore::discard(temp);
      ++impl_.stats.aborted;
      StoreResult r;
      r.sopInstanceUid = req.AffectedSOPInstanceUID;
      r.sopClassUid = req.AffectedSOPClassUID;
      r.message = std::string("transfer broke off: ") + c.text() + "; nothing kept";
      impl_.emit(ScpEvent::Type::ObjectAborted, aet_, host_, r.message, &r);
      return c;
    }
    const StoreResult r = impl_.store->commit(temp, aet_, host_);
    if (!r.pending) impl_.objectDone(r);  // else the importer reports it
    DcmDataset detail;
    if (!r.accepted()) detail.putAndInsertString(DCM_ErrorComment, r.message.substr(0, 64).c_str());
    return sendSTOREResponse(pc, req.MessageID, req.AffectedSOPClassUID, req.AffectedSOPInstanceUID, r.dimseStatus,
                             r.accepted() ? nullptr : &detail);
  }
  void refuse(const std::string& why) {
    ++impl_.stats.refusedAssociations;
    impl_.emit(ScpEvent::Type::AssociationRefused, aet_, host_, why);
  }
  void aborted(const std::string& why) {
    if (!accepted_) return;
    ++impl_.stats.abortedAssociations;
    impl_.emit(ScpEvent::Type::AssociationAborted, aet_, host_, why);
  }

  StorageScp::Impl& impl_;
  job::CancelToken cancel_;
  std::string aet_, host_, called_;
  bool accepted_ = false;
};

}  // namespace

StorageScp::StorageScp(const ScpOptions& opts, std::function<void(const ScpEvent&)> onEvent)
    : impl_(std::make_unique<Impl>()) {
  initNetworking();
  if (!validAeTitle(opts.aet)) throw std::invalid_argument("AE title '" + opts.aet + "' must be 1-16 printable characters");
  if (opts.port < 1 || opts.port > 65535) throw std::invalid_argument("port must be 1-65535");
  if (opts.dbPath.empty() && opts.folder.empty()) throw std::invalid_argument("the SCP needs a database or a folder");
  impl_->opts = opts;
  impl_->onEvent = std::move(onEvent);
  impl_->store = std::make_unique<ReceivedStore>(opts.dbPath, opts.folder);
  if (opts.tls.enabled) {
    impl_->tls = makeTlsLayer(opts.tls, true);
    SSL_CTX* ctx = impl_->tls->getNativeHandle();
    SSL_CTX_set_ex_data(ctx, tlsExIndex(), impl_.get());
    SSL_CTX_set_info_callback(ctx, onTlsInfo);
  }
}

StorageScp::~StorageScp() = default;

const std::string& StorageScp::folder() const { return impl_->store->folder(); }

namespace {

void configure(DcmSCP& scp, const ScpOptions& o, DcmTLSTransportLayer* tls) {
  scp.setAETitle(o.aet.c_str());
  scp.setPort(static_cast<Uint16>(o.port));
  scp.setConnectionBlockingMode(DUL_NOBLOCK);
  scp.setConnectionTimeout(1);
  scp.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  scp.setDIMSETimeout(static_cast<Uint32>(o.dimseTimeoutS));
  scp.setACSETimeout(static_cast<Uint32>(o.acseTimeoutS));
  scp.setHostLookupEnabled(OFFalse);
  scp.setMaxReceivePDULength(ASC_MAXIMUMPDUSIZE);  // fewer, larger PDUs from the sender (16 kB by default)
  if (tls) scp.getConfig().setTransportLayer(tls);
  OFList<OFString> uncompressed;
  uncompressed.push_back(UID_LittleEndianExplicitTransferSyntax);
  uncompressed.push_back(UID_LittleEndianImplicitTransferSyntax);
  scp.addPresentationContext(UID_VerificationSOPClass, uncompressed);
  // Which of the proposed transfer syntaxes we pick: the lossless encodings an SCU proposes are kept
  // as they are (bit-preserving), then uncompressed, then the lossy ones (which the SCU would
  // otherwise have to decompress).
  OFList<OFString> ts;
  for (const char* t : {"1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.57",
                        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2",
                        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81",
                        "1.2.840.10008.1.2.4.91"})
    ts.push_back(t);
  for (const auto& sop : storageSopClasses()) scp.addPresentationContext(sop.c_str(), ts);
}

// Stops a served association promptly when the token fires: its socket is shut for reading, so
// DcmSCP's wait for the next message (or the rest of an object) ends at once instead of after the
// DIMSE timeout; DcmSCP then aborts the association.
class StopWatcher {
 public:
  StopWatcher(StorageScp::Impl& impl, const job::CancelToken& cancel) : impl_(impl), cancel_(cancel) {
    thread_ = std::thread([this] { watch(); });
  }
  ~StopWatcher() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void watch() {
    std::unique_lock<std::mutex> lk(mu_);
    while (!done_) {
      if (cancel_.cancelled()) {
        std::lock_guard<std::mutex> g(impl_.socketMu);
        if (impl_.assocSocket >= 0) ::shutdown(impl_.assocSocket, SHUT_RD);
        impl_.assocSocket = -1;
      }
      cv_.wait_for(lk, std::chrono::milliseconds(100), [this] { return done_; });
    }
  }
  StorageScp::Impl& impl_;
  job::CancelToken cancel_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

ScpStats StorageScp::run(const job::CancelToken& cancel) {
  Scp scp(*impl_, cancel);
  const auto& o = impl_->opts;
  configure(scp, o, impl_->tls.get());
  OFCondition c = scp.openListenPort();
  if (c.bad())
    throw NetError(NetError::Kind::Unreachable,
                   "cannot listen on port " + std::to_string(o.port) + ": " + c.text() + " (in use, or a privileged port?)");
  // With a database, objects are acknowledged once placed in the folder (and journalled) and are
  // imported in batches by the store's importer thread, which reports each one's outcome.
  struct ImportGuard {
    ReceivedStore& store;
    ~ImportGuard() { store.finishBackgroundImport(); }
  } importGuard{*impl_->store};
  if (!o.dbPath.empty()) impl_->store->startBackgroundImport([this](const StoreResult& r) { impl_->objectDone(r); });
  impl_->emit(ScpEvent::Type::Listening, "", "",
              o.aet + " on port " + std::to_string(o.port) + (impl_->tls ? " (DICOM TLS)" : ""));
  {
    StopWatcher watcher(*impl_, cancel);
    c = scp.acceptAssociations();
  }
  impl_->store->finishBackgroundImport();  // what was acknowledged is imported before Stopped
  impl_->emit(ScpEvent::Type::Stopped, "", "", cancel.cancelled() ? "stopped" : c.text());
  return impl_->stats;
}

}  // namespace e2e::net
