// Import job: the real shared data tree, re-import, conflicts, cancel, kill -9 consistency.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "common/hash.h"
#include "db/database.h"
#include "jobs/import/importer.h"
#include "jobs/job.h"
#include "importer_test_util.h"
#include "io/reader.h"
#include "synth/cohort.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::importer;
using e2e::test::TempDir;

namespace {

bool contains(const std::vector<ImportIssue>& v, const std::string& fileSuffix, const std::string& text = "") {
  return std::any_of(v.begin(), v.end(), [&](const ImportIssue& i) {
    return i.path.size() >= fileSuffix.size() &&
           i.path.compare(i.path.size() - fileSuffix.size(), fileSuffix.size(), fileSuffix) == 0 &&
           (text.empty() || i.message.find(text) != std::string::npos);
  });
}

std::int64_t scalar(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return -1;
  std::int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

// Number of instances without their ECG/echo detail row (must always be 0).
std::int64_t orphanInstances(db::Database& db) {
  return scalar(db.handle(),
                "SELECT COUNT(*) FROM instances i WHERE NOT EXISTS (SELECT 1 FROM ecg_records e WHERE "
                "e.instance_id = i.id) AND NOT EXISTS (SELECT 1 FROM echo_loops l WHERE l.instance_id = i.id)");
}

std::string pathAt(const std::string& rel) { return e2e::test::dataFile(rel).string(); }

}  // namespace

TEST(Dispatcher, ProbesRealFiles) {
  EXPECT_EQ(probeFile(pathAt("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm")).kind, ProbeKind::DicomEcg);
  EXPECT_EQ(probeFile(pathAt("us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm")).kind, ProbeKind::DicomEcho);
  EXPECT_EQ(probeFile(pathAt("ecg_wfdb/torch_ecg_cinc2021/E07500.hea")).kind, ProbeKind::Wfdb);
  EXPECT_EQ(probeFile(pathAt("ecg_wfdb/torch_ecg_cinc2021/E07500.mat")).kind, ProbeKind::WfdbCompanion);
  EXPECT_EQ(probeFile(pathAt("ecg_wfdb/wfdb-python_ptb_s0010_re/s0010_re.xyz")).kind, ProbeKind::WfdbCompanion);
  const auto xa = probeFile(pathAt("cardiac_xa_jpeg_cine/fo-dicom/HasFragmentSequence.dcm"));
  EXPECT_EQ(xa.kind, ProbeKind::Unsupported);
  EXPECT_NE(xa.reason.find("unsupported DICOM object (SOP class 1.2.840.10008.5.1.4.1.1.12.1"), std::string::npos)
      << xa.reason;
  const auto lic = probeFile(pathAt("us_dicom/pydicom-data/LICENSE"));
  EXPECT_EQ(lic.kind, ProbeKind::Unsupported);
  EXPECT_FALSE(lic.reason.empty());
  EXPECT_EQ(probeFile("/nonexistent/file.dcm").reason, "file not found");
  EXPECT_EQ(probeFile("clip.AVI").kind, ProbeKind::Unsupported);  // missing file is never a video
  EXPECT_THROW(readAny(pathAt("us_dicom/octave-dicom_debian/README.md")), UnsupportedInput);
  EXPECT_EQ(wfdbRecordFiles(pathAt("ecg_wfdb/wfdb-python_ptb_s0010_re/s0010_re.hea")).size(), 3u);
}

TEST(Dispatcher, DicomWithoutPreambleIsRecognised) {
  TempDir tmp("nopreamble");
  const std::string src = pathAt("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm");
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(src.c_str()).good());
  const std::string dst = tmp.str("raw_dataset");
  // Data set only, no preamble and no meta header.
  ASSERT_TRUE(ff.getDataset()->saveFile(dst.c_str(), EXS_LittleEndianExplicit).good());
  EXPECT_TRUE(looksLikeDicom(dst));
  EXPECT_EQ(probeFile(dst).kind, ProbeKind::DicomEcg);
}

TEST(Import, RealDataTree) {
  TempDir tmp("import_real");
  db::Database db(tmp.str("studies.db"));
  ImportOptions opts;
  opts.paths = {e2e::test::dataDir().string()};
  opts.threads = 2;
  std::vector<ImportProgress> seen;
  const auto rep = runImport(db, opts, {}, [&](const ImportProgress& p) { seen.push_back(p); });
  SCOPED_TRACE(summary(rep));
  EXPECT_FALSE(rep.cancelled);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().filesDone, rep.filesFound);

  // Every input is accounted for exactly once.
  EXPECT_EQ(rep.added + rep.skipped + static_cast<std::int64_t>(rep.unsupported.size() + rep.conflicts.size() +
                                                                 rep.errors.size()) +
                rep.labelFiles,
            rep.filesFound);
  // Counts by kind, from the tree itself: each .hea is one WFDB record; the files beside it with the
  // same record name (signals .dat/.mat/.xyz, LUDB's per-lead annotations .i .ii ... .v6) are not inputs.
  std::int64_t hea = 0, signalFiles = 0;
  for (const auto& e : fs::recursive_directory_iterator(e2e::test::dataDir())) {
    if (!e.is_regular_file()) continue;
    const auto ext = e.path().extension().string();
    if (ext == ".hea") ++hea;
    else if (fs::exists(fs::path(e.path()).replace_extension(".hea"))) ++signalFiles;
  }
  EXPECT_EQ(rep.companions, signalFiles);
  EXPECT_FALSE(contains(rep.unsupported, ".mat"));
  EXPECT_FALSE(contains(rep.unsupported, ".dat"));
  auto c = db.counts();
  EXPECT_EQ(c.instances, rep.added);
  EXPECT_EQ(c.ecgRecords, rep.addedEcg);
  EXPECT_EQ(c.echoLoops, rep.addedEcho);
  EXPECT_EQ(rep.addedEcg + rep.addedEcho, rep.added);
  db::Filter wf;
  wf.text = ".hea";
  const auto wfdbRows = db.listInstances(wf);
  std::int64_t heaErrors = std::count_if(rep.errors.begin(), rep.errors.end(),
                                         [](const ImportIssue& i) { return fs::path(i.path).extension() == ".hea"; });
  EXPECT_EQ(static_cast<std::int64_t>(wfdbRows.size()) + heaErrors, hea);
  for (const auto& r : wfdbRows) EXPECT_EQ(r.format, "WFDB");
  EXPECT_GT(wfdbRows.size(), 0u);

  // The DICOM ECGs: two distinct objects; the third file is a byte copy -> skipped.
  EXPECT_TRUE(db.instanceByUid(db.listInstances({})[0].sopInstanceUid));
  db::Filter ef;
  ef.text = "ecg_dicom";
  EXPECT_EQ(db.listInstances(ef).size(), 2u);
  EXPECT_GE(rep.skipped, 1);

  // Not ECG/US -> unsupported with the reason; never aborting.
  EXPECT_TRUE(contains(rep.unsupported, "HasFragmentSequence.dcm", "1.2.840.10008.5.1.4.1.1.12.1"));
  EXPECT_TRUE(contains(rep.unsupported, "GH538-jpeg1.dcm", "SOP class"));
  EXPECT_TRUE(contains(rep.unsupported, "README.md"));
  EXPECT_TRUE(contains(rep.unsupported, "MANIFEST.md5"));
  // JPEG 2000 echo: metadata is stored, and the undecodable pixel data is reported.
  for (const char* j2k : {"US1_J2KI.dcm", "US1_J2KR.dcm"}) {
    const bool reported = contains(rep.warnings, j2k, "JPEG 2000") || contains(rep.unsupported, j2k) ||
                          contains(rep.errors, j2k);
    EXPECT_TRUE(reported) << j2k;
  }
  // The three OBXXXX1A files of pydicom-data share one SOP Instance UID with different content:
  // one is stored, the two others are conflicts naming that UID.
  std::int64_t ob = 0;
  for (const auto& cf : rep.conflicts)
    if (cf.path.find("OBXXXX1A") != std::string::npos) {
      ++ob;
      EXPECT_EQ(cf.uid, "1.3.46.670589.14.1000.210.2.199999.20110525185628.1.0");
    }
  EXPECT_EQ(ob, 2);
  auto stored = db.instanceByUid("1.3.46.670589.14.1000.210.2.199999.20110525185628.1.0");
  ASSERT_TRUE(stored);
  // Stored in sorted path order whatever the parser threads do: the first path wins.
  EXPECT_EQ(fs::path(stored->path).filename(), "OBXXXX1A.dcm");
  EXPECT_EQ(stored->sha256, sha256File(stored->path));

  // Echo details are stored without decoding pixels; the path is kept.
  db::Filter uf;
  uf.text = "US-PAL-8-10x-echo.dcm";
  auto pal = db.listInstances(uf);
  ASSERT_EQ(pal.size(), 1u);
  auto d = db.details(pal[0].id);
  ASSERT_TRUE(d && d->echo);
  EXPECT_EQ(d->echo->frames, 10);
  EXPECT_EQ(d->echo->photometric, "PALETTE COLOR");
  EXPECT_TRUE(fs::exists(d->instance.path));

  EXPECT_EQ(db.integrityCheck(), "ok");
  EXPECT_TRUE(db.foreignKeyViolations().empty());
  EXPECT_EQ(orphanInstances(db), 0);

  // Re-import: everything already present is skipped, nothing changes.
  const auto before = db.counts();
  const auto again = runImport(db, opts);
  SCOPED_TRACE(summary(again));
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.skipped, rep.added + rep.skipped);
  EXPECT_EQ(again.conflicts.size(), rep.conflicts.size());
  EXPECT_EQ(again.unsupported.size(), rep.unsupported.size());
  const auto after = db.counts();
  EXPECT_EQ(after.instances, before.instances);
  EXPECT_EQ(after.patients, before.patients);
  EXPECT_EQ(after.studies, before.studies);
}

TEST(Import, ModifiedCopyWithSameUidIsAConflict) {
  TempDir tmp("import_conflict");
  const std::string original = pathAt("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm");
  const std::string modified = tmp.str("incoming/modified.dcm");
  // Change a non-UID element only (StudyDescription); keep the SOP Instance UID.
  ASSERT_TRUE(e2e::test::copyDicomWith(original, modified, {{DCM_StudyDescription, "CHANGED BY TEST"}}));
  db::Database db(tmp.str("studies.db"));
  ImportOptions opts;
  opts.paths = {original};
  const auto first = runImport(db, opts);
  ASSERT_EQ(first.added, 1) << summary(first);
  const auto uid = db.listInstances({})[0].sopInstanceUid;
  const auto before = *db.instanceByUid(uid);
  const auto studiesBefore = db.listStudies({});

  opts.paths = {tmp.str("incoming")};
  const auto rep = runImport(db, opts);
  EXPECT_EQ(rep.added, 0);
  ASSERT_EQ(rep.conflicts.size(), 1u) << summary(rep);
  EXPECT_EQ(rep.conflicts[0].uid, uid);
  EXPECT_EQ(rep.conflicts[0].path, modified);
  EXPECT_FALSE(rep.ok());
  const auto after = *db.instanceByUid(uid);
  EXPECT_EQ(after.path, before.path);
  EXPECT_EQ(after.sha256, before.sha256);
  EXPECT_EQ(after.sha256, sha256File(original));
  const auto studiesAfter = db.listStudies({});
  ASSERT_EQ(studiesAfter.size(), studiesBefore.size());
  EXPECT_EQ(studiesAfter[0].description, studiesBefore[0].description);
  EXPECT_EQ(db.counts().instances, 1);
}

TEST(Import, BadInputsAreReportedNotFatal) {
  TempDir tmp("import_bad");
  {
    std::ofstream(tmp.str("truncated.dcm"), std::ios::binary) << std::string(128, '\0') << "DICM" << "\x02\x00";
    std::ofstream(tmp.str("empty.hea"));
    std::ofstream(tmp.str("notes.txt")) << "hello";
    // The first half of a real DICOM ECG (cut inside the waveform data).
    std::ifstream src(pathAt("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
    std::ofstream(tmp.str("half_ecg.dcm"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  db::Database db(tmp.str("studies.db"));
  ImportOptions opts;
  opts.paths = {tmp.str(), tmp.str("does-not-exist")};
  const auto rep = runImport(db, opts);
  SCOPED_TRACE(summary(rep));
  EXPECT_EQ(rep.added, 0);
  EXPECT_TRUE(contains(rep.unsupported, "notes.txt"));
  EXPECT_TRUE(contains(rep.errors, "does-not-exist"));
  // The empty header is a broken WFDB record; the truncated DICOM cannot be parsed.
  EXPECT_TRUE(contains(rep.errors, "empty.hea") || contains(rep.unsupported, "empty.hea"));
  EXPECT_TRUE(contains(rep.errors, "truncated.dcm")) << "a damaged DICOM file is an error, not 'unsupported'";
  EXPECT_TRUE(contains(rep.errors, "half_ecg.dcm"));
  EXPECT_EQ(db.counts().instances, 0);
  EXPECT_EQ(db.integrityCheck(), "ok");
}

TEST(Import, CancelIsHonoured) {
  TempDir tmp("import_cancel");
  ASSERT_EQ(e2e::test::makeDicomFolder(tmp.str("in"), 60), 60);
  {
    db::Database db(tmp.str("pre.db"));
    job::CancelToken token;
    token.cancel();
    ImportOptions opts;
    opts.paths = {tmp.str("in")};
    const auto rep = runImport(db, opts, token);
    EXPECT_TRUE(rep.cancelled);
    EXPECT_EQ(rep.added, 0);
    EXPECT_EQ(db.counts().instances, 0);
  }
  db::Database db(tmp.str("mid.db"));
  job::CancelToken token;
  ImportOptions opts;
  opts.paths = {tmp.str("in")};
  opts.threads = 2;
  opts.progressInterval = std::chrono::milliseconds(0);
  const auto rep = runImport(db, opts, token, [&](const ImportProgress& p) {
    if (p.filesDone >= 5) token.cancel();
  });
  EXPECT_TRUE(rep.cancelled);
  EXPECT_GE(rep.added, 5);
  EXPECT_LT(rep.added, 60);
  // What was written is complete and consistent.
  EXPECT_EQ(db.counts().instances, rep.added);
  EXPECT_EQ(orphanInstances(db), 0);
  EXPECT_EQ(db.integrityCheck(), "ok");
  // Resuming completes the job.
  const auto rest = runImport(db, ImportOptions{{tmp.str("in")}});
  EXPECT_EQ(rest.added + rep.added, 60) << summary(rest);
  EXPECT_EQ(db.counts().instances, 60);
}

TEST(Job, BackgroundJobAndThrottle) {
  job::BackgroundJob<int> j([](const job::CancelToken& t) {
    int n = 0;
    while (!t.cancelled() && n < 1000000) {
      ++n;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return n;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  j.cancel();
  EXPECT_LT(j.wait(), 1000000);
  int calls = 0;
  job::ThrottledCallback<int> cb([&](const int&) { ++calls; }, std::chrono::hours(1));
  for (int i = 0; i < 100; ++i) cb(i);
  EXPECT_EQ(calls, 1);
  cb(0, true);
  EXPECT_EQ(calls, 2);
}

namespace {
pid_t spawnImport(const std::string& dir, const std::string& dbPath) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(E2E_CLI_PATH, "echo2ecg", "import", dir.c_str(), "--db", dbPath.c_str(), "--threads", "1", "--batch", "2",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}
}  // namespace

// Two imports of the same folder into one database at the same time (WAL + busy timeout):
// both finish cleanly and every object is stored exactly once.
TEST(Import, TwoConcurrentImportsIntoOneDatabase) {
  TempDir tmp("import_concurrent");
  const int n = 80;
  ASSERT_EQ(e2e::test::makeDicomFolder(tmp.str("in"), n), n);
  const std::string dbPath = tmp.str("shared.db");
  { db::Database create(dbPath); }
  const pid_t a = spawnImport(tmp.str("in"), dbPath), b = spawnImport(tmp.str("in"), dbPath);
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  int sa = 0, sb = 0;
  ASSERT_EQ(waitpid(a, &sa, 0), a);
  ASSERT_EQ(waitpid(b, &sb, 0), b);
  EXPECT_TRUE(WIFEXITED(sa) && WEXITSTATUS(sa) == 0) << sa;
  EXPECT_TRUE(WIFEXITED(sb) && WEXITSTATUS(sb) == 0) << sb;
  db::Database db(dbPath);
  const auto c = db.counts();
  EXPECT_EQ(c.instances, n);
  EXPECT_EQ(c.ecgRecords + c.echoLoops, n);
  EXPECT_EQ(c.patients, n / 5);
  EXPECT_EQ(db.integrityCheck(), "ok");
  EXPECT_EQ(orphanInstances(db), 0);
}

// kill -9 of the CLI in the middle of an import leaves a consistent database; re-running the
// import completes it to exactly what a clean import gives.
TEST(Import, CrashConsistencyAfterKill9) {
  TempDir tmp("import_kill");
  const int n = 400;
  ASSERT_EQ(e2e::test::makeDicomFolder(tmp.str("in"), n), n);

  db::Counts clean;
  {
    db::Database db(tmp.str("clean.db"));
    const auto rep = runImport(db, ImportOptions{{tmp.str("in")}});
    ASSERT_EQ(rep.added, n) << summary(rep);
    clean = db.counts();
  }

  std::string killed;
  bool killedMidway = false;
  for (int attempt = 0; attempt < 3 && !killedMidway; ++attempt) {
    killed = tmp.str("killed" + std::to_string(attempt) + ".db");  // a fresh database for each try
    { db::Database create(killed); }  // schema exists before the child starts
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execl(E2E_CLI_PATH, "echo2ecg", "import", tmp.str("in").c_str(), "--db", killed.c_str(), "--threads", "2",
            "--batch", "4", static_cast<char*>(nullptr));
      _exit(127);
    }
    sqlite3* watch = nullptr;
    ASSERT_EQ(sqlite3_open_v2(killed.c_str(), &watch, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(watch, 1000);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::int64_t seen = 0;
    int status = 0;
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      seen = scalar(watch, "SELECT COUNT(*) FROM instances");
      if (seen > 0) break;  // it has started writing
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    sqlite3_close(watch);
    if (!exited) {
      kill(pid, SIGKILL);
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
    }
    killedMidway = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && seen > 0 && seen < n;
  }
  ASSERT_TRUE(killedMidway) << "could not kill the import while it was writing";

  {
    db::Database db(killed);  // recovers the WAL
    EXPECT_EQ(db.integrityCheck(), "ok");
    EXPECT_TRUE(db.foreignKeyViolations().empty());
    EXPECT_EQ(orphanInstances(db), 0);
    const auto partial = db.counts();
    EXPECT_LT(partial.instances, n);
    EXPECT_EQ(partial.ecgRecords + partial.echoLoops, partial.instances);
    // Re-run completes it.
    const auto rep = runImport(db, ImportOptions{{tmp.str("in")}});
    EXPECT_TRUE(rep.ok()) << summary(rep);
    EXPECT_EQ(rep.added + rep.skipped, n);
    const auto fin = db.counts();
    EXPECT_EQ(fin.patients, clean.patients);
    EXPECT_EQ(fin.studies, clean.studies);
    EXPECT_EQ(fin.series, clean.series);
    EXPECT_EQ(fin.instances, clean.instances);
    EXPECT_EQ(fin.ecgRecords, clean.ecgRecords);
    EXPECT_EQ(fin.echoLoops, clean.echoLoops);
    EXPECT_EQ(fin.usRegions, clean.usRegions);
    EXPECT_EQ(db.integrityCheck(), "ok");
    EXPECT_EQ(orphanInstances(db), 0);
  }
}


// The synthetic cohort (real DICOM written by core/synth) imports completely, with its labels.
TEST(Import, SyntheticCohortWithLabels) {
  TempDir tmp("import_synth");
  synth::CohortOptions o;
  o.outDir = tmp.str("cohort");
  o.patients = 6;
  o.seed = 11;
  o.echoFrames = 4;
  o.echoSize = 48;
  o.threads = 2;
  const auto cohort = synth::generateCohort(o);
  ASSERT_EQ(cohort.patients.size(), 6u);
  db::Database db(tmp.str("studies.db"));
  ImportOptions opts;
  opts.paths = {o.outDir};
  const auto rep = runImport(db, opts);
  SCOPED_TRACE(summary(rep));
  EXPECT_TRUE(rep.ok());
  EXPECT_EQ(rep.added, static_cast<std::int64_t>(cohort.files.size()));
  EXPECT_EQ(rep.labelFiles, 1);
  EXPECT_GT(rep.labelsStored, 0);
  EXPECT_TRUE(rep.unsupported.empty());
  EXPECT_EQ(db.counts().patients, 6);
  int classZero = 0;
  for (const auto& p : cohort.patients) {
    classZero += p.lvefClass() == 0;
    db::Filter f;
    f.text = p.patientId;
    const auto studies = db.listStudies(f);
    ASSERT_EQ(studies.size(), 1u) << p.patientId;
    EXPECT_TRUE(studies[0].synthetic) << p.patientId;
    bool found = false;
    for (const auto& l : db.labelsForStudy(studies[0].id))
      if (l.key == "lvef_class") {
        found = true;
        EXPECT_EQ(l.value, std::to_string(p.lvefClass())) << p.patientId;
      }
    EXPECT_TRUE(found) << p.patientId;
  }
  db::Filter byLabel;
  byLabel.labelKey = "lvef_class";
  byLabel.labelValue = "0";
  EXPECT_EQ(static_cast<int>(db.listStudies(byLabel).size()), classZero);
  const auto labelsBefore = db.counts().labels;
  const auto again = runImport(db, opts);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.skipped, rep.added);
  EXPECT_EQ(db.counts().labels, labelsBefore);  // upserted, not duplicated
}
