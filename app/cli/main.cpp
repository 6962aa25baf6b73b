// echo2ecg: headless command line of the Echo2ECG workstation.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "commands.h"
#include "common/build_info.h"
#include "db/database.h"
#ifdef E2E_CLI_WITH_TORCH
#include "torch_info.h"
#include "blas_reexec.h"
#endif

namespace e2e::cli {

namespace {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
}  // namespace

void registerCommand(const Command& c) {
  auto& r = registry();
  r.push_back(c);
  std::sort(r.begin(), r.end(), [](const Command& a, const Command& b) { return std::strcmp(a.name, b.name) < 0; });
}
const std::vector<Command>& commands() { return registry(); }

ParsedArgs parseArgs(int argc, char** argv, const std::vector<std::string>& valued,
                     const std::vector<std::string>& flags) {
  ParsedArgs a;
  auto in = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  bool onlyPositional = false;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (onlyPositional || s.size() < 2 || s[0] != '-') {
      a.positional.push_back(s);
      continue;
    }
    if (s == "--") {
      onlyPositional = true;
      continue;
    }
    if (s == "-h" || s == "--help") {
      a.help = true;
      continue;
    }
    if (s.rfind("--", 0) != 0) {
      a.error = "unknown option '" + s + "'";
      return a;
    }
    std::string name = s.substr(2), value;
    bool hasValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    if (in(valued, name)) {
      if (!hasValue) {
        if (i + 1 >= argc) {
          a.error = "option --" + name + " needs a value";
          return a;
        }
        value = argv[++i];
      }
      a.options[name].push_back(value);
    } else if (in(flags, name)) {
      if (hasValue) {
        a.error = "option --" + name + " takes no value";
        return a;
      }
      a.options[name];
    } else {
      a.error = "unknown option '--" + name + "'";
      return a;
    }
  }
  return a;
}

bool parseInt(const std::string& s, long long lo, long long hi, long long& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || !end || *end || v < lo || v > hi) return false;
  out = v;
  return true;
}

int usageError(const char* cmd, const std::string& msg) {
  std::fprintf(stderr, "echo2ecg %s: %s\nTry 'echo2ecg %s --help'.\n", cmd, msg.c_str(), cmd);
  return kUsageError;
}

std::string dbPathFrom(const ParsedArgs& a) {
  if (!a.has("db")) return db::Database::defaultPath();
  const std::string p = a.get("db");
  if (p.empty()) throw UsageError("--db needs a file name (an empty value does not mean the default database)");
  return p;
}

}  // namespace e2e::cli

namespace {
// `echo2ecg --version`: one "Name: value" line per fact (the GUI's Help > About reads the
// libtorch and CUDA lines).
void printVersion(FILE* out) {
  std::fprintf(out, "%s\n", e2e::build::versionLine("echo2ecg").c_str());
  std::fprintf(out, "Git revision: %s\n", e2e::build::gitRevision());
  std::fprintf(out, "DCMTK: %s\n", *e2e::build::dcmtkVersion() ? e2e::build::dcmtkVersion() : "unknown");
  std::fprintf(out, "SQLite: %s\n", e2e::db::Database::sqliteVersion());
#ifdef E2E_CLI_WITH_TORCH
  const auto t = e2e::cli::torchInfo();
  std::fprintf(out, "libtorch: %s\n", t.version.c_str());
  if (t.cudaUsable)
    std::fprintf(out, "CUDA: usable (%d device%s)\n", t.cudaDevices, t.cudaDevices == 1 ? "" : "s");
  else
    std::fprintf(out, "CUDA: not usable (libtorch sees no CUDA device; model jobs run on the CPU)\n");
#else
  std::fprintf(out, "libtorch: not built (model jobs unavailable: embed, train, evaluate, predict, retrieve)\n");
  std::fprintf(out, "CUDA: not usable (no libtorch in this build)\n");
#endif
}

void printHelp(FILE* out) {
  std::fprintf(out,
               "Usage: echo2ecg COMMAND [OPTIONS]\n"
               "Echo2ECG Workstation command line (research use; synthetic data is labelled as such).\n\n"
               "Commands:\n");
  for (const auto& c : e2e::cli::commands()) std::fprintf(out, "  %-10s %s\n", c.name, c.help);
  std::fprintf(out,
               "\nRun 'echo2ecg COMMAND --help' for the options of a command; 'echo2ecg --version'.\n"
               "Database: --db FILE, else $E2E_DB, else ~/.local/share/echo2ecg/studies.db\n"
               "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 finished with conflicts/errors,\n"
               "            4 network error (pacs, serve), 130 interrupted.\n");
}
}  // namespace

int main(int argc, char** argv) {
  e2e::app::reexecWithBetterBlasKernels(argv);
  if (argc < 2) {
    printHelp(stderr);
    return e2e::cli::kUsageError;
  }
  const std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    if (cmd == "help" && argc > 2) {
      for (const auto& c : e2e::cli::commands())
        if (argv[2] == std::string(c.name)) {
          char* sub[] = {argv[2], const_cast<char*>("--help"), nullptr};
          return c.run(2, sub);
        }
    }
    printHelp(stdout);
    return e2e::cli::kOk;
  }
  if (cmd == "--version" || cmd == "-V") {
    printVersion(stdout);
    return e2e::cli::kOk;
  }
  for (const auto& c : e2e::cli::commands()) {
    if (cmd == c.name) {
      try {
        return c.run(argc - 1, argv + 1);
      } catch (const e2e::cli::UsageError& e) {
        return e2e::cli::usageError(c.name, e2e::errorText(e).c_str());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "echo2ecg %s: error: %s\n", c.name, e2e::errorText(e).c_str());
        return e2e::cli::kRuntimeError;
      }
    }
  }
  std::fprintf(stderr, "echo2ecg: unknown command '%s'\n\n", cmd.c_str());
  printHelp(stderr);
  return e2e::cli::kUsageError;
}
