// Synthetic SCP-ECG records written by the test (scp_test_util.h) for what the sample files do
// not use: custom Huffman tables with table switches, reference-beat subtraction, bimodal
// compression, unencoded (no section 2) data, the default table's 8/16-bit escapes, Latin-1 text.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "io/vendor/scp_ecg.h"
#include "scp_test_util.h"

using e2e::EcgRecord;
using e2e::readScpEcg;
using namespace scptest;

namespace {

struct Bits {
  std::string bits;  // '0'/'1'
  void add(std::uint32_t v, int n) {
    for (int b = n - 1; b >= 0; --b) bits += ((v >> b) & 1u) ? '1' : '0';
  }
  void add(const std::string& s) { bits += s; }
  std::string bytes() const {
    std::string out((bits.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < bits.size(); ++i)
      if (bits[i] == '1') out[i / 8] = static_cast<char>(out[i / 8] | (0x80 >> (i % 8)));
    return out;
  }
};

// The standard's default Huffman table, written from its definition.
void defaultCode(Bits& b, int v) {
  const int a = std::abs(v);
  if (v == 0) b.add("0");
  else if (a <= 8) b.add(std::string(static_cast<std::size_t>(a), '1') + "0" + (v < 0 ? "1" : "0"));
  else if (v >= -128 && v <= 127) b.add("1111111110"), b.add(static_cast<std::uint32_t>(v) & 0xFF, 8);
  else b.add("1111111111"), b.add(static_cast<std::uint32_t>(v) & 0xFFFF, 16);
}

std::vector<int> differences(const std::vector<int>& x, int order) {
  std::vector<int> d(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    d[i] = x[i];
    if (order == 1 && i >= 1) d[i] = x[i] - x[i - 1];
    if (order == 2 && i >= 2) d[i] = x[i] - 2 * x[i - 1] + x[i - 2];
  }
  return d;
}

std::string raw16(const std::vector<int>& x) {
  std::string s;
  for (int v : x) app16(s, static_cast<std::uint32_t>(v) & 0xFFFF);
  return s;
}

std::string section1(const std::string& lastNameLatin1) {
  std::string s;
  auto tag = [&](int t, const std::string& v) {
    s += static_cast<char>(t);
    app16(s, static_cast<std::uint32_t>(v.size()));
    s += v;
  };
  tag(0, lastNameLatin1 + std::string(1, '\0'));
  tag(2, std::string("SYN-1") + '\0');
  tag(8, std::string(1, '\2'));
  s += static_cast<char>(255), app16(s, 0);
  return s;
}

std::string section3(const std::vector<int>& codes, std::size_t n, bool subtraction) {
  std::string s;
  s += static_cast<char>(codes.size());
  s += static_cast<char>((codes.size() << 3) | 0x04 | (subtraction ? 1 : 0));
  for (int c : codes) app32(s, 1), app32(s, static_cast<std::uint32_t>(n)), s += static_cast<char>(c);
  return s;
}

// Section 5 or 6: AVM, interval, difference, flag, then per-lead lengths and data.
std::string encodedSection(int avm, int intervalUs, int diff, int flag, const std::vector<std::string>& leads) {
  std::string s;
  app16(s, static_cast<std::uint32_t>(avm)), app16(s, static_cast<std::uint32_t>(intervalUs));
  s += static_cast<char>(diff), s += static_cast<char>(flag);
  for (const auto& l : leads) app16(s, static_cast<std::uint32_t>(l.size() + l.size() % 2));
  for (const auto& l : leads) s += l + (l.size() % 2 ? std::string(1, '\0') : std::string());
  return s;
}

struct Zone {
  int type;
  std::uint32_t start, fid, end, pStart, pEnd;
};
std::string section4(int medianMs, int medianFid, const std::vector<Zone>& zones) {
  std::string s;
  app16(s, static_cast<std::uint32_t>(medianMs)), app16(s, static_cast<std::uint32_t>(medianFid));
  app16(s, static_cast<std::uint32_t>(zones.size()));
  for (const auto& z : zones) app16(s, static_cast<std::uint32_t>(z.type)), app32(s, z.start), app32(s, z.fid), app32(s, z.end);
  for (const auto& z : zones) app32(s, z.pStart), app32(s, z.pEnd);
  return s;
}

std::vector<int> wave(std::size_t n, double phase) {
  std::vector<int> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = 100 + static_cast<int>(std::lround(400 * std::sin(2 * M_PI * 1.2 * i / 500 + phase) +
                                              60 * std::sin(2 * M_PI * 7 * i / 500)));
  return x;
}

EcgRecord readBytes(const std::string& bytes, const std::string& name) {
  const fs::path p = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".scp");
  spit(p, bytes);
  EcgRecord r = readScpEcg(p.string());
  fs::remove(p);
  return r;
}

void expectCounts(const e2e::EcgChannel& c, const std::vector<int>& x, double avmNv, double tol, const char* what) {
  ASSERT_EQ(c.samples.size(), x.size()) << what;
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(c.samples[i], x[i] * avmNv / 1e6, tol) << what << " sample " << i;
}

}  // namespace

// Two custom tables: table 1 = {'0': 0, '10'+4 bits, '110'+16 bits, '111': switch to 2};
// table 2 = {'0'+8 bits around 100, '1': switch to 1}. Codes are stored bit-reversed.
TEST(ScpSynthetic, CustomHuffmanTablesWithSwitchesAndSecondDifferences) {
  std::string s2;
  app16(s2, 2);
  auto code = [&](int prefix, int total, int mode, int base, std::uint32_t reversed) {
    s2 += static_cast<char>(prefix), s2 += static_cast<char>(total), s2 += static_cast<char>(mode);
    app16(s2, static_cast<std::uint32_t>(base) & 0xFFFF), app32(s2, reversed);
  };
  app16(s2, 4);
  code(1, 1, 1, 0, 0u), code(2, 6, 1, 0, 1u), code(3, 19, 1, 0, 3u), code(3, 3, 0, 2, 7u);
  app16(s2, 2);
  code(1, 9, 1, 100, 0u), code(1, 1, 0, 1, 1u);
  const std::size_t n = 1000;
  const std::vector<std::vector<int>> x = {wave(n, 0), wave(n, M_PI)};  // first values near 100 (table 2)
  std::vector<std::string> leads;
  for (const auto& lead : x) {
    const auto d = differences(lead, 2);
    Bits b;
    b.add("111");  // to table 2 for the two raw first values
    for (int i = 0; i < 2; ++i) b.add("0"), b.add(static_cast<std::uint32_t>(d[i] - 100) & 0xFF, 8);
    b.add("1");  // back to table 1
    for (std::size_t i = 2; i < n; ++i) {
      if (d[i] == 0) b.add("0");
      else if (d[i] >= -8 && d[i] <= 7) b.add("10"), b.add(static_cast<std::uint32_t>(d[i]) & 0xF, 4);
      else b.add("110"), b.add(static_cast<std::uint32_t>(d[i]) & 0xFFFF, 16);
    }
    leads.push_back(b.bytes());
  }
  const std::string rec = buildRecord({{1, section1("M\xFCller")}, {2, s2}, {3, section3({1, 2}, n, false)},
                                       {6, encodedSection(5000, 2000, 2, 0, leads)}});
  const EcgRecord r = readBytes(rec, "custom");
  EXPECT_EQ(r.identity.patientName, "M\xC3\xBCller");
  EXPECT_EQ(r.identity.sex, "F");
  EXPECT_EQ(r.extra.at("huffman"), "custom tables");
  ASSERT_TRUE(r.rhythm());
  EXPECT_DOUBLE_EQ(r.rhythm()->samplingHz, 500);
  expectCounts(*r.rhythm()->channel("I"), x[0], 5000, 1e-6, "I");
  expectCounts(*r.rhythm()->channel("II"), x[1], 5000, 1e-6, "II");
  EXPECT_EQ(r.extra.at("derivedLeads"), "III,aVR,aVL,aVF");
}

TEST(ScpSynthetic, DefaultTableEscapesAndFirstDifferences) {
  const std::vector<int> x = {0, 1, -1, 9, -9, 200, -200, 15000, -15000, 5, 5, 5, -8, 8, 127, -128, 128};
  Bits b;
  for (int v : differences(x, 1)) defaultCode(b, v);
  std::string s2;
  app16(s2, 19999);
  const std::string rec = buildRecord({{2, s2}, {3, section3({1}, x.size(), false)},
                                       {6, encodedSection(1000, 1000, 1, 0, {b.bytes()})}});
  const EcgRecord r = readBytes(rec, "escapes");
  expectCounts(r.rhythm()->channels[0], x, 1000, 1e-6, "escapes");
  EXPECT_DOUBLE_EQ(r.rhythm()->samplingHz, 1000);
}

// Residual = rhythm - reference beat inside the subtraction zones of type-0 QRS complexes; the
// reader must add the beat back and give the original rhythm exactly.
TEST(ScpSynthetic, ReferenceBeatSubtractionIsUndone) {
  const std::size_t n = 1000, m = 200;
  const int medFid = 100;  // 1-based sample number of the fiducial in the reference beat
  std::vector<int> beat(m);
  for (std::size_t k = 0; k < m; ++k) beat[k] = static_cast<int>(std::lround(800 * std::exp(-std::pow((k - 99.0) / 8, 2))));
  std::vector<int> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<int>(std::lround(50 * std::sin(2 * M_PI * i / 700.0)));
  const std::vector<Zone> zones = {{0, 120, 150, 190, 110, 200}, {0, 420, 450, 490, 410, 500},
                                   {0, 720, 750, 790, 710, 800}, {1, 870, 900, 940, 860, 950}};
  for (const auto& z : zones)  // every beat, subtracted or not, is in the true signal
    for (std::uint32_t s = z.fid - 99; s <= z.fid + 100; ++s) x[s - 1] += beat[static_cast<std::size_t>(medFid - 1 + s - z.fid)];
  std::vector<int> residual = x;
  for (const auto& z : zones)
    if (z.type == 0)
      for (std::uint32_t s = z.start; s <= z.end; ++s) residual[s - 1] -= beat[static_cast<std::size_t>(medFid - 1 + s - z.fid)];
  Bits rb, mb;
  for (int v : differences(residual, 1)) defaultCode(rb, v);
  for (int v : differences(beat, 1)) defaultCode(mb, v);
  std::string s2;
  app16(s2, 19999);
  const std::string rec = buildRecord({{2, s2}, {3, section3({1}, n, true)}, {4, section4(400, medFid, zones)},
                                       {5, encodedSection(2500, 2000, 1, 0, {mb.bytes()})},
                                       {6, encodedSection(2500, 2000, 1, 0, {rb.bytes()})}});
  const EcgRecord r = readBytes(rec, "subtraction");
  EXPECT_EQ(r.extra.at("referenceBeatSubtraction"), "yes");
  expectCounts(r.median()->channels[0], beat, 2500, 1e-6, "median");
  expectCounts(r.rhythm()->channels[0], x, 2500, 1e-5, "rhythm");
}

// Bimodal compression, factor 2, unencoded 16-bit data (no section 2): protected zones at full
// rate, elsewhere the mean of each pair; the reader interpolates back to 500 Hz.
TEST(ScpSynthetic, BimodalCompressionIsExpanded) {
  const std::size_t n = 1000;
  const std::vector<int> x = wave(n, 0.3);
  const std::vector<Zone> zones = {{0, 140, 155, 170, 140, 170}, {0, 440, 455, 470, 440, 470}};
  std::vector<char> prot(n, 0);
  for (const auto& z : zones)
    for (std::uint32_t s = z.pStart; s <= z.pEnd; ++s) prot[s - 1] = 1;
  std::vector<int> stored;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && prot[j] == prot[i]) ++j;
    for (std::size_t k = i; k < j; k += prot[i] ? 1 : 2) {
      if (prot[i]) stored.push_back(x[k]);
      else stored.push_back(k + 1 < j ? static_cast<int>(std::lround((x[k] + x[k + 1]) / 2.0)) : x[k]);
    }
    i = j;
  }
  const std::vector<int> beat(100, 0);
  const std::string rec = buildRecord({{3, section3({61}, n, false)}, {4, section4(200, 50, zones)},
                                       {5, encodedSection(5000, 2000, 0, 0, {raw16(beat)})},
                                       {6, encodedSection(5000, 4000, 0, 1, {raw16(stored)})}});
  const EcgRecord r = readBytes(rec, "bimodal");
  EXPECT_EQ(r.extra.at("bimodalCompression"), "yes");
  EXPECT_EQ(r.extra.at("huffman"), "none");
  const auto& g = *r.rhythm();
  EXPECT_DOUBLE_EQ(g.samplingHz, 500);
  ASSERT_EQ(g.numSamples, n);
  EXPECT_EQ(g.channels[0].label, "III");
  double maxErr = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double err = std::abs(g.channels[0].samples[i] - x[i] * 0.005);
    if (prot[i]) {
      ASSERT_LT(err, 1e-6) << "protected sample " << i;
    }
    maxErr = std::max(maxErr, err);
  }
  EXPECT_LT(maxErr, 0.05);  // interpolation of a 7 Hz component at 250 Hz: within 10 counts
  bool warned = false;
  for (const auto& w : r.warnings) warned = warned || w.find("bimodal") != std::string::npos;
  EXPECT_TRUE(warned);
}

// Protocol versions 1.3 and 3.0 read the same way; device-derived lead codes (31 = dI,
// 32 = dII) are still leads I and II.
TEST(ScpSynthetic, ProtocolVersionsAndDerivedLeadCodes) {
  const std::vector<int> a = wave(500, 0), b = wave(500, 2.0);
  for (int protocol : {13, 30}) {
    const std::string rec = buildRecord({{1, section1("Doe")}, {3, section3({31, 32}, a.size(), false)},
                                         {6, encodedSection(4880, 2000, 0, 0, {raw16(a), raw16(b)})}},
                                        protocol);
    const EcgRecord r = readBytes(rec, "version" + std::to_string(protocol));
    EXPECT_EQ(r.extra.at("scpProtocolVersion"), protocol == 13 ? "1.3" : "3.0");
    ASSERT_TRUE(r.rhythm());
    const auto* i = r.rhythm()->channel("I");
    ASSERT_TRUE(i && r.rhythm()->channel("II"));
    EXPECT_NE(i->codeMeaning.find("derived"), std::string::npos);
    EXPECT_EQ(i->codeValue, "31");
    expectCounts(*i, a, 4880, 1e-6, "dI");
    expectCounts(*r.rhythm()->channel("II"), b, 4880, 1e-6, "dII");
    EXPECT_EQ(r.identity.patientName, "Doe");
  }
}
