// Internals of the SCP-ECG reader (scp_*.cpp): bounded byte access, the section directory and
// the parsed content of each section. Not part of the public API. No Qt.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/types.h"

namespace e2e::scp {

// A format error; readScpEcg turns it into ReadError(path, what()).
class ScpError : public std::runtime_error {
 public:
  explicit ScpError(const std::string& what) : std::runtime_error(what) {}
};

// CRC-CCITT (polynomial 0x1021, initial value 0xFFFF, no reflection) as SCP-ECG uses it.
std::uint16_t crcCcitt(const std::uint8_t* p, std::size_t n);

// Little-endian reads from a bounded buffer; every read past the end throws ScpError naming `what`.
class Cursor {
 public:
  Cursor(const std::uint8_t* p, std::size_t n, std::string what) : p_(p), n_(n), what_(std::move(what)) {}
  std::size_t left() const { return n_ - pos_; }
  std::size_t pos() const { return pos_; }
  bool has(std::size_t k) const { return k <= left(); }
  std::uint8_t u8();
  std::uint16_t u16();
  std::int16_t i16() { return static_cast<std::int16_t>(u16()); }
  std::uint32_t u32();
  const std::uint8_t* take(std::size_t k);  // pointer to k bytes, advances
  void skip(std::size_t k) { take(k); }

 private:
  void need(std::size_t k) const;
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  std::string what_;
};

// One section: where it lies and its 16-byte header.
struct Section {
  int id = -1;
  std::size_t offset = 0;   // 0-based byte offset of the section header in the record
  std::size_t length = 0;   // including the 16-byte header
  int version = 0;          // section version number
  int protocol = 0;         // protocol version number
  const std::uint8_t* data = nullptr;  // the bytes after the header
  std::size_t dataLength = 0;
  Cursor cursor(const std::string& what) const { return Cursor(data, dataLength, what); }
};

// Sections by id, after the file CRC, section 0 and every section CRC have been checked.
struct Directory {
  std::map<int, Section> sections;
  int protocolVersion = 0;  // e.g. 20 for 2.0, 13 for 1.3, 30 for 3.0
  const Section* find(int id) const {
    auto it = sections.find(id);
    return it == sections.end() ? nullptr : &it->second;
  }
};
// Checks record length, file CRC, section 0 and every section's id, bounds and CRC.
Directory readDirectory(const std::uint8_t* p, std::size_t n, std::vector<std::string>& warnings);

// Section 3: lead definitions.
struct LeadDef {
  std::uint32_t start = 0;  // 1-based first sample number
  std::uint32_t end = 0;    // 1-based last sample number (inclusive)
  int code = 0;             // SCP lead code
  std::size_t count() const { return end >= start ? static_cast<std::size_t>(end - start) + 1 : 0; }
};
struct LeadSet {
  bool refBeatSubtraction = false;
  bool simultaneous = false;
  int simultaneousCount = 0;
  std::vector<LeadDef> leads;
};
LeadSet parseSection3(const Section& s);

// Section 4: reference beat type 0 and QRS locations.
struct QrsZone {
  int type = 0;
  std::uint32_t start = 0, fiducial = 0, end = 0;  // subtraction zone (1-based sample numbers)
  std::uint32_t protStart = 0, protEnd = 0;        // protected zone (0 when not given)
};
struct QrsLocations {
  int medianLengthMs = 0;
  int medianFiducial = 0;  // 1-based sample number of the fiducial inside the reference beat
  std::vector<QrsZone> zones;
  bool hasProtected = false;
};
QrsLocations parseSection4(const Section& s);

// Section 5 / 6 header and per-lead encoded bytes.
struct EncodedLeads {
  int avmNv = 0;           // amplitude value multiplier, nV per count
  int intervalUs = 0;      // sample time interval, microseconds
  int difference = 0;      // 0 none, 1 first, 2 second difference
  bool bimodal = false;    // section 6 only
  std::vector<std::pair<const std::uint8_t*, std::size_t>> leads;
};
EncodedLeads parseEncodedLeads(const Section& s, std::size_t nLeads);

// Section 1 into identity / extra / filter settings.
struct HeaderInfo {
  double highPassHz = kNaN;  // tag 27 baseline filter
  double lowPassHz = kNaN;   // tag 28
  double notchHz = kNaN;     // tag 29 bit 0/1
};
HeaderInfo parseSection1(const Section& s, EcgRecord& rec);

// Section 7 into rec.measurements (and extra); sections 8 and 11 into rec.statements.
void parseSection7(const Section& s, EcgRecord& rec);
void parseStatements(const Section& s, EcgRecord& rec);

// Text from the file: trailing NULs dropped, Latin-1 turned into UTF-8 unless already UTF-8.
std::string text(const std::uint8_t* p, std::size_t n);

// Lead code (section 3) to a label: canonical name for the 12 leads, SCP name for others.
std::string leadName(int code, bool* derived = nullptr);

}  // namespace e2e::scp
