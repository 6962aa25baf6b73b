// DICOM ECG reader, waveform part: multiplex groups, channel definitions, sample
// decoding and calibration. See dicom_ecg.h.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/dicom_ecg.h"
#include "io/dicom_ecg_internal.h"

namespace e2e::dicom_ecg_detail {

namespace {

// Byte stream (little-endian file order) of an OB/OW/UN element.
bool elementBytes(DcmElement* el, std::vector<std::uint8_t>& out, std::string& why) {
  out.clear();
  if (!el) {
    why = "element absent";
    return false;
  }
  const DcmEVR vr = el->getTag().getEVR();
  const Uint32 len = el->getLength();
  if (len == 0) return true;
  if (len == DCM_UndefinedLength) {
    why = "encapsulated (undefined length) waveform data is not supported";
    return false;
  }
  Uint16* w = nullptr;
  if (vr == EVR_OW || vr == EVR_ox || vr == EVR_xs) {
    OFCondition c = el->getUint16Array(w);
    if (c.bad()) w = nullptr;
  }
  if (w) {
    const std::size_t n = len / 2;
    out.resize(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
      out[2 * i] = static_cast<std::uint8_t>(w[i] & 0xff);
      out[2 * i + 1] = static_cast<std::uint8_t>(w[i] >> 8);
    }
    return true;
  }
  Uint8* b = nullptr;
  OFCondition c = el->getUint8Array(b);
  if (c.bad() || !b) {
    if (len % 2 == 0 && el->getUint16Array(w).good() && w) {
      out.resize(len);
      for (std::size_t i = 0; i < len / 2; ++i) {
        out[2 * i] = static_cast<std::uint8_t>(w[i] & 0xff);
        out[2 * i + 1] = static_cast<std::uint8_t>(w[i] >> 8);
      }
      return true;
    }
    why = std::string("cannot read bytes (VR ") + DcmVR(vr).getVRName() + "): " + c.text();
    return false;
  }
  out.assign(b, b + len);
  return true;
}

// G.711 mu-law / A-law expansion to 16-bit linear PCM.
int decodeMuLaw(std::uint8_t u) {
  u = static_cast<std::uint8_t>(~u);
  int t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

int decodeALaw(std::uint8_t a) {
  a ^= 0x55;
  int t = (a & 0x0f) << 4;
  const int seg = (a & 0x70) >> 4;
  switch (seg) {
    case 0: t += 8; break;
    case 1: t += 0x108; break;
    default: t += 0x108; t <<= seg - 1;
  }
  return (a & 0x80) ? t : -t;
}


std::uint64_t rawBits(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int k = 0; k < bytes; ++k) v |= static_cast<std::uint64_t>(p[k]) << (8 * k);
  return v;
}

double decodeSample(std::uint64_t bits, const SampleFormat& f) {
  const std::string& i = f.interp;
  if (i == "SB") return static_cast<double>(static_cast<std::int8_t>(bits & 0xff));
  if (i == "UB") return static_cast<double>(bits & 0xff);
  if (i == "MB") return decodeMuLaw(static_cast<std::uint8_t>(bits));
  if (i == "AB") return decodeALaw(static_cast<std::uint8_t>(bits));
  if (i == "SS") return static_cast<double>(static_cast<std::int16_t>(bits & 0xffff));
  if (i == "US") return static_cast<double>(bits & 0xffff);
  if (i == "SL") return static_cast<double>(static_cast<std::int32_t>(bits & 0xffffffffu));
  return static_cast<double>(bits & 0xffffffffu);  // UL
}

// Scale from a ChannelSensitivityUnits code to mV, or nullopt if not a voltage.
std::optional<double> voltScaleToMv(const Code& unit) {
  std::string v = unit.value;
  if (v == "uV" || v == "UV" || v == "uv" || v == "\xC2\xB5V" || v == "\xB5V") return 1e-3;
  if (v == "mV" || v == "MV" || v == "mv") return 1.0;
  if (v == "V" || v == "v") return 1e3;
  if (v == "nV" || v == "nv") return 1e-6;
  const std::string m = lower(unit.meaning);
  if (v.empty()) {
    if (m == "microvolt" || m == "microvolts") return 1e-3;
    if (m == "millivolt" || m == "millivolts") return 1.0;
    if (m == "volt" || m == "volts") return 1e3;
  }
  return std::nullopt;
}

// Samples equal to WaveformPaddingValue carry no data; nullopt when the group gives none.
std::optional<std::uint64_t> readPaddingValue(DcmItem& item, const SampleFormat& sf) {
  DcmElement* padEl = nullptr;
  std::vector<std::uint8_t> pb;
  std::string pwhy;
  if (item.findAndGetElement(DCM_WaveformPaddingValue, padEl, OFFalse).good() && padEl &&
      elementBytes(padEl, pb, pwhy) && pb.size() >= static_cast<std::size_t>(sf.bytes))
    return rawBits(pb.data(), sf.bytes);
  return std::nullopt;
}

// De-multiplexes channel `c` of `nch` interleaved channels into `out` (value * mul + add).
// Padding samples are set to 0; returns how many there were.
std::size_t demultiplex(const std::vector<std::uint8_t>& bytes, long nch, long c, const SampleFormat& sf,
                        const std::optional<std::uint64_t>& padding, double mul, double add,
                        std::size_t numSamples, std::vector<float>& out) {
  std::size_t padded = 0;
  out.resize(numSamples);
  const std::size_t stride = static_cast<std::size_t>(nch) * sf.bytes;
  const std::uint8_t* p = bytes.data() + static_cast<std::size_t>(c) * sf.bytes;
  for (std::size_t i = 0; i < numSamples; ++i, p += stride) {
    const std::uint64_t bits = rawBits(p, sf.bytes);
    if (padding && bits == *padding) {
      out[i] = 0.0f;
      ++padded;
      continue;
    }
    out[i] = static_cast<float>(decodeSample(bits, sf) * mul + add);
  }
  return padded;
}

}  // namespace

SampleFormat Reader::readSampleFormat(DcmItem& item, const std::string& where) {
  auto bitsAlloc = getInteger(item, DCM_WaveformBitsAllocated);
  if (!bitsAlloc) fail(where + ": missing WaveformBitsAllocated");
  SampleFormat sf;
  sf.interp = upper(getString(item, DCM_WaveformSampleInterpretation));
  if (*bitsAlloc != 8 && *bitsAlloc != 16 && *bitsAlloc != 32)
    fail(where + ": unsupported WaveformBitsAllocated " + std::to_string(*bitsAlloc) + " (8, 16 or 32 expected)");
  sf.bytes = static_cast<int>(*bitsAlloc / 8);
  if (sf.interp.empty()) {
    sf.interp = sf.bytes == 1 ? "SB" : sf.bytes == 2 ? "SS" : "SL";
    warn(where + ": WaveformSampleInterpretation missing, assuming " + sf.interp);
  }
  const std::string& i = sf.interp;
  int need = (i == "SB" || i == "UB" || i == "MB" || i == "AB") ? 1
             : (i == "SS" || i == "US")                         ? 2
             : (i == "SL" || i == "UL")                         ? 4
                                                                : 0;
  if (need == 0) fail(where + ": unsupported WaveformSampleInterpretation '" + i + "'");
  if (need != sf.bytes)
    fail(where + ": WaveformSampleInterpretation " + i + " does not match WaveformBitsAllocated " +
         std::to_string(*bitsAlloc));
  return sf;
}

// WaveformData as bytes, checked against channels x samples x bytes per sample.
std::vector<std::uint8_t> Reader::readWaveformBytes(DcmItem& item, const std::string& where, long nch, long ns,
                                                    const SampleFormat& sf) {
  DcmElement* dataEl = nullptr;
  if (item.findAndGetElement(DCM_WaveformData, dataEl, OFFalse).bad() || !dataEl)
    fail(where + ": missing WaveformData");
  std::vector<std::uint8_t> bytes;
  std::string why;
  if (!elementBytes(dataEl, bytes, why)) fail(where + ": cannot read WaveformData: " + why);
  const std::uint64_t expected = static_cast<std::uint64_t>(nch) * static_cast<std::uint64_t>(ns) *
                                 static_cast<std::uint64_t>(sf.bytes);
  if (bytes.size() != expected && !(bytes.size() == expected + 1 && expected % 2 == 1))
    fail(where + ": inconsistent WaveformData length: " + std::to_string(bytes.size()) + " bytes, expected " +
         std::to_string(expected) + " (" + std::to_string(nch) + " channels x " + std::to_string(ns) +
         " samples x " + std::to_string(sf.bytes) + " bytes)");
  return bytes;
}

// Lead name of a channel: from its source code, else from the code meaning or ChannelLabel
// (with a warning). Channels that are no ECG lead are kept under their own name in ECG SOP
// classes, and otherwise skipped (listed in skipped_): then "" is returned.
std::string Reader::resolveLead(DcmItem& ci, const std::string& cwhere, int gi, long c, const Code& src) {
  const std::string channelLabel = getString(ci, DCM_ChannelLabel);
  std::string lead = ecgLeadFromCode(src.value, src.scheme);
  if (!lead.empty()) return lead;
  std::string from;
  lead = leadFromText(src.meaning);
  if (!lead.empty()) {
    from = "code meaning '" + src.meaning + "'";
  } else {
    lead = leadFromText(channelLabel);
    if (!lead.empty()) from = "ChannelLabel '" + channelLabel + "'";
  }
  const std::string codeDesc = src.value.empty() ? std::string("no source code")
                                                 : "unknown source code '" + src.value + "'" +
                                                       (src.scheme.empty() ? "" : " (" + src.scheme + ")");
  if (!lead.empty()) {
    warn(cwhere + ": " + codeDesc + ", lead " + lead + " taken from " + from);
  } else if (ecgSop_) {
    lead = !channelLabel.empty() ? channelLabel
           : !src.meaning.empty() ? src.meaning
                                  : "Channel " + std::to_string(c + 1);
    warn(cwhere + ": " + codeDesc + ", not recognised as an ECG lead; kept as '" + lead + "'");
  } else {
    std::string name = !src.meaning.empty() ? src.meaning : !channelLabel.empty() ? channelLabel : src.value;
    skipped_.push_back(name.empty() ? "group " + std::to_string(gi + 1) + " channel " + std::to_string(c + 1)
                                    : name);
  }
  return lead;
}

// Sensitivity, correction, baseline, unit and filters of a channel; returns the factor
// that converts the sensitivity unit to mV (1 when not a voltage or no sensitivity).
double Reader::readCalibration(DcmItem& ci, const std::string& cwhere, EcgChannel& ch) {
  auto sens = getDouble(ci, DCM_ChannelSensitivity);
  auto corr = getDouble(ci, DCM_ChannelSensitivityCorrectionFactor);
  auto base = getDouble(ci, DCM_ChannelBaseline);
  ch.sensitivity = sens.value_or(1.0);
  ch.correction = corr.value_or(1.0);
  ch.baseline = base.value_or(0.0);
  if (sens && *sens == 0.0) {
    warn(cwhere + ": ChannelSensitivity is 0, using 1");
    ch.sensitivity = 1.0;
  }
  double scale = 1.0;
  if (!sens) {
    ch.unit = "raw";
    warn(cwhere + ": no ChannelSensitivity, samples left in raw counts");
  } else {
    Code unit = getCode(ci, DCM_ChannelSensitivityUnitsSequence);
    if (auto s = voltScaleToMv(unit)) {
      scale = *s;
      ch.unit = "mV";
    } else {
      ch.unit = !unit.value.empty() ? unit.value : unit.meaning;
      warn(cwhere + ": sensitivity unit '" + (ch.unit.empty() ? std::string("(none)") : ch.unit) +
           "' is not a voltage; samples kept in that unit");
    }
  }
  if (auto v = getDouble(ci, DCM_FilterLowFrequency)) ch.lowFreqHz = *v;
  if (auto v = getDouble(ci, DCM_FilterHighFrequency)) ch.highFreqHz = *v;
  if (auto v = getDouble(ci, DCM_NotchFilterFrequency)) ch.notchHz = *v;
  return scale;
}

std::optional<GroupResult> Reader::readGroup(DcmItem& item, int gi) {
  const std::string where = "WaveformSequence item " + std::to_string(gi + 1);
  GroupResult res;
  res.originalIndex = gi;
  EcgGroup& g = res.group;

  auto nch = getInteger(item, DCM_NumberOfWaveformChannels);
  auto ns = getInteger(item, DCM_NumberOfWaveformSamples);
  auto fs = getDouble(item, DCM_SamplingFrequency);
  if (!nch || *nch <= 0) fail(where + ": missing or invalid NumberOfWaveformChannels");
  if (!ns || *ns <= 0) fail(where + ": missing or invalid NumberOfWaveformSamples");
  if (!fs || !(*fs > 0.0)) fail(where + ": missing or invalid SamplingFrequency");
  g.samplingHz = *fs;
  g.numSamples = static_cast<std::size_t>(*ns);
  g.originality = getString(item, DCM_WaveformOriginality);
  const SampleFormat sf = readSampleFormat(item, where);

  DcmSequenceOfItems* chSeq = nullptr;
  if (item.findAndGetSequence(DCM_ChannelDefinitionSequence, chSeq).bad() || !chSeq || chSeq->card() == 0)
    fail(where + ": missing ChannelDefinitionSequence");
  if (static_cast<long>(chSeq->card()) != *nch)
    fail(where + ": ChannelDefinitionSequence has " + std::to_string(chSeq->card()) +
         " items but NumberOfWaveformChannels is " + std::to_string(*nch));

  const std::vector<std::uint8_t> bytes = readWaveformBytes(item, where, *nch, *ns, sf);
  const std::optional<std::uint64_t> padding = readPaddingValue(item, sf);

  g.label = getString(item, DCM_MultiplexGroupLabel);
  if (g.label.empty()) {
    const bool shortDerived = upper(g.originality) == "DERIVED" && g.numSamples / g.samplingHz <= 2.5;
    g.label = shortDerived ? "MEDIAN" : "RHYTHM";
  }

  res.channelMap.assign(static_cast<std::size_t>(*nch), -1);
  std::size_t padded = 0;
  for (long c = 0; c < *nch; ++c) {
    DcmItem* ci = chSeq->getItem(static_cast<unsigned long>(c));
    if (!ci) fail(where + ": unreadable ChannelDefinitionSequence item " + std::to_string(c + 1));
    const std::string cwhere = where + " channel " + std::to_string(c + 1);
    EcgChannel ch;
    Code src = getCode(*ci, DCM_ChannelSourceSequence);
    ch.codeValue = src.value;
    ch.codingScheme = src.scheme;
    ch.codeMeaning = src.meaning;
    ch.label = resolveLead(*ci, cwhere, gi, c, src);
    if (ch.label.empty()) continue;  // not an ECG lead: skipped
    const double scale = readCalibration(*ci, cwhere, ch);
    padded += demultiplex(bytes, *nch, c, sf, padding, ch.sensitivity * ch.correction * scale,
                          ch.baseline * scale, g.numSamples, ch.samples);
    res.channelMap[static_cast<std::size_t>(c)] = static_cast<int>(g.channels.size());
    g.channels.push_back(std::move(ch));
  }
  if (padded) warn(where + ": " + std::to_string(padded) + " padding samples (no data) set to 0");
  if (g.channels.empty()) return std::nullopt;
  return res;
}

}  // namespace e2e::dicom_ecg_detail
