// Shared by the networking tests: the real files, temporary folders, our storage SCP on a
// thread with its events collected, and running DCMTK command-line tools.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include "net/storage_scp.h"
#include "orthanc_fixture.h"

namespace e2e::test {

inline std::string dataFile(const std::string& rel) { return std::string(E2E_DATA_DIR) + "/" + rel; }

// The real files used below (see ../shared/data/*/SOURCES.txt).
inline const std::string kEcgHemo = "ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm";        // 123-654, 19991223, acc 0001
inline const std::string kEcg12 = "ecg_dicom/pydicom_debian/waveform_ecg.dcm";            // 642341, 20130125
inline const std::string kEcg12Copy = "ecg_dicom/marcodebe_dicom-ecg-plot/anonymous_ecg.dcm";  // same bytes as kEcg12
inline const std::string kUsAloka = "us_dicom/pydicom-data/gdcm-US-ALOKA-16.dcm";        // 98279, 20020524, implicit LE
inline const std::string kUs1Uncr = "us_dicom/pydicom-data/US1_UNCR.dcm";                // 13US1, 20040826
inline const std::string kUsPalRle = "us_dicom/octave-dicom_debian/US-PAL-8-10x-echo.dcm";  // RLE, study 999.999.3859744
inline const std::string kUsPalJpeg = "us_dicom/derived_reencoded/US-PAL-8-10x-echo.rgb_jpeg_baseline.dcm";  // same study
inline const std::string kObx = "us_dicom/pydicom-data/OBXXXX1A.dcm";
inline const std::string kObx2Frame = "us_dicom/pydicom-data/OBXXXX1A_2frame.dcm";  // same SOP UID, other content

// The transfer syntax UID in a file's meta header ("" if unreadable).
inline std::string transferSyntaxOf(const std::string& path) {
  DcmFileFormat ff;
  OFString ts;
  if (ff.loadFile(path.c_str()).good()) ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
  return ts.c_str();
}

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("e2e_net_" + tag + "_" + std::to_string(getpid()) + "_" +
                                                      std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Our StorageScp on its own thread; stops (cancel + join) in the destructor.
class ScpRunner {
 public:
  explicit ScpRunner(const net::ScpOptions& o)
      : scp_(o, [this](const net::ScpEvent& e) {
          std::lock_guard<std::mutex> lk(mu_);
          events_.push_back(e);
          cv_.notify_all();
        }) {
    thread_ = std::thread([this] {
      try {
        stats_ = scp_.run(cancel_);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lk(mu_);
        error_ = e.what();
        cv_.notify_all();
      }
    });
    waitFor([](const net::ScpEvent& e) { return e.type == net::ScpEvent::Type::Listening; }, 10);
  }
  ~ScpRunner() { stop(); }
  net::ScpStats stop() {
    cancel_.cancel();
    if (thread_.joinable()) thread_.join();
    return stats_;
  }
  template <class Pred>
  int count(Pred p) {
    std::lock_guard<std::mutex> lk(mu_);
    int n = 0;
    for (const auto& e : events_) n += p(e) ? 1 : 0;
    return n;
  }
  // Waits until an event matches (true) or `seconds` pass (false).
  template <class Pred>
  bool waitFor(Pred p, int seconds, int times = 1) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(seconds), [&] {
      int n = 0;
      for (const auto& e : events_) n += p(e) ? 1 : 0;
      return n >= times || !error_.empty();
    }) && error_.empty();
  }
  std::vector<net::ScpEvent> events() {
    std::lock_guard<std::mutex> lk(mu_);
    return events_;
  }
  std::string error() {
    std::lock_guard<std::mutex> lk(mu_);
    return error_;
  }
  const std::string& folder() const { return scp_.folder(); }

 private:
  net::StorageScp scp_;
  job::CancelToken cancel_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<net::ScpEvent> events_;
  std::string error_;
  net::ScpStats stats_;
};

struct ToolResult {
  int rc = -1;
  std::string out;
};
// Runs a shell command line, stdout and stderr captured.
inline ToolResult runTool(const std::string& cmd) {
  ToolResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Regular files under `dir` (recursively), skipping nothing.
inline std::vector<std::string> filesUnder(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); it != std::filesystem::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec)) out.push_back(it->path().string());
  return out;
}

}  // namespace e2e::test
