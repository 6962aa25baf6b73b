// Fourier resampling (scipy.signal.resample semantics on real input) with FFTW.
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "signal/resample.h"

namespace e2e::signal {

namespace {
// FFTW's planner is not thread-safe (fftw_execute is): plans are made and destroyed under this lock.
std::mutex& plannerMutex() {
  static std::mutex m;
  return m;
}

struct Plan {
  fftw_plan p = nullptr;
  explicit Plan(fftw_plan q) : p(q) {
    if (!p) throw std::runtime_error("resampleFourier: FFTW could not make a plan");
  }
  ~Plan() {
    std::lock_guard<std::mutex> lock(plannerMutex());
    fftw_destroy_plan(p);
  }
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
};

template <class T>
struct FftwBuffer {
  T* data;
  explicit FftwBuffer(std::size_t n) : data(static_cast<T*>(fftw_malloc(sizeof(T) * (n ? n : 1)))) {
    if (!data) throw std::bad_alloc();
  }
  ~FftwBuffer() { fftw_free(data); }
  FftwBuffer(const FftwBuffer&) = delete;
  FftwBuffer& operator=(const FftwBuffer&) = delete;
};
}  // namespace

std::size_t fourierResampledLength(std::size_t n, double fromHz, double toHz) {
  if (!(fromHz > 0) || !(toHz > 0) || !std::isfinite(fromHz) || !std::isfinite(toHz))
    throw std::invalid_argument("resample: sampling rates must be positive");
  const double len = std::floor(static_cast<double>(n) * toHz / fromHz);
  if (!(len <= static_cast<double>(kMaxResampledLength)))
    throw std::invalid_argument("resample: " + std::to_string(n) + " samples from " + std::to_string(fromHz) +
                                " Hz to " + std::to_string(toHz) + " Hz would give more than " +
                                std::to_string(kMaxResampledLength) + " samples");
  return static_cast<std::size_t>(len);
}

std::vector<double> resampleFourier(const std::vector<double>& x, std::size_t num) {
  const std::size_t n = x.size();
  if (n == 0 || num == 0) throw std::invalid_argument("resampleFourier: empty input or output");
  if (num > kMaxResampledLength)
    throw std::invalid_argument("resampleFourier: " + std::to_string(num) + " output samples is more than " +
                                std::to_string(kMaxResampledLength));
  if (num == n) return x;
  const std::size_t nBins = n / 2 + 1, outBins = num / 2 + 1;
  FftwBuffer<double> in(n), out(num);
  FftwBuffer<fftw_complex> X(nBins), Y(outBins);
  std::unique_ptr<Plan> forward, inverse;
  {
    std::lock_guard<std::mutex> lock(plannerMutex());
    forward = std::make_unique<Plan>(fftw_plan_dft_r2c_1d(static_cast<int>(n), in.data, X.data, FFTW_ESTIMATE));
    inverse = std::make_unique<Plan>(fftw_plan_dft_c2r_1d(static_cast<int>(num), Y.data, out.data, FFTW_ESTIMATE));
  }
  std::copy(x.begin(), x.end(), in.data);
  fftw_execute(forward->p);
  for (std::size_t k = 0; k < outBins; ++k) Y.data[k][0] = Y.data[k][1] = 0.0;
  // Keep the bins both lengths share: 0 .. N/2 with N = min(n, num) (the Nyquist bin of an even N included).
  const std::size_t N = std::min(n, num), keep = N / 2 + 1;
  for (std::size_t k = 0; k < keep; ++k) {
    Y.data[k][0] = X.data[k][0];
    Y.data[k][1] = X.data[k][1];
  }
  if (N % 2 == 0) {
    // The Nyquist bin of the shorter length: down-sampling folds the negative-frequency half into it
    // (x2); up-sampling splits it between +N/2 and -N/2 (x0.5; the inverse real DFT supplies the mirror).
    const double f = num < n ? 2.0 : 0.5;
    Y.data[N / 2][0] *= f;
    Y.data[N / 2][1] *= f;
  }
  fftw_execute(inverse->p);  // unnormalised: the sum over bins
  // scipy scales the normalised inverse (1/num) by num/n: in all, 1/n.
  const double scale = 1.0 / static_cast<double>(n);
  std::vector<double> y(num);
  for (std::size_t i = 0; i < num; ++i) y[i] = out.data[i] * scale;
  return y;
}

}  // namespace e2e::signal
