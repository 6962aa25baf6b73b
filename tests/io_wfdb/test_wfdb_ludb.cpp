// WFDB header comments of the Lobachevsky University Database (LUDB, 200 12-lead ECGs):
// "#<age>: 51", "#<sex>: F" and the statements after "#<diagnoses>:".
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "io/wfdb.h"
#include "test_util.h"

namespace fs = std::filesystem;
using e2e::readWfdb;

namespace {

const std::string kLudb = "ecg_wfdb/ludb";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Independent parse of a header's text: the comment lines after "#<diagnoses>:", and "#<key>: v".
struct HeaderFacts {
  std::string age, sex;
  std::vector<std::string> diagnosisLines;
};

HeaderFacts factsOf(const fs::path& hea) {
  HeaderFacts f;
  std::istringstream in(slurp(hea));
  std::string line;
  bool dx = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("#<age>:", 0) == 0) f.age = line.substr(8);
    else if (line.rfind("#<sex>:", 0) == 0) f.sex = line.substr(8);
    else if (line == "#<diagnoses>:") dx = true;
    else if (dx && line.rfind("#", 0) == 0) f.diagnosisLines.push_back(line.substr(1));
  }
  return f;
}

bool startsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

}  // namespace

TEST(WfdbLudb, Record1IdentityAndDiagnoses) {
  const auto rec = readWfdb(e2e::test::dataFile(kLudb + "/data/1.hea").string());
  EXPECT_EQ(rec.identity.patientId, "1");
  EXPECT_EQ(rec.identity.sex, "F");
  EXPECT_EQ(rec.identity.age, "051Y");
  EXPECT_EQ(rec.extra.at("age"), "51");
  EXPECT_EQ(rec.extra.at("sex"), "F");
  EXPECT_EQ(rec.extra.count("<age>"), 0u);
  EXPECT_EQ(rec.extra.count("rhythm"), 0u);  // diagnosis lines are not split into keys
  EXPECT_EQ(rec.extra.count("electric axis of the heart"), 0u);
  EXPECT_EQ(rec.extra.count("diagnoses"), 0u);
  const std::vector<std::string> want{"Rhythm: Sinus bradycardia", "Electric axis of the heart: left axis deviation",
                                      "Left ventricular hypertrophy", "Left ventricular overload",
                                      "Non-specific repolarization abnormalities: posterior wall"};
  EXPECT_EQ(rec.diagnoses, want);
  ASSERT_EQ(rec.groups.size(), 1u);
  EXPECT_EQ(rec.groups[0].channels.size(), 12u);
  EXPECT_EQ(rec.groups[0].numSamples, 5000u);
  EXPECT_DOUBLE_EQ(rec.groups[0].samplingHz, 500.0);
  EXPECT_TRUE(rec.warnings.empty()) << (rec.warnings.empty() ? "" : rec.warnings.front());
}

// All 200 records: identity and diagnoses agree with an independent read of each header, and
// left ventricular hypertrophy is stated in 108 of them (README: "Left ventricular hypertrophy 108";
// ludb.csv's Hypertrophies column names it 108 times, counted below from the raw file).
TEST(WfdbLudb, AllRecordsSexAgeAndLvhCount) {
  const fs::path dataDir = e2e::test::dataFile(kLudb + "/data");
  int records = 0, lvh = 0, male = 0, female = 0;
  for (const auto& entry : fs::directory_iterator(dataDir)) {
    if (entry.path().extension() != ".hea") continue;
    SCOPED_TRACE(entry.path().string());
    const auto rec = readWfdb(entry.path().string());
    const HeaderFacts facts = factsOf(entry.path());
    ++records;
    EXPECT_EQ(rec.identity.patientId, entry.path().stem().string());
    EXPECT_EQ(rec.identity.sex, facts.sex);
    char age[8];
    std::snprintf(age, sizeof age, "%03dY", std::stoi(facts.age));
    EXPECT_EQ(rec.identity.age, age);
    male += rec.identity.sex == "M";
    female += rec.identity.sex == "F";
    ASSERT_EQ(rec.diagnoses.size(), facts.diagnosisLines.size());
    for (std::size_t i = 0; i < facts.diagnosisLines.size(); ++i) {
      EXPECT_TRUE(startsWith(facts.diagnosisLines[i], rec.diagnoses[i])) << rec.diagnoses[i];
      EXPECT_FALSE(rec.diagnoses[i].empty());
      EXPECT_NE(rec.diagnoses[i].back(), '.');
      EXPECT_NE(rec.diagnoses[i].back(), ' ');
    }
    for (const auto& [k, v] : rec.extra) EXPECT_EQ(k.find('<'), std::string::npos) << k;
    lvh += std::any_of(rec.diagnoses.begin(), rec.diagnoses.end(),
                       [](const std::string& d) { return startsWith(d, "Left ventricular hypertrophy"); });
  }
  EXPECT_EQ(records, 200);
  EXPECT_EQ(male + female, 200);
  EXPECT_EQ(lvh, 108);
  // Cross-check with ludb.csv: one mention of LVH per record that has it.
  const std::string csv = slurp(e2e::test::dataFile(kLudb + "/ludb.csv"));
  int inCsv = 0;
  for (std::size_t p = csv.find("Left ventricular hypertrophy"); p != std::string::npos;
       p = csv.find("Left ventricular hypertrophy", p + 1))
    ++inCsv;
  EXPECT_EQ(inCsv, lvh);
  // And with the README's summary table.
  EXPECT_NE(slurp(e2e::test::dataFile(kLudb + "/README")).find("Left ventricular hypertrophy 108"), std::string::npos);
}

// "<diagnoses>:" statements end at the next "<key>:" line; a CinC-style "Dx" line still gives codes.
TEST(WfdbLudb, DiagnosesSectionEndsAtNextBracketedKey) {
  const fs::path src = e2e::test::dataFile(kLudb + "/data");
  const fs::path dir = fs::temp_directory_path() / ("e2e-ludb-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(src / "1.dat", dir / "1.dat");
  std::string hea = slurp(src / "1.hea");
  hea = hea.substr(0, hea.find("#<age>"));
  hea += "#<diagnoses>: Sinus rhythm. \n#Atrial extrasystole, type: single PAC.\n#\n#<age>: 7\n# Dx: 164889003, 59118001\n";
  std::ofstream(dir / "1.hea", std::ios::binary) << hea;
  const auto rec = readWfdb((dir / "1.hea").string());
  fs::remove_all(dir);
  const std::vector<std::string> want{"164889003", "59118001", "Sinus rhythm", "Atrial extrasystole, type: single PAC"};
  EXPECT_EQ(rec.diagnoses, want);
  EXPECT_EQ(rec.identity.age, "007Y");
  EXPECT_EQ(rec.identity.sex, "");
  EXPECT_EQ(rec.extra.at("dx"), "164889003, 59118001");
}
