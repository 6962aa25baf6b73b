// Shared helpers of the benchmarks: temp folders, on-disk sizes, mean wall time of a call.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace e2e::bench {

namespace fs = std::filesystem;

inline fs::path freshTempDir(const std::string& tag) {
  static std::atomic<int> n{0};
  const fs::path p = fs::temp_directory_path() /
                     ("e2e_bench_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

inline std::uint64_t treeBytes(const fs::path& root) {
  std::uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

// Seconds per call of fn(), averaged over `iters` calls after `warmup` untimed ones.
template <typename Fn>
double timed(Fn fn, int warmup, int iters) {
  for (int i = 0; i < warmup; ++i) fn();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
}

}  // namespace e2e::bench
