// Helpers shared by the test suites: where the real test files are.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

namespace e2e::test {
// Root of ../shared/data (E2E_DATA_DIR env var overrides the configured path).
inline std::filesystem::path dataDir() {
  if (const char* env = std::getenv("E2E_DATA_DIR"); env && *env) return env;
  return E2E_DATA_DIR;
}
inline std::filesystem::path dataFile(const std::string& rel) { return dataDir() / rel; }
}  // namespace e2e::test
