// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// Echo video files (core/io/video_reader, FFmpeg): container metadata, then the first frames decoded.
// The input is written as an .avi (FFmpeg probes the content, not the name).
extern "C" {
#include <libavutil/log.h>
}

#include "fuzz_util.h"
#include "io/video_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {  // FFmpeg warnings about damaged streams: not reports, only slow
    av_log_set_level(AV_LOG_QUIET);
    return true;
  }();
  (void)quiet;
  const std::string path = e2e::fuzz::writeScratch("input.avi", data, size);
  e2e::fuzz::expectOnlyErrors([&] {
    (void)e2e::readVideoInfo(path);
    (void)e2e::readVideoFrames(path, 0, 3);
  });
  return 0;
}
