// The echo2ecg command table. Each subcommand lives in its own cmd_<name>.cpp and registers
// itself with E2E_REGISTER_COMMAND; app/cli/CMakeLists.txt compiles every cmd_*.cpp, so a new
// subcommand (embed, predict, retrieve, train, evaluate...) is just a new file.
//
// Exit codes (all subcommands):
//   0  success
//   1  runtime error (database cannot be opened, I/O failure, ...)
//   2  usage error (unknown command/option, missing or malformed argument)
//   3  finished, but with problems the user must look at (import: conflicts or unreadable
//      files; unsupported files alone do not count)
//   4  network: peer unreachable, association rejected, no answer in time (pacs, serve)
//   130 interrupted (Ctrl-C); what was done so far is kept
#pragma once
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/text.h"  // errorText: what a caught exception says, without libtorch stack traces

namespace e2e::cli {

enum ExitCode { kOk = 0, kRuntimeError = 1, kUsageError = 2, kFinishedWithProblems = 3, kNetworkError = 4,
                kInterrupted = 130 };

struct Command {
  const char* name;
  const char* help;  // one line, shown by `echo2ecg --help`
  int (*run)(int argc, char** argv);  // argv[0] is the subcommand name
};

void registerCommand(const Command& c);
const std::vector<Command>& commands();  // sorted by name

// Minimal option parser: --name VALUE, --name=VALUE, flags, and positionals.
// `valued` lists options that take a value, `flags` those that do not; others are usage errors.
struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;  // name without dashes -> values
  bool help = false;
  std::string error;  // non-empty: usage error
  bool has(const std::string& k) const { return options.count(k) > 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = options.find(k);
    return it == options.end() || it->second.empty() ? def : it->second.back();
  }
};
ParsedArgs parseArgs(int argc, char** argv, const std::vector<std::string>& valued,
                     const std::vector<std::string>& flags = {});
// Strict integer parse; false if not an integer in [lo, hi].
bool parseInt(const std::string& s, long long lo, long long hi, long long& out);
// Prints "echo2ecg NAME: MSG" and the usage hint to stderr; returns kUsageError.
int usageError(const char* cmd, const std::string& msg);
// A usage error found after parsing (e.g. an empty --db): main prints it with the usage hint
// and exits with kUsageError.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// --db, else $E2E_DB, else ~/.local/share/echo2ecg/studies.db. Throws UsageError for an empty
// --db value (never silently the home database).
std::string dbPathFrom(const ParsedArgs& a);

// One cell of tab-separated output: a tab, newline, carriage return or backslash is written as
// \t, \n, \r, \\ and any other control byte as \xHH, so that a value (e.g. a patient ID from a
// file) can never add columns or rows.
inline std::string tsvCell(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20 || c == 0x7f) out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace e2e::cli

#define E2E_CLI_CONCAT2(a, b) a##b
#define E2E_CLI_CONCAT(a, b) E2E_CLI_CONCAT2(a, b)
#define E2E_REGISTER_COMMAND(NAME, HELP, FN)                                            \
  static const bool E2E_CLI_CONCAT(e2e_cli_registered_, __LINE__) =                     \
      (::e2e::cli::registerCommand(::e2e::cli::Command{NAME, HELP, FN}), true)
