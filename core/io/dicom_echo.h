// DICOM ultrasound (echo) reader: US multi-frame and single-frame, incl. retired SOP classes.
#pragma once
#include <cctype>
#include <string>
#include <vector>

#include "common/types.h"

namespace e2e {

bool isUltrasoundSopClass(const std::string& sopClassUid);

// Metadata only (no pixel decoding): geometry, timing with its source, regions, view label.
// Throws ReadError for non-DICOM, truncated or non-ultrasound files.
EchoInfo readDicomEchoInfo(const std::string& path);

// Decodes frames [first, first+count) (count < 0: to the end) to 8-bit grey or RGB.
// Handles uncompressed, RLE, JPEG baseline (YBR_FULL_422 -> RGB), PALETTE COLOR.
// Throws ReadError with a clear cause for undecodable data (JPEG 2000, odd palettes...).
// Only those frames are read from the file or decompressed (frame by frame, DCMTK's
// DcmPixelData::getUncompressedFrame), except 16-bit grey data without a VOI window and
// segmented palettes, which are decoded as a range.
EchoFrames readDicomEchoFrames(const std::string& path, int first = 0, int count = -1);

// The frames at `indices` (any order, repeats allowed), in that order; only those frames are read
// or decompressed, so memory follows the list, not the loop (16-bit grey data without a VOI window
// excepted: its min-max window spans the whole loop, as when the whole loop is decoded).
EchoFrames readDicomEchoFrames(const std::string& path, const std::vector<int>& indices);

// Maps free text (a ViewCodeSequence code meaning, a SeriesDescription, a file name) to a
// standard echo view label: A4C, A2C, A3C, A5C, PLAX, PSAX, SUBCOSTAL; "" when none is
// recognised. Case-insensitive, word tokens ("A4C", "apical 4", "apical four chamber",
// "PLAX", "PS LAX", "parasternal long", "short axis", "subcostal", ...).
namespace detail {
inline std::string lowerAlnumSpaced(const std::string& s, bool splitDigits) {
  std::string out = " ";
  char prev = ' ';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    char l = std::isalnum(c) ? static_cast<char>(std::tolower(c)) : ' ';
    if (splitDigits && l != ' ' && prev != ' ' &&
        (std::isdigit(static_cast<unsigned char>(l)) != std::isdigit(static_cast<unsigned char>(prev))))
      out += ' ';
    if (l == ' ' && out.back() == ' ') {
      prev = ' ';
      continue;
    }
    out += l;
    prev = l;
  }
  if (out.back() != ' ') out += ' ';
  return out;
}

}  // namespace detail

inline std::string echoViewFromText(const std::string& text) {
  struct Rule {
    const char* label;
    std::vector<const char*> tokens;
  };
  static const std::vector<Rule> rules = {
      {"SUBCOSTAL", {"subcostal", "subxiphoid", "sc4c", "subc", "sub costal", "s4c"}},
      {"A4C", {"a4c", "a4ch", "ap4", "ap4c", "apical 4", "apical four", "4 chamber", "four chamber", "4ch", "4 ch"}},
      {"A2C", {"a2c", "a2ch", "ap2", "ap2c", "apical 2", "apical two", "2 chamber", "two chamber", "2ch", "2 ch"}},
      {"A3C",
       {"a3c", "a3ch", "ap3", "ap3c", "apical 3", "apical three", "3 chamber", "three chamber", "3ch", "3 ch",
        "apical long", "aplax", "alax"}},
      {"A5C", {"a5c", "ap5", "apical 5", "apical five", "5 chamber", "five chamber", "5ch"}},
      {"PLAX", {"plax", "pslax", "ps lax", "p lax", "parasternal long", "parasternal lax", "long axis"}},
      {"PSAX", {"psax", "pssax", "ps sax", "p sax", "parasternal short", "parasternal sax", "short axis", "sax"}},
  };
  const std::string a = detail::lowerAlnumSpaced(text, false);
  const std::string b = detail::lowerAlnumSpaced(text, true);
  for (const auto& r : rules)
    for (const char* t : r.tokens) {
      const std::string tok = std::string(" ") + t + " ";
      if (a.find(tok) != std::string::npos || b.find(tok) != std::string::npos) return r.label;
    }
  return "";
}

}  // namespace e2e
