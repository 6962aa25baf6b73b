// Synthetic cohort generation throughput: patients/s, files/s, MB/s (written DICOM bytes).
#include <benchmark/benchmark.h>

#include "bench_common.h"
#include "synth/cohort.h"

namespace {

using namespace e2e::synth;
namespace fs = std::filesystem;

// Args: patients, threads (0 = all cores). Default echo size (112 x 112, 32 frames, 4 views).
void BM_GenerateCohort(benchmark::State& state) {
  const int patients = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  std::uint64_t files = 0, bytes = 0, people = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path dir = e2e::bench::freshTempDir("synth");
    CohortOptions o;
    o.outDir = dir.string();
    o.patients = patients;
    o.threads = threads;
    o.seed = 2024;
    state.ResumeTiming();
    const CohortResult r = generateCohort(o);
    state.PauseTiming();
    files += r.files.size();
    people += r.patients.size();
    bytes += e2e::bench::treeBytes(dir);
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["patients/s"] = benchmark::Counter(static_cast<double>(people), benchmark::Counter::kIsRate);
  state.counters["files/s"] = benchmark::Counter(static_cast<double>(files), benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
  state.counters["MB/cohort"] = static_cast<double>(bytes) / 1e6 / static_cast<double>(state.iterations());
}
BENCHMARK(BM_GenerateCohort)->Args({100, 1})->Args({100, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
// The target: a 500-patient cohort (2,500 files) on all cores.
BENCHMARK(BM_GenerateCohort)->Args({500, 0})->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

Phenotype typical() { return samplePhenotype(7, 3); }

void BM_SynthesizeEcg(benchmark::State& state) {
  const Phenotype p = typical();
  std::uint64_t seed = 1;
  for (auto _ : state) benchmark::DoNotOptimize(synthesizeEcg(p, seed++));
  state.counters["ecg/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SynthesizeEcg)->Unit(benchmark::kMicrosecond);

void BM_SynthesizeEcho(benchmark::State& state) {
  const Phenotype p = typical();
  const int size = static_cast<int>(state.range(0));
  std::uint64_t seed = 1;
  for (auto _ : state) benchmark::DoNotOptimize(synthesizeEcho(p, "A4C", seed++, 32, size));
  state.counters["frames/s"] = benchmark::Counter(32.0 * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SynthesizeEcho)->Arg(112)->Arg(224)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
