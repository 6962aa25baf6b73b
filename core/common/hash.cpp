#include "common/hash.h"

#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>
#include <fstream>
#include <vector>

#include "common/types.h"

namespace e2e {
namespace {
EVP_MD_CTX* ctxOf(void* p) { return static_cast<EVP_MD_CTX*>(p); }
}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctxOf(ctx_), EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctxOf(ctx_));
    throw std::runtime_error("SHA-256: OpenSSL could not initialise a digest");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctxOf(ctx_)); }

void Sha256::update(const void* data, std::size_t len) {
  if (len && EVP_DigestUpdate(ctxOf(ctx_), data, len) != 1) throw std::runtime_error("SHA-256: OpenSSL digest update failed");
}

std::array<std::uint8_t, 32> Sha256::digest() {
  std::array<std::uint8_t, 32> out{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctxOf(ctx_), out.data(), &n) != 1 || n != out.size())
    throw std::runtime_error("SHA-256: OpenSSL digest finalisation failed");
  return out;
}

std::string Sha256::hexDigest() {
  static const char* hex = "0123456789abcdef";
  auto d = digest();
  std::string s;
  s.reserve(64);
  for (auto b : d) { s += hex[b >> 4]; s += hex[b & 15]; }
  return s;
}

std::string sha256Hex(const void* data, std::size_t len) {
  Sha256 h;
  h.update(data, len);
  return h.hexDigest();
}
std::string sha256Hex(const std::string& s) { return sha256Hex(s.data(), s.size()); }

std::string sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReadError(path, "cannot open file for reading");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw ReadError(path, "read error while hashing");
  return h.hexDigest();
}

}  // namespace e2e
