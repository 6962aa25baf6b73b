// What this build is: the project version, the git revision it was configured from, the build
// type, and the versions of the libraries CMake found (passed from core/CMakeLists.txt as compile
// definitions of build_info.cpp). One place for `echo2ecg --version` and Help > About. Qt-free.
#pragma once
#include <string>
#include <vector>

namespace e2e::build {

const char* projectVersion();  // "0.1.0"
const char* gitRevision();     // `git rev-parse --short HEAD` at configure time, else "unknown"
const char* buildType();       // "RelWithDebInfo", ...

// Library versions found at configure time; "" when this build does not use the library (Qt and
// VTK: the GUI is built; libtorch: the model code is built).
const char* dcmtkVersion();
const char* qtVersion();
const char* vtkVersion();
const char* torchVersion();

// "echo2ecg 0.1.0 (git abc1234, RelWithDebInfo)" for the given program name.
std::string versionLine(const std::string& program);

struct Library {
  std::string name, version;
};
// The libraries above that this build uses, in the order DCMTK, Qt, VTK, libtorch.
std::vector<Library> libraries();

}  // namespace e2e::build
