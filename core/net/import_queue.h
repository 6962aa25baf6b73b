// The storage SCP's background importer (used by ReceivedStore::startBackgroundImport): objects
// already placed in the receive folder are imported in batches, one importer run (one write
// transaction) per batch, on one thread with its own database connection, so a sender is not held
// up by the database. A journal (<folder>/.incoming/pending.journal, one relative path per line)
// lists every placed object until its batch is imported: an object acknowledged to its sender is
// imported even when the process is killed first, by the next ImportQueue on the same folder.
// Final outcomes: Added; Skipped (the same content is already in the database: the new file is
// removed unless it was there before); NotImported (the importer does not read it, or could not
// store it: the file is kept). Qt-free, never prints.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/received_store.h"

namespace e2e::db {
class Database;
}

namespace e2e::net {

class ImportQueue {
 public:
  using Done = std::function<void(const StoreResult&)>;
  // Opens its own connection to `dbPath`, re-queues what the folder's journal lists (objects of
  // an earlier process that did not get imported) and starts the importer thread. `onDone` is
  // called on that thread, once per object, with its final outcome.
  ImportQueue(const std::string& dbPath, const std::string& folder, Done onDone, BatchOptions opts);
  ~ImportQueue();  // finish()
  ImportQueue(const ImportQueue&) = delete;
  ImportQueue& operator=(const ImportQueue&) = delete;

  // Journals a placed object (r.path, r.sopInstanceUid set) and queues it. `keep`: the file was
  // in the folder before, never remove it. Blocks while opts.maxPending objects wait (the
  // importer falls behind). Throws std::runtime_error when the journal cannot be written (the
  // object must then not be acknowledged).
  void push(const StoreResult& r, bool keep);
  // Whether `path` is queued or being imported.
  bool pending(const std::string& path);
  // Imports everything queued, then stops the thread (idempotent).
  void finish();

 private:
  struct Item {
    StoreResult result;
    bool keep = false;
  };
  void loop();
  std::vector<Item> nextBatch();
  void importBatch(std::vector<Item>& batch);
  void journal(const std::string& path);
  void recover();

  std::string folder_, journalPath_;
  std::unique_ptr<db::Database> db_;
  Done onDone_;
  BatchOptions opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::set<std::string> pending_;  // queued or in the batch being imported
  int journalFd_ = -1;
  bool stopping_ = false, keepJournal_ = false;
  std::thread thread_;
};

}  // namespace e2e::net
