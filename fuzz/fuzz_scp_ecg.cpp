// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// SCP-ECG (EN 1064) binary records (core/io/vendor/scp_ecg): the content sniffer on the first KiB, then the reader.
// Every SCP record and section carries a CRC; a mutated input would nearly always stop at the first
// one. Inputs whose last byte is even get their CRCs made right first (sections walked in file
// order), so that the fuzzer reaches the section parsers and the Huffman and signal decoders; odd
// ones are read as they are (the CRC checks themselves).
#include <algorithm>
#include <vector>

#include "fuzz_util.h"
#include "io/vendor/scp_ecg.h"
#include "io/vendor/scp_internal.h"

namespace {

std::uint32_t le32(const std::uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t(p[3]) << 24); }
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

void fixCrcs(std::vector<std::uint8_t>& b) {
  if (b.size() < 6) return;
  const std::size_t recLen = std::min<std::size_t>(le32(&b[2]), b.size());
  for (std::size_t off = 6; off + 16 <= recLen;) {
    const std::size_t len = le32(&b[off + 4]);
    if (len < 16 || len > recLen - off) break;
    put16(&b[off], e2e::scp::crcCcitt(&b[off + 2], len - 2));
    off += len;
  }
  if (recLen >= 2) put16(&b[0], e2e::scp::crcCcitt(&b[2], recLen - 2));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)e2e::looksLikeScpEcg(std::string_view(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 1024)));
  std::vector<std::uint8_t> bytes(data, data + size);
  if (size > 0 && data[size - 1] % 2 == 0) fixCrcs(bytes);
  const std::string path = e2e::fuzz::writeScratch("input.scp", bytes.data(), bytes.size());
  e2e::fuzz::expectOnlyErrors([&] { (void)e2e::readScpEcg(path); });
  return 0;
}
