// What the fuzz targets share: a private scratch folder for the files the readers open (they all
// read from a path), and a swallow-expected-errors wrapper.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <stdexcept>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace e2e::fuzz {

namespace fs = std::filesystem;

// One folder per process under the temp dir (TMPDIR), removed at exit.
inline const fs::path& scratchDir() {
  struct Dir {
    fs::path p;
    Dir() {
      p = fs::temp_directory_path() / ("e2e-fuzz-" + std::to_string(::getpid()));
      fs::create_directories(p);
    }
    ~Dir() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  };
  static Dir d;
  return d.p;
}

// Writes `data` to scratchDir()/name (replacing it) and returns the path.
inline std::string writeScratch(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const fs::path p = scratchDir() / name;
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return p.string();
}
inline std::string writeScratch(const std::string& name, std::string_view text) {
  return writeScratch(name, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

// Runs f(); an exception with a message is the reader's expected answer to a bad input. A defect
// aborts so that the fuzzer reports it: std::bad_alloc or std::length_error (an allocation sized
// by the input instead of a checked limit), or an exception without a message.
// Calls made and calls that ended in an expected error (the replay driver reports them).
struct CallCounts {
  long long calls = 0, errors = 0;
};
inline CallCounts& callCounts() {
  static CallCounts c;
  return c;
}

template <class F>
void expectOnlyErrors(F&& f) {
  ++callCounts().calls;
  try {
    f();
  } catch (const std::bad_alloc&) {
    std::abort();
  } catch (const std::length_error&) {
    std::abort();
  } catch (const std::exception& e) {
    ++callCounts().errors;
    if (std::string_view(e.what()).empty()) std::abort();
    static const bool verbose = std::getenv("E2E_FUZZ_VERBOSE") != nullptr;  // list the errors
    if (verbose) std::fprintf(stderr, "error: %s\n", e.what());
  }
}

// Splits an input at its first NUL byte: (before, after). No NUL: (all, empty).
inline std::pair<std::string_view, std::string_view> splitAtNul(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const auto nul = all.find('\0');
  if (nul == std::string_view::npos) return {all, std::string_view()};
  return {all.substr(0, nul), all.substr(nul + 1)};
}

}  // namespace e2e::fuzz
