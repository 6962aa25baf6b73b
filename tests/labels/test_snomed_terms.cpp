// SNOMED CT terms of the CinC "# Dx:" codes (core/labels/snomed_terms): every code of the real
// WFDB records maps to a term; unknown codes fall back to "SNOMED <code>".
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "io/wfdb.h"
#include "labels/snomed_terms.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {
// The codes of every "# Dx:" line of the .hea files under dir (read as text, independently of
// the WFDB reader).
std::set<std::string> dxCodesUnder(const fs::path& dir) {
  std::set<std::string> codes;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".hea") continue;
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line)) {
      const auto at = line.find("Dx:");
      if (line.empty() || line[0] != '#' || at == std::string::npos) continue;
      std::stringstream list(line.substr(at + 3));
      std::string code;
      while (std::getline(list, code, ',')) {
        code.erase(0, code.find_first_not_of(" \t\r"));
        code.erase(code.find_last_not_of(" \t\r") + 1);
        if (!code.empty()) codes.insert(code);
      }
    }
  }
  return codes;
}
}  // namespace

TEST(SnomedTerms, EveryCodeOfTheRealRecordsHasATerm) {
  const fs::path dir = test::dataFile("ecg_wfdb");
  if (!fs::exists(dir)) GTEST_SKIP() << "no " << dir;
  const auto codes = dxCodesUnder(dir);
  ASSERT_GE(codes.size(), 20u) << "expected the CinC records' diagnoses";
  for (const auto& c : codes) {
    const labels::SnomedTerm* t = labels::findSnomedTerm(c);
    ASSERT_NE(t, nullptr) << "no term for SNOMED code " << c;
    EXPECT_EQ(labels::snomedTermText(c), t->term);
    EXPECT_NE(labels::snomedTermText(c).rfind("SNOMED ", 0), 0u) << c;
  }
}

TEST(SnomedTerms, KnownTermsAndDisplayText) {
  EXPECT_EQ(labels::snomedTermText("426177001"), "Sinus bradycardia");
  EXPECT_EQ(labels::snomedTermText("426783006"), "Sinus rhythm");
  EXPECT_EQ(labels::snomedTermText(" 164873001 "), "Left ventricular hypertrophy");
  EXPECT_EQ(labels::snomedTermText("67741000119109"), "Left atrial enlargement");
  EXPECT_EQ(labels::snomedDisplayText("426177001"), "Sinus bradycardia (426177001)");
  ASSERT_NE(labels::findSnomedTerm("426177001"), nullptr);
  EXPECT_STREQ(labels::findSnomedTerm("426177001")->abbreviation, "SB");
}

TEST(SnomedTerms, UnknownCodesFallBackToTheCode) {
  EXPECT_EQ(labels::findSnomedTerm("999999999"), nullptr);
  EXPECT_EQ(labels::snomedTermText("999999999"), "SNOMED 999999999");
  EXPECT_EQ(labels::snomedDisplayText("12345"), "SNOMED 12345");
  // LUDB's diagnoses are free text, not codes: shown as they are.
  EXPECT_EQ(labels::snomedDisplayText(" Sinus rhythm. "), "Sinus rhythm.");
  EXPECT_EQ(labels::findSnomedTerm(""), nullptr);
  EXPECT_EQ(labels::findSnomedTerm("4261770"), nullptr);  // a prefix of a known code is no match
}

TEST(SnomedTerms, TableHasUniqueNumericCodesAndTerms) {
  std::set<std::string> seen;
  for (const auto& t : labels::snomedTerms()) {
    EXPECT_TRUE(seen.insert(t.code).second) << "duplicate " << t.code;
    EXPECT_EQ(std::string(t.code).find_first_not_of("0123456789"), std::string::npos) << t.code;
    EXPECT_FALSE(std::string(t.term).empty()) << t.code;
  }
  EXPECT_GE(seen.size(), 130u);
}

TEST(SnomedTerms, DiagnosesOfRealE07500ReadByTheWfdbReader) {
  const fs::path hea = test::dataFile("ecg_wfdb/torch_ecg_cinc2021/E07500.hea");
  if (!fs::exists(hea)) GTEST_SKIP() << "no " << hea;
  const EcgRecord rec = readWfdb(hea.string());
  ASSERT_EQ(rec.diagnoses.size(), 2u);
  EXPECT_EQ(labels::snomedTermText(rec.diagnoses[0]), "Left atrial enlargement");
  EXPECT_EQ(labels::snomedTermText(rec.diagnoses[1]), "Sinus bradycardia");
}
