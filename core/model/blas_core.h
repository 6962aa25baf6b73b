// OpenBLAS's kernel choice. Debian 12's OpenBLAS 0.3.21 picks its kernels at load time from CPUID;
// on some virtual CPUs (here: "Intel(R) Xeon(R) Processor" with AVX-512) it does not recognise the
// model and falls back to its generic Prescott (SSE3) kernels, which made fp32 matrix products 4.5x
// slower on this project's build machine (2048^3 sgemm, 2 threads: 19.7 against 87.9 GFLOP/s with
// OPENBLAS_CORETYPE=SkylakeX). The choice is made before main() runs, so the programs re-execute
// themselves with OPENBLAS_CORETYPE set when it went wrong (app/common/blas_reexec.h).
// Torch- and Qt-free.
#pragma once
#include <string>

#include "model/precision.h"

namespace e2e::model {

// The OPENBLAS_CORETYPE that fits `cpu` when OpenBLAS chose its generic `Prescott` core
// (`runningCore`, case-insensitive): "SkylakeX" with AVX-512 F, BW, DQ and VL, else "Haswell" with
// AVX2 and FMA; "" when the running core is another one, unknown ("") or the CPU has neither.
std::string betterOpenBlasCore(const std::string& runningCore, const CpuFlags& cpu);

// The running OpenBLAS's core name (openblas_get_corename, looked up at run time: "" when the
// process's BLAS is not OpenBLAS).
std::string runningOpenBlasCore();

}  // namespace e2e::model
