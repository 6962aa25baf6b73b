#include "io/vendor/xli.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace e2e::xli {
namespace {

constexpr int kCodeBits = 10;
constexpr std::uint32_t kMaxCode = (1u << kCodeBits) - 2;  // 1022; 1023 ends the data
constexpr int kDeltaBias = 64;

// MSB-first reader of 10-bit codes with a 32-bit window. Like the reference decoder, a code is
// only taken while the window can be refilled above 24 bits, so the stream ends when a byte is
// needed and none is left.
class CodeReader {
 public:
  CodeReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool next(std::uint32_t& code) {
    while (bits_ <= 24) {
      if (pos_ >= size_) return false;
      window_ |= static_cast<std::uint32_t>(data_[pos_++]) << (24 - bits_);
      bits_ += 8;
    }
    code = (window_ >> (32 - kCodeBits)) & 0xFFFFu;
    window_ <<= kCodeBits;
    bits_ -= kCodeBits;
    return true;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::uint32_t window_ = 0;
  int bits_ = 0;
};

// The dictionary as prefix links: entry = string(prefix) + suffix. Codes 0-255 are the bytes.
struct Dictionary {
  std::vector<std::int32_t> prefix = std::vector<std::int32_t>(kMaxCode + 1, -1);
  std::vector<std::uint8_t> suffix = std::vector<std::uint8_t>(kMaxCode + 1, 0);
  std::vector<std::uint16_t> length = std::vector<std::uint16_t>(kMaxCode + 1, 1);
  std::vector<std::uint8_t> first = std::vector<std::uint8_t>(kMaxCode + 1, 0);
  Dictionary() {
    for (std::uint32_t c = 0; c < 256; ++c) suffix[c] = first[c] = static_cast<std::uint8_t>(c);
  }
  // Appends the string of `code` to `out`.
  void emit(std::uint32_t code, std::vector<std::uint8_t>& out) const {
    const std::size_t start = out.size();
    out.resize(start + length[code]);
    std::size_t i = out.size();
    for (std::int32_t c = static_cast<std::int32_t>(code); c >= 0; c = prefix[c]) out[--i] = suffix[c];
  }
};

}  // namespace

std::vector<std::uint8_t> lzwDecode(const std::uint8_t* data, std::size_t size, std::size_t maxBytes) {
  Dictionary dict;
  std::vector<std::uint8_t> out;
  CodeReader reader(data, size);
  std::uint32_t code = 0, nextCode = 256;
  std::int32_t previous = -1;  // code of the previous string, -1 before the first
  while (reader.next(code) && code <= kMaxCode) {
    std::uint8_t head = 0;
    if (code < nextCode) {
      head = dict.first[code];
    } else if (code == nextCode && previous >= 0) {
      head = dict.first[previous];  // the string being defined: previous + its own first byte
    } else {
      throw std::runtime_error("corrupt LZW data (code " + std::to_string(code) + " before it is defined)");
    }
    if (previous >= 0 && nextCode <= kMaxCode) {
      dict.prefix[nextCode] = previous;
      dict.suffix[nextCode] = head;
      dict.first[nextCode] = dict.first[previous];
      dict.length[nextCode] = static_cast<std::uint16_t>(dict.length[previous] + 1);
      ++nextCode;
    }
    if (out.size() + dict.length[code] > maxBytes)
      throw std::runtime_error("LZW data expands beyond " + std::to_string(maxBytes) + " bytes");
    dict.emit(code, out);
    previous = static_cast<std::int32_t>(code);
  }
  return out;
}

std::vector<std::int32_t> decodeDeltas(const std::vector<std::uint8_t>& bytes, std::int16_t first) {
  const std::size_t n = (bytes.size() + 1) / 2;  // an odd count is padded with a zero low byte
  if (n < 2) throw std::runtime_error("XLI chunk holds fewer than two samples");
  std::vector<std::int32_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t lo = n + i < bytes.size() ? bytes[n + i] : 0;
    out[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>((bytes[i] << 8) | lo));
  }
  std::int64_t x = out[0], y = out[1], last = first;
  for (std::size_t i = 2; i < n; ++i) {
    const std::int64_t z = 2 * y - x - last;
    if (z < std::numeric_limits<std::int16_t>::min() || z > std::numeric_limits<std::int16_t>::max())
      throw std::runtime_error("corrupt XLI data (sample " + std::to_string(i) + " leaves the 16-bit range)");
    last = static_cast<std::int64_t>(out[i]) - kDeltaBias;
    out[i] = static_cast<std::int32_t>(z);
    x = y;
    y = z;
  }
  return out;
}

std::vector<std::int32_t> decodeChunk(const std::uint8_t* data, std::size_t size, std::size_t& offset,
                                      std::size_t maxSamples) {
  if (offset > size || size - offset < 8)
    throw std::runtime_error("truncated XLI chunk header (" + std::to_string(size - std::min(offset, size)) +
                             " bytes left, 8 needed)");
  const std::uint8_t* h = data + offset;
  const std::uint32_t rawSize = static_cast<std::uint32_t>(h[0]) | (static_cast<std::uint32_t>(h[1]) << 8) |
                                (static_cast<std::uint32_t>(h[2]) << 16) | (static_cast<std::uint32_t>(h[3]) << 24);
  const auto chunkSize = static_cast<std::int32_t>(rawSize);
  const auto first = static_cast<std::int16_t>(static_cast<std::uint16_t>(h[6] | (h[7] << 8)));
  const std::size_t left = size - offset - 8;
  if (chunkSize < 0 || static_cast<std::size_t>(chunkSize) > left)
    throw std::runtime_error("XLI chunk size " + std::to_string(chunkSize) + " does not fit the " +
                             std::to_string(left) + " bytes left");
  const std::size_t cap = std::min(maxSamples, kMaxSamplesPerLead);
  std::vector<std::uint8_t> bytes = lzwDecode(h + 8, static_cast<std::size_t>(chunkSize), 2 * cap);
  offset += 8 + static_cast<std::size_t>(chunkSize);
  return decodeDeltas(bytes, first);
}

std::vector<std::vector<std::int32_t>> decodeLeads(const std::vector<std::uint8_t>& data, std::size_t maxLeads,
                                                   std::size_t maxSamples) {
  std::vector<std::vector<std::int32_t>> leads;
  std::size_t offset = 0;
  while (offset < data.size() && leads.size() < maxLeads) {
    try {
      leads.push_back(decodeChunk(data.data(), data.size(), offset, maxSamples));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("lead " + std::to_string(leads.size() + 1) + ": " + e.what());
    }
  }
  return leads;
}

}  // namespace e2e::xli
