#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace e2e {
namespace {

struct Pipes {
  int out[2] = {-1, -1}, err[2] = {-1, -1}, exec[2] = {-1, -1};
  ~Pipes() {
    for (int* p : {out, err, exec})
      for (int i = 0; i < 2; ++i)
        if (p[i] >= 0) ::close(p[i]);
  }
};

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

[[noreturn]] void execChild(const std::vector<std::string>& argv, const ProcessOptions& opt, Pipes& p) {
  ::dup2(p.out[1], STDOUT_FILENO);
  ::dup2(p.err[1], STDERR_FILENO);
  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : opt.env) ::putenv(const_cast<char*>(e.c_str()));
  ::execvp(args[0], args.data());
  const int e = errno;
  (void)!::write(p.exec[1], &e, sizeof e);  // tell the parent why exec failed
  ::_exit(127);
}

// Reads both pipes until they close, polling `cancelled`; kills the child on cancel.
void pump(pid_t pid, Pipes& p, const ProcessOptions& opt, ProcessResult& r) {
  struct pollfd fds[2] = {{p.out[0], POLLIN, 0}, {p.err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open = 2;
  auto killAt = std::chrono::steady_clock::time_point::max();
  char buf[65536];
  while (open > 0) {
    if (!r.cancelled && opt.cancelled && opt.cancelled()) {
      r.cancelled = true;
      ::kill(pid, SIGTERM);
      killAt = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    }
    if (std::chrono::steady_clock::now() > killAt) ::kill(pid, SIGKILL);
    const int n = ::poll(fds, 2, 100);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        fds[i].fd = -1;
        --open;
        continue;
      }
      std::string& s = *sinks[i];
      const std::size_t room = s.size() < opt.maxOutputBytes ? opt.maxOutputBytes - s.size() : 0;
      s.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(got)));
    }
  }
}

}  // namespace

ProcessResult runProcess(const std::vector<std::string>& argv, const ProcessOptions& opt) {
  ProcessResult r;
  if (argv.empty()) {
    r.startError = "no program given";
    return r;
  }
  Pipes p;
  if (::pipe2(p.out, O_CLOEXEC) != 0 || ::pipe2(p.err, O_CLOEXEC) != 0 || ::pipe2(p.exec, O_CLOEXEC) != 0) {
    r.startError = std::string("cannot create pipes: ") + std::strerror(errno);
    return r;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    r.startError = std::string("cannot start a process: ") + std::strerror(errno);
    return r;
  }
  if (pid == 0) execChild(argv, opt, p);
  closeFd(p.out[1]);
  closeFd(p.err[1]);
  closeFd(p.exec[1]);
  int execErr = 0;
  const bool execFailed = ::read(p.exec[0], &execErr, sizeof execErr) == static_cast<ssize_t>(sizeof execErr);
  pump(pid, p, opt, r);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (execFailed) {
    r.startError = "cannot run " + argv[0] + ": " + std::strerror(execErr);
    return r;
  }
  r.started = true;
  if (WIFEXITED(status)) r.exitCode = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace e2e
