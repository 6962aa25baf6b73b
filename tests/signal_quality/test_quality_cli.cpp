// `echo2ecg show ID` prints the ECG's signal quality: real LUDB records imported as they are and
// a copy whose six chest leads are zeroed in the .dat file (written here).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_util.h"
#include "test_util.h"

namespace fs = std::filesystem;
using e2e::test::runCli;
using e2e::test::shellQuote;

namespace {

class QualityCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_quality_cli_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "studies.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Copies LUDB record `rec` as `name` (.hea rewritten to the new name), zeroing the channels
  // listed (0-based, format 16, 12 interleaved channels) in the .dat copy.
  fs::path copyLudb(int rec, const std::string& name, const std::vector<int>& zeroChannels) {
    const fs::path src = e2e::test::dataFile("ecg_wfdb/ludb/data");
    std::ifstream hin(src / (std::to_string(rec) + ".hea"));
    std::ofstream hout(dir_ / (name + ".hea"));
    const std::string oldDat = std::to_string(rec) + ".dat";
    bool first = true;
    for (std::string line; std::getline(hin, line);) {
      if (first) line = name + line.substr(line.find(' '));
      else if (line.rfind(oldDat, 0) == 0) line = name + ".dat" + line.substr(oldDat.size());
      first = false;
      hout << line << "\n";
    }
    std::ifstream din(src / oldDat, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(din)), std::istreambuf_iterator<char>());
    for (std::size_t frame = 0; frame + 24 <= bytes.size(); frame += 24)
      for (int c : zeroChannels) bytes[frame + 2 * c] = bytes[frame + 2 * c + 1] = 0;
    std::ofstream(dir_ / (name + ".dat"), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return dir_ / (name + ".hea");
  }

  std::string instanceId(const std::string& filter) {
    const auto r = runCli("list instances --db " + shellQuote(db_) + " --filter " + shellQuote(filter));
    const auto line = r.out.substr(r.out.find('\n') + 1);
    return line.substr(0, line.find('\t'));
  }

  fs::path dir_;
  std::string db_;
};

bool has(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

}  // namespace

TEST_F(QualityCli, ShowPrintsSignalQuality) {
  copyLudb(12, "qclean", {});
  copyLudb(13, "qonelead", {8});                      // V3
  copyLudb(14, "qsixleads", {6, 7, 8, 9, 10, 11});    // V1..V6
  const auto imp = runCli("import " + shellQuote(dir_.string()) + " --db " + shellQuote(db_), true);
  ASSERT_EQ(imp.rc, 0) << imp.out;

  const std::string clean = instanceId("qclean");
  ASSERT_FALSE(clean.empty());
  const auto c = runCli("show " + clean + " --db " + shellQuote(db_));
  ASSERT_EQ(c.rc, 0) << c.out;
  EXPECT_TRUE(has(c.out, "Signal quality (quality-v1)")) << c.out;
  EXPECT_TRUE(has(c.out, ", usable (12 of 12 leads usable)")) << c.out;
  EXPECT_TRUE(has(c.out, "Leads: I ok, II ok, III ok")) << c.out;

  const auto one = runCli("show " + instanceId("qonelead") + " --db " + shellQuote(db_));
  ASSERT_EQ(one.rc, 0) << one.out;
  EXPECT_TRUE(has(one.out, ", usable (11 of 12 leads usable)")) << one.out;
  EXPECT_TRUE(has(one.out, "V3 flat")) << one.out;
  EXPECT_TRUE(has(one.out, "[warning] V3: flat")) << one.out;

  const auto six = runCli("show " + instanceId("qsixleads") + " --db " + shellQuote(db_));
  ASSERT_EQ(six.rc, 0) << six.out;
  EXPECT_TRUE(has(six.out, "NOT USABLE: only 6 of 12 standard leads usable")) << six.out;
  EXPECT_TRUE(has(six.out, "[unusable]")) << six.out;
  EXPECT_TRUE(has(six.out, "V1 flat")) << six.out;
}

TEST_F(QualityCli, ShowSaysWhenTheFileIsGone) {
  const fs::path hea = copyLudb(15, "qgone", {});
  ASSERT_EQ(runCli("import " + shellQuote(dir_.string()) + " --db " + shellQuote(db_)).rc, 0);
  fs::remove(hea);
  const auto r = runCli("show " + instanceId("qgone") + " --db " + shellQuote(db_));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(has(r.out, "Signal quality\n  - (the file cannot be read")) << r.out;
}
