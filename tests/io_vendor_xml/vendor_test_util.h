// Helpers of the vendor XML reader tests: a private temp dir, file copies with edits.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/types.h"
#include "test_util.h"

namespace e2e::test {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void spit(const std::filesystem::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << s;
}

// A fresh directory under the system temp dir, removed when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("e2e_vxml_" + tag + "_" + (info ? std::string(info->name()) : std::string("x")) + "_" +
            std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }

 private:
  std::filesystem::path dir_;
};

// Replaces the first occurrence of `from` (after position `after`) by `to`; fails the test if absent.
inline std::string replaceOnce(std::string s, const std::string& from, const std::string& to, std::size_t after = 0) {
  const std::size_t at = s.find(from, after);
  EXPECT_NE(at, std::string::npos) << "pattern not found: " << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// Expects `read(path)` to throw ReadError whose message contains `needle` (and the path).
template <typename Reader>
void expectReadError(Reader read, const std::filesystem::path& path, const std::string& needle) {
  try {
    read(path.string());
    ADD_FAILURE() << "no ReadError for " << path << " (expected '" << needle << "')";
  } catch (const ReadError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
    EXPECT_EQ(e.path(), path.string());
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a ReadError: " << e.what();
  }
}

// Reads `count` copies of `original` with `flips` random bytes changed (fixed seed): each must
// read or throw ReadError, never crash or throw anything else. Returns how many were refused.
template <typename Reader>
int readMutatedCopies(Reader read, const std::string& original, const std::filesystem::path& dir, int count,
                      int flips) {
  std::mt19937 rng(20261207);
  int refused = 0;
  for (int i = 0; i < count; ++i) {
    std::string s = original;
    for (int f = 0; f < flips; ++f) s[rng() % s.size()] = static_cast<char>(rng() % 256);
    const auto p = dir / ("mutated" + std::to_string(i) + ".xml");
    spit(p, s);
    try {
      read(p.string());
    } catch (const ReadError&) {
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "copy " << i << ": not a ReadError: " << e.what();
    }
  }
  return refused;
}

// Files with the extension in a data folder, and the number of "file:" entries of its SOURCES.txt.
inline std::vector<std::filesystem::path> filesIn(const std::filesystem::path& dir, const std::string& ext) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

inline int sourcesEntries(const std::filesystem::path& dir) {
  std::istringstream in(slurp(dir / "SOURCES.txt"));
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.rfind("file:", 0) == 0;
  return n;
}

}  // namespace e2e::test
