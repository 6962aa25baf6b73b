// Issue 22.8: no patient-identifying data outside the database. Real files with a distinctive
// patient name and ID (DICOM ECGs and an echo loop re-labelled with DCMTK's dcmodify) and a small
// synthetic cohort go through import, pretrain (tiny), embed, a head's training, predict and evaluate
// with the real `echo2ecg` binary; then every file written outside the database (run directories,
// bundle.json, model cards, checkpoints, the jobs' stdout/stderr, the test HOME) is searched for
// every patient name and ID the database holds: none may appear.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crash_safety/job_harness.h"

namespace fs = std::filesystem;
using namespace e2e::test;

namespace {

const char* kFamily = "QUIXOTEPRIVACY";
const char* kName = "QUIXOTEPRIVACY^ZELDA";
const char* kPatientId = "PRIV-77341296";

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Every (file, term) where a file under `root` holds one of `terms` (case-insensitive), skipping
// the paths `skip` (inputs and the database itself).
std::vector<std::string> findTerms(const fs::path& root, const std::vector<std::string>& terms,
                                   const std::vector<fs::path>& skip, int& filesSearched) {
  std::vector<std::string> hits;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path p = it->path();
    const bool skipped = std::any_of(skip.begin(), skip.end(), [&](const fs::path& s) {
      return p == s || p.string().rfind(s.string() + "/", 0) == 0;
    });
    const std::string n = p.filename().string();
    const bool database = n.find(".db") != std::string::npos;  // x.db, x.db-wal, x.db-shm
    if (skipped || database) {
      if (skipped && it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    ++filesSearched;
    std::ifstream f(p, std::ios::binary);
    const std::string text = upper(std::string(std::istreambuf_iterator<char>(f), {}));
    for (const auto& t : terms)
      if (text.find(upper(t)) != std::string::npos) hits.push_back(p.string() + ": " + t);
  }
  return hits;
}

}  // namespace

TEST(Privacy, NoPatientNameOrIdOutsideTheDatabase) {
  if (!hasModelJobs()) GTEST_SKIP() << "echo2ecg built without the model jobs (E2E_BUILD_MODELS=OFF)";
  const fs::path dir = fs::temp_directory_path() / ("e2e_privacy_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "logs");
  const fs::path files = dir / "files";
  copyRealFiles(files, 6);
  // The DICOM files get the distinctive name and ID (the copies; the originals are untouched).
  int relabelled = 0;
  for (const char* sub : {"dicom_ecg", "us"})
    for (const auto& e : fs::directory_iterator(files / sub)) {
      const std::string cmd = std::string("dcmodify -nb -i \"(0010,0010)=") + kName + "\" -i \"(0010,0020)=" +
                              kPatientId + "\" " + shellQuote(e.path().string()) + " >/dev/null 2>&1";
      if (std::system(cmd.c_str()) == 0) ++relabelled;
    }
  ASSERT_GE(relabelled, 5);
  const std::string db = (dir / "studies.db").string();
  // The synthetic cohort's folders are named by patient ID: rename them, so that a file path printed
  // by a job is not mistaken for patient data read from a file.
  ASSERT_EQ(makeCohortDb(dir, (dir / "cohort_only.db").string(), 12), "");
  fs::remove(dir / "cohort_only.db");
  int k = 0;
  for (const auto& e : fs::directory_iterator(dir / "cohort"))
    if (e.is_directory()) fs::rename(e.path(), dir / "cohort" / ("p" + std::to_string(k++)));

  int jobs = 0;
  auto job = [&](const std::string& tag, const std::vector<std::string>& args, std::vector<int> okCodes = {0}) {
    Job j = startJob(args, dir / "logs" / (tag + ".out"), dir / "logs" / (tag + ".err"));
    const int rc = waitJob(j);
    ++jobs;
    EXPECT_TRUE(std::find(okCodes.begin(), okCodes.end(), rc) != okCodes.end())
        << tag << " exit " << rc << ": " << readFile(dir / "logs" / (tag + ".err"));
  };
  job("import", {"import", files.string(), (dir / "cohort").string(), "--db", db, "--verbose"});
  DbReader r(db);
  EXPECT_EQ(r.count(std::string("SELECT count(*) FROM patients WHERE patient_id = '") + kPatientId + "'"), 1);
  const fs::path runs = dir / "runs";
  fs::create_directories(runs);
  job("pretrain", {"train", "--db", db, "--task", "pretrain", "--run-dir", (runs / "pretrain").string(), "--epochs", "1",
                   "--ecg-depth", "1", "--video-size", "32", "--seed", "5", "--batch-size", "4", "--json-progress"});
  job("embed", {"embed", "--db", db, "--json-progress"}, {0, 3});
  job("lvef", {"train", "--db", db, "--task", "lvef", "--method", "linear", "--run-dir", (runs / "lvef").string(),
               "--epochs", "2", "--batch-size", "4", "--seed", "3", "--json-progress"});
  job("predict", {"predict", "--db", db}, {0, 3});
  job("evaluate", {"evaluate", "--db", db, "--task", "lvef"}, {0, 3});
  job("models", {"models", "show", "echo2ecg-lvef", "1", "--db", db}, {0, 1, 2});

  // Every name and ID the database holds (long enough not to match by chance), and the planted ones.
  std::vector<std::string> terms = {kFamily, kPatientId};
  for (const auto& row : r.rows("SELECT patient_id FROM patients UNION SELECT name FROM patients")) {
    const bool digitsOnly = row.find_first_not_of("0123456789") == std::string::npos;
    if (row.size() >= 7 && !digitsOnly && row.rfind("ERROR", 0) != 0) terms.push_back(row);
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  ASSERT_GE(terms.size(), 24u);  // the 12 synthetic patients' IDs and names, and the planted ones
  int searched = 0;
  const std::vector<fs::path> inputs = {files, dir / "cohort"};
  // This test's folder, and the test HOME (where test_main puts the temporary folder too).
  fs::path root = dir;
  if (const char* home = std::getenv("HOME"); home && *home && fs::exists(home)) {
    const std::string h = fs::weakly_canonical(home).string(), d = fs::weakly_canonical(dir).string();
    if (d.rfind(h + "/", 0) == 0) root = home;
  }
  auto hits = findTerms(root, terms, inputs, searched);
  if (root == dir) {
    if (const char* home = std::getenv("HOME"); home && *home && fs::exists(home)) {
      auto more = findTerms(home, terms, {}, searched);
      hits.insert(hits.end(), more.begin(), more.end());
    }
  }
  std::printf("[privacy] %d jobs, %zu patient names/IDs searched in %d files written outside the database: %zu found\n",
              jobs, terms.size(), searched, hits.size());
  for (const auto& h : hits) std::printf("[privacy] found %s\n", h.c_str());
  EXPECT_GE(searched, 10);  // logs, run directories, bundles, cards
  EXPECT_TRUE(hits.empty()) << hits.size() << " leaks, first: " << hits.front();
  fs::remove_all(dir);
}
