// SCP-ECG section 2 Huffman tables and the bit-stream decoder of sections 5 and 6. No Qt.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "io/vendor/scp_internal.h"

namespace e2e::scp {

struct HuffCode {
  int prefixBits = 0;     // length of the code itself
  int totalBits = 0;      // code plus the original-value bits that follow it
  bool switchTable = false;  // table mode 0: switch to table `value` (1-based)
  int value = 0;          // base value
  std::uint32_t code = 0; // the code, first transmitted bit most significant
};

struct HuffTables {
  enum class Kind { None, Default, Custom } kind = Kind::Default;
  std::vector<std::vector<HuffCode>> tables;  // custom tables
};

// Section 2 (absent: no Huffman coding, samples are 16-bit little-endian).
HuffTables parseSection2(const Section* s);

// The default table of the standard (section 2 says 19999).
const std::vector<HuffCode>& defaultHuffmanTable();

// Decodes one lead: `count` values (before undoing differences) from `n` bytes. `table` is the
// selected table index, kept across leads of a section as table switches carry over. Returns
// fewer values than `count` when the bytes run out. Throws ScpError on an undecodable code.
std::vector<std::int32_t> decodeValues(const HuffTables& t, const std::uint8_t* p, std::size_t n,
                                       std::size_t count, std::size_t& table);

// Undoes first (1) or second (2) differences in place; 0 leaves the values alone.
void undoDifferences(std::vector<std::int32_t>& v, int difference);

// Upper bound of the values `n` bytes can hold with these tables (for allocation checks).
std::size_t maxValues(const HuffTables& t, std::size_t n);

}  // namespace e2e::scp
