// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// DICOM ultrasound objects (core/io/dicom_echo): metadata, then the first two frames decoded
// (DCMTK's JPEG, JPEG-LS, RLE codecs and the frame geometry checks).
#include <dcmtk/oflog/oflog.h>

#include "fuzz_util.h"
#include "io/dicom_echo.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {  // DCMTK warnings about damaged files: not reports, only slow
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    return true;
  }();
  (void)quiet;
  const std::string path = e2e::fuzz::writeScratch("input.dcm", data, size);
  e2e::fuzz::expectOnlyErrors([&] {
    const e2e::EchoInfo info = e2e::readDicomEchoInfo(path);
    (void)info;
    (void)e2e::readDicomEchoFrames(path, 0, 2);
  });
  return 0;
}
