// Shared helpers for tests that drive the `echo2ecg` CLI as a child process (the target defines
// E2E_CLI_PATH) and read its output: JSON-lines training events and `--json` objects.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace e2e::test {

struct CliResult {
  int rc = -1;  // exit status (-1: not started or killed by a signal)
  std::string out;
};

// Runs `echo2ecg ARGS`; stdout is captured, stderr too when `withStderr`, else discarded.
// `envPrefix` goes before the program on the shell line (e.g. "env -u VAR" or "env VAR=x").
inline CliResult runCli(const std::string& args, bool withStderr = false, const std::string& envPrefix = "") {
  CliResult r;
  const std::string cmd = (envPrefix.empty() ? "" : envPrefix + " ") + std::string(E2E_CLI_PATH) + " " + args +
                          (withStderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// `s` as one single-quoted shell word (a ' inside becomes '\'').
inline std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The whole content of a text file ("" when it cannot be read).
inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Non-empty lines.
inline std::vector<std::string> nonEmptyLines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

// The first value of "key": in a flat JSON text: a string without its quotes, or a number as written.
inline std::string jsonField(const std::string& l, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  auto p = l.find(k);
  if (p == std::string::npos) return "";
  p += k.size();
  while (p < l.size() && (l[p] == ' ' || l[p] == '\t')) ++p;  // pretty-printed files ("key": value)
  if (p < l.size() && l[p] == '"') return l.substr(p + 1, l.find('"', p + 1) - p - 1);
  auto e = l.find_first_of(",}] \t\r\n", p);
  return l.substr(p, e - p);
}

}  // namespace e2e::test
