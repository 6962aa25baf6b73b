// Runs a helper program (the checkpoint converter, ...) as a child process: argv without a shell,
// stdout and stderr captured (bounded), cancellable. POSIX; no Qt.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace e2e {

struct ProcessResult {
  int exitCode = -1;        // exit status; -1 when killed by a signal or not started
  int signal = 0;           // the signal that ended it, 0 if none
  bool cancelled = false;   // `cancelled` returned true and the child was killed
  bool started = false;     // false: the program could not be executed (startError says why)
  std::string out, err;     // captured output (each cut to maxOutputBytes, the rest dropped)
  std::string startError;
  bool ok() const { return started && !cancelled && signal == 0 && exitCode == 0; }
};

struct ProcessOptions {
  std::function<bool()> cancelled;        // polled ~10 times a second; true kills the child (SIGTERM, then SIGKILL)
  std::size_t maxOutputBytes = 4u << 20;  // per stream
  std::vector<std::string> env;           // extra NAME=VALUE entries added to the environment
};

// Runs argv[0] (searched in PATH when it has no '/') with argv; never throws for the child's failures.
ProcessResult runProcess(const std::vector<std::string>& argv, const ProcessOptions& opt = {});

}  // namespace e2e
