// SCP-ECG reader: file checks, then sections 1-11 into an EcgRecord.
#include "io/vendor/scp_ecg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "io/ecg_leads.h"
#include "io/vendor/scp_huffman.h"
#include "io/vendor/scp_internal.h"
#include "io/vendor/scp_signal.h"

namespace e2e {
namespace {

using namespace scp;
namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxFileBytes = 64u << 20;  // SCP-ECG records are kilobytes; 64 MiB is generous

std::vector<std::uint8_t> loadFile(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw ReadError(path, "file not found or not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw ReadError(path, "cannot determine the file size: " + ec.message());
  if (size == 0) throw ReadError(path, "empty file, not an SCP-ECG record");
  if (size > kMaxFileBytes)
    throw ReadError(path, "file of " + std::to_string(size) + " bytes is far larger than any SCP-ECG record");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ReadError(path, "cannot open the file");
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size));
  f.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size));
  if (f.gcount() != static_cast<std::streamsize>(size)) throw ReadError(path, "cannot read the whole file");
  return data;
}

std::string versionText(int protocol) {
  if (protocol <= 0) return "unknown";
  return std::to_string(protocol / 10) + "." + std::to_string(protocol % 10);
}

std::string formatHz(double hz) {
  std::ostringstream s;
  s.precision(6);
  s << hz;
  return s.str();
}

// One group from raw leads in mV, channels named from section 3.
EcgGroup makeGroup(const std::string& label, double hz, const std::vector<std::vector<double>>& mv,
                   const LeadSet& leads, int avmNv, const HeaderInfo& h) {
  EcgGroup g;
  g.label = label;
  g.originality = "ORIGINAL";
  g.samplingHz = hz;
  std::set<std::string> used;
  for (std::size_t i = 0; i < mv.size(); ++i) {
    EcgChannel c;
    bool derived = false;
    const int code = leads.leads[i].code;
    std::string name = leadName(code, &derived);
    if (used.count(name)) name += " (code " + std::to_string(code) + ")";
    used.insert(name);
    c.label = name;
    c.codeValue = std::to_string(code);
    c.codingScheme = "SCPECG";
    c.codeMeaning = std::string("SCP-ECG lead ") + leadName(code) + (derived ? " (derived by the device)" : "");
    c.unit = "mV";
    c.sensitivity = avmNv / 1e6;
    c.lowFreqHz = h.highPassHz;
    c.highFreqHz = h.lowPassHz;
    c.notchHz = h.notchHz;
    c.samples.assign(mv[i].begin(), mv[i].end());
    g.numSamples = std::max(g.numSamples, c.samples.size());
    g.channels.push_back(std::move(c));
  }
  for (auto& c : g.channels) c.samples.resize(g.numSamples, std::numeric_limits<float>::quiet_NaN());
  return g;
}

// Rhythm leads placed on a common timeline (leads may start and end at different samples).
std::vector<std::vector<double>> toTimelineMv(const RawLeads& raw, const LeadSet& leads, int avmNv,
                                              std::vector<std::string>& warnings) {
  std::uint32_t first = leads.leads[0].start, last = leads.leads[0].end;
  for (const auto& d : leads.leads) {
    first = std::min(first, d.start);
    last = std::max(last, d.end);
  }
  std::size_t longest = 0;
  for (const auto& r : raw) longest = std::max(longest, r.size());
  const std::size_t span = static_cast<std::size_t>(last - first) + 1;
  if (span > 4 * longest + 1)
    throw ScpError("section 3: leads span samples " + std::to_string(first) + "-" + std::to_string(last) +
                   ", far more than the longest lead of " + std::to_string(longest) + " samples");
  if (span != longest) warnings.push_back("leads cover different sample ranges; gaps are NaN");
  const double scale = avmNv / 1e6;
  std::vector<std::vector<double>> mv(raw.size(), std::vector<double>(span, kNaN));
  for (std::size_t i = 0; i < raw.size(); ++i)
    for (std::size_t k = 0; k < raw[i].size(); ++k) mv[i][leads.leads[i].start - first + k] = raw[i][k] * scale;
  return mv;
}

std::vector<std::vector<double>> toMv(const RawLeads& raw, int avmNv) {
  std::vector<std::vector<double>> mv;
  for (const auto& r : raw) {
    mv.emplace_back(r.size());
    for (std::size_t k = 0; k < r.size(); ++k) mv.back()[k] = r[k] * (avmNv / 1e6);
  }
  return mv;
}

struct Waveforms {
  std::optional<EcgGroup> rhythm, median;
};

Waveforms readWaveforms(const Directory& dir, const HeaderInfo& h, EcgRecord& rec) {
  const Section* s3 = dir.find(3);
  const Section* s5 = dir.find(5);
  const Section* s6 = dir.find(6);
  if (!s5 && !s6) throw ScpError("no waveform: sections 5 (reference beats) and 6 (rhythm) are both absent");
  if (!s3) throw ScpError("section 3 (lead definition) is missing");
  const LeadSet leads = parseSection3(*s3);
  const HuffTables tables = parseSection2(dir.find(2));
  std::optional<QrsLocations> qrs;
  if (const Section* s4 = dir.find(4)) qrs = parseSection4(*s4);
  rec.extra["huffman"] = tables.kind == HuffTables::Kind::None ? "none"
                         : tables.kind == HuffTables::Kind::Default ? "default table" : "custom tables";
  rec.extra["referenceBeatSubtraction"] = leads.refBeatSubtraction ? "yes" : "no";
  Waveforms w;
  RawLeads median;
  std::optional<EncodedLeads> e5;
  if (s5) {
    e5 = parseEncodedLeads(*s5, leads.leads.size());
    const std::size_t count =
        qrs && qrs->medianLengthMs > 0 ? static_cast<std::size_t>(qrs->medianLengthMs) * 1000u / e5->intervalUs : 0;
    median = decodeReferenceBeats(*e5, tables, count, leads, rec.warnings);
    w.median = makeGroup("MEDIAN", 1e6 / e5->intervalUs, toMv(median, e5->avmNv), leads, e5->avmNv, h);
    rec.extra["medianAvmNv"] = std::to_string(e5->avmNv);
  }
  if (s6) {
    const EncodedLeads e6 = parseEncodedLeads(*s6, leads.leads.size());
    const RawLeads raw = decodeRhythm(e6, tables, leads, qrs ? &*qrs : nullptr, e5 ? e5->intervalUs : 0, rec.warnings);
    const int rhythmInterval = e6.bimodal ? e5->intervalUs : e6.intervalUs;
    std::vector<std::vector<double>> mv = toTimelineMv(raw, leads, e6.avmNv, rec.warnings);
    if (leads.refBeatSubtraction) {
      if (!qrs || !e5) throw ScpError("reference beat subtraction is flagged but section 4 or 5 is missing");
      if (rhythmInterval != e5->intervalUs)
        throw ScpError("reference beat subtraction with different rhythm (" + std::to_string(rhythmInterval) +
                       " us) and reference beat (" + std::to_string(e5->intervalUs) + " us) sample intervals");
      addReferenceBeats(mv, leads, *qrs, median, e5->avmNv);
    }
    w.rhythm = makeGroup("RHYTHM", 1e6 / rhythmInterval, mv, leads, e6.avmNv, h);
    rec.extra["rhythmAvmNv"] = std::to_string(e6.avmNv);
    rec.extra["rhythmDifference"] = std::to_string(e6.difference);
    rec.extra["bimodalCompression"] = e6.bimodal ? "yes" : "no";
  }
  return w;
}

EcgRecord readRecord(const std::string& path, const std::vector<std::uint8_t>& data) {
  EcgRecord rec;
  rec.format = SourceFormat::ScpEcg;
  rec.sourcePath = path;
  rec.identity.modality = "ECG";
  const Directory dir = readDirectory(data.data(), data.size(), rec.warnings);
  rec.extra["scpProtocolVersion"] = versionText(dir.protocolVersion);
  HeaderInfo h;
  if (const Section* s1 = dir.find(1)) h = parseSection1(*s1, rec);
  else rec.warnings.push_back("section 1 (header) is missing: no patient or acquisition data");
  Waveforms w = readWaveforms(dir, h, rec);
  if (w.rhythm) rec.groups.push_back(std::move(*w.rhythm));
  if (w.median) rec.groups.push_back(std::move(*w.median));
  deriveLimbLeads(rec);
  if (const Section* s7 = dir.find(7)) parseSection7(*s7, rec);
  if (const Section* s8 = dir.find(8)) parseStatements(*s8, rec);
  if (const Section* s11 = dir.find(11)) parseStatements(*s11, rec);
  Identity& id = rec.identity;
  id.studyDescription = "SCP-ECG " + rec.extra["scpProtocolVersion"];
  if (!rec.groups.empty()) {
    const EcgGroup& g = rec.groups.front();
    id.seriesDescription = "SCP-ECG " + std::to_string(g.channels.size()) + " leads, " + formatHz(g.samplingHz) + " Hz";
  }
  id.seriesNumber = 1;
  return rec;
}

}  // namespace

bool looksLikeScpEcg(std::string_view head) {
  if (head.size() < 22) return false;
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(head[i]); };
  const std::uint32_t recLen = b(2) | (b(3) << 8) | (b(4) << 16) | (static_cast<std::uint32_t>(b(5)) << 24);
  const std::uint32_t s0Len = b(10) | (b(11) << 8) | (b(12) << 16) | (static_cast<std::uint32_t>(b(13)) << 24);
  const int s0Id = b(8) | (b(9) << 8);
  return recLen >= 22 && s0Id == 0 && s0Len >= 16 && s0Len <= recLen - 6 && head.substr(16, 6) == "SCPECG";
}

EcgRecord readScpEcg(const std::string& path) {
  const std::vector<std::uint8_t> data = loadFile(path);
  try {
    return readRecord(path, data);
  } catch (const ScpError& e) {
    throw ReadError(path, std::string("SCP-ECG: ") + e.what());
  }
}

}  // namespace e2e
