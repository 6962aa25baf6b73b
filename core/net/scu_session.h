// Internal to core/net: one SCU association on DCMTK's DcmSCU, with typed errors, cancellation
// (C-CANCEL on a running C-FIND / C-GET / C-MOVE) and hooks for each response and each object a
// C-GET brings. Not part of the public API (see net/scu.h).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include "jobs/job.h"
#include "net/net_common.h"

namespace e2e::net {

class ReceivedStore;
struct StoreResult;

class ScuSession : public DcmSCU {
 public:
  ScuSession(const Association& a, const job::CancelToken& cancel);
  ~ScuSession() override;

  // Before connect(): one presentation context (abstract syntax + transfer syntaxes).
  void propose(const std::string& sopClass, const std::vector<std::string>& transferSyntaxes,
               T_ASC_SC_ROLE role = ASC_SC_ROLE_DEFAULT);
  // Storage SOP classes as C-GET receiver (SCP role), one context per transfer syntax that fits.
  void proposeStorageForGet();
  // Opens the association; throws NetError (unreachable, rejected, timeout, no context).
  void connect();
  // The accepted context for this SOP class (and transfer syntax if given); throws NetError::NoContext.
  T_ASC_PresentationContextID contextFor(const std::string& sopClass, const std::string& ts = "");
  // Releases (or aborts when `abort`) the association if still open.
  void close(bool abort = false);
  // A NetError for a failed DIMSE exchange.
  NetError failure(const OFCondition& cond, const std::string& what) const;

  const Association& association() const { return assoc_; }
  bool cancelSent() const { return cancelSent_; }

  // Hooks (set before the request).
  std::function<void(QRResponse&)> onFind;                // every C-FIND response with a data set
  std::function<void(RetrieveResponse&)> onRetrieve;      // every C-GET / C-MOVE response
  ReceivedStore* store = nullptr;                         // C-GET: where incoming objects go
  std::function<void(const StoreResult&)> onStored;       // C-GET: each incoming object's fate
  int maxRows = 0;                                        // C-FIND: cancel after this many rows (0: no limit)

 protected:
  OFCondition handleFINDResponse(const T_ASC_PresentationContextID presID, QRResponse* response,
                                 OFBool& waitForNextResponse) override;
  OFCondition handleMOVEResponse(const T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                 OFBool& waitForNextResponse) override;
  OFCondition handleCGETResponse(const T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                 OFBool& continueCGETSession) override;
  OFCondition handleSTORERequestFile(T_ASC_PresentationContextID* presID, const OFString& filename,
                                     T_DIMSE_C_StoreRQ* request) override;

 private:
  void maybeCancel(T_ASC_PresentationContextID presID, bool more);

  NetError connectFailure(const OFCondition& c) const;

  Association assoc_;
  std::unique_ptr<DcmTLSTransportLayer> tls_;  // DICOM TLS (outlives the association: closed in ~ScuSession)
  job::CancelToken cancel_;
  bool cancelSent_ = false;
  int rows_ = 0;
  int storesAfterCancel_ = 0;
};

}  // namespace e2e::net
