#include "io/vendor/scp_huffman.h"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>

namespace e2e::scp {
namespace {

constexpr int kDefaultTableMarker = 19999;

inline int bitAt(const std::uint8_t* p, std::size_t pos) { return (p[pos >> 3] >> (7 - (pos & 7))) & 1; }

// Codes of one table by length and value, for matching bit by bit (the first of duplicates wins).
struct Matcher {
  std::vector<std::unordered_map<std::uint32_t, const HuffCode*>> byLength;
  int maxLength = 0;
  explicit Matcher(const std::vector<HuffCode>& codes) : byLength(33) {
    for (const auto& c : codes) {
      byLength[static_cast<std::size_t>(c.prefixBits)].emplace(c.code, &c);
      maxLength = std::max(maxLength, c.prefixBits);
    }
  }
  // The code at bit `pos`, or nullptr when none matches within the `bits` available.
  const HuffCode* match(const std::uint8_t* p, std::size_t pos, std::size_t bits) const {
    std::uint32_t acc = 0;
    for (std::size_t len = 1; len <= static_cast<std::size_t>(maxLength) && len <= bits; ++len) {
      acc = (acc << 1) | static_cast<std::uint32_t>(bitAt(p, pos + len - 1));
      const auto& m = byLength[len];
      if (m.empty()) continue;
      const auto it = m.find(acc);
      if (it != m.end()) return it->second;
    }
    return nullptr;
  }
};

std::vector<HuffCode> readTable(Cursor& c, std::size_t index) {
  const std::size_t nCodes = c.u16();
  if (nCodes == 0) throw ScpError("section 2: Huffman table " + std::to_string(index + 1) + " has no codes");
  if (!c.has(nCodes * 9))
    throw ScpError("section 2: Huffman table " + std::to_string(index + 1) + " declares " + std::to_string(nCodes) +
                   " codes, more than the section holds");
  std::vector<HuffCode> codes(nCodes);
  for (auto& h : codes) {
    h.prefixBits = c.u8();
    h.totalBits = c.u8();
    h.switchTable = c.u8() == 0;
    h.value = c.i16();
    const std::uint32_t stored = c.u32();
    if (h.prefixBits < 1 || h.prefixBits > 32 || h.totalBits < h.prefixBits || h.totalBits - h.prefixBits > 32)
      throw ScpError("section 2: Huffman table " + std::to_string(index + 1) + " has an invalid code length (" +
                     std::to_string(h.prefixBits) + "/" + std::to_string(h.totalBits) + " bits)");
    // The standard stores the code with its first transmitted bit least significant.
    std::uint32_t rev = 0, s = stored;
    for (int b = 0; b < h.prefixBits; ++b, s >>= 1) rev = (rev << 1) | (s & 1u);
    h.code = rev;
  }
  return codes;
}

}  // namespace

const std::vector<HuffCode>& defaultHuffmanTable() {
  static const std::vector<HuffCode> table = [] {
    std::vector<HuffCode> t;
    t.push_back({1, 1, false, 0, 0u});  // '0' -> 0
    for (int k = 1; k <= 8; ++k) {
      const std::uint32_t ones = ((1u << k) - 1u) << 2;  // k ones, a zero, then the sign bit
      t.push_back({k + 2, k + 2, false, k, ones});
      t.push_back({k + 2, k + 2, false, -k, ones | 1u});
    }
    t.push_back({10, 18, false, 0, 0x3FEu});  // nine ones, a zero: 8-bit original value follows
    t.push_back({10, 26, false, 0, 0x3FFu});  // ten ones: 16-bit original value follows
    return t;
  }();
  return table;
}

HuffTables parseSection2(const Section* s) {
  HuffTables t;
  if (!s) {
    t.kind = HuffTables::Kind::None;
    return t;
  }
  Cursor c = s->cursor("section 2 (Huffman tables)");
  const std::size_t nTables = c.u16();
  if (nTables == kDefaultTableMarker) {
    t.kind = HuffTables::Kind::Default;
    return t;
  }
  if (nTables == 0) {
    t.kind = HuffTables::Kind::None;
    return t;
  }
  if (!c.has(nTables * 2)) throw ScpError("section 2: " + std::to_string(nTables) + " Huffman tables do not fit the section");
  t.kind = HuffTables::Kind::Custom;
  for (std::size_t i = 0; i < nTables; ++i) t.tables.push_back(readTable(c, i));
  for (const auto& table : t.tables)
    for (const auto& h : table)
      if (h.switchTable && (h.value < 1 || static_cast<std::size_t>(h.value) > nTables))
        throw ScpError("section 2: a Huffman code switches to table " + std::to_string(h.value) + " of " +
                       std::to_string(nTables));
  return t;
}

std::size_t maxValues(const HuffTables& t, std::size_t n) {
  return t.kind == HuffTables::Kind::None ? n / 2 : n * 8;
}

std::vector<std::int32_t> decodeValues(const HuffTables& t, const std::uint8_t* p, std::size_t n, std::size_t count,
                                       std::size_t& table) {
  std::vector<std::int32_t> out;
  out.reserve(std::min(count, maxValues(t, n)));
  if (t.kind == HuffTables::Kind::None) {
    for (std::size_t i = 0; i < count && 2 * i + 1 < n; ++i)
      out.push_back(static_cast<std::int16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
    return out;
  }
  std::vector<Matcher> matchers;
  if (t.kind == HuffTables::Kind::Default) matchers.emplace_back(defaultHuffmanTable());
  else
    for (const auto& codes : t.tables) matchers.emplace_back(codes);
  if (table >= matchers.size()) table = 0;
  const std::size_t bits = n * 8;
  std::size_t pos = 0;
  while (out.size() < count && pos < bits) {
    const HuffCode* h = matchers[table].match(p, pos, bits - pos);
    if (!h) {
      if (bits - pos < 8) break;  // padding at the end of the lead
      throw ScpError("undecodable Huffman code at byte " + std::to_string(pos / 8) + " of the lead");
    }
    if (pos + static_cast<std::size_t>(h->totalBits) > bits) break;
    pos += static_cast<std::size_t>(h->prefixBits);
    if (h->switchTable) {
      table = static_cast<std::size_t>(h->value - 1);
      continue;
    }
    std::int64_t v = h->value;
    const int extra = h->totalBits - h->prefixBits;
    if (extra > 0) {
      std::int64_t raw = 0;
      for (int b = 0; b < extra; ++b) raw = (raw << 1) | bitAt(p, pos + static_cast<std::size_t>(b));
      if (raw & (std::int64_t{1} << (extra - 1))) raw -= std::int64_t{1} << extra;  // two's complement
      v += raw;
      pos += static_cast<std::size_t>(extra);
    }
    out.push_back(static_cast<std::int32_t>(v));
  }
  return out;
}

void undoDifferences(std::vector<std::int32_t>& v, int difference) {
  if (difference == 0) return;
  if (difference != 1 && difference != 2)
    throw ScpError("unknown difference encoding " + std::to_string(difference) + " (expected 0, 1 or 2)");
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  std::int64_t a = 0, b = 0;  // previous and the one before
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::int64_t x = v[i];
    if (difference == 1 && i >= 1) x += a;
    if (difference == 2 && i >= 2) x += 2 * a - b;
    if (x > kMax || x < -kMax) throw ScpError("sample values overflow while undoing differences (corrupt data)");
    b = a;
    a = x;
    v[i] = static_cast<std::int32_t>(x);
  }
}

}  // namespace e2e::scp
