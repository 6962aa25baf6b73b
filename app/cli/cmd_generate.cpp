// echo2ecg generate --out DIR --patients N --seed S
#include <unistd.h>

#include <cstdio>
#include <string>

#include "commands.h"
#include "synth/cohort.h"

namespace {

int runGenerate(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"out", "patients", "seed", "threads", "frames", "size"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg generate --out DIR [--patients N] [--seed S] [--threads N]\n"
        "                         [--frames N] [--size PX]\n"
        "Writes a SYNTHETIC paired ECG + echo cohort as DICOM (plus labels.csv) for development,\n"
        "tests and benchmarks. It is clearly labelled synthetic and is never clinical evidence.\n"
        "The same options and seed give byte-identical files.\n"
        "  --patients N  number of patients (default 100)\n"
        "  --seed S      random seed (default 42)\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("generate", a.error);
  if (!a.positional.empty()) return usageError("generate", "unexpected argument '" + a.positional[0] + "'");
  if (a.get("out").empty()) return usageError("generate", "--out DIR is required");
  long long patients = 100, seed = 42, threads = 0, frames = 0, size = 0;
  if (a.has("patients") && !parseInt(a.get("patients"), 1, 1000000, patients))
    return usageError("generate", "--patients needs an integer 1..1000000");
  if (a.has("seed") && !parseInt(a.get("seed"), 0, (1LL << 62), seed))
    return usageError("generate", "--seed needs a non-negative integer");
  if (a.has("threads") && !parseInt(a.get("threads"), 1, 256, threads))
    return usageError("generate", "--threads needs an integer 1..256");
  if (a.has("frames") && !parseInt(a.get("frames"), 1, 10000, frames))
    return usageError("generate", "--frames needs an integer 1..10000");
  if (a.has("size") && !parseInt(a.get("size"), 16, 4096, size))
    return usageError("generate", "--size needs an integer 16..4096");
  e2e::synth::CohortOptions o;
  o.outDir = a.get("out");
  o.patients = static_cast<int>(patients);
  o.seed = static_cast<std::uint64_t>(seed);
  o.threads = static_cast<int>(threads);
  if (frames) o.echoFrames = static_cast<int>(frames);
  if (size) o.echoSize = static_cast<int>(size);
  const bool tty = isatty(STDERR_FILENO);
  auto res = e2e::synth::generateCohort(o, [tty](int done, int total) {
    if (tty) std::fprintf(stderr, "\rgenerating %d/%d patients", done, total);
  });
  if (tty) std::fprintf(stderr, "\n");
  std::printf("Generated SYNTHETIC cohort: %zu patients, %zu DICOM files in %s\n", res.patients.size(),
              res.files.size(), o.outDir.c_str());
  if (!res.labelsCsv.empty()) std::printf("Labels: %s\n", res.labelsCsv.c_str());
  return kOk;
}

}  // namespace

E2E_REGISTER_COMMAND("generate", "write a synthetic (clearly labelled) paired ECG + echo DICOM cohort", runGenerate);
