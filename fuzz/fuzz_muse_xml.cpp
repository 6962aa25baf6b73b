// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// GE MUSE XML (core/io/vendor/muse_xml): the content sniffer on the first KiB, then the reader.
// Each lead's base64 data carries a CRC-32 (LeadDataCRC32) that nearly every mutation breaks: in
// inputs whose last byte is even the element is renamed (LeadDataCRCxx, same length) so that the
// reader decodes and checks the lead data instead; odd ones are read as they are.
#include <algorithm>

#include "fuzz_util.h"
#include "io/vendor/muse_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)e2e::looksLikeMuseXml(std::string_view(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 1024)));
  std::string text(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[size - 1] % 2 == 0)
    for (auto at = text.find("LeadDataCRC32"); at != std::string::npos; at = text.find("LeadDataCRC32", at))
      text.replace(at + 11, 2, "xx");
  const std::string path = e2e::fuzz::writeScratch("input.xml", text);
  e2e::fuzz::expectOnlyErrors([&] { (void)e2e::readMuseXml(path); });
  return 0;
}
