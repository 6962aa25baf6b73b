// WFDB reader tests on the real PhysioNet/CinC 2021 and PTB records in shared/data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "io/wfdb.h"
#include "test_util.h"

namespace fs = std::filesystem;
using e2e::EcgRecord;
using e2e::ReadError;
using e2e::readWfdb;

namespace {

const std::string kCinc = "ecg_wfdb/torch_ecg_cinc2021";
const std::string kPtb = "ecg_wfdb/wfdb-python_ptb_s0010_re";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string t;
  std::istringstream is(s);
  while (std::getline(is, t, sep)) out.push_back(t);
  return out;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream is(s);
  std::string t;
  while (is >> t) out.push_back(t);
  return out;
}

struct SummaryRow {
  std::string name;
  int nsig = 0;
  double fs = 0;
  long nsamples = 0;
  int age = -1;
  std::string sex;
  std::vector<std::string> labels;  // abbreviations
  double maxAmpMv = 0;
  std::vector<std::string> leads;
};

struct Summary {
  std::vector<SummaryRow> rows;
  std::map<std::string, std::string> codeToAbbr;  // from the "# label counts" trailer
};

Summary readSummary() {
  Summary s;
  std::ifstream f(e2e::test::dataFile(kCinc + "/_summary.tsv"));
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      // "#   427084000\tsinus tachycardia (STach)\t23"
      auto cols = split(line.substr(1), '\t');
      if (cols.size() == 3) {
        std::string code = words(cols[0]).empty() ? "" : words(cols[0])[0];
        auto a = cols[1].rfind('('), b = cols[1].rfind(')');
        if (!code.empty() && a != std::string::npos && b != std::string::npos && b > a)
          s.codeToAbbr[code] = cols[1].substr(a + 1, b - a - 1);
      }
      continue;
    }
    auto c = split(line, '\t');
    if (c.size() < 10) continue;
    SummaryRow r;
    r.name = c[0];
    r.nsig = std::stoi(c[1]);
    r.fs = std::stod(c[2]);
    r.nsamples = std::stol(c[3]);
    r.age = std::stoi(c[5]);
    r.sex = c[6];
    r.labels = words(c[7]);
    r.maxAmpMv = std::stod(c[8]);  // "2.25mV" -> 2.25
    r.leads = split(c[9], ',');
    s.rows.push_back(r);
  }
  return s;
}

// Independent MAT v4 read of one int16 sample (signal `sig`, time `t`) of a CinC .mat file.
std::int16_t matSample(const std::string& bytes, int nsig, long t, int sig) {
  auto q = reinterpret_cast<const unsigned char*>(bytes.data());
  auto i32 = [&](int off) { return static_cast<std::int32_t>(q[off] | (q[off + 1] << 8) | (q[off + 2] << 16) | (q[off + 3] << 24)); };
  EXPECT_EQ(i32(0), 30);    // MOPT: little-endian, int16, numeric
  EXPECT_EQ(i32(4), nsig);  // mrows
  EXPECT_EQ(i32(12), 0);    // imagf
  const int namelen = i32(16);
  const std::size_t off = 20 + namelen + 2 * (static_cast<std::size_t>(t) * nsig + sig);
  return static_cast<std::int16_t>(q[off] | (q[off + 1] << 8));
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("e2e_wfdb_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void expectReadError(const fs::path& hea, const std::string& fragment, const std::string& fileFragment) {
  try {
    readWfdb(hea.string());
    ADD_FAILURE() << "no ReadError for " << hea << " (expected '" << fragment << "')";
  } catch (const ReadError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(e.path().find(fileFragment), std::string::npos) << e.path();
    EXPECT_FALSE(e.cause().empty());
  }
}

}  // namespace

TEST(Wfdb, SummaryParsed) {
  auto s = readSummary();
  ASSERT_EQ(s.rows.size(), 50u);
  EXPECT_GE(s.codeToAbbr.size(), 20u);
}

TEST(Wfdb, AllCincRecordsMatchSummary) {
  const auto summary = readSummary();
  ASSERT_EQ(summary.rows.size(), 50u);
  std::set<std::string> uids;
  for (const auto& row : summary.rows) {
    SCOPED_TRACE(row.name);
    const fs::path hea = e2e::test::dataFile(kCinc + "/" + row.name + ".hea");
    EcgRecord rec = readWfdb(hea.string());
    EXPECT_EQ(rec.format, e2e::SourceFormat::Wfdb);
    ASSERT_EQ(rec.groups.size(), 1u);
    const auto& g = rec.groups[0];
    ASSERT_EQ(rec.rhythm(), &g);
    EXPECT_DOUBLE_EQ(g.samplingHz, row.fs);
    EXPECT_EQ(static_cast<long>(g.numSamples), row.nsamples);
    ASSERT_EQ(static_cast<int>(g.channels.size()), row.nsig);
    ASSERT_EQ(g.channels.size(), 12u);
    for (std::size_t i = 0; i < 12; ++i) {
      EXPECT_EQ(g.channels[i].label, e2e::standardLeads()[i]);
      EXPECT_EQ(g.channels[i].label, row.leads[i]);
      EXPECT_EQ(g.channels[i].unit, "mV");
      EXPECT_EQ(g.channels[i].samples.size(), g.numSamples);
    }
    // Demographics and labels.
    char age[8];
    std::snprintf(age, sizeof age, "%03dY", row.age);
    EXPECT_EQ(rec.identity.age, age);
    EXPECT_EQ(rec.identity.sex, row.sex == "Male" ? "M" : "F");
    EXPECT_EQ(rec.extra.at("age"), std::to_string(row.age));
    std::vector<std::string> abbrs;
    for (const auto& code : rec.diagnoses) {
      ASSERT_TRUE(summary.codeToAbbr.count(code)) << code;
      abbrs.push_back(summary.codeToAbbr.at(code));
    }
    EXPECT_EQ(abbrs, row.labels);
    // Checksums and initial values agree with the header: no warnings at all.
    EXPECT_TRUE(rec.warnings.empty()) << (rec.warnings.empty() ? "" : rec.warnings.front());
    // Maximum absolute amplitude, as listed in the summary (2 decimals).
    double maxAbs = 0;
    for (const auto& c : g.channels)
      for (float v : c.samples) maxAbs = std::max(maxAbs, std::fabs(static_cast<double>(v)));
    EXPECT_NEAR(maxAbs, row.maxAmpMv, 0.0051);
    // Samples against raw bytes read here: first frame and one frame in the middle.
    const std::string bytes = slurp(hea.parent_path() / (row.name + ".mat"));
    std::ifstream hf(hea);
    std::string line;
    std::getline(hf, line);
    for (int i = 0; i < 12; ++i) {
      std::getline(hf, line);
      auto w = words(line);
      ASSERT_GE(w.size(), 9u);
      const double gain = std::stod(w[2].substr(0, w[2].find('(')));
      const double base = std::stod(w[2].substr(w[2].find('(') + 1));
      EXPECT_EQ(matSample(bytes, 12, 0, i), std::stoi(w[5]));  // header initial value
      for (long t : {0L, 1L, 2500L, row.nsamples - 1}) {
        const double expect = (matSample(bytes, 12, t, i) - base) / gain;
        EXPECT_NEAR(g.channels[i].samples[t], expect, 1e-6) << "lead " << i << " t " << t;
      }
    }
    // Identity.
    EXPECT_EQ(rec.identity.patientId, row.name);
    EXPECT_EQ(rec.identity.modality, "ECG");
    EXPECT_EQ(rec.identity.studyUid.rfind("2.25.", 0), 0u);
    EXPECT_NE(rec.identity.studyUid, rec.identity.seriesUid);
    EXPECT_NE(rec.identity.seriesUid, rec.identity.sopInstanceUid);
    EXPECT_NE(rec.identity.studyDescription.find("CinC"), std::string::npos);
    EXPECT_TRUE(uids.insert(rec.identity.sopInstanceUid).second) << "duplicate UID";
  }
}

TEST(Wfdb, DeterministicUidsAndPathForms) {
  const fs::path hea = e2e::test::dataFile(kCinc + "/JS20003.hea");
  auto a = readWfdb(hea.string());
  std::string noExt = (hea.parent_path() / "JS20003").string();
  auto b = readWfdb(noExt);
  EXPECT_EQ(a.identity.studyUid, b.identity.studyUid);
  EXPECT_EQ(a.identity.sopInstanceUid, b.identity.sopInstanceUid);
  EXPECT_EQ(a.groups[0].channels[7].samples, b.groups[0].channels[7].samples);
  EXPECT_EQ(a.identity.studyDescription.find("Ningbo") != std::string::npos, true);
}

TEST(Wfdb, PtbRecordFormat16TwoFiles) {
  const fs::path dir = e2e::test::dataFile(kPtb);
  EcgRecord rec = readWfdb((dir / "s0010_re.hea").string());
  ASSERT_EQ(rec.groups.size(), 1u);
  const auto& g = rec.groups[0];
  EXPECT_DOUBLE_EQ(g.samplingHz, 1000.0);
  EXPECT_EQ(g.numSamples, 38400u);
  ASSERT_EQ(g.channels.size(), 15u);
  const std::vector<std::string> labels = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2",
                                           "V3", "V4", "V5", "V6", "X", "Y", "Z"};
  for (std::size_t i = 0; i < 15; ++i) {
    EXPECT_EQ(g.channels[i].label, labels[i]);
    EXPECT_EQ(g.channels[i].samples.size(), 38400u);
  }
  EXPECT_EQ(g.channels[0].codeMeaning, "i");
  EXPECT_EQ(g.channels[12].codeMeaning, "vx");
  // First samples from the header initial values: raw / 2000 adu per mV.
  EXPECT_NEAR(g.channels[0].samples[0], -489 / 2000.0, 1e-7);
  EXPECT_NEAR(g.channels[1].samples[0], -458 / 2000.0, 1e-7);
  EXPECT_NEAR(g.channels[11].samples[0], 390 / 2000.0, 1e-7);
  EXPECT_NEAR(g.channels[12].samples[0], -3 / 2000.0, 1e-7);
  EXPECT_NEAR(g.channels[13].samples[0], 120 / 2000.0, 1e-7);
  EXPECT_NEAR(g.channels[14].samples[0], -18 / 2000.0, 1e-7);
  // Independent read of the interleaved .dat (12 signals) and .xyz (3 signals).
  const std::string dat = slurp(dir / "s0010_re.dat"), xyz = slurp(dir / "s0010_re.xyz");
  ASSERT_EQ(dat.size(), 38400u * 12 * 2);
  ASSERT_EQ(xyz.size(), 38400u * 3 * 2);
  auto le16 = [](const std::string& b, std::size_t k) {
    return static_cast<std::int16_t>(static_cast<unsigned char>(b[2 * k]) | (static_cast<unsigned char>(b[2 * k + 1]) << 8));
  };
  for (std::size_t t : {0ul, 1ul, 12345ul, 38399ul}) {
    for (std::size_t j = 0; j < 12; ++j)
      EXPECT_NEAR(g.channels[j].samples[t], le16(dat, t * 12 + j) / 2000.0, 1e-7);
    for (std::size_t j = 0; j < 3; ++j)
      EXPECT_NEAR(g.channels[12 + j].samples[t], le16(xyz, t * 3 + j) / 2000.0, 1e-7);
  }
  EXPECT_TRUE(rec.warnings.empty()) << (rec.warnings.empty() ? "" : rec.warnings.front());
  EXPECT_EQ(rec.identity.sex, "F");
  EXPECT_EQ(rec.identity.age, "081Y");
  EXPECT_EQ(rec.identity.studyDate, "19901001");
  EXPECT_EQ(rec.identity.patientId, "s0010_re");
  EXPECT_EQ(rec.extra.at("reason for admission"), "Myocardial infarction");
  EXPECT_NE(rec.identity.studyDescription.find("PTB"), std::string::npos);
  EXPECT_TRUE(rec.diagnoses.empty());
}

TEST(Wfdb, PtbErrorsOnMissingOrTruncatedDatFiles) {
  TempDir tmp;
  const fs::path src = e2e::test::dataFile(kPtb);
  const fs::path h = tmp.path() / "s0010_re.hea";
  fs::copy_file(src / "s0010_re.hea", h);
  fs::copy_file(src / "s0010_re.dat", tmp.path() / "s0010_re.dat");
  // The header also references s0010_re.xyz (Frank leads vx, vy, vz).
  expectReadError(h, "not found", "s0010_re.xyz");
  const std::string xyz = slurp(src / "s0010_re.xyz");
  spit(tmp.path() / "s0010_re.xyz", xyz.substr(0, xyz.size() - 2));
  expectReadError(h, "truncated", "s0010_re.xyz");
  spit(tmp.path() / "s0010_re.xyz", xyz);
  EXPECT_EQ(readWfdb(h.string()).groups[0].channels.size(), 15u);
  const std::string dat = slurp(src / "s0010_re.dat");
  spit(tmp.path() / "s0010_re.dat", dat.substr(0, 1000));
  expectReadError(h, "truncated", "s0010_re.dat");
  // Huge sample count on a .dat record: no overflow.
  spit(tmp.path() / "s0010_re.dat", dat);
  std::string hea = slurp(src / "s0010_re.hea");
  hea.replace(0, hea.find('\n'), "s0010_re 15 1000 9223372036854775807");
  spit(h, hea);
  expectReadError(h, "truncated", "s0010_re.dat");
}

TEST(Wfdb, UnitsScaleToMillivolts) {
  TempDir tmp;
  const fs::path src = e2e::test::dataFile(kCinc);
  std::string hea = slurp(src / "E07500.hea");
  // Declare the same signals in uV with gain 1 adu/uV: physical values are identical in mV.
  std::string uv = hea;
  for (std::size_t p; (p = uv.find("1000.0(0)/mV")) != std::string::npos;) uv.replace(p, 12, "1(0)/UV");
  spit(tmp.path() / "E07500.hea", uv);
  fs::copy_file(src / "E07500.mat", tmp.path() / "E07500.mat");
  auto a = readWfdb((src / "E07500.hea").string());
  auto b = readWfdb((tmp.path() / "E07500.hea").string());
  ASSERT_EQ(b.groups[0].channels.size(), 12u);
  for (std::size_t t : {0ul, 100ul, 4999ul})
    EXPECT_NEAR(a.groups[0].channels[3].samples[t], b.groups[0].channels[3].samples[t], 1e-6);
  // Volts with a baseline: (raw - 10) / 0.001 adu per V -> x1000 mV per V.
  std::string v = hea;
  for (std::size_t p; (p = v.find("1000.0(0)/mV")) != std::string::npos;) v.replace(p, 12, "1e6(10)/v");
  spit(tmp.path() / "E07500.hea", v);
  auto c = readWfdb((tmp.path() / "E07500.hea").string());
  EXPECT_NEAR(c.groups[0].channels[0].samples[0], (-68 - 10) / 1e6 * 1000.0, 1e-6);
}

TEST(Wfdb, Format212AndChecksumWarning) {
  // Re-encode two leads of a real record as format 212 (values clamped to 12 bits) and read back.
  TempDir tmp;
  const fs::path src = e2e::test::dataFile(kCinc);
  const std::string mat = slurp(src / "E07500.mat");
  const long n = 5000;
  std::vector<int> v0(n), v1(n);
  long long s0 = 0, s1 = 0;
  for (long t = 0; t < n; ++t) {
    v0[t] = std::clamp<int>(matSample(mat, 12, t, 1), -2047, 2047);
    v1[t] = std::clamp<int>(matSample(mat, 12, t, 7), -2047, 2047);
    s0 += v0[t];
    s1 += v1[t];
  }
  std::string dat;
  for (long t = 0; t < n; ++t) {
    unsigned a = static_cast<unsigned>(v0[t]) & 0xFFF, b = static_cast<unsigned>(v1[t]) & 0xFFF;
    dat += static_cast<char>(a & 0xFF);
    dat += static_cast<char>(((a >> 8) & 0x0F) | ((b >> 8) << 4));
    dat += static_cast<char>(b & 0xFF);
  }
  spit(tmp.path() / "r212.dat", dat);
  auto cs = [](long long s) { return static_cast<int>(static_cast<std::int16_t>(static_cast<std::uint16_t>(s & 0xFFFF))); };
  std::ostringstream h;
  h << "r212 2 500 " << n << " 10:20:30 05/06/2007\n"
    << "r212.dat 212 200/mV 12 0 " << v0[0] << " " << cs(s0) << " 0 II\n"
    << "r212.dat 212 200/mV 12 0 " << v1[0] << " " << cs(s1) + 1 << " 0 V2\n";
  spit(tmp.path() / "r212.hea", h.str());
  auto rec = readWfdb((tmp.path() / "r212.hea").string());
  const auto& g = rec.groups[0];
  ASSERT_EQ(g.channels.size(), 2u);
  EXPECT_EQ(g.channels[0].label, "II");
  EXPECT_EQ(g.channels[1].label, "V2");
  for (long t : {0L, 1L, 2L, 3L, 2501L, n - 1}) {
    EXPECT_NEAR(g.channels[0].samples[t], v0[t] / 200.0, 1e-6);
    EXPECT_NEAR(g.channels[1].samples[t], v1[t] / 200.0, 1e-6);
  }
  EXPECT_EQ(rec.identity.studyDate, "20070605");
  EXPECT_EQ(rec.identity.studyTime, "102030");
  // Lead V2 was given a wrong checksum: exactly one warning, naming it.
  ASSERT_EQ(rec.warnings.size(), 1u);
  EXPECT_NE(rec.warnings[0].find("checksum"), std::string::npos);
  EXPECT_NE(rec.warnings[0].find("V2"), std::string::npos);
}

TEST(Wfdb, CorruptedSampleGivesChecksumWarning) {
  TempDir tmp;
  const fs::path src = e2e::test::dataFile(kCinc);
  fs::copy_file(src / "HR06004.hea", tmp.path() / "HR06004.hea");
  std::string mat = slurp(src / "HR06004.mat");
  mat[24 + 2 * (100 * 12 + 4)] ^= 0x01;  // lead aVL, sample 100
  spit(tmp.path() / "HR06004.mat", mat);
  auto rec = readWfdb((tmp.path() / "HR06004.hea").string());
  ASSERT_EQ(rec.warnings.size(), 1u);
  EXPECT_NE(rec.warnings[0].find("aVL"), std::string::npos);
  EXPECT_NE(rec.warnings[0].find("checksum"), std::string::npos);
}

TEST(Wfdb, ErrorsOnCorruptedCopies) {
  TempDir tmp;
  const fs::path src = e2e::test::dataFile(kCinc);
  const std::string hea = slurp(src / "E07500.hea");
  const std::string mat = slurp(src / "E07500.mat");
  const fs::path h = tmp.path() / "E07500.hea", m = tmp.path() / "E07500.mat";

  // Missing signal file.
  spit(h, hea);
  expectReadError(h, "not found", "E07500.mat");
  // Missing header.
  expectReadError(tmp.path() / "nothing.hea", "not found", "nothing.hea");

  // Truncated .mat (half the data, and a header-only stub).
  spit(m, mat.substr(0, mat.size() / 2));
  expectReadError(h, "truncated", "E07500.mat");
  spit(m, mat.substr(0, 10));
  expectReadError(h, "truncated", "E07500.mat");
  spit(m, mat);
  EXPECT_NO_THROW(readWfdb(h.string()));

  // Header with the wrong number of signals (too many / too few signal lines).
  std::string bad = hea;
  bad.replace(0, bad.find('\n'), "E07500 13 500 5000");
  spit(h, bad);
  expectReadError(h, "13 signals", "E07500.hea");
  bad = hea;
  bad.replace(0, bad.find('\n'), "E07500 11 500 5000");
  spit(h, bad);
  expectReadError(h, "more signal lines", "E07500.hea");

  // More samples declared than stored.
  bad = hea;
  bad.replace(0, bad.find('\n'), "E07500 12 500 6000");
  spit(h, bad);
  expectReadError(h, "columns", "E07500.mat");

  // Wrong MAT byte offset in the header.
  bad = hea;
  for (std::size_t p; (p = bad.find("16x1+24")) != std::string::npos;) bad.replace(p, 7, "16+28");
  spit(h, bad);
  expectReadError(h, "offset", "E07500.mat");

  // Unsupported format.
  bad = hea;
  for (std::size_t p; (p = bad.find("16x1+24")) != std::string::npos;) bad.replace(p, 7, "8");
  spit(h, bad);
  expectReadError(h, "unsupported WFDB format 8", "E07500.hea");

  // Bad numbers on a signal line.
  bad = hea;
  bad.replace(bad.find("1000.0(0)/mV"), 12, "abc(0)/mV");
  spit(h, bad);
  expectReadError(h, "bad header line 2", "E07500.hea");

  // Garbage headers: binary, text, empty.
  spit(h, mat.substr(0, 300));
  expectReadError(h, "bad header line", "E07500.hea");
  spit(h, "this is not a header\n");
  expectReadError(h, "number of signals", "E07500.hea");
  spit(h, "");
  expectReadError(h, "empty", "E07500.hea");
  spit(h, "# only a comment\n\n");
  expectReadError(h, "no record line", "E07500.hea");

  // Absurd sample count: no overflow, a clear error.
  bad = hea;
  bad.replace(0, bad.find('\n'), "E07500 12 500 999999999999999");
  spit(h, bad);
  expectReadError(h, "columns", "E07500.mat");

  // A MAT file that is not MAT v4.
  spit(h, hea);
  std::string notMat = mat;
  notMat[0] = 'X';
  notMat[1] = 'Y';
  spit(m, notMat);
  expectReadError(h, "MAT", "E07500.mat");
}
