#include "net/scu_session.h"

#include <dcmtk/dcmnet/diutil.h>

#include "net/received_store.h"
#include "net/tls.h"

namespace e2e::net {
namespace {

OFList<OFString> toList(const std::vector<std::string>& v) {
  OFList<OFString> l;
  for (const auto& s : v) l.push_back(s.c_str());
  return l;
}

bool isWaveformOrDocument(const std::string& sop) {
  return sop.rfind("1.2.840.10008.5.1.4.1.1.9.", 0) == 0 || sop == "1.2.840.10008.5.1.4.1.1.104.1" ||
         sop == "1.2.840.10008.5.1.4.1.1.88.33";
}

bool mentions(const OFCondition& c, const char* word) {
  const std::string t = c.text();
  return t.find(word) != std::string::npos;
}

}  // namespace

ScuSession::ScuSession(const Association& a, const job::CancelToken& cancel) : assoc_(a), cancel_(cancel) {
  initNetworking();
  if (!validAeTitle(a.ourAet)) throw std::invalid_argument("our AE title '" + a.ourAet + "' must be 1-16 printable characters");
  setAETitle(a.ourAet.c_str());
  setPeerAETitle(a.peer.aet.c_str());
  setPeerHostName(a.peer.host.c_str());
  setPeerPort(static_cast<Uint16>(a.peer.port));
  setConnectionTimeout(a.connectTimeoutS);
  setACSETimeout(static_cast<Uint32>(a.acseTimeoutS));
  setDIMSETimeout(static_cast<Uint32>(a.dimseTimeoutS));
  setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  setStorageMode(DCMSCU_STORAGE_BIT_PRESERVING);
  setDatasetConversionMode(OFTrue);
  if (a.tls.enabled) tls_ = makeTlsLayer(a.tls, false);
}

ScuSession::~ScuSession() { close(cancel_.cancelled()); }

void ScuSession::propose(const std::string& sopClass, const std::vector<std::string>& ts, T_ASC_SC_ROLE role) {
  addPresentationContext(sopClass.c_str(), toList(ts), role);
}

void ScuSession::proposeStorageForGet() {
  // One context per transfer syntax, so that the peer sends each object as it holds it.
  for (const auto& sop : storageSopClasses()) {
    if (isWaveformOrDocument(sop)) {
      for (const char* ts : {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"}) propose(sop, {ts}, ASC_SC_ROLE_SCP);
    } else {
      for (const auto& ts : acceptedTransferSyntaxes()) propose(sop, {ts}, ASC_SC_ROLE_SCP);
    }
  }
}

void ScuSession::connect() {
  OFCondition c = initNetwork();
  if (c.bad()) throw NetError(NetError::Kind::Protocol, std::string("cannot set up the network: ") + c.text());
  if (tls_) {
    c = useSecureConnection(tls_.get());
    if (c.bad()) throw NetError(NetError::Kind::Tls, std::string("TLS: cannot use the TLS layer: ") + c.text());
  }
  takeOpenSslErrors();
  c = negotiateAssociation();
  if (c.good()) return;
  throw connectFailure(c);
}

NetError ScuSession::connectFailure(const OFCondition& c) const {
  const std::string peer = assoc_.peer.str();
  const std::string ssl = takeOpenSslErrors();
  if (c == DUL_ASSOCIATIONREJECTED)
    return NetError(NetError::Kind::Rejected, "association rejected by " + peer + " (is our AE title '" +
                                                  assoc_.ourAet + "' known to the peer, and its AE title right?)");
  if (c == NET_EC_NoAcceptablePresentationContexts)
    return NetError(NetError::Kind::NoContext, peer + " accepted none of the proposed SOP classes / transfer syntaxes");
  if (mentions(c, "imeout") || mentions(c, "timed out"))
    return NetError(NetError::Kind::Timeout, "no answer from " + peer + " within the timeout (" + c.text() + ")");
  const bool refused = mentions(c, "onnection refused") || mentions(c, "o route") || mentions(c, "nknown host");
  if (tls_ && !refused)
    return NetError(NetError::Kind::Tls, "TLS connection to " + peer + " failed: " + describeTlsFailure(c.text(), ssl));
  if (!refused && (c == DUL_PEERABORTEDASSOCIATION || mentions(c, "closed") || mentions(c, "eset by peer")))
    return NetError(NetError::Kind::Protocol, peer + " closed the connection before the association was set up: " +
                                                  c.text() + " (does the peer require DICOM TLS? then use TLS options)");
  return NetError(NetError::Kind::Unreachable, "cannot connect to " + peer + ": " + c.text());
}

T_ASC_PresentationContextID ScuSession::contextFor(const std::string& sopClass, const std::string& ts) {
  const T_ASC_PresentationContextID id = ts.empty() ? findAnyPresentationContextID(sopClass.c_str(), "")
                                                    : findPresentationContextID(sopClass.c_str(), ts.c_str());
  if (id == 0) {
    const char* name = dcmFindNameOfUID(sopClass.c_str(), sopClass.c_str());
    throw NetError(NetError::Kind::NoContext,
                   assoc_.peer.str() + " did not accept " + name + (ts.empty() ? "" : " in transfer syntax " + ts));
  }
  return id;
}

void ScuSession::close(bool abort) {
  if (!isConnected()) return;
  if (abort) abortAssociation();
  else releaseAssociation();
}

NetError ScuSession::failure(const OFCondition& cond, const std::string& what) const {
  const std::string peer = assoc_.peer.str();
  if (cond == DIMSE_NODATAAVAILABLE || mentions(cond, "imeout"))
    return NetError(NetError::Kind::Timeout, what + ": no answer from " + peer + " within " +
                                                 std::to_string(assoc_.dimseTimeoutS) + " s");
  if (cond == DUL_PEERABORTEDASSOCIATION)
    return NetError(NetError::Kind::Protocol, what + ": " + peer + " aborted the association");
  if (cond == DUL_PEERREQUESTEDRELEASE)
    return NetError(NetError::Kind::Protocol, what + ": " + peer + " released the association early");
  return NetError(NetError::Kind::Protocol, what + " with " + peer + " failed: " + cond.text());
}

void ScuSession::maybeCancel(T_ASC_PresentationContextID presID, bool more) {
  if (!more || cancelSent_ || !cancel_.cancelled()) return;
  if (sendCANCELRequest(presID).good()) cancelSent_ = true;
}

OFCondition ScuSession::handleFINDResponse(const T_ASC_PresentationContextID presID, QRResponse* response,
                                           OFBool& waitForNextResponse) {
  OFCondition c = DcmSCU::handleFINDResponse(presID, response, waitForNextResponse);
  if (response && response->m_dataset && isDimsePending(response->m_status)) {
    if (!cancelSent_ && onFind) onFind(*response);
    ++rows_;
    if (maxRows > 0 && rows_ >= maxRows && !cancelSent_ && waitForNextResponse) {
      if (sendCANCELRequest(presID).good()) cancelSent_ = true;
    }
  }
  maybeCancel(presID, waitForNextResponse);
  return c;
}

OFCondition ScuSession::handleMOVEResponse(const T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                           OFBool& waitForNextResponse) {
  OFCondition c = DcmSCU::handleMOVEResponse(presID, response, waitForNextResponse);
  if (response && onRetrieve) onRetrieve(*response);
  maybeCancel(presID, waitForNextResponse);
  return c;
}

OFCondition ScuSession::handleCGETResponse(const T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                           OFBool& continueCGETSession) {
  OFCondition c = DcmSCU::handleCGETResponse(presID, response, continueCGETSession);
  if (response && onRetrieve) onRetrieve(*response);
  maybeCancel(presID, continueCGETSession);
  return c;
}

OFCondition ScuSession::handleSTORERequestFile(T_ASC_PresentationContextID* presID, const OFString& /*filename*/,
                                               T_DIMSE_C_StoreRQ* request) {
  if (!store) return DcmSCU::ignoreSTORERequest(*presID, *request);
  const std::string temp = store->newTempPath();
  OFCondition c = DcmSCU::handleSTORERequestFile(presID, temp.c_str(), request);
  if (c.bad()) {
    ReceivedStore::discard(temp);
    return c;
  }
  const StoreResult r = store->commit(temp);
  if (onStored) onStored(r);
  // A peer that keeps sending after our C-CANCEL: stop the session (the caller aborts).
  if (cancel_.cancelled() && ++storesAfterCancel_ > 2) return DIMSE_RECEIVEFAILED;
  return EC_Normal;
}

}  // namespace e2e::net
