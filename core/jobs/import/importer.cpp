#include "jobs/import/importer.h"
#include "jobs/import/ecg_plausibility.h"

#include "common/text.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "common/hash.h"
#include "io/reader.h"
#include "labels/labels_csv.h"

namespace fs = std::filesystem;

namespace e2e::importer {
namespace {

using Clock = std::chrono::steady_clock;

enum class Outcome { Read, Skipped, Unsupported, Error };

struct Parsed {
  std::size_t index = 0;  // position in the sorted input list (the writer stores in this order)
  std::string path;
  Outcome outcome = Outcome::Error;
  std::string message;
  db::FileFacts facts;
  std::optional<LoadedObject> object;
};

// Bounded multi-producer / single-consumer queue.
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t cap) : cap_(std::max<std::size_t>(1, cap)) {}
  // Returns false if the queue was aborted.
  bool push(Parsed&& p, const job::CancelToken& cancel) {
    std::unique_lock<std::mutex> lk(mu_);
    while (q_.size() >= cap_ && !aborted_) {
      if (cancel.cancelled()) return false;
      notFull_.wait_for(lk, std::chrono::milliseconds(50));
    }
    if (aborted_) return false;
    q_.push_back(std::move(p));
    notEmpty_.notify_one();
    return true;
  }
  // Waits up to `timeout`; nullopt if nothing arrived (check closed()).
  std::optional<Parsed> pop(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lk(mu_);
    if (q_.empty() && !closed_) notEmpty_.wait_for(lk, timeout);
    if (q_.empty()) return std::nullopt;
    Parsed p = std::move(q_.front());
    q_.pop_front();
    notFull_.notify_one();
    return p;
  }
  void close() {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
    notEmpty_.notify_all();
  }
  void abort() {
    std::lock_guard<std::mutex> lk(mu_);
    aborted_ = true;
    q_.clear();
    notFull_.notify_all();
    notEmpty_.notify_all();
  }
  bool drained() {
    std::lock_guard<std::mutex> lk(mu_);
    return closed_ && q_.empty();
  }

 private:
  std::size_t cap_;
  std::mutex mu_;
  std::condition_variable notEmpty_, notFull_;
  std::deque<Parsed> q_;
  bool closed_ = false, aborted_ = false;
};

std::string lowerExt(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

// Whether the file has the DICOM Part 10 marker "DICM" after its 128-byte preamble.
bool hasDicmMarker(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char b[132] = {};
  in.read(b, sizeof b);
  return in.gcount() == 132 && std::string(b + 128, 4) == "DICM";
}

// Hash of all files (in order) and their total size. Throws ReadError.
std::pair<std::string, std::uint64_t> hashFiles(const std::vector<std::string>& files,
                                                const job::CancelToken& cancel) {
  Sha256 h;
  std::uint64_t total = 0;
  std::vector<char> buf(1 << 16);
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw ReadError(f, "cannot open file for reading");
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = in.gcount();
      if (n > 0) {
        h.update(buf.data(), static_cast<std::size_t>(n));
        total += static_cast<std::uint64_t>(n);
      }
      if (cancel.cancelled()) throw ReadError(f, "cancelled");
    }
    if (in.bad()) throw ReadError(f, "read error");
  }
  return {h.hexDigest(), total};
}

Parsed parseOne(const std::string& path, const std::unordered_set<std::string>& knownHashes,
                const job::CancelToken& cancel) {
  Parsed p;
  p.path = path;
  try {
    const ProbeResult probe = probeFile(path);
    if (!probe.supported()) {
      // A file named .dcm that is not DICOM (a damaged DICM marker, a truncated header) is a damaged
      // DICOM file the user meant to import, not something merely unsupported.
      const bool damagedDicom = !probe.damaged && lowerExt(path) == ".dcm" && !hasDicmMarker(path);
      p.outcome = probe.damaged || damagedDicom ? Outcome::Error : Outcome::Unsupported;
      p.message = damagedDicom ? "named .dcm but no DICOM 'DICM' marker at byte 128 (damaged file?): " + probe.reason
                               : probe.reason;
      return p;
    }
    const std::vector<std::string> files =
        probe.kind == ProbeKind::Wfdb ? wfdbRecordFiles(path) : std::vector<std::string>{path};
    auto [sha, size] = hashFiles(files, cancel);
    p.facts.path = fs::absolute(path).lexically_normal().string();
    p.facts.sha256 = sha;
    p.facts.size = size;
    if (knownHashes.count(sha)) {
      p.outcome = Outcome::Skipped;
      p.message = "already in the database";
      return p;
    }
    p.object = readProbed(path, probe);
    if (auto* ecg = std::get_if<EcgRecord>(&*p.object)) {
      // Implausible headers (a 0.01 Hz or 1e300 Hz rate, 1 sample, 0 leads) are refused here; a
      // record without signal is stored with a warning, and never given to a model.
      if (const std::string why = ecgImplausibility(*ecg); !why.empty()) throw ReadError(path, why);
      if (const std::string flat = ecgNoSignal(*ecg); !flat.empty()) ecg->warnings.push_back(flat);
    }
    // Data written by core/synth is marked in its DICOM (patient "SYNTHETIC^<id>", study
    // description "SYNTHETIC ..."); keep the study flagged as synthetic even if a reader does not.
    std::visit([](auto& o) {
      Identity& id = o.identity;
      if (id.patientName.rfind("SYNTHETIC^", 0) == 0 && id.studyDescription.rfind("SYNTHETIC", 0) == 0)
        id.synthetic = true;
    }, *p.object);
    p.outcome = Outcome::Read;
  } catch (const UnsupportedInput& e) {
    p.outcome = Outcome::Unsupported;
    p.message = e.cause();
  } catch (const ReadError& e) {
    p.outcome = Outcome::Error;
    p.message = e.cause();
  } catch (const std::exception& e) {
    p.outcome = Outcome::Error;
    p.message = e.what();
  } catch (...) {
    p.outcome = Outcome::Error;
    p.message = "unknown error while reading";
  }
  return p;
}


// The header of a label table, or empty if `path` is not one.
std::vector<std::string> labelTableHeader(const std::string& path) {
  if (lowerExt(path) != ".csv") return {};
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  auto h = splitCsvLine(line);
  for (auto& c : h) std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (std::find(h.begin(), h.end(), "study_uid") == h.end() && std::find(h.begin(), h.end(), "patient_id") == h.end())
    return {};
  return h;
}

// A label table through the labels module (RFC 4180 records: quoted cells may span lines), all or nothing.
void importLabelTable(db::Database& db, const std::string& path, ImportReport& rep) {
  ++rep.labelFiles;
  const labels::ImportResult r = labels::importLabelsCsv(db, path);
  rep.labelsStored += r.labelsStored;
  for (const auto& w : r.warnings) rep.warnings.push_back({path, w, ""});
  if (!r.unmatched.empty())
    rep.warnings.push_back({path, std::to_string(r.unmatched.size()) + " row(s) name a " +
                                      (r.keyColumn == labels::KeyColumn::StudyUid ? "study" : "patient") +
                                      " that is not in the database", ""});
}

}  // namespace

std::string summary(const ImportReport& r) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(1);
  os << (r.cancelled ? "cancelled: " : "") << "added " << r.added << " (ECG " << r.addedEcg << ", echo "
     << r.addedEcho << "), skipped " << r.skipped << ", unsupported " << r.unsupported.size() << ", conflicts "
     << r.conflicts.size() << ", errors " << r.errors.size() << ", warnings " << r.warnings.size();
  if (r.labelFiles) os << ", " << r.labelsStored << " labels from " << r.labelFiles << " table(s)";
  os << "; "
     << r.filesFound << " inputs, " << (static_cast<double>(r.bytesRead) / (1024.0 * 1024.0)) << " MiB in "
     << r.elapsedSeconds << " s";
  return os.str();
}

ImportReport runImport(db::Database& db, const ImportOptions& opts, const job::CancelToken& cancel,
                       const std::function<void(const ImportProgress&)>& progressFn) {
  const auto t0 = Clock::now();
  ImportReport rep;
  ImportProgress prog;
  job::ThrottledCallback<ImportProgress> progress(progressFn, opts.progressInterval);
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };

  // ---- 1. walk
  std::vector<std::string> files;
  for (const auto& root : opts.paths) {
    if (cancel.cancelled()) break;
    std::error_code ec;
    const fs::file_status st = fs::status(root, ec);
    if (ec || !fs::exists(st)) {
      rep.errors.push_back({root, "no such file or folder", ""});
      continue;
    }
    if (fs::is_regular_file(st)) {
      files.push_back(root);
      continue;
    }
    if (!fs::is_directory(st)) {
      rep.unsupported.push_back({root, "not a regular file or folder", ""});
      continue;
    }
    auto dopts = fs::directory_options::skip_permission_denied;
    if (opts.followSymlinks) dopts |= fs::directory_options::follow_directory_symlink;
    fs::recursive_directory_iterator it(root, dopts, ec), end;
    if (ec) {
      rep.errors.push_back({root, "cannot list folder: " + ec.message(), ""});
      continue;
    }
    while (it != end) {
      if (cancel.cancelled()) break;
      std::error_code fec;
      if (!opts.followSymlinks && it->is_symlink(fec) && it->is_directory(fec)) {
        rep.unsupported.push_back({it->path().string(), "symbolic link to a folder: not followed", ""});
      } else if (it->is_regular_file(fec)) {
        files.push_back(it->path().string());
        prog.filesFound = static_cast<std::int64_t>(files.size());
        progress(prog);
      }
      it.increment(ec);
      if (ec) {
        rep.errors.push_back({root, "error while walking the folder: " + ec.message(), ""});
        break;
      }
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  // WFDB signal files (same record name as a .hea in the same folder) are part of that record.
  {
    std::set<std::string> records;
    for (const auto& f : files)
      if (lowerExt(f) == ".hea") records.insert((fs::path(f).parent_path() / fs::path(f).stem()).string());
    std::vector<std::string> inputs;
    for (const auto& f : files) {
      const fs::path p(f);
      if (lowerExt(p) != ".hea" && records.count((p.parent_path() / p.stem()).string())) {
        ++rep.companions;
        continue;
      }
      inputs.push_back(f);
    }
    files.swap(inputs);
  }
  // Label tables are applied at the end, once their studies are in.
  std::vector<std::string> labelTables;
  {
    std::vector<std::string> inputs;
    for (const auto& f : files) (labelTableHeader(f).empty() ? inputs : labelTables).push_back(f);
    files.swap(inputs);
  }
  rep.filesFound = static_cast<std::int64_t>(files.size() + labelTables.size());
  prog.filesFound = rep.filesFound;
  prog.scanDone = true;
  prog.elapsedSeconds = elapsed();
  progress(prog, true);

  // ---- 2. parsers
  std::unordered_set<std::string> knownHashes;
  for (auto& h : db.allContentHashes()) knownHashes.insert(std::move(h));

  int nThreads = opts.threads > 0 ? opts.threads : static_cast<int>(std::thread::hardware_concurrency());
  nThreads = std::max(1, std::min<int>(nThreads, std::max<std::size_t>(1, files.size())));
  // Files are parsed in parallel but stored in input (sorted path) order, so that an import is
  // deterministic: e.g. of two files with one SOP Instance UID, the first path is the one kept.
  const std::size_t window = std::max<std::size_t>(opts.queueCapacity, 2 * static_cast<std::size_t>(nThreads));
  BoundedQueue queue(window + static_cast<std::size_t>(nThreads));
  std::atomic<std::size_t> written{0};
  std::mutex windowMu;
  std::condition_variable windowCv;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stopParsers{false};  // the writer has gone (error): parsers must not wait
  std::atomic<int> running{nThreads};
  std::vector<std::thread> parsers;
  parsers.reserve(nThreads);
  for (int t = 0; t < nThreads; ++t) {
    parsers.emplace_back([&] {
      while (!cancel.cancelled()) {
        const std::size_t i = next.fetch_add(1);
        if (i >= files.size()) break;
        {
          // Stay within `window` inputs of the writer, so that its reorder buffer stays small.
          std::unique_lock<std::mutex> lk(windowMu);
          while (i >= written.load() + window && !cancel.cancelled() && !stopParsers.load())
            windowCv.wait_for(lk, std::chrono::milliseconds(50));
        }
        if (cancel.cancelled() || stopParsers.load()) break;
        Parsed p = parseOne(files[i], knownHashes, cancel);
        p.index = i;
        if (cancel.cancelled()) break;
        if (!queue.push(std::move(p), cancel)) break;
      }
      if (running.fetch_sub(1) == 1) queue.close();
    });
  }
  struct Joiner {
    std::vector<std::thread>& ts;
    BoundedQueue& q;
    std::atomic<bool>& stop;
    std::condition_variable& cv;
    ~Joiner() {
      stop.store(true);
      cv.notify_all();
      q.abort();
      for (auto& t : ts)
        if (t.joinable()) t.join();
    }
  } joiner{parsers, queue, stopParsers, windowCv};

  // ---- 3. the writer (this thread): batches of files, one savepoint per file.
  std::optional<db::Database::Transaction> batch;
  int inBatch = 0;
  auto commitBatch = [&] {
    if (batch) {
      batch->commit();
      batch.reset();
    }
    inBatch = 0;
  };
  std::map<std::size_t, Parsed> pending;  // reorder buffer
  std::size_t nextToWrite = 0;
  auto handle = [&](Parsed& p) {
    prog.currentPath = p.path;
    prog.bytesRead += p.facts.size;
    rep.bytesRead += p.facts.size;
    switch (p.outcome) {
      case Outcome::Unsupported:
        rep.unsupported.push_back({p.path, p.message, ""});
        break;
      case Outcome::Error:
        rep.errors.push_back({p.path, p.message, ""});
        break;
      case Outcome::Skipped:
        ++rep.skipped;
        break;
      case Outcome::Read: {
        if (!batch) batch.emplace(db);
        try {
          db::InsertResult r;
          const std::vector<std::string>* warnings = nullptr;
          bool isEcg = false;
          if (auto* ecg = std::get_if<EcgRecord>(&*p.object)) {
            r = db.insertEcg(*ecg, p.facts);
            warnings = &ecg->warnings;
            isEcg = true;
          } else {
            auto& echo = std::get<EchoInfo>(*p.object);
            r = db.insertEcho(echo, p.facts);
            warnings = &echo.warnings;
          }
          switch (r.status) {
            case db::InsertStatus::Added:
              ++rep.added;
              ++(isEcg ? rep.addedEcg : rep.addedEcho);
              ++inBatch;
              for (const auto& w : *warnings) rep.warnings.push_back({p.path, w, r.sopInstanceUid});
              break;
            case db::InsertStatus::Skipped:
              ++rep.skipped;
              break;
            case db::InsertStatus::Conflict:
              rep.conflicts.push_back({p.path,
                                       "SOP Instance UID already stored with different content (" +
                                           r.existingPath + "); nothing overwritten",
                                       r.sopInstanceUid});
              break;
          }
        } catch (const std::exception& e) {
          // This file's savepoint was rolled back; the batch goes on.
          rep.errors.push_back({p.path, std::string("could not store: ") + e.what(), ""});
        }
        break;
      }
    }
    ++prog.filesDone;
    prog.added = rep.added;
    prog.skipped = rep.skipped;
    prog.unsupported = static_cast<std::int64_t>(rep.unsupported.size());
    prog.conflicts = static_cast<std::int64_t>(rep.conflicts.size());
    prog.errors = static_cast<std::int64_t>(rep.errors.size());
    if (inBatch >= std::max(1, opts.batchSize)) commitBatch();
    prog.elapsedSeconds = elapsed();
    progress(prog);
  };
  while (!cancel.cancelled()) {
    for (auto it = pending.find(nextToWrite); it != pending.end() && !cancel.cancelled();
         it = pending.find(nextToWrite)) {
      handle(it->second);
      pending.erase(it);
      ++nextToWrite;
      {
        std::lock_guard<std::mutex> lk(windowMu);
        written.store(nextToWrite);
      }
      windowCv.notify_all();
    }
    if (nextToWrite >= files.size() || cancel.cancelled()) break;
    std::optional<Parsed> item = queue.pop(std::chrono::milliseconds(50));
    if (!item) {
      commitBatch();  // idle: make what we have durable
      if (queue.drained()) break;
      prog.elapsedSeconds = elapsed();
      progress(prog);
      continue;
    }
    const std::size_t idx = item->index;
    pending.emplace(idx, std::move(*item));
  }
  commitBatch();
  rep.cancelled = cancel.cancelled();
  queue.abort();
  for (auto& t : parsers)
    if (t.joinable()) t.join();
  for (const auto& t : labelTables) {
    if (cancel.cancelled()) {
      rep.cancelled = true;
      break;
    }
    try {
      importLabelTable(db, t, rep);
    } catch (const std::exception& e) {
      rep.errors.push_back({t, std::string("label table not stored: ") + e.what(), ""});
    }
    ++prog.filesDone;
  }
  rep.elapsedSeconds = elapsed();
  prog.elapsedSeconds = rep.elapsedSeconds;
  progress(prog, true);
  return rep;
}

}  // namespace e2e::importer
