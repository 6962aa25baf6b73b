#include "common/build_info.h"

// core/CMakeLists.txt defines these for this file only (a reconfigure refreshes the revision).
#ifndef E2E_BUILD_VERSION
#define E2E_BUILD_VERSION "unknown"
#endif
#ifndef E2E_BUILD_GIT_REVISION
#define E2E_BUILD_GIT_REVISION "unknown"
#endif
#ifndef E2E_BUILD_TYPE_NAME
#define E2E_BUILD_TYPE_NAME "unknown"
#endif
#ifndef E2E_BUILD_DCMTK_VERSION
#define E2E_BUILD_DCMTK_VERSION ""
#endif
#ifndef E2E_BUILD_QT_VERSION
#define E2E_BUILD_QT_VERSION ""
#endif
#ifndef E2E_BUILD_VTK_VERSION
#define E2E_BUILD_VTK_VERSION ""
#endif
#ifndef E2E_BUILD_TORCH_VERSION
#define E2E_BUILD_TORCH_VERSION ""
#endif

namespace e2e::build {

const char* projectVersion() { return E2E_BUILD_VERSION; }
const char* gitRevision() { return *E2E_BUILD_GIT_REVISION ? E2E_BUILD_GIT_REVISION : "unknown"; }
const char* buildType() { return *E2E_BUILD_TYPE_NAME ? E2E_BUILD_TYPE_NAME : "unknown"; }
const char* dcmtkVersion() { return E2E_BUILD_DCMTK_VERSION; }
const char* qtVersion() { return E2E_BUILD_QT_VERSION; }
const char* vtkVersion() { return E2E_BUILD_VTK_VERSION; }
const char* torchVersion() { return E2E_BUILD_TORCH_VERSION; }

std::string versionLine(const std::string& program) {
  return program + " " + projectVersion() + " (git " + gitRevision() + ", " + buildType() + ")";
}

std::vector<Library> libraries() {
  std::vector<Library> out;
  for (const Library& l : {Library{"DCMTK", dcmtkVersion()}, Library{"Qt", qtVersion()}, Library{"VTK", vtkVersion()},
                           Library{"libtorch", torchVersion()}})
    if (!l.version.empty()) out.push_back(l);
  return out;
}

}  // namespace e2e::build
