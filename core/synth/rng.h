// Small, fully specified PRNG for the synthetic cohort (same numbers on every platform and
// standard library: std::normal_distribution is implementation-defined, so it is not used).
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

namespace e2e::synth {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Mixes a seed with a stream index and a label into a new 64-bit seed (FNV-1a over the label).
inline std::uint64_t mixSeed(std::uint64_t seed, std::uint64_t index, const std::string& label = {}) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : label) { h ^= c; h *= 0x100000001B3ULL; }
  std::uint64_t s = seed ^ (index * 0xD1B54A32D192ED03ULL) ^ (h * 0x9E3779B97F4A7C15ULL);
  splitmix64(s);
  return splitmix64(s);
}

// xoshiro256** 1.0 (Blackman & Vigna), seeded through splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t s = seed;
    for (auto& v : s_) v = splitmix64(s);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t; s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  bool bernoulli(double p) { return uniform() < p; }
  // Standard normal by Box-Muller (one value per call; simple and reproducible).
  double normal() {
    double u1 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

inline double clampd(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace e2e::synth
