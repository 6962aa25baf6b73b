// SHA-256 content hashes (files, buffers, tensors). Self-contained, no OpenSSL.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace e2e {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t len);
  std::array<std::uint8_t, 32> digest();  // finalises; the object must not be updated afterwards
  std::string hexDigest();

 private:
  void block(const std::uint8_t* p);
  std::uint32_t h_[8];
  std::uint8_t buf_[64];
  std::size_t bufLen_ = 0;
  std::uint64_t totalLen_ = 0;
};

std::string sha256Hex(const void* data, std::size_t len);
std::string sha256Hex(const std::string& s);
// Hash of a whole file; throws ReadError if it cannot be read.
std::string sha256File(const std::string& path);

}  // namespace e2e
