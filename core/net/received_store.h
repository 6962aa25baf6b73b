// Where received DICOM objects go (storage SCP and C-GET): each object arrives in a temporary
// file, is checked against what is already stored, renamed atomically to
// <folder>/<StudyUID>/<SOPInstanceUID>.dcm and, with a database, run through the importer
// (validation, content-hash dedupe, no overwrite of a SOP Instance UID). A refused object leaves
// no file and no rows; temporary files left by a process that died mid-transfer are removed when
// the next store opens the folder. Thread-safe (one object at a time).
//
// With startBackgroundImport() (the storage SCP), commit() no longer waits for the importer: an
// object is acknowledged (pending) once it is renamed into place and listed in the folder's
// journal, and an importer thread imports the placed objects in batches (net/import_queue.h),
// reporting each one's final outcome through a callback.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace e2e::db {
class Database;
}

namespace e2e::net {

enum class StoreOutcome {
  Added,        // imported into the database (new rows)
  Stored,       // written to the folder (no database)
  NotImported,  // kept in the folder, but the importer does not read it (e.g. PDF, SR); no rows
  Skipped,      // identical object already stored: nothing written
  Conflict,     // same SOP Instance UID, different content: refused, nothing overwritten
  Failed,       // unreadable / not storable: refused
};
const char* toString(StoreOutcome o);

struct StoreResult {
  StoreOutcome outcome = StoreOutcome::Failed;
  std::uint16_t dimseStatus = 0xC000;  // what a C-STORE response should say
  std::string sopInstanceUid, sopClassUid, studyUid;
  std::string path;     // the stored file (Added/Stored/NotImported), the existing one (Skipped/Conflict)
  std::string message;  // why (for everything but Added/Stored)
  // Background import: placed and acknowledged, its final outcome comes from the importer thread.
  bool pending = false;
  std::string callingAet, peerHost;  // who sent it (storage SCP), passed through to the final outcome
  bool accepted() const { return dimseStatus == 0x0000; }
};

// Batches of the background import.
struct BatchOptions {
  int maxObjects = 64;                    // objects per importer run (one write transaction)
  std::chrono::milliseconds maxWait{20};  // how long a batch waits to fill after its first object
  int maxPending = 128;                   // commit() waits while this many objects wait for import
};

class ImportQueue;

class ReceivedStore {
 public:
  // dbPath empty: folder only. folder empty: defaultFolder(dbPath).
  ReceivedStore(const std::string& dbPath, const std::string& folder);
  ~ReceivedStore();
  ReceivedStore(const ReceivedStore&) = delete;
  ReceivedStore& operator=(const ReceivedStore&) = delete;

  // <db>.received beside the database file.
  static std::string defaultFolder(const std::string& dbPath);
  const std::string& folder() const { return folder_; }

  // A fresh temporary file name inside the folder (".incoming/..."), for one object to arrive in.
  std::string newTempPath();
  // Takes the received temporary file over: it is renamed into place or removed. With the
  // background import, a placed object comes back pending (Stored, status 0) and its outcome
  // follows through the callback; refusals and duplicates come back final as before.
  StoreResult commit(const std::string& tempFile, const std::string& callingAet = "",
                     const std::string& peerHost = "");
  // Imports objects in batches on a thread of its own from now on (needs a database); first
  // re-queues the objects a process killed before importing them left in the journal. `onDone` runs
  // on that thread. Throws db errors when the database cannot be opened.
  void startBackgroundImport(std::function<void(const StoreResult&)> onDone, BatchOptions opts = {});
  // Imports what is queued and stops the thread (no-op without a background import).
  void finishBackgroundImport();
  // Removes a temporary file of an object that did not arrive completely.
  static void discard(const std::string& tempFile);

 private:
  void removeStaleParts();
  StoreResult place(StoreResult r, const std::string& tempFile);
  StoreResult importPlaced(StoreResult r, bool wasThere);
  StoreResult queuePlaced(StoreResult r, bool wasThere);

  std::string folder_, incoming_;
  std::string dbPath_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<ImportQueue> queue_;
  std::mutex mu_;
  std::uint64_t counter_ = 0;
};

// Whether two DICOM files hold the same object: the same bytes, or the same data set once
// loaded (meta headers, which name the sender, group lengths and trailing padding are not compared).
bool sameDicomObject(const std::string& a, const std::string& b);

}  // namespace e2e::net
