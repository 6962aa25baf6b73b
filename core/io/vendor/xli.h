// Philips XLI waveform decompression (PageWriter / TraceMaster / IntelliSpace XML exports).
// No library decodes XLI, so it is written here from the format as documented by the MIT-licensed
// sierra-ecg-tools (C. A. Watford). No Qt.
//
// An XLI stream is a sequence of chunks, one per lead, each:
//   int32 LE  size of the compressed payload in bytes
//   uint16 LE unknown (0, 1 or 3 in real files)
//   int16 LE  first delta code
//   size bytes of LZW data: 10-bit codes, MSB first; 0-255 literal bytes, 256-1022 dictionary
//             entries, 1023 end of data
// The LZW output is n 16-bit delta codes stored as n high bytes followed by n low bytes; the
// samples follow a second-order prediction: the first two codes are the first two samples, then
// out[i] = 2*out[i-1] - out[i-2] - e[i] with e[2] = the header's code and e[i] = code[i-1] - 64.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace e2e::xli {

// Most samples one lead may decode to (a 10-minute lead at 1 kHz is 600 000 samples).
constexpr std::size_t kMaxSamplesPerLead = std::size_t(1) << 21;

// Decodes the LZW payload of one chunk (10-bit codes). Throws std::runtime_error on a code
// that cannot occur in a valid stream, or when the output would exceed `maxBytes`.
std::vector<std::uint8_t> lzwDecode(const std::uint8_t* data, std::size_t size, std::size_t maxBytes);

// Turns decompressed bytes (high bytes, then low bytes) into samples, given the header's first
// delta code. Throws std::runtime_error when fewer than two samples are stored or a sample
// leaves the 16-bit range (a corrupt stream).
std::vector<std::int32_t> decodeDeltas(const std::vector<std::uint8_t>& bytes, std::int16_t first);

// Decodes the chunk that starts at `offset` in data[0, size) and advances `offset` past it.
// At most `maxSamples` samples (capped to kMaxSamplesPerLead) are accepted. Throws
// std::runtime_error naming the problem (truncated header, chunk size beyond the data, ...).
std::vector<std::int32_t> decodeChunk(const std::uint8_t* data, std::size_t size, std::size_t& offset,
                                      std::size_t maxSamples = kMaxSamplesPerLead);

// Decodes up to `maxLeads` consecutive chunks from the start of `data` (stops early at the end
// of the data). Throws std::runtime_error on a corrupt chunk, naming the lead index.
std::vector<std::vector<std::int32_t>> decodeLeads(const std::vector<std::uint8_t>& data, std::size_t maxLeads,
                                                   std::size_t maxSamples = kMaxSamplesPerLead);

}  // namespace e2e::xli
