// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// Philips PageWriter / TraceMaster XML (with XLI-compressed waveforms) (core/io/vendor/philips_xml): the content sniffer on the first KiB, then the reader.
#include <algorithm>

#include "fuzz_util.h"
#include "io/vendor/philips_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)e2e::looksLikePhilipsXml(std::string_view(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 1024)));
  const std::string path = e2e::fuzz::writeScratch("input.xml", data, size);
  e2e::fuzz::expectOnlyErrors([&] { (void)e2e::readPhilipsXml(path); });
  return 0;
}
