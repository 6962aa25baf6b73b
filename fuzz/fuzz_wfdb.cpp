// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// WFDB records (core/io/wfdb): header text and signal bytes, split at the first NUL byte
// (a header never holds one): "<.hea text>\0<signal file bytes>". The header is written as
// <record name>.hea and the signal bytes under every plain file name its signal lines give (at
// most 4), so that a mutated header still finds its signals; other names (paths) are left to the
// reader to refuse.
#include <set>
#include <sstream>

#include "fuzz_util.h"
#include "io/wfdb.h"

namespace {

namespace fs = std::filesystem;

bool plainName(const std::string& s) {
  if (s.empty() || s.size() > 64 || s == "." || s == "..") return false;
  for (char c : s)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x21) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [header, signal] = e2e::fuzz::splitAtNul(data, size);
  const fs::path dir = e2e::fuzz::scratchDir() / "wfdb";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);

  std::istringstream in{std::string(header)};
  std::string line, record;
  std::set<std::string> signalNames;
  bool first = true;
  while (std::getline(in, line) && signalNames.size() < 4) {
    std::istringstream words(line);
    std::string word;
    if (!(words >> word) || word[0] == '#') continue;
    if (first) {
      record = word.substr(0, word.find('/'));  // "name/segments" of a multi-segment record
      first = false;
    } else if (plainName(word) && word != record + ".hea") {
      signalNames.insert(word);
    }
  }
  if (!plainName(record)) record = "record";
  const std::string hea = e2e::fuzz::writeScratch("wfdb/" + record + ".hea", header);
  for (const auto& name : signalNames) e2e::fuzz::writeScratch("wfdb/" + name, signal);
  e2e::fuzz::expectOnlyErrors([&] { (void)e2e::readWfdb(hea); });
  return 0;
}
