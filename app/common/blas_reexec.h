// Both programs (echo2ecg, echo2ecg-gui) start with this: when OpenBLAS picked its generic Prescott
// kernels on a CPU with AVX-512 or AVX2 (model/blas_core.h: a virtual CPU it does not recognise;
// fp32 matrix products 4.5x slower), the program executes itself again with OPENBLAS_CORETYPE set,
// before anything else has run. A user's own OPENBLAS_CORETYPE is never overridden, and
// E2E_BLAS_REEXEC marks the second start so that it can never loop. If exec fails, the program
// goes on with the kernels it has.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "model/blas_core.h"

namespace e2e::app {

inline void reexecWithBetterBlasKernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("E2E_BLAS_REEXEC")) return;
  const std::string chosen = model::runningOpenBlasCore();
  const std::string core = model::betterOpenBlasCore(chosen, model::hostCpuFlags());
  if (core.empty()) return;
  ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  ::setenv("E2E_BLAS_REEXEC", chosen.c_str(), 1);  // the core OpenBLAS chose itself
  ::execv("/proc/self/exe", argv);
  ::unsetenv("OPENBLAS_CORETYPE");  // exec failed: carry on as we are
  ::unsetenv("E2E_BLAS_REEXEC");
}

}  // namespace e2e::app
