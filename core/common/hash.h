// SHA-256 content hashes (files, buffers, tensors), computed by OpenSSL's libcrypto (SHA extensions
// or AVX2 where the CPU has them: the importer hashes every file it stores).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace e2e {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t len);
  std::array<std::uint8_t, 32> digest();  // finalises; the object must not be updated afterwards
  std::string hexDigest();

 private:
  void* ctx_ = nullptr;  // EVP_MD_CTX*
};

std::string sha256Hex(const void* data, std::size_t len);
std::string sha256Hex(const std::string& s);
// Hash of a whole file; throws ReadError if it cannot be read.
std::string sha256File(const std::string& path);

}  // namespace e2e
