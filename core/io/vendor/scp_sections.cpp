// SCP-ECG record structure: CRC, section 0 directory, and sections 3, 4, 5/6, 7, 8 and 11.
#include <cmath>
#include <cstdio>
#include <string>

#include "io/vendor/scp_internal.h"

namespace e2e::scp {
namespace {

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

std::string hex4(unsigned v) {
  char b[8];
  std::snprintf(b, sizeof b, "%04X", v & 0xFFFFu);
  return b;
}

std::string sectionName(int id) {
  static const char* names[] = {"pointers",          "header",         "Huffman tables",     "lead definition",
                                "QRS locations",     "reference beats", "rhythm data",       "global measurements",
                                "text statements",   "manufacturer statements", "lead measurements",
                                "universal statements"};
  std::string s = "section " + std::to_string(id);
  if (id >= 0 && id < 12) s += std::string(" (") + names[id] + ")";
  return s;
}

// The section header at `offset`, checked against the pointer (id, length) and its CRC.
Section readSection(const std::uint8_t* p, std::size_t recLen, int id, std::size_t offset, std::size_t length) {
  const std::string name = sectionName(id);
  if (length < 16) throw ScpError(name + ": length " + std::to_string(length) + " is shorter than its header");
  if (offset > recLen || length > recLen - offset)
    throw ScpError(name + ": bytes " + std::to_string(offset + 1) + "-" + std::to_string(offset + length) +
                   " lie outside the record of " + std::to_string(recLen) + " bytes");
  const std::uint8_t* h = p + offset;
  Section s;
  s.id = le16(h + 2);
  const std::uint32_t hlen = le32(h + 4);
  if (s.id != id) throw ScpError(name + ": the header there says section " + std::to_string(s.id));
  if (hlen != length)
    throw ScpError(name + ": header length " + std::to_string(hlen) + " differs from the pointer's " +
                   std::to_string(length));
  const std::uint16_t stored = le16(h), computed = crcCcitt(h + 2, length - 2);
  if (stored != computed)
    throw ScpError(name + ": CRC mismatch (stored " + hex4(stored) + ", computed " + hex4(computed) +
                   "): the section is corrupt");
  s.offset = offset;
  s.length = length;
  s.version = h[8];
  s.protocol = h[9];
  s.data = h + 16;
  s.dataLength = length - 16;
  return s;
}

}  // namespace

std::uint16_t crcCcitt(const std::uint8_t* p, std::size_t n) {
  std::uint16_t crc = 0xFFFF;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= static_cast<std::uint16_t>(p[i] << 8);
    for (int b = 0; b < 8; ++b) crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021) : static_cast<std::uint16_t>(crc << 1);
  }
  return crc;
}

void Cursor::need(std::size_t k) const {
  if (k > left())
    throw ScpError(what_ + ": needs " + std::to_string(k) + " more bytes at offset " + std::to_string(pos_) +
                   " but only " + std::to_string(left()) + " remain (truncated or corrupt)");
}
std::uint8_t Cursor::u8() {
  need(1);
  return p_[pos_++];
}
std::uint16_t Cursor::u16() {
  need(2);
  pos_ += 2;
  return le16(p_ + pos_ - 2);
}
std::uint32_t Cursor::u32() {
  need(4);
  pos_ += 4;
  return le32(p_ + pos_ - 4);
}
const std::uint8_t* Cursor::take(std::size_t k) {
  need(k);
  pos_ += k;
  return p_ + pos_ - k;
}

Directory readDirectory(const std::uint8_t* p, std::size_t n, std::vector<std::string>& warnings) {
  if (n < 22) throw ScpError("file of " + std::to_string(n) + " bytes is too short for an SCP-ECG record");
  const std::size_t recLen = le32(p + 2);
  if (recLen < 22) throw ScpError("record length " + std::to_string(recLen) + " in the file header is too small");
  const bool hasId = std::string(reinterpret_cast<const char*>(p + 16), 6) == "SCPECG";
  if (recLen > n && !hasId)
    throw ScpError("not a valid SCP-ECG record: no \"SCPECG\" identifier in section 0 and a record length of " +
                   std::to_string(recLen) + " bytes for a file of " + std::to_string(n));
  if (recLen > n)
    throw ScpError("truncated: the record length says " + std::to_string(recLen) + " bytes but the file has " +
                   std::to_string(n));
  if (recLen < n) warnings.push_back(std::to_string(n - recLen) + " bytes after the SCP-ECG record ignored");
  const std::uint16_t stored = le16(p), computed = crcCcitt(p + 2, recLen - 2);
  if (stored != computed)
    throw ScpError("file CRC mismatch (stored " + hex4(stored) + ", computed " + hex4(computed) + "): the file is corrupt");
  Directory d;
  const Section s0 = readSection(p, recLen, 0, 6, le32(p + 6 + 4));
  if (!hasId)
    warnings.push_back("section 0 lacks the \"SCPECG\" identifier");
  d.protocolVersion = s0.protocol;
  if (d.protocolVersion > 30)
    warnings.push_back("SCP-ECG protocol version " + std::to_string(d.protocolVersion) + " is newer than 3.0; read as 3.0");
  d.sections[0] = s0;
  Cursor c = s0.cursor("section 0 (pointers)");
  while (c.left() >= 10) {
    const int id = c.u16();
    const std::size_t len = c.u32();
    const std::size_t index = c.u32();
    if (len == 0 || id == 0) continue;
    if (index == 0) throw ScpError(sectionName(id) + ": pointer index 0 (indices start at 1)");
    if (d.sections.count(id)) throw ScpError(sectionName(id) + " is listed twice in section 0");
    d.sections[id] = readSection(p, recLen, id, index - 1, len);
  }
  return d;
}

LeadSet parseSection3(const Section& s) {
  Cursor c = s.cursor("section 3 (lead definition)");
  LeadSet set;
  const int n = c.u8();
  const int flags = c.u8();
  set.refBeatSubtraction = flags & 0x01;
  set.simultaneous = flags & 0x04;
  set.simultaneousCount = flags >> 3;
  if (n == 0) throw ScpError("section 3 defines no leads");
  for (int i = 0; i < n; ++i) {
    LeadDef d;
    d.start = c.u32();
    d.end = c.u32();
    d.code = c.u8();
    if (d.start == 0 || d.end < d.start)
      throw ScpError("section 3: lead " + std::to_string(i + 1) + " has sample numbers " + std::to_string(d.start) +
                     "-" + std::to_string(d.end));
    set.leads.push_back(d);
  }
  return set;
}

QrsLocations parseSection4(const Section& s) {
  Cursor c = s.cursor("section 4 (QRS locations)");
  QrsLocations q;
  q.medianLengthMs = c.u16();
  q.medianFiducial = c.u16();
  const std::size_t nQrs = c.u16();
  if (!c.has(nQrs * 14))
    throw ScpError("section 4: " + std::to_string(nQrs) + " QRS complexes do not fit the section");
  q.zones.resize(nQrs);
  for (auto& z : q.zones) {
    z.type = c.u16();
    z.start = c.u32();
    z.fiducial = c.u32();
    z.end = c.u32();
  }
  if (nQrs > 0 && c.has(nQrs * 8)) {
    q.hasProtected = true;
    for (auto& z : q.zones) {
      z.protStart = c.u32();
      z.protEnd = c.u32();
    }
  }
  return q;
}

EncodedLeads parseEncodedLeads(const Section& s, std::size_t nLeads) {
  const std::string name = sectionName(s.id);
  Cursor c = s.cursor(name);
  EncodedLeads e;
  e.avmNv = c.u16();
  e.intervalUs = c.u16();
  e.difference = c.u8();
  e.bimodal = c.u8() == 1 && s.id == 6;
  if (e.avmNv == 0) throw ScpError(name + ": amplitude value multiplier is 0");
  if (e.intervalUs == 0) throw ScpError(name + ": sample time interval is 0");
  if (e.difference > 2) throw ScpError(name + ": unknown difference encoding " + std::to_string(e.difference));
  std::vector<std::size_t> lengths(nLeads);
  for (auto& l : lengths) l = c.u16();
  for (std::size_t i = 0; i < nLeads; ++i) {
    if (!c.has(lengths[i]))
      throw ScpError(name + ": lead " + std::to_string(i + 1) + " declares " + std::to_string(lengths[i]) +
                     " bytes but only " + std::to_string(c.left()) + " remain in the section");
    e.leads.emplace_back(c.take(lengths[i]), lengths[i]);
  }
  return e;
}

void parseSection7(const Section& s, EcgRecord& rec) {
  Cursor c = s.cursor("section 7 (global measurements)");
  // 29999 not computed, 29998 rejected, 29997 no data: values >= 29997 mean "no value".
  auto ok = [](unsigned v) { return v > 0 && v < 29997; };
  auto axis = [](int v) { return v >= -180 && v <= 360 ? static_cast<double>(v) : kNaN; };  // 999 = undefined
  EcgMeasurements& m = rec.measurements;
  const int nRef = c.u8();
  const int nSpikes = c.u8();
  const unsigned rr = c.u16(), pp = c.u16();
  if (ok(rr)) m.rrMs = rr;
  if (ok(pp)) rec.extra["ppIntervalMs"] = std::to_string(pp);
  if (nRef > 0 && c.has(16)) {
    const unsigned pOn = c.u16(), pOff = c.u16(), qOn = c.u16(), qOff = c.u16(), tOff = c.u16();
    const int pAx = c.i16(), qAx = c.i16(), tAx = c.i16();
    auto valid = [](unsigned v) { return v < 29997; };  // onsets/offsets: ms from the beat start, 0 allowed
    if (valid(pOn) && valid(qOn) && qOn > pOn) m.prMs = qOn - pOn;
    if (valid(qOn) && valid(qOff) && qOff > qOn) m.qrsMs = qOff - qOn;
    if (valid(qOn) && valid(tOff) && tOff > qOn) m.qtMs = tOff - qOn;
    if (valid(pOn) && valid(pOff) && pOff > pOn) rec.extra["pDurationMs"] = std::to_string(pOff - pOn);
    m.pAxisDeg = axis(pAx);
    m.qrsAxisDeg = axis(qAx);
    m.tAxisDeg = axis(tAx);
  }
  // Further reference beat types, pacemaker spikes and QRS types precede the extra measurements.
  const std::size_t skipRef = nRef > 1 ? static_cast<std::size_t>(nRef - 1) * 16 : 0;
  if (nSpikes > 0) rec.extra["pacemakerSpikes"] = std::to_string(nSpikes);
  if (c.has(skipRef + nSpikes * 10u + 2)) {
    c.skip(skipRef + nSpikes * 10u);
    const std::size_t nQrs = c.u16();
    if (c.has(nQrs + 2)) {
      c.skip(nQrs);
      const unsigned vent = c.u16();
      if (ok(vent)) m.heartRateBpm = vent;
      if (c.has(2)) c.skip(2);  // atrial rate
      const unsigned qtc = c.has(2) ? c.u16() : 0u;
      const int formula = c.has(1) ? c.u8() : 0;
      if (ok(qtc)) m.qtcMs = qtc;
      if (ok(qtc) && formula == 1) m.qtcFormula = "Bazett";
      if (ok(qtc) && formula == 2) m.qtcFormula = "Hodges";
    }
  }
  if (std::isnan(m.heartRateBpm) && ok(rr)) m.heartRateBpm = std::round(60000.0 / rr);
}

void parseStatements(const Section& s, EcgRecord& rec) {
  const bool universal = s.id == 11;
  Cursor c = s.cursor(sectionName(s.id));
  const int reportType = c.u8();
  c.skip(7);  // date (4) and time (3) of the interpretation
  const int n = c.u8();
  if (reportType == 1) rec.extra["interpretationConfirmed"] = "yes";
  for (int i = 0; i < n; ++i) {
    if (!c.has(3)) {
      rec.warnings.push_back(sectionName(s.id) + ": " + std::to_string(n - i) + " statements missing at the end");
      return;
    }
    c.skip(1);  // sequence number
    const std::size_t len = c.u16();
    if (!c.has(len)) throw ScpError(sectionName(s.id) + ": statement " + std::to_string(i + 1) + " runs past the section");
    const std::uint8_t* p = c.take(len);
    std::size_t k = 0;
    if (universal && len > 0) k = 1;  // statement type: 1 coded, 2 full text, 3 both
    std::string joined;
    while (k < len) {  // NUL-separated parts (codes and/or text)
      std::size_t e = k;
      while (e < len && p[e] != 0) ++e;
      std::string part = text(p + k, e - k);
      const auto b = part.find_first_not_of(" \t\r\n");
      if (b != std::string::npos) {
        part = part.substr(b, part.find_last_not_of(" \t\r\n") - b + 1);
        joined += (joined.empty() ? "" : "; ") + part;
      }
      k = e + 1;
    }
    if (!joined.empty()) rec.statements.push_back(joined);
  }
}

}  // namespace e2e::scp
