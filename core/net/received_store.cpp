#include "net/received_store.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "db/database.h"
#include "jobs/import/importer.h"
#include "net/import_queue.h"
#include "net/net_common.h"

namespace fs = std::filesystem;

namespace e2e::net {
namespace {

// A UID as a safe file name component (UIDs are digits and dots; anything else is replaced).
std::string safeName(const std::string& uid) {
  std::string s;
  for (char c : uid.substr(0, 64))
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  if (s.empty() || s.find_first_not_of('.') == std::string::npos) s = "_" + s;
  return s;
}

bool sameBytes(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::file_size(a, ec) != fs::file_size(b, ec) || ec) return false;
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::vector<char> ba(1 << 16), bb(1 << 16);
  while (fa && fb) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() || !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin())) return false;
  }
  return fa.eof() && fb.eof();
}

std::string uidOf(DcmDataset* ds, const DcmTagKey& tag) {
  OFString v;
  if (ds && ds->findAndGetOFString(tag, v).good()) return v.c_str();
  return "";
}

}  // namespace

const char* toString(StoreOutcome o) {
  switch (o) {
    case StoreOutcome::Added: return "added";
    case StoreOutcome::Stored: return "stored";
    case StoreOutcome::NotImported: return "stored, not imported";
    case StoreOutcome::Skipped: return "skipped (already stored)";
    case StoreOutcome::Conflict: return "refused (conflict)";
    default: return "refused (error)";
  }
}

bool sameDicomObject(const std::string& a, const std::string& b) {
  if (sameBytes(a, b)) return true;
  DcmFileFormat fa, fb;
  if (fa.loadFile(a.c_str()).bad() || fb.loadFile(b.c_str()).bad()) return false;
  // Group lengths and trailing padding are encoding details that senders add or drop.
  for (DcmDataset* ds : {fa.getDataset(), fb.getDataset()}) {
    ds->computeGroupLengthAndPadding(EGL_withoutGL, EPD_withoutPadding, ds->getOriginalXfer());
    delete ds->remove(DCM_DataSetTrailingPadding);
  }
  return fa.getDataset()->compare(*fb.getDataset()) == 0;
}

ReceivedStore::ReceivedStore(const std::string& dbPath, const std::string& folder)
    : folder_(folder.empty() ? defaultFolder(dbPath) : folder) {
  if (folder_.empty()) throw std::invalid_argument("no storage folder and no database for received objects");
  incoming_ = (fs::path(folder_) / ".incoming").string();
  std::error_code ec;
  fs::create_directories(incoming_, ec);
  if (ec) throw std::runtime_error("cannot create the storage folder " + incoming_ + ": " + ec.message());
  removeStaleParts();
  if (!dbPath.empty()) db_ = std::make_unique<db::Database>(dbPath);
  dbPath_ = dbPath;
}

void ReceivedStore::startBackgroundImport(std::function<void(const StoreResult&)> onDone, BatchOptions opts) {
  if (!db_) throw std::invalid_argument("a background import needs a database");
  finishBackgroundImport();
  queue_ = std::make_unique<ImportQueue>(dbPath_, folder_, std::move(onDone), opts);
}

void ReceivedStore::finishBackgroundImport() {
  if (queue_) queue_->finish();
  queue_.reset();
}

void ReceivedStore::removeStaleParts() {
  // "<pid>-<n>-<random>.part" of a process that is gone (killed while an object arrived).
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(incoming_, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".part") continue;
    const long pid = std::strtol(name.c_str(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(e.path(), ec);
  }
}

ReceivedStore::~ReceivedStore() { finishBackgroundImport(); }

std::string ReceivedStore::defaultFolder(const std::string& dbPath) {
  return dbPath.empty() ? std::string() : dbPath + ".received";
}

std::string ReceivedStore::newTempPath() {
  static std::atomic<std::uint64_t> seq{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return (fs::path(incoming_) / (std::to_string(::getpid()) + "-" + std::to_string(++seq) + "-" +
                                 std::to_string(rng() % 1000000007ULL) + ".part"))
      .string();
}

void ReceivedStore::discard(const std::string& tempFile) {
  std::error_code ec;
  if (!tempFile.empty()) fs::remove(tempFile, ec);
}

StoreResult ReceivedStore::commit(const std::string& tempFile, const std::string& callingAet,
                                  const std::string& peerHost) {
  StoreResult r;
  r.callingAet = callingAet;
  r.peerHost = peerHost;
  {
    DcmFileFormat ff;
    // Only the header: values longer than 256 bytes (pixel data, waveforms) stay on disk.
    const OFCondition st = ff.loadFile(tempFile.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_autoDetect);
    if (st.bad()) {
      discard(tempFile);
      r.message = std::string("received data is not a readable DICOM object (") + st.text() + ")";
      return r;
    }
    r.sopInstanceUid = uidOf(ff.getDataset(), DCM_SOPInstanceUID);
    r.sopClassUid = uidOf(ff.getDataset(), DCM_SOPClassUID);
    r.studyUid = uidOf(ff.getDataset(), DCM_StudyInstanceUID);
  }
  if (r.sopInstanceUid.empty() || r.studyUid.empty()) {
    discard(tempFile);
    r.dimseStatus = 0xA900;
    r.message = "object has no SOP Instance UID or no Study Instance UID";
    return r;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (db_) {
    if (auto row = db_->instanceByUid(r.sopInstanceUid)) {
      const bool same = sameDicomObject(row->path, tempFile);
      discard(tempFile);
      r.path = row->path;
      r.outcome = same ? StoreOutcome::Skipped : StoreOutcome::Conflict;
      r.dimseStatus = same ? 0x0000 : kStatusDuplicateConflict;
      r.message = same ? "already in the database (" + row->path + ")"
                       : "SOP Instance UID already stored with different content (" + row->path +
                             "); nothing overwritten";
      return r;
    }
  }
  return place(std::move(r), tempFile);
}

StoreResult ReceivedStore::place(StoreResult r, const std::string& tempFile) {
  const fs::path dir = fs::path(folder_) / safeName(r.studyUid);
  const fs::path final = dir / (safeName(r.sopInstanceUid) + ".dcm");
  std::error_code ec;
  bool wasThere = false;
  if (fs::exists(final, ec)) {
    // Left by an earlier receive that the database does not list (e.g. a PDF, or no database).
    const bool same = sameDicomObject(final.string(), tempFile);
    discard(tempFile);
    if (!same) {
      r.outcome = StoreOutcome::Conflict;
      r.dimseStatus = kStatusDuplicateConflict;
      r.path = final.string();
      r.message = "SOP Instance UID already stored with different content (" + final.string() + "); nothing overwritten";
      return r;
    }
    wasThere = true;
  } else {
    fs::create_directories(dir, ec);
    if (!ec) fs::rename(tempFile, final, ec);
    if (ec) {
      discard(tempFile);
      r.dimseStatus = 0xA700;
      r.message = "cannot store the object in " + dir.string() + ": " + ec.message();
      return r;
    }
  }
  r.path = final.string();
  if (queue_) return queuePlaced(std::move(r), wasThere);
  if (!db_) {
    r.outcome = wasThere ? StoreOutcome::Skipped : StoreOutcome::Stored;
    r.dimseStatus = 0x0000;
    if (wasThere) r.message = "already stored (" + r.path + ")";
    return r;
  }
  return importPlaced(std::move(r), wasThere);
}

StoreResult ReceivedStore::queuePlaced(StoreResult r, bool wasThere) {
  r.dimseStatus = 0x0000;
  if (wasThere && queue_->pending(r.path)) {  // a second copy while the first waits for import
    r.outcome = StoreOutcome::Skipped;
    r.message = "already received (" + r.path + ")";
    return r;
  }
  try {
    queue_->push(r, wasThere);
  } catch (const std::exception& e) {
    if (!wasThere) discard(r.path);
    r.path.clear();
    r.outcome = StoreOutcome::Failed;
    r.dimseStatus = 0xA700;
    r.message = e.what();
    return r;
  }
  r.outcome = StoreOutcome::Stored;
  r.pending = true;
  return r;
}

StoreResult ReceivedStore::importPlaced(StoreResult r, bool wasThere) {
  importer::ImportOptions opts;
  opts.paths = {r.path};
  opts.threads = 1;
  importer::ImportReport rep;
  try {
    rep = importer::runImport(*db_, opts);
  } catch (const std::exception& e) {
    rep.errors.push_back({r.path, std::string("database error: ") + e.what(), ""});
  }
  auto removeFile = [&] {
    if (!wasThere) discard(r.path);
  };
  r.dimseStatus = 0x0000;
  if (rep.added > 0) {
    r.outcome = StoreOutcome::Added;
  } else if (rep.skipped > 0) {
    removeFile();
    if (!wasThere) r.path.clear();
    r.outcome = StoreOutcome::Skipped;
    r.message = "the same content is already in the database";
  } else if (!rep.conflicts.empty()) {
    removeFile();
    if (!wasThere) r.path.clear();
    r.outcome = StoreOutcome::Conflict;
    r.dimseStatus = kStatusDuplicateConflict;
    r.message = rep.conflicts.front().message;
  } else if (!rep.errors.empty()) {
    removeFile();
    if (!wasThere) r.path.clear();
    r.outcome = StoreOutcome::Failed;
    r.dimseStatus = 0xC000;
    r.message = rep.errors.front().message;
  } else {
    r.outcome = StoreOutcome::NotImported;
    r.message = rep.unsupported.empty() ? "not imported" : rep.unsupported.front().message;
  }
  return r;
}

}  // namespace e2e::net
