// Import throughput (files/s, MB/s) of the import job on a generated cohort of 400 patients
// x 5 files = 2,000 DICOM files, each iteration into a fresh temporary database.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <stdexcept>

#include "bench_common.h"
#include "db/database.h"
#include "io/reader.h"
#include "jobs/import/importer.h"
#include "synth/cohort.h"

namespace {

namespace fs = std::filesystem;

struct Cohort {
  fs::path dir;
  std::uint64_t bytes = 0;
  std::size_t files = 0;
  Cohort() {
    dir = e2e::bench::freshTempDir("import_cohort");
    e2e::synth::CohortOptions o;
    o.outDir = dir.string();
    o.patients = 400;
    o.seed = 77;
    const auto r = e2e::synth::generateCohort(o);
    files = r.files.size();
    bytes = e2e::bench::treeBytes(dir);
  }
  ~Cohort() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

const Cohort& cohort() {
  static Cohort c;
  return c;
}

// Arg: parser threads (0 = all cores).
void BM_ImportCohort(benchmark::State& state) {
  const Cohort& c = cohort();
  std::int64_t added = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path dbDir = e2e::bench::freshTempDir("import_db");
    state.ResumeTiming();
    {
      e2e::db::Database db((dbDir / "bench.sqlite").string());
      e2e::importer::ImportOptions opts;
      opts.paths = {c.dir.string()};
      opts.threads = static_cast<int>(state.range(0));
      const auto report = e2e::importer::runImport(db, opts);
      if (report.added != static_cast<std::int64_t>(c.files))
        state.SkipWithError(("imported " + std::to_string(report.added) + " of " + std::to_string(c.files) +
                             " files: " + e2e::importer::summary(report))
                                .c_str());
      added += report.added;
    }
    state.PauseTiming();
    fs::remove_all(dbDir);
    state.ResumeTiming();
  }
  state.counters["files/s"] = benchmark::Counter(static_cast<double>(added), benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(
      static_cast<double>(c.bytes) / 1e6 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["files"] = static_cast<double>(c.files);
  state.counters["MB"] = static_cast<double>(c.bytes) / 1e6;
}
BENCHMARK(BM_ImportCohort)->Arg(1)->Arg(0)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Vendor ECG exports (../shared/data/ecg_vendor): probe + full read (XML parse, base64 / XLI / Huffman
// decoding, lead derivation) of one real file per iteration, by format. Arg: index into kVendorFiles.
const char* const kVendorFiles[] = {
    "muse_xml/ml4h_muse_ecg_deidentified_1.xml",         "hl7_aecg/hl7_2003_ballot_Example_aECG.xml",
    "hl7_aecg/calecg2_hl7aecg-Example2.xml",             "philips_xml/129DYPRG.XML",
    "philips_xml/ad4d3d80-d165_1-04_orig.xml",           "scp_ecg/ecgtoolkit_Example.scp",
    "scp_ecg/welchallyn_ECG_20170504_163507_123456789.SCP"};

void BM_ReadVendorEcg(benchmark::State& state) {
  const fs::path p = fs::path(E2E_DATA_DIR) / "ecg_vendor" / kVendorFiles[state.range(0)];
  state.SetLabel(p.filename().string());
  const auto bytes = fs::exists(p) ? fs::file_size(p) : 0;
  if (!bytes) {
    state.SkipWithError(("missing " + p.string()).c_str());
    return;
  }
  for (auto _ : state) {
    auto obj = e2e::readAny(p.string());
    benchmark::DoNotOptimize(obj);
  }
  state.counters["files/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(bytes) / 1e6 * static_cast<double>(state.iterations()),
                                              benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadVendorEcg)->DenseRange(0, 6)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
