// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// HL7 aECG (annotated ECG) XML (core/io/vendor/hl7_aecg): the content sniffer on the first KiB, then the reader.
#include <algorithm>

#include "fuzz_util.h"
#include "io/vendor/hl7_aecg.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)e2e::looksLikeHl7Aecg(std::string_view(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 1024)));
  const std::string path = e2e::fuzz::writeScratch("input.xml", data, size);
  e2e::fuzz::expectOnlyErrors([&] { (void)e2e::readHl7Aecg(path); });
  return 0;
}
