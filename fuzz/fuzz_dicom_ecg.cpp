// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// DICOM ECG waveform objects (core/io/dicom_ecg*): the input is the whole .dcm file.
#include <dcmtk/oflog/oflog.h>

#include "fuzz_util.h"
#include "io/dicom_ecg.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {  // DCMTK warnings about damaged files: not reports, only slow
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    return true;
  }();
  (void)quiet;
  const std::string path = e2e::fuzz::writeScratch("input.dcm", data, size);
  e2e::fuzz::expectOnlyErrors([&] { (void)e2e::readDicomEcg(path); });
  return 0;
}
