// Helpers of the SCP-ECG reader tests: file I/O, CRC-CCITT, and a small SCP-ECG writer that
// builds records section by section (for synthetic signals and corrupted copies).
#pragma once
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace scptest {

namespace fs = std::filesystem;

inline const std::string kDir = "ecg_vendor/scp_ecg/";

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void spit(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << s;
}

// CRC-CCITT as the standard defines it (poly 0x1021, init 0xFFFF), written independently of the reader.
inline std::uint16_t crc(const std::string& s, std::size_t from, std::size_t to) {
  std::uint16_t c = 0xFFFF;
  for (std::size_t i = from; i < to; ++i) {
    c ^= static_cast<std::uint16_t>(static_cast<std::uint8_t>(s[i]) << 8);
    for (int b = 0; b < 8; ++b) c = (c & 0x8000) ? static_cast<std::uint16_t>((c << 1) ^ 0x1021) : static_cast<std::uint16_t>(c << 1);
  }
  return c;
}

inline std::uint32_t get32(const std::string& s, std::size_t at) {
  return static_cast<std::uint8_t>(s[at]) | (static_cast<std::uint8_t>(s[at + 1]) << 8) |
         (static_cast<std::uint8_t>(s[at + 2]) << 16) | (static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 3])) << 24);
}
inline std::uint16_t get16(const std::string& s, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(s[at]) | (static_cast<std::uint8_t>(s[at + 1]) << 8));
}
inline void put16(std::string& s, std::size_t at, std::uint32_t v) {
  s[at] = static_cast<char>(v & 0xFF);
  s[at + 1] = static_cast<char>((v >> 8) & 0xFF);
}
inline void put32(std::string& s, std::size_t at, std::uint32_t v) {
  put16(s, at, v & 0xFFFF);
  put16(s, at + 2, v >> 16);
}
inline void app16(std::string& s, std::uint32_t v) { s.append(2, '\0'), put16(s, s.size() - 2, v); }
inline void app32(std::string& s, std::uint32_t v) { s.append(4, '\0'), put32(s, s.size() - 4, v); }

// Section id -> (0-based offset, length) from section 0 of a record.
inline std::map<int, std::pair<std::size_t, std::size_t>> sectionTable(const std::string& rec) {
  std::map<int, std::pair<std::size_t, std::size_t>> t;
  if (rec.size() < 22) return t;
  const std::size_t s0len = get32(rec, 10);
  for (std::size_t p = 6 + 16; p + 10 <= 6 + s0len && p + 10 <= rec.size(); p += 10) {
    const int id = get16(rec, p);
    const std::size_t len = get32(rec, p + 2), index = get32(rec, p + 6);
    if (len && index > 0) t[id] = {index - 1, len};
  }
  return t;
}

// Recomputes every section CRC (where the section fits the record) and the file CRC.
inline void fixCrcs(std::string& rec) {
  for (const auto& [id, where] : sectionTable(rec)) {
    const std::size_t off = where.first;
    if (off + 16 > rec.size()) continue;
    const std::size_t hlen = get32(rec, off + 4);
    if (off + hlen <= rec.size() && hlen >= 16) put16(rec, off, crc(rec, off + 2, off + hlen));
  }
  put16(rec, 0, crc(rec, 2, std::min<std::size_t>(get32(rec, 2), rec.size())));
}

// A record from section bodies (id -> bytes after the 16-byte header); section 0 is built here.
// `protocol` is the version byte of every section header (13 = 1.3, 20 = 2.0, 30 = 3.0).
inline std::string buildRecord(const std::map<int, std::string>& bodies, int protocol = 20) {
  auto header = [protocol](int id, std::size_t bodyLen) {
    std::string h;
    app16(h, 0);
    app16(h, static_cast<std::uint32_t>(id));
    app32(h, static_cast<std::uint32_t>(16 + bodyLen));
    h += static_cast<char>(protocol);
    h += static_cast<char>(protocol);
    h += id == 0 ? std::string("SCPECG") : std::string(6, '\0');
    return h;
  };
  std::map<int, std::string> padded;
  for (const auto& [id, b] : bodies) padded[id] = b.size() % 2 ? b + '\0' : b;
  const std::size_t nPtr = 12;
  const std::size_t s0len = 16 + nPtr * 10;
  std::string s0body;
  std::size_t index = 6 + s0len + 1;  // 1-based
  app16(s0body, 0), app32(s0body, static_cast<std::uint32_t>(s0len)), app32(s0body, 7);
  std::string rest;
  for (int id = 1; id < static_cast<int>(nPtr); ++id) {
    app16(s0body, static_cast<std::uint32_t>(id));
    auto it = padded.find(id);
    if (it == padded.end()) {
      app32(s0body, 0), app32(s0body, 0);
      continue;
    }
    const std::string sec = header(id, it->second.size()) + it->second;
    app32(s0body, static_cast<std::uint32_t>(sec.size())), app32(s0body, static_cast<std::uint32_t>(index));
    index += sec.size();
    rest += sec;
  }
  std::string rec(6, '\0');
  rec += header(0, s0body.size()) + s0body + rest;
  put32(rec, 2, static_cast<std::uint32_t>(rec.size()));
  fixCrcs(rec);
  return rec;
}

}  // namespace scptest
