// Replay driver of a fuzz target for the test suite (built with g++, no libFuzzer): runs every seed
// of the target (fuzz/seeds/<target>.txt: files of E2E_DATA_DIR), every file of fuzz/corpus/<target>/
// and fuzz/regressions/<target>/, then N deterministic mutations of them (fixed seed): bit flips,
// truncations, byte insertions and deletions, header-field overwrites with boundary values, and
// numbers in text replaced by hostile ones. A crash, an abort or an input that runs past the
// per-input time limit fails the test: the driver names the input, writes it to
// fuzz-failure-<target>.bin in the working directory and exits non-zero.
//
// Usage: fuzz_replay_<target> [--mutations N] [--timeout SECONDS] [FILE...]
//   FILE...: run only these inputs (no mutations), e.g. a crash input found by libFuzzer.
//
// Seed list lines: a path relative to E2E_DATA_DIR; "a + b" joins two files with a NUL byte between
// (targets that take two parts, e.g. a WFDB header and its signal file); "src:PATH" is relative
// to the source tree; '#' starts a comment.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

struct Input {
  std::string name;
  std::string bytes;
};

// What the signal handlers report: the input running now (async-signal-safe copies).
char gCurrentName[512];
const std::string* gCurrentBytes = nullptr;
char gFailurePath[512];

void writeAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void onFatal(int sig) {
  const char* what = sig == SIGALRM ? "timeout (hang) on input: " : "fatal signal on input: ";
  writeAll(2, "\nfuzz replay: ", 14);
  writeAll(2, what, std::strlen(what));
  writeAll(2, gCurrentName, std::strlen(gCurrentName));
  writeAll(2, "\n", 1);
  if (gCurrentBytes) {
    const int fd = ::open(gFailurePath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      writeAll(fd, gCurrentBytes->data(), gCurrentBytes->size());
      ::close(fd);
      writeAll(2, "fuzz replay: input written to ", 30);
      writeAll(2, gFailurePath, std::strlen(gFailurePath));
      writeAll(2, "\n", 1);
    }
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

bool readFile(const fs::path& p, std::string& out) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

fs::path resolveSeed(const std::string& item, const fs::path& dataDir) {
  if (item.rfind("src:", 0) == 0) return fs::path(FUZZ_SOURCE_DIR) / item.substr(4);
  return dataDir / item;
}

// The seeds named by the list; a missing data file is an error (the test data must be there).
bool loadSeedList(const fs::path& list, const fs::path& dataDir, std::vector<Input>& out) {
  std::ifstream f(list);
  if (!f) return true;  // no list: corpus and regressions only
  std::string line;
  while (std::getline(f, line)) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    Input in{line, ""};
    std::size_t start = 0;
    for (int part = 0;; ++part) {
      const auto plus = line.find(" + ", start);
      const std::string item = trim(line.substr(start, plus == std::string::npos ? std::string::npos : plus - start));
      std::string bytes;
      if (!readFile(resolveSeed(item, dataDir), bytes)) {
        std::cerr << "fuzz replay: cannot read seed " << resolveSeed(item, dataDir) << " (listed in " << list << ")\n";
        return false;
      }
      if (part > 0) in.bytes.push_back('\0');
      in.bytes += bytes;
      if (plus == std::string::npos) break;
      start = plus + 3;
    }
    out.push_back(std::move(in));
  }
  return true;
}

void loadDir(const fs::path& dir, std::vector<Input>& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    Input in{p.string(), ""};
    if (readFile(p, in.bytes)) out.push_back(std::move(in));
  }
}

// Text (XML, CSV, JSON, WFDB headers): no NUL and almost only printable bytes in the first 4 KiB.
bool looksLikeText(const std::string& s) {
  const std::size_t n = std::min<std::size_t>(s.size(), 4096);
  std::size_t printable = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c >= 0x20 || c == '\n' || c == '\r' || c == '\t') ++printable;
  }
  return n > 0 && printable * 100 >= n * 95;
}

// A number in text (a run of digits and dots) replaced by a hostile one.
void replaceNumber(std::string& s, std::mt19937_64& rng, std::ostringstream& h) {
  static const char* kNumbers[] = {"0", "-1", "1e308", "1e-300", "nan", "inf", "2147483648", "-2147483649",
                                   "99999999999999999999", "65535", "0.01", ""};
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (std::isdigit(static_cast<unsigned char>(s[i])) && (i == 0 || !std::isdigit(static_cast<unsigned char>(s[i - 1]))))
      starts.push_back(i);
  if (starts.empty()) return;
  const std::size_t at = starts[rng() % starts.size()];
  std::size_t end = at;
  while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.')) ++end;
  const char* num = kNumbers[rng() % std::size(kNumbers)];
  s.replace(at, end - at, num);
  h << "number at " << at << " -> \"" << num << "\"";
}

// One mutation of `s` (kind chosen by rng); `how` names it.
std::string mutate(std::string s, std::mt19937_64& rng, std::string& how) {
  auto pick = [&](std::size_t n) { return n == 0 ? std::size_t(0) : std::size_t(rng() % n); };
  static const std::uint32_t kValues[] = {0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000u,
                                          0xFFFFFFFFu};
  // In-place changes (bit flips, field overwrites) are weighted up: most formats are length-prefixed,
  // so that changes of the length are mostly refused at the first check.
  // Text is mutated mostly within its letters and numbers, so that it stays well-formed.
  static const int kKinds[] = {0, 0, 0, 4, 4, 4, 1, 2, 3, 5, 6};
  static const int kTextKinds[] = {5, 5, 5, 7, 7, 7, 7, 0, 4, 1, 2, 3, 6};
  const bool text = looksLikeText(s);
  const int kind = text ? kTextKinds[pick(std::size(kTextKinds))] : kKinds[pick(std::size(kKinds))];
  std::ostringstream h;
  switch (kind) {
    case 0: {  // bit flips
      const int n = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < n && !s.empty(); ++i) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
      h << "flip " << n << " bits";
      break;
    }
    case 1: {  // truncation
      const std::size_t len = pick(s.size() + 1);
      s.resize(len);
      h << "truncate to " << len;
      break;
    }
    case 2: {  // byte insertion
      const std::size_t at = pick(s.size() + 1), n = 1 + pick(64);
      std::string ins(n, '\0');
      for (auto& c : ins) c = static_cast<char>(rng());
      s.insert(at, ins);
      h << "insert " << n << " bytes at " << at;
      break;
    }
    case 3: {  // deletion of a block
      if (s.empty()) break;
      const std::size_t at = pick(s.size()), n = std::min(s.size() - at, 1 + pick(256));
      s.erase(at, n);
      h << "delete " << n << " bytes at " << at;
      break;
    }
    case 4: {  // field overwrite: a boundary value (1, 2 or 4 bytes, either order), half of them in the
               // first 2 KiB (the headers), half anywhere
      if (s.empty()) break;
      const std::size_t width = std::size_t(1) << (rng() % 3);
      const std::size_t at = pick(rng() % 2 ? std::min<std::size_t>(s.size(), 2048) : s.size());
      const std::uint32_t v = kValues[pick(std::size(kValues))];
      const bool big = rng() % 2;
      for (std::size_t i = 0; i < width && at + i < s.size(); ++i)
        s[at + i] = static_cast<char>(v >> (8 * (big ? width - 1 - i : i)));
      h << "overwrite " << width << " bytes at " << at << " with " << v;
      break;
    }
    case 5:  // a number in text replaced by a hostile one
      replaceNumber(s, rng, h);
      break;
    case 7: {  // text: letters and digits replaced by other letters and digits (names, values, codes)
      const int n = 1 + static_cast<int>(rng() % 4);
      static const char kChars[] = "0123456789-.AaZzeEVIx";
      for (int i = 0; i < n && !s.empty(); ++i) {
        const std::size_t at = pick(s.size());
        if (std::isalnum(static_cast<unsigned char>(s[at]))) s[at] = kChars[pick(sizeof kChars - 1)];
      }
      h << "replace up to " << n << " letters or digits";
      break;
    }
    default: {  // a block duplicated (repeated structures, lengths that no longer match)
      if (s.empty()) break;
      const std::size_t at = pick(s.size()), n = std::min(s.size() - at, 1 + pick(512));
      s.insert(pick(s.size() + 1), s.substr(at, n));
      h << "duplicate " << n << " bytes from " << at;
      break;
    }
  }
  how = h.str();
  return s;
}

void runOne(const std::string& name, const std::string& bytes, unsigned timeout) {
  std::snprintf(gCurrentName, sizeof gCurrentName, "%s", name.c_str());
  gCurrentBytes = &bytes;
  ::alarm(timeout);
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  ::alarm(0);
  gCurrentBytes = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  int mutations = 200;
  unsigned timeout = 30;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) mutations = std::atoi(argv[++i]);
    else if (a == "--timeout" && i + 1 < argc) timeout = static_cast<unsigned>(std::atoi(argv[++i]));
    else files.push_back(a);
  }
  std::snprintf(gFailurePath, sizeof gFailurePath, "fuzz-failure-%s.bin", FUZZ_TARGET_NAME);
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGALRM}) ::signal(sig, onFatal);

  std::vector<Input> inputs;
  if (!files.empty()) {
    for (const auto& f : files) {
      Input in{f, ""};
      if (!readFile(f, in.bytes)) {
        std::cerr << "fuzz replay: cannot read " << f << "\n";
        return 2;
      }
      inputs.push_back(std::move(in));
    }
    mutations = 0;
  } else {
    const char* env = std::getenv("E2E_DATA_DIR");
    const fs::path dataDir = env && *env ? env : E2E_DATA_DIR;
    const fs::path src(FUZZ_SOURCE_DIR);
    if (!loadSeedList(src / "fuzz/seeds" / (std::string(FUZZ_TARGET_NAME) + ".txt"), dataDir, inputs)) return 2;
    loadDir(src / "fuzz/corpus" / FUZZ_TARGET_NAME, inputs);
    loadDir(src / "fuzz/regressions" / FUZZ_TARGET_NAME, inputs);
    if (inputs.empty()) {
      std::cerr << "fuzz replay: no seeds for " << FUZZ_TARGET_NAME << "\n";
      return 2;
    }
  }
  for (const auto& in : inputs) runOne(in.name, in.bytes, timeout);
  std::mt19937_64 rng(0xE2EF022ull);  // fixed: the same mutations every run
  for (int m = 0; m < mutations; ++m) {
    const Input& base = inputs[static_cast<std::size_t>(m) % inputs.size()];
    std::string how;
    std::string bytes = base.bytes;
    const int rounds = 1 + static_cast<int>(rng() % 3);
    std::string all;
    for (int r = 0; r < rounds; ++r) {
      bytes = mutate(std::move(bytes), rng, how);
      all += (r ? "; " : "") + how;
    }
    runOne("mutation " + std::to_string(m) + " of " + base.name + " (" + all + ")", bytes, timeout);
  }
  std::cout << "fuzz replay " << FUZZ_TARGET_NAME << ": " << inputs.size() << " inputs and " << mutations
            << " mutations ran without a crash (" << e2e::fuzz::callCounts().calls << " reader calls, "
            << e2e::fuzz::callCounts().errors << " ended in an expected error)\n";
  return 0;
}
