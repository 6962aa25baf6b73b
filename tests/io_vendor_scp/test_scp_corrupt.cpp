// Bad SCP-ECG inputs, written to a temp dir: empty, truncated, bit flips, and header values
// set to 2^31 with the CRCs recomputed so that only the bounds checks can catch them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <random>
#include <string>

#include "io/vendor/scp_ecg.h"
#include "scp_test_util.h"

using e2e::ReadError;
using e2e::readScpEcg;
using namespace scptest;

namespace {

class ScpCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_scp_corrupt_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    wa_ = slurp(e2e::test::dataFile(kDir + "welchallyn_ECG_20070321_110542_191010101010.SCP"));
    ex_ = slurp(e2e::test::dataFile(kDir + "ecgtoolkit_Example.scp"));
    ASSERT_GT(wa_.size(), 20000u);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // The ReadError message for `bytes`, or "" when the file was read.
  std::string errorFor(const std::string& bytes, const std::string& name = "bad.scp") {
    const fs::path p = dir_ / name;
    spit(p, bytes);
    try {
      readScpEcg(p.string());
    } catch (const ReadError& e) {
      EXPECT_EQ(e.path(), p.string());
      return e.cause().empty() ? "?" : e.cause();
    }
    return "";
  }
  std::size_t sectionOffset(const std::string& rec, int id) { return sectionTable(rec).at(id).first; }
  fs::path dir_;
  std::string wa_, ex_;
};

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

}  // namespace

TEST_F(ScpCorrupt, IntactCopiesRead) {
  EXPECT_EQ(errorFor(wa_), "");
  EXPECT_EQ(errorFor(ex_), "");
  std::string fixed = wa_;
  fixCrcs(fixed);  // the test's CRC agrees with the files
  EXPECT_EQ(fixed, wa_);
}

TEST_F(ScpCorrupt, EmptyAndMissing) {
  EXPECT_TRUE(has(errorFor(""), "empty"));
  EXPECT_THROW(readScpEcg((dir_ / "nope.scp").string()), ReadError);
}

TEST_F(ScpCorrupt, TruncatedCopies) {
  for (std::size_t n : {std::size_t{1}, std::size_t{6}, std::size_t{21}, std::size_t{22}, std::size_t{100},
                        std::size_t{1000}, wa_.size() / 2, wa_.size() - 1}) {
    const std::string err = errorFor(wa_.substr(0, n));
    EXPECT_FALSE(err.empty()) << n;
    if (n >= 22) {
      EXPECT_TRUE(has(err, "truncated") || has(err, "too short")) << n << ": " << err;
    }
  }
}

TEST_F(ScpCorrupt, BitFlipsAreCrcErrors) {
  for (std::size_t at : {std::size_t{30}, std::size_t{200}, std::size_t{5000}, wa_.size() - 3}) {
    std::string b = wa_;
    b[at] = static_cast<char>(b[at] ^ 0x10);
    if (at < 4096) {  // still sniffed, so that it gets the CRC error
      EXPECT_TRUE(e2e::looksLikeScpEcg(b.substr(0, 4096))) << at;
    }
    const std::string err = errorFor(b);
    EXPECT_TRUE(has(err, "CRC")) << at << ": " << err;
  }
}

TEST_F(ScpCorrupt, SectionCrcErrorNamesTheSection) {
  std::string b = wa_;
  const std::size_t s7 = sectionOffset(b, 7);
  b[s7 + 20] = static_cast<char>(b[s7 + 20] ^ 0x01);
  put16(b, 0, crc(b, 2, b.size()));  // only the file CRC is repaired
  const std::string err = errorFor(b);
  EXPECT_TRUE(has(err, "section 7") && has(err, "CRC")) << err;
}

TEST_F(ScpCorrupt, HugeSampleCountInSection3) {
  std::string b = wa_;
  put32(b, sectionOffset(b, 3) + 16 + 2 + 4, 0x80000000u);  // lead 1 end sample
  fixCrcs(b);
  const std::string err = errorFor(b);
  EXPECT_TRUE(has(err, "2147483648") && has(err, "can hold at most")) << err;
}

TEST_F(ScpCorrupt, HugeLeadByteCountInSection6) {
  std::string b = wa_;
  put16(b, sectionOffset(b, 6) + 16 + 6, 0xFFFF);  // lead 1 byte count
  fixCrcs(b);
  const std::string err = errorFor(b);
  EXPECT_TRUE(has(err, "section 6") && has(err, "65535 bytes")) << err;
}

TEST_F(ScpCorrupt, HugeSectionLength) {
  std::string b = wa_;
  const auto table = sectionTable(b);
  const std::size_t off = table.at(6).first;
  put32(b, off + 4, 0x80000000u);  // section 6 header length
  // ...and its pointer in section 0 (entry for id 6)
  for (std::size_t p = 6 + 16; p + 10 <= 6 + get32(b, 10); p += 10)
    if (get16(b, p) == 6) put32(b, p + 2, 0x80000000u);
  fixCrcs(b);
  const std::string err = errorFor(b);
  EXPECT_TRUE(has(err, "section 6") && has(err, "outside the record")) << err;
}

TEST_F(ScpCorrupt, HugeRecordLengthAndQrsCount) {
  std::string b = wa_;
  put32(b, 2, 0x80000000u);
  put16(b, 0, crc(b, 2, b.size()));
  EXPECT_TRUE(has(errorFor(b), "truncated"));
  b = wa_;
  put16(b, sectionOffset(b, 4) + 16 + 4, 0xFFFF);  // number of QRS complexes
  fixCrcs(b);
  const std::string err = errorFor(b);
  EXPECT_TRUE(has(err, "section 4") && has(err, "65535")) << err;
}

TEST_F(ScpCorrupt, ZeroAvmAndBadDifference) {
  std::string b = ex_;
  put16(b, sectionOffset(b, 6) + 16, 0);
  fixCrcs(b);
  EXPECT_TRUE(has(errorFor(b), "amplitude value multiplier is 0"));
  b = ex_;
  b[sectionOffset(b, 6) + 16 + 4] = 7;
  fixCrcs(b);
  EXPECT_TRUE(has(errorFor(b), "difference"));
}

// Random byte corruption with the CRCs repaired: every outcome is a record or a ReadError,
// never a crash (run under ASan/UBSan in build-scp-asan).
TEST_F(ScpCorrupt, RandomCorruptionWithRepairedCrcs) {
  std::mt19937 rng(1234);
  int errors = 0, reads = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::string b = (iter % 2) ? wa_ : ex_;
    std::uniform_int_distribution<std::size_t> pos(6, (iter % 3 == 0) ? 2200 : b.size() - 1);
    const int flips = 1 + iter % 4;
    for (int k = 0; k < flips; ++k) b[pos(rng)] = static_cast<char>(rng());
    fixCrcs(b);
    const fs::path p = dir_ / "fuzz.scp";
    spit(p, b);
    try {
      const auto r = readScpEcg(p.string());
      ++reads;
      for (const auto& g : r.groups)
        for (const auto& c : g.channels) ASSERT_EQ(c.samples.size(), g.numSamples);
    } catch (const ReadError&) {
      ++errors;
    }
  }
  EXPECT_EQ(errors + reads, 300);
  EXPECT_GT(errors, 0);
}
