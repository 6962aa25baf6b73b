#include "orthanc_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace e2e::test {

int freeTcpPort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (s >= 0) close(s);
  if (port == 0) throw std::runtime_error("no free TCP port");
  return port;
}

bool portAnswers(int port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

bool OrthancServer::available() { return access(kBinary, X_OK) == 0; }

OrthancServer::OrthancServer(const std::vector<Modality>& modalities, const std::string& aet,
                             const std::string& extraConfig)
    : aet_(aet) {
  std::random_device rd;
  dir_ = fs::temp_directory_path() / ("e2e_orthanc_" + std::to_string(getpid()) + "_" + std::to_string(rd()));
  fs::create_directories(dir_ / "storage");
  dicomPort_ = freeTcpPort();
  httpPort_ = freeTcpPort();
  while (httpPort_ == dicomPort_) httpPort_ = freeTcpPort();
  std::ostringstream mods;
  for (std::size_t i = 0; i < modalities.size(); ++i)
    mods << (i ? ", " : "") << "\"m" << i << "\": [\"" << modalities[i].aet << "\", \"" << modalities[i].host
         << "\", " << modalities[i].port << "]";
  const fs::path cfg = dir_ / "orthanc.json";
  {
    std::ofstream out(cfg);
    out << "{\n \"Name\": \"e2e-test\", \"StorageDirectory\": \"" << (dir_ / "storage").string()
        << "\", \"IndexDirectory\": \"" << (dir_ / "storage").string() << "\",\n"
        << " \"DicomAet\": \"" << aet_ << "\", \"DicomPort\": " << dicomPort_ << ", \"HttpPort\": " << httpPort_
        << ",\n \"RemoteAccessAllowed\": false, \"AuthenticationEnabled\": false, \"Plugins\": [],\n"
        << " \"DicomCheckCalledAet\": false, \"DicomAlwaysAllowEcho\": true, \"DicomAlwaysAllowStore\": true,\n"
        << " \"DicomAlwaysAllowFind\": true, \"DicomAlwaysAllowGet\": true, \"DicomAlwaysAllowMove\": true,\n"
        << " \"StorageCompression\": false, \"UnknownSopClassAccepted\": true, \"DicomScpTimeout\": 30,\n"
        << (extraConfig.empty() ? "" : " " + extraConfig + ",\n")
        << " \"DicomModalities\": {" << mods.str() << "}\n}\n";
  }
  const std::string log = (dir_ / "orthanc.log").string();
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(kBinary, kBinary, cfg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0) throw std::runtime_error("cannot fork Orthanc");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("Orthanc exited at start:\n" + logTail());
    }
    if (portAnswers(dicomPort_) && portAnswers(httpPort_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string tail = logTail();
  stop();
  throw std::runtime_error("Orthanc did not answer within 30 s:\n" + tail);
}

OrthancServer::~OrthancServer() { stop(); }

void OrthancServer::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int st = 0;
    for (int i = 0; i < 100 && waitpid(pid_, &st, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (waitpid(pid_, &st, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
    }
    pid_ = -1;
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
  dir_.clear();
}

std::string OrthancServer::logTail() const {
  std::ifstream in(dir_ / "orthanc.log");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

}  // namespace e2e::test
