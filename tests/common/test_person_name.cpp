// formatPersonName: DICOM PN values as shown everywhere ("FAMILY, Given Middle").
#include <gtest/gtest.h>

#include "common/person_name.h"

namespace {
using e2e::formatPersonName;

// The names of the real files in E2E_DATA_DIR (as dcmdump shows them), and how they are shown.
TEST(PersonName, RealNamesOfTheTestData) {
  EXPECT_EQ(formatPersonName("Patient^Test"), "PATIENT, Test");             // ecg_dicom/jap1968_dcm-waveform
  EXPECT_EQ(formatPersonName("NAME^PATIENT^NAME"), "NAME, PATIENT NAME");   // us_dicom/pydicom-data/gdcm-US-ALOKA-16
  EXPECT_EQ(formatPersonName("CompressedSamples^US1"), "COMPRESSEDSAMPLES, US1");  // us_dicom/pydicom-data/US1_*
  EXPECT_EQ(formatPersonName("John^Doe"), "JOHN, Doe");                     // us_dicom/fo-dicom_GH538
  EXPECT_EQ(formatPersonName("OB^^^^"), "OB");                              // us_dicom/pydicom-data/OBXXXX1A
  EXPECT_EQ(formatPersonName("Anonymized"), "Anonymized");                  // us_dicom/godcm_barre, octave-dicom
  EXPECT_EQ(formatPersonName("Anonymous"), "Anonymous");                    // ecg_dicom/pydicom_debian
  EXPECT_EQ(formatPersonName("Rubo DEMO"), "Rubo DEMO");                    // cardiac_xa_jpeg_cine/fo-dicom
}

TEST(PersonName, AllFiveComponents) {
  EXPECT_EQ(formatPersonName("Doe^John^Quincy"), "DOE, John Quincy");
  EXPECT_EQ(formatPersonName("Doe^John^Quincy^Dr.^Jr."), "DOE, Dr. John Quincy, Jr.");
  EXPECT_EQ(formatPersonName("Doe^John^^^Jr."), "DOE, John, Jr.");
  EXPECT_EQ(formatPersonName("Doe^^^^"), "Doe");  // one component left: as it is
  EXPECT_EQ(formatPersonName("^John"), "John");   // no family name
  EXPECT_EQ(formatPersonName("^John^Q"), "John Q");
  EXPECT_EQ(formatPersonName("Doe^^Quincy"), "DOE, Quincy");
  EXPECT_EQ(formatPersonName("Doe^John^Q^R^S^extra"), "DOE, R John Q, S");  // a sixth component is not PN: ignored
}

TEST(PersonName, SpacesAndEmptyValues) {
  EXPECT_EQ(formatPersonName("  Doe ^ John  ^ "), "DOE, John");
  EXPECT_EQ(formatPersonName(""), "");
  EXPECT_EQ(formatPersonName("^^^^"), "");
  EXPECT_EQ(formatPersonName("   "), "");
  EXPECT_EQ(formatPersonName(" Anonymized "), "Anonymized");
}

TEST(PersonName, IdeographicAndPhoneticGroupsAreNotShown) {
  // PS3.5 H.3 example: alphabetic = ideographic = phonetic.
  const std::string jp = "Yamada^Tarou=\xE5\xB1\xB1\xE7\x94\xB0^\xE5\xA4\xAA\xE9\x83\x8E=\xE3\x82\x84\xE3\x81\xBE\xE3\x81\xA0^\xE3\x81\x9F\xE3\x82\x8D\xE3\x81\x86";
  EXPECT_EQ(formatPersonName(jp), "YAMADA, Tarou");
  EXPECT_EQ(formatPersonName("Wang^XiaoDong=\xE7\x8E\x8B^\xE5\xB0\x8F\xE6\x9D\xB1="), "WANG, XiaoDong");
  // Only an ideographic group: it is what there is to show (upper-casing leaves it unchanged).
  EXPECT_EQ(formatPersonName("=\xE7\x8E\x8B^\xE5\xB0\x8F\xE6\x9D\xB1"), "\xE7\x8E\x8B, \xE5\xB0\x8F\xE6\x9D\xB1");
  EXPECT_EQ(formatPersonName("=="), "");
}

TEST(PersonName, UpperCasesLatinLettersOfUtf8) {
  EXPECT_EQ(formatPersonName("M\xC3\xBCller^J\xC3\xBCrgen"), "M\xC3\x9CLLER, J\xC3\xBCrgen");  // Müller -> MÜLLER
  EXPECT_EQ(formatPersonName("\xC3\xB7x^y"), "\xC3\xB7X, y");  // the division sign stays
  EXPECT_EQ(formatPersonName("O'Brien-Smith^Ann"), "O'BRIEN-SMITH, Ann");
  EXPECT_EQ(formatPersonName("abc\xC3^d"), "ABC\xC3, d");  // a cut UTF-8 sequence: bytes kept
}

}  // namespace
