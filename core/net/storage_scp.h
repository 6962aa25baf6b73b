// The storage SCP: answers C-ECHO and C-STORE (the storage SOP classes of net_common.h in the
// transfer syntaxes of acceptedTransferSyntaxes()). Calling peers not in the allow list (AE title
// and host) are refused at association. Each object arrives in a temporary file and goes through
// ReceivedStore: atomic rename into <db>.received/<StudyUID>/<SOPUID>.dcm; a conflict or an
// unreadable object is refused with a DIMSE failure status and leaves no file and no rows; an
// aborted association leaves no partial file. With a database, an object is acknowledged (Success)
// once it is in place and listed in the folder's journal, and is imported in batches by an importer
// thread (one transaction per batch, net/import_queue.h): its ObjectStored event, with the final
// outcome, follows from that thread. Objects acknowledged but not imported when the process died
// are imported by the next run on the same folder. run() blocks until the cancel token fires and
// reports what happens through typed events. Associations are served one at a time (a second
// sender waits in the TCP backlog until the first is done). Qt-free, never prints.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "net/net_common.h"
#include "net/received_store.h"

namespace e2e::net {

struct ScpOptions {
  std::string aet = "ECHO2ECG";
  int port = 11112;
  std::vector<AllowedPeer> allow;  // AET@HOST entries (HOST "*" = any host)
  bool allowAny = false;           // accept any calling AE from any host (the allow list is ignored)
  std::string dbPath;              // database the objects are imported into (empty: folder only)
  std::string folder;              // empty: ReceivedStore::defaultFolder(dbPath)
  int acseTimeoutS = 30, dimseTimeoutS = 30;
  // DICOM TLS when tls.enabled: key and certificate required; tls.verifyPeer requires a client
  // certificate from a trusted CA. Plain and failed-handshake clients are refused (an
  // AssociationRefused event that names TLS) and never reach the allow list or the store; a client
  // that connects and never completes its handshake holds the SCP for up to acseTimeoutS.
  TlsOptions tls;
};

struct ScpEvent {
  enum class Type {
    Listening,            // the port is open (message: "AET on port N")
    AssociationAccepted,  // callingAet / peerHost
    AssociationRefused,   // message says why
    Echo,
    ObjectStored,         // `object` says what became of it (also when refused: Conflict / Failed)
    ObjectAborted,        // the transfer broke off; nothing was kept
    AssociationReleased,
    AssociationAborted,
    Stopped,
  };
  Type type = Type::Listening;
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  std::string callingAet, peerHost, message;
  StoreResult object;
};
const char* toString(ScpEvent::Type t);

struct ScpStats {
  int associations = 0, refusedAssociations = 0, abortedAssociations = 0, echoes = 0;
  int received = 0, added = 0, stored = 0, notImported = 0, skipped = 0, conflicts = 0, failed = 0, aborted = 0;
};

class StorageScp {
 public:
  // Throws std::invalid_argument for bad options, db errors when the database cannot be opened.
  StorageScp(const ScpOptions& opts, std::function<void(const ScpEvent&)> onEvent = {});
  ~StorageScp();
  StorageScp(const StorageScp&) = delete;
  StorageScp& operator=(const StorageScp&) = delete;

  // Serves until `cancel` fires (checked every 100 ms to a second): an association open at that
  // moment, idle or mid-object, is aborted at once (a partial object is discarded), what was
  // acknowledged is imported, then run() returns. Events come one at a time (never concurrently)
  // from the thread that calls run() and, for imported objects, from the importer thread. Throws
  // NetError(Unreachable) when the port cannot be opened.
  ScpStats run(const job::CancelToken& cancel);
  const std::string& folder() const;

  struct Impl;  // internal (storage_scp.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether `callingAet` from `peerIp` is in the list (hosts are compared as given and as resolved).
bool peerAllowed(const std::vector<AllowedPeer>& allow, const std::string& callingAet, const std::string& peerIp);

}  // namespace e2e::net
