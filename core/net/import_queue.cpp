#include "net/import_queue.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "db/database.h"
#include "jobs/import/importer.h"

namespace fs = std::filesystem;

namespace e2e::net {
namespace {

std::string normal(const std::string& p) {
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(p, ec);
  return ec ? fs::path(p).lexically_normal().string() : c.string();
}

// The UIDs of a journalled file (header only), for its outcome once imported.
StoreResult placedObject(const std::string& path) {
  StoreResult r;
  r.path = path;
  r.dimseStatus = 0x0000;
  DcmFileFormat ff;
  if (ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_autoDetect).good()) {
    OFString v;
    if (ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, v).good()) r.sopInstanceUid = v.c_str();
    if (ff.getDataset()->findAndGetOFString(DCM_SOPClassUID, v).good()) r.sopClassUid = v.c_str();
    if (ff.getDataset()->findAndGetOFString(DCM_StudyInstanceUID, v).good()) r.studyUid = v.c_str();
  }
  return r;
}

}  // namespace

ImportQueue::ImportQueue(const std::string& dbPath, const std::string& folder, Done onDone, BatchOptions opts)
    : folder_(folder),
      journalPath_((fs::path(folder) / ".incoming" / "pending.journal").string()),
      db_(std::make_unique<db::Database>(dbPath)),
      onDone_(std::move(onDone)),
      opts_(opts) {
  if (opts_.maxObjects < 1) opts_.maxObjects = 1;
  if (opts_.maxPending < opts_.maxObjects) opts_.maxPending = opts_.maxObjects;
  recover();
  thread_ = std::thread([this] { loop(); });
}

ImportQueue::~ImportQueue() { finish(); }

void ImportQueue::recover() {
  std::ifstream in(journalPath_);
  std::string rel;
  std::set<std::string> seen;
  while (std::getline(in, rel)) {
    if (rel.empty() || rel.find("..") != std::string::npos || !seen.insert(rel).second) continue;
    const fs::path p = fs::path(folder_) / rel;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) continue;
    Item it{placedObject(p.string()), true};  // kept whatever the importer says: it was acknowledged
    it.result.message = "received before a restart";
    pending_.insert(normal(it.result.path));
    queue_.push_back(std::move(it));
  }
}

void ImportQueue::journal(const std::string& path) {
  const std::string rel = fs::path(path).lexically_relative(folder_).string();
  if (rel.empty() || rel.find('\n') != std::string::npos) throw std::runtime_error("cannot journal " + path);
  if (journalFd_ < 0) {
    journalFd_ = ::open(journalPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (journalFd_ < 0)
      throw std::runtime_error("cannot write the receive journal " + journalPath_ + ": " + std::strerror(errno));
  }
  const std::string line = rel + "\n";
  if (::write(journalFd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    throw std::runtime_error("cannot write the receive journal " + journalPath_ + ": " + std::strerror(errno));
}

void ImportQueue::push(const StoreResult& r, bool keep) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return static_cast<int>(queue_.size()) < opts_.maxPending || stopping_; });
  journal(r.path);
  pending_.insert(normal(r.path));
  queue_.push_back(Item{r, keep});
  cv_.notify_all();
}

bool ImportQueue::pending(const std::string& path) {
  std::lock_guard<std::mutex> lk(mu_);
  return pending_.count(normal(path)) > 0;
}

void ImportQueue::finish() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (journalFd_ >= 0) ::close(journalFd_);
  journalFd_ = -1;
}

std::vector<ImportQueue::Item> ImportQueue::nextBatch() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return !queue_.empty() || stopping_; });
  if (queue_.empty()) return {};
  // Let the batch fill for a moment (a sender sends the next object as soon as this one is answered).
  if (!stopping_ && static_cast<int>(queue_.size()) < opts_.maxObjects)
    cv_.wait_for(lk, opts_.maxWait, [&] { return static_cast<int>(queue_.size()) >= opts_.maxObjects || stopping_; });
  std::vector<Item> batch;
  while (!queue_.empty() && static_cast<int>(batch.size()) < opts_.maxObjects) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  cv_.notify_all();  // room for push()
  return batch;
}

void ImportQueue::loop() {
  for (;;) {
    std::vector<Item> batch = nextBatch();
    if (batch.empty()) return;
    importBatch(batch);
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (const auto& it : batch) pending_.erase(normal(it.result.path));
      // Everything journalled is imported: the journal starts afresh.
      if (queue_.empty() && !keepJournal_) {
        if (journalFd_ >= 0) ::close(journalFd_);
        journalFd_ = -1;
        std::error_code ec;
        fs::remove(journalPath_, ec);
      }
    }
    for (const auto& it : batch)
      if (onDone_) onDone_(it.result);
  }
}

void ImportQueue::importBatch(std::vector<Item>& batch) {
  importer::ImportOptions o;
  for (const auto& it : batch) o.paths.push_back(it.result.path);
  o.threads = 2;  // parsers (reading and hashing) beside the writer
  o.batchSize = static_cast<int>(batch.size());
  importer::ImportReport rep;
  std::string dbError;
  try {
    rep = importer::runImport(*db_, o);
  } catch (const std::exception& e) {
    dbError = std::string("database error: ") + e.what() + "; kept, imported at the next start";
  }
  // Whether the database lists this object at this path (a db error counts as "not known").
  const auto storedHere = [&](const std::string& uid, const std::string& path) {
    try {
      const auto row = db_->instanceByUid(uid);
      return row && normal(row->path) == path;
    } catch (const std::exception& e) {
      dbError = std::string("database error: ") + e.what() + "; kept, imported at the next start";
      std::lock_guard<std::mutex> lk(mu_);
      keepJournal_ = true;
      return false;
    }
  };
  std::map<std::string, std::string> notRead, failed;  // normalised path -> why
  for (const auto& i : rep.unsupported) notRead.emplace(normal(i.path), i.message);
  for (const auto& i : rep.errors) failed.emplace(normal(i.path), i.message);
  for (const auto& i : rep.conflicts) failed.emplace(normal(i.path), i.message);
  for (auto& it : batch) {
    StoreResult& r = it.result;
    const std::string p = normal(r.path);
    r.dimseStatus = 0x0000;  // acknowledged when it was placed
    if (!dbError.empty()) {
      std::lock_guard<std::mutex> lk(mu_);
      keepJournal_ = true;
      r.outcome = StoreOutcome::NotImported;
      r.message = dbError;
    } else if (auto n = notRead.find(p); n != notRead.end()) {
      r.outcome = StoreOutcome::NotImported;
      r.message = n->second;
    } else if (auto f = failed.find(p); f != failed.end()) {
      r.outcome = StoreOutcome::NotImported;
      r.message = "kept, but not imported: " + f->second;
    } else if (storedHere(r.sopInstanceUid, p)) {
      r.outcome = StoreOutcome::Added;
      r.message.clear();
    } else if (!dbError.empty()) {  // the look-up failed
      r.outcome = StoreOutcome::NotImported;
      r.message = dbError;
    } else {
      r.outcome = StoreOutcome::Skipped;
      r.message = "the same content is already in the database";
      if (!it.keep) {
        std::error_code ec;
        fs::remove(r.path, ec);
        r.path.clear();
      }
    }
  }
}

}  // namespace e2e::net
