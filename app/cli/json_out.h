// One JSON value per line on a stream (the CLI's --json output and progress protocols); invalid
// UTF-8 in strings (file names) is replaced rather than failing the whole line.
#pragma once
#include <cstdio>
#include <nlohmann/json.hpp>

namespace e2e::cli {

inline void printJsonLine(const nlohmann::ordered_json& j, std::FILE* out = stdout) {
  const std::string s = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::fprintf(out, "%s\n", s.c_str());
  std::fflush(out);
}

}  // namespace e2e::cli
