// A real Orthanc (Debian's /usr/sbin/Orthanc) for the networking tests: started as a child process
// on 127.0.0.1 with a temporary configuration (free DICOM and HTTP ports, its own storage folder,
// remote access off, the given modalities registered), waited for until it answers, stopped (and
// its folder removed) by the destructor.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace e2e::test {

// A TCP port on 127.0.0.1 that nothing listens on right now.
int freeTcpPort();
// Whether something accepts TCP connections on 127.0.0.1:port.
bool portAnswers(int port);

class OrthancServer {
 public:
  struct Modality {
    std::string aet, host = "127.0.0.1";
    int port = 0;
  };
  static constexpr const char* kBinary = "/usr/sbin/Orthanc";
  static bool available();

  // Throws std::runtime_error (with the end of Orthanc's log) if it does not answer within 30 s.
  // `extraConfig`: further members of the configuration object, e.g. "\"DicomTlsEnabled\": true, ...".
  explicit OrthancServer(const std::vector<Modality>& modalities = {}, const std::string& aet = "ORTHANC",
                         const std::string& extraConfig = "");
  ~OrthancServer();
  OrthancServer(const OrthancServer&) = delete;
  OrthancServer& operator=(const OrthancServer&) = delete;

  const std::string& aet() const { return aet_; }
  int dicomPort() const { return dicomPort_; }
  int httpPort() const { return httpPort_; }
  std::string peer() const { return aet_ + "@127.0.0.1:" + std::to_string(dicomPort_); }
  std::string logTail() const;

 private:
  void stop();

  std::filesystem::path dir_;
  std::string aet_;
  int dicomPort_ = 0, httpPort_ = 0;
  pid_t pid_ = -1;
};

}  // namespace e2e::test
