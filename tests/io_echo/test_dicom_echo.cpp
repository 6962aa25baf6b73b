// Tests of the DICOM ultrasound reader on the real files in shared/data/us_dicom.
// Expected header values were read from the files with dcmdump; pixel checks compare
// decoded frames against the raw Pixel Data (read independently with dcmdata) or
// against the uncompressed originals of the re-encoded files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "io/dicom_echo.h"
#include "test_util.h"

using namespace e2e;
namespace fs = std::filesystem;

namespace {

std::string us(const std::string& rel) { return test::dataFile("us_dicom/" + rel).string(); }

const char* kMono = "godcm_barre/US-MONO2-8-8x-execho.dcm";
const char* kMonoJpeg = "derived_reencoded/US-MONO2-8-8x-execho.jpeg_baseline.dcm";
const char* kRgb = "godcm_barre/US-RGB-8-esopecho.dcm";
const char* kPal = "octave-dicom_debian/US-PAL-8-10x-echo.dcm";
const char* kPalJpeg = "derived_reencoded/US-PAL-8-10x-echo.rgb_jpeg_baseline.dcm";
const char* kOb1 = "pydicom-data/OBXXXX1A.dcm";
const char* kOb2 = "pydicom-data/OBXXXX1A_2frame.dcm";
const char* kObRle = "pydicom-data/OBXXXX1A_rle_2frame.dcm";
const char* kUncr = "pydicom-data/US1_UNCR.dcm";
const char* kJ2ki = "pydicom-data/US1_J2KI.dcm";
const char* kJ2kr = "pydicom-data/US1_J2KR.dcm";
const char* kAloka = "pydicom-data/gdcm-US-ALOKA-16.dcm";
const char* kGhJpeg1 = "fo-dicom_GH538/GH538-jpeg1.dcm";
const char* kGhJpeg14 = "fo-dicom_GH538/GH538-jpeg14sv1.dcm";

std::string xaFile() { return test::dataFile("cardiac_xa_jpeg_cine/fo-dicom/HasFragmentSequence.dcm").string(); }
std::string ecgFile() { return test::dataFile("ecg_dicom/pydicom_debian/waveform_ecg.dcm").string(); }

// Raw 8-bit Pixel Data of an uncompressed file, read directly with dcmdata.
std::vector<Uint8> rawPixels8(const std::string& path) {
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(path.c_str()).good());
  const Uint8* p = nullptr;
  unsigned long n = 0;
  EXPECT_TRUE(ff.getDataset()->findAndGetUint8Array(DCM_PixelData, p, &n).good());
  return p ? std::vector<Uint8>(p, p + n) : std::vector<Uint8>();
}

// A palette LUT (256 entries, 16 bit) read directly with dcmdata.
std::vector<Uint16> lut16(const std::string& path, const DcmTagKey& tag) {
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(path.c_str()).good());
  const Uint16* p = nullptr;
  unsigned long n = 0;
  EXPECT_TRUE(ff.getDataset()->findAndGetUint16Array(tag, p, &n).good());
  return p ? std::vector<Uint16>(p, p + n) : std::vector<Uint16>();
}

double meanAbsDiff(const EchoFrames& a, const EchoFrames& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  if (a.pixels.size() != b.pixels.size() || a.pixels.empty()) return 1e9;
  double s = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) s += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
  return s / static_cast<double>(a.pixels.size());
}

bool hasWarning(const EchoInfo& i, const std::string& needle) {
  for (const auto& w : i.warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

// A temporary directory removed at the end of the test.
struct TempDir {
  fs::path dir;
  TempDir() {
    dir = fs::temp_directory_path() / ("e2e_echo_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                       "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::string truncatedCopy(const std::string& src, const std::string& dst, double fraction, long minus = 0) {
  std::ifstream in(src, std::ios::binary);
  std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t n = fraction < 1.0 ? static_cast<std::size_t>(buf.size() * fraction) : buf.size() - static_cast<std::size_t>(minus);
  std::ofstream out(dst, std::ios::binary);
  out.write(buf.data(), static_cast<std::streamsize>(n));
  return dst;
}

template <class F>
std::string errorOf(F f) {
  try {
    f();
  } catch (const ReadError& e) {
    return e.cause();
  } catch (const std::exception& e) {
    return std::string("UNEXPECTED std::exception: ") + e.what();
  }
  return "NO ERROR";
}

}  // namespace

// ------------------------------------------------------------- SOP classes

TEST(DicomEcho, UltrasoundSopClasses) {
  EXPECT_TRUE(isUltrasoundSopClass("1.2.840.10008.5.1.4.1.1.3.1"));
  EXPECT_TRUE(isUltrasoundSopClass("1.2.840.10008.5.1.4.1.1.6.1"));
  EXPECT_TRUE(isUltrasoundSopClass("1.2.840.10008.5.1.4.1.1.3"));
  EXPECT_TRUE(isUltrasoundSopClass("1.2.840.10008.5.1.4.1.1.6"));
  EXPECT_FALSE(isUltrasoundSopClass("1.2.840.10008.5.1.4.1.1.12.1"));  // XA
  EXPECT_FALSE(isUltrasoundSopClass("1.2.840.10008.5.1.4.1.1.9.1.1"));  // 12-lead ECG
  EXPECT_FALSE(isUltrasoundSopClass(""));
}

TEST(DicomEcho, ViewFromText) {
  EXPECT_EQ(echoViewFromText("A4C"), "A4C");
  EXPECT_EQ(echoViewFromText("Apical 4 chamber"), "A4C");
  EXPECT_EQ(echoViewFromText("apical four-chamber view"), "A4C");
  EXPECT_EQ(echoViewFromText("ECHO apical4ch"), "A4C");
  EXPECT_EQ(echoViewFromText("a2c_loop"), "A2C");
  EXPECT_EQ(echoViewFromText("Apical three chamber"), "A3C");
  EXPECT_EQ(echoViewFromText("PLAX zoom"), "PLAX");
  EXPECT_EQ(echoViewFromText("Parasternal long axis"), "PLAX");
  EXPECT_EQ(echoViewFromText("PS LAX MR & AI"), "PLAX");
  EXPECT_EQ(echoViewFromText("parasternal short axis"), "PSAX");
  EXPECT_EQ(echoViewFromText("Subcostal 4 chamber"), "SUBCOSTAL");
  EXPECT_EQ(echoViewFromText("Post-Stress"), "");
  EXPECT_EQ(echoViewFromText("Transesophageal Echocardiogram"), "");
  EXPECT_EQ(echoViewFromText("plaque"), "");  // tokens, not substrings
  EXPECT_EQ(echoViewFromText(""), "");
}

// ----------------------------------------------------------------- metadata

TEST(DicomEcho, InfoMono8RetiredMultiframe) {
  const EchoInfo i = readDicomEchoInfo(us(kMono));
  EXPECT_EQ(i.format, SourceFormat::DicomEcho);
  EXPECT_EQ(i.sourcePath, us(kMono));
  EXPECT_EQ(i.identity.sopClassUid, "1.2.840.10008.5.1.4.1.1.3");
  EXPECT_EQ(i.identity.modality, "US");
  EXPECT_EQ(i.identity.manufacturer, "Acme Products");
  EXPECT_EQ(i.identity.seriesDescription, "Post-Stress");
  EXPECT_EQ(i.transferSyntaxUid, "1.2.840.10008.1.2.1");
  EXPECT_EQ(i.photometric, "MONOCHROME2");
  EXPECT_EQ(i.rows, 120);
  EXPECT_EQ(i.cols, 128);
  EXPECT_EQ(i.frames, 8);
  EXPECT_EQ(i.samplesPerPixel, 1);
  EXPECT_EQ(i.bitsAllocated, 8);
  EXPECT_NEAR(i.fps, 10.0, 1e-9);  // FrameTime 100 ms
  EXPECT_EQ(i.fpsSource, FrameRateSource::FrameTime);
  EXPECT_TRUE(i.frameTimesMs.empty());
  EXPECT_NEAR(i.durationSeconds(), 0.8, 1e-9);
  EXPECT_TRUE(i.regions.empty());
  EXPECT_EQ(i.viewSource, ViewLabelSource::None);
  EXPECT_TRUE(i.viewLabel.empty());
  EXPECT_TRUE(i.warnings.empty());
}

TEST(DicomEcho, InfoMonoJpegBaseline) {
  const EchoInfo i = readDicomEchoInfo(us(kMonoJpeg));
  EXPECT_EQ(i.transferSyntaxUid, "1.2.840.10008.1.2.4.50");
  EXPECT_EQ(i.photometric, "MONOCHROME2");
  EXPECT_EQ(i.rows, 120);
  EXPECT_EQ(i.cols, 128);
  EXPECT_EQ(i.frames, 8);
  EXPECT_NEAR(i.fps, 10.0, 1e-9);
  EXPECT_EQ(i.fpsSource, FrameRateSource::FrameTime);
}

TEST(DicomEcho, InfoRgbRetiredSingleFrame) {
  const EchoInfo i = readDicomEchoInfo(us(kRgb));
  EXPECT_EQ(i.identity.sopClassUid, "1.2.840.10008.5.1.4.1.1.6");
  EXPECT_EQ(i.photometric, "RGB");
  EXPECT_EQ(i.rows, 120);
  EXPECT_EQ(i.cols, 256);
  EXPECT_EQ(i.frames, 1);
  EXPECT_EQ(i.samplesPerPixel, 3);
  EXPECT_EQ(i.fps, 30.0);
  EXPECT_EQ(i.fpsSource, FrameRateSource::Default);
  EXPECT_TRUE(hasWarning(i, "assuming 30 fps"));
  EXPECT_EQ(i.identity.seriesDescription, "Transesophageal Echocardiogram");
  EXPECT_EQ(i.viewSource, ViewLabelSource::None);
}

TEST(DicomEcho, InfoPaletteRleViewFromSeriesDescription) {
  for (const char* f : {kPal, kPalJpeg}) {
    SCOPED_TRACE(f);
    const EchoInfo i = readDicomEchoInfo(us(f));
    EXPECT_EQ(i.identity.sopClassUid, "1.2.840.10008.5.1.4.1.1.3.1");
    EXPECT_EQ(i.rows, 430);
    EXPECT_EQ(i.cols, 600);
    EXPECT_EQ(i.frames, 10);
    EXPECT_NEAR(i.fps, 1000.0 / 76.0, 1e-9);  // FrameTime 76.000000
    EXPECT_EQ(i.fpsSource, FrameRateSource::FrameTime);
    EXPECT_EQ(i.identity.seriesDescription, "PS LAX MR & AI");
    EXPECT_EQ(i.viewLabel, "PLAX");
    EXPECT_EQ(i.viewSource, ViewLabelSource::SeriesDescription);
  }
  EXPECT_EQ(readDicomEchoInfo(us(kPal)).transferSyntaxUid, "1.2.840.10008.1.2.5");
  EXPECT_EQ(readDicomEchoInfo(us(kPal)).photometric, "PALETTE COLOR");
  EXPECT_EQ(readDicomEchoInfo(us(kPalJpeg)).photometric, "YBR_FULL_422");
  EXPECT_EQ(readDicomEchoInfo(us(kPalJpeg)).samplesPerPixel, 3);
}

void expectObRegions(const EchoInfo& i) {
  ASSERT_EQ(i.regions.size(), 2u);
  const UltrasoundRegion& a = i.regions[0];
  EXPECT_EQ(a.x0, 120);
  EXPECT_EQ(a.y0, 60);
  EXPECT_EQ(a.x1, 800);
  EXPECT_EQ(a.y1, 518);
  EXPECT_EQ(a.spatialFormat, 1);
  EXPECT_EQ(a.dataType, 1);
  EXPECT_EQ(a.flags, 3);
  EXPECT_EQ(a.unitsX, 3);
  EXPECT_EQ(a.unitsY, 3);
  EXPECT_DOUBLE_EQ(a.deltaX, 0.026228787661969974);
  EXPECT_DOUBLE_EQ(a.deltaY, 0.026228787661969974);
  EXPECT_EQ(a.refPixelX0, 340);
  EXPECT_EQ(a.refPixelY0, 36);
  EXPECT_EQ(ultrasoundUnitName(a.unitsX), "cm");
  const UltrasoundRegion& b = i.regions[1];
  EXPECT_EQ(b.x0, 176);
  EXPECT_EQ(b.y0, 522);
  EXPECT_EQ(b.x1, 743);
  EXPECT_EQ(b.y1, 576);
  EXPECT_EQ(b.spatialFormat, 4);
  EXPECT_EQ(b.dataType, 10);
  EXPECT_EQ(b.flags, 3);
  EXPECT_EQ(b.unitsX, 4);  // seconds
  EXPECT_EQ(b.unitsY, 0);
  EXPECT_DOUBLE_EQ(b.deltaX, 0.0096427366086495336);
  EXPECT_DOUBLE_EQ(b.deltaY, 0.0);
  EXPECT_EQ(b.refPixelX0, -176);
  EXPECT_EQ(b.refPixelY0, -522);
}

TEST(DicomEcho, InfoPhilipsRegions) {
  const EchoInfo one = readDicomEchoInfo(us(kOb1));
  EXPECT_EQ(one.identity.sopClassUid, "1.2.840.10008.5.1.4.1.1.6.1");
  EXPECT_EQ(one.identity.manufacturer, "Philips Medical Systems");
  EXPECT_EQ(one.identity.modelName, "CX50");
  EXPECT_EQ(one.identity.patientId, "11-05-25-142825");
  EXPECT_EQ(one.photometric, "PALETTE COLOR");
  EXPECT_EQ(one.rows, 600);
  EXPECT_EQ(one.cols, 800);
  EXPECT_EQ(one.frames, 1);
  EXPECT_EQ(one.fpsSource, FrameRateSource::Default);
  expectObRegions(one);
  EXPECT_TRUE(one.regions[0].contains(400, 300));
  EXPECT_FALSE(one.regions[0].contains(10, 10));

  const EchoInfo two = readDicomEchoInfo(us(kOb2));
  EXPECT_EQ(two.transferSyntaxUid, "1.2.840.10008.1.2.1");
  EXPECT_EQ(two.frames, 2);
  expectObRegions(two);

  const EchoInfo rle = readDicomEchoInfo(us(kObRle));
  EXPECT_EQ(rle.transferSyntaxUid, "1.2.840.10008.1.2.5");
  EXPECT_EQ(rle.identity.sopClassUid, "1.2.840.10008.5.1.4.1.1.3.1");
  EXPECT_EQ(rle.frames, 2);
  expectObRegions(rle);
}

TEST(DicomEcho, InfoAlokaSegmentedPaletteRegions) {
  const EchoInfo i = readDicomEchoInfo(us(kAloka));
  EXPECT_EQ(i.transferSyntaxUid, "1.2.840.10008.1.2");  // implicit VR little endian
  EXPECT_EQ(i.photometric, "PALETTE COLOR");
  EXPECT_EQ(i.rows, 480);
  EXPECT_EQ(i.cols, 640);
  EXPECT_EQ(i.frames, 1);
  EXPECT_EQ(i.bitsAllocated, 16);
  EXPECT_EQ(i.bitsStored, 16);
  EXPECT_EQ(i.identity.patientId, "98279");
  EXPECT_EQ(i.identity.patientName, "NAME^PATIENT^NAME");
  EXPECT_EQ(i.identity.sex, "M");
  EXPECT_EQ(i.identity.studyDate, "20020524");
  EXPECT_EQ(i.identity.studyTime, "111958");
  EXPECT_EQ(i.identity.accessionNumber, "7");
  EXPECT_EQ(i.identity.seriesNumber, 1);
  EXPECT_EQ(i.identity.studyUid, "1.2.392.200039.102.3.1096.11.20020524.111958");
  EXPECT_EQ(i.identity.seriesUid, "1.2.392.200039.102.3.1096.12.20020524.111958");
  EXPECT_EQ(i.identity.sopInstanceUid, "1.2.392.200039.102.3.1096.10.20020524.114049.826");
  ASSERT_EQ(i.regions.size(), 3u);
  for (int k = 0; k < 2; ++k) {
    const UltrasoundRegion& r = i.regions[k];
    EXPECT_EQ(r.spatialFormat, 1);
    EXPECT_EQ(r.dataType, 1);
    EXPECT_EQ(r.flags, 2);
    EXPECT_EQ(r.y0, 24);
    EXPECT_EQ(r.y1, 415);
    EXPECT_EQ(r.unitsX, 3);
    EXPECT_EQ(r.unitsY, 3);
    EXPECT_DOUBLE_EQ(r.deltaX, 0.038265306502580643);
    EXPECT_DOUBLE_EQ(r.deltaY, 0.038265306502580643);
    EXPECT_EQ(r.refPixelX0, 154);
    EXPECT_EQ(r.refPixelY0, 21);
  }
  EXPECT_EQ(i.regions[0].x0, 32);
  EXPECT_EQ(i.regions[0].x1, 335);
  EXPECT_EQ(i.regions[1].x0, 336);
  EXPECT_EQ(i.regions[1].x1, 639);
  EXPECT_EQ(i.regions[2].spatialFormat, 0);
  EXPECT_EQ(i.regions[2].dataType, 13);
  EXPECT_EQ(i.regions[2].x0, 32);
  EXPECT_EQ(i.regions[2].y0, 40);
  EXPECT_EQ(i.regions[2].x1, 63);
  EXPECT_EQ(i.regions[2].y1, 103);
  EXPECT_TRUE(std::isnan(i.regions[2].refPixelX0));  // absent in the file
}

TEST(DicomEcho, InfoGeUncompressedAndJpeg2000) {
  const EchoInfo u = readDicomEchoInfo(us(kUncr));
  EXPECT_EQ(u.identity.sopClassUid, "1.2.840.10008.5.1.4.1.1.6.1");
  EXPECT_EQ(u.identity.modelName, "LOGIQ 700");
  EXPECT_EQ(u.photometric, "RGB");
  EXPECT_EQ(u.rows, 480);
  EXPECT_EQ(u.cols, 640);
  EXPECT_EQ(u.frames, 1);
  // Metadata of JPEG 2000 files is still readable (import), with a warning.
  const EchoInfo i = readDicomEchoInfo(us(kJ2ki));
  EXPECT_EQ(i.transferSyntaxUid, "1.2.840.10008.1.2.4.91");
  EXPECT_EQ(i.photometric, "YBR_ICT");
  EXPECT_EQ(i.rows, 480);
  EXPECT_EQ(i.cols, 640);
  EXPECT_TRUE(hasWarning(i, "JPEG 2000"));
  const EchoInfo r = readDicomEchoInfo(us(kJ2kr));
  EXPECT_EQ(r.transferSyntaxUid, "1.2.840.10008.1.2.4.90");
  EXPECT_EQ(r.photometric, "YBR_RCT");
  EXPECT_TRUE(hasWarning(r, "JPEG 2000"));
}

TEST(DicomEcho, InfoSecondaryCaptureAcceptedWithWarning) {
  for (const char* f : {kGhJpeg1, kGhJpeg14}) {
    SCOPED_TRACE(f);
    const EchoInfo i = readDicomEchoInfo(us(f));
    EXPECT_EQ(i.identity.sopClassUid, "1.2.840.10008.5.1.4.1.1.7");
    EXPECT_EQ(i.identity.modality, "OT");
    EXPECT_TRUE(hasWarning(i, "not ultrasound"));
    EXPECT_EQ(i.rows, 434);
    EXPECT_EQ(i.cols, 636);
    EXPECT_EQ(i.frames, 1);
    EXPECT_EQ(i.fpsSource, FrameRateSource::Default);
  }
  EXPECT_EQ(readDicomEchoInfo(us(kGhJpeg1)).photometric, "YBR_FULL");
  EXPECT_EQ(readDicomEchoInfo(us(kGhJpeg14)).transferSyntaxUid, "1.2.840.10008.1.2.4.70");
}

TEST(DicomEcho, XaCineAcceptedWithWarning) {
  const EchoInfo i = readDicomEchoInfo(xaFile());
  EXPECT_EQ(i.identity.modality, "XA");
  EXPECT_EQ(i.identity.sopClassUid, "1.2.840.10008.5.1.4.1.1.12.1");
  EXPECT_TRUE(hasWarning(i, "not ultrasound"));
  EXPECT_EQ(i.transferSyntaxUid, "1.2.840.10008.1.2.4.50");
  EXPECT_EQ(i.rows, 512);
  EXPECT_EQ(i.cols, 512);
  EXPECT_EQ(i.frames, 96);
  EXPECT_NEAR(i.fps, 1000.0 / 33.0, 1e-9);
  EXPECT_EQ(i.fpsSource, FrameRateSource::FrameTime);
  const EchoFrames f = readDicomEchoFrames(xaFile(), 10, 3);
  EXPECT_EQ(f.frames, 3);
  EXPECT_EQ(f.channels, 1);
  EXPECT_EQ(f.rows, 512);
  EXPECT_EQ(f.pixels.size(), 3u * 512 * 512);
  // Successive cine frames are similar but not identical (real motion, real decode).
  double d = 0;
  for (std::size_t k = 0; k < 512u * 512; ++k) d += std::abs(int(f.frame(0)[k]) - int(f.frame(1)[k]));
  d /= 512.0 * 512;
  EXPECT_GT(d, 0.0);
  EXPECT_LT(d, 30.0);
}

// -------------------------------------------------------- timing and views

// Derived files (written with dcmdata into a temp dir) for the timing order and
// the ViewCodeSequence, which none of the shared files carry.
TEST(DicomEcho, TimingPrecedenceAndViewCode) {
  TempDir tmp;
  auto variant = [&](const std::string& name, auto edit) {
    DcmFileFormat ff;
    EXPECT_TRUE(ff.loadFile(us(kMono).c_str()).good());
    edit(ff.getDataset());
    const std::string out = tmp.file(name);
    EXPECT_TRUE(ff.saveFile(out.c_str(), EXS_LittleEndianExplicit).good());
    return out;
  };
  // FrameTimeVector beats FrameTime: mean of the entries after the first.
  const std::string ftv = variant("ftv.dcm", [](DcmDataset* d) {
    d->putAndInsertString(DCM_FrameTimeVector, "0\\40\\40\\40\\40\\40\\40\\60");
    d->putAndInsertString(DCM_CineRate, "50");
  });
  EchoInfo i = readDicomEchoInfo(ftv);
  EXPECT_EQ(i.fpsSource, FrameRateSource::FrameTimeVector);
  EXPECT_NEAR(i.fps, 1000.0 / (300.0 / 7.0), 1e-9);
  ASSERT_EQ(i.frameTimesMs.size(), 8u);
  EXPECT_EQ(i.frameTimesMs[0], 0.0);
  EXPECT_EQ(i.frameTimesMs[7], 60.0);

  // CineRate when there is no frame time.
  const std::string cine = variant("cine.dcm", [](DcmDataset* d) {
    delete d->remove(DCM_FrameTime);
    d->putAndInsertString(DCM_CineRate, "25");
    d->putAndInsertString(DCM_RecommendedDisplayFrameRate, "60");
  });
  i = readDicomEchoInfo(cine);
  EXPECT_EQ(i.fpsSource, FrameRateSource::CineRate);
  EXPECT_EQ(i.fps, 25.0);

  const std::string rec = variant("rec.dcm", [](DcmDataset* d) {
    delete d->remove(DCM_FrameTime);
    d->putAndInsertString(DCM_RecommendedDisplayFrameRate, "60");
  });
  i = readDicomEchoInfo(rec);
  EXPECT_EQ(i.fpsSource, FrameRateSource::RecommendedDisplayFrameRate);
  EXPECT_EQ(i.fps, 60.0);

  const std::string none = variant("none.dcm", [](DcmDataset* d) { delete d->remove(DCM_FrameTime); });
  i = readDicomEchoInfo(none);
  EXPECT_EQ(i.fpsSource, FrameRateSource::Default);
  EXPECT_EQ(i.fps, 30.0);
  EXPECT_TRUE(hasWarning(i, "assuming 30 fps"));

  // ViewCodeSequence wins over the SeriesDescription.
  const std::string view = variant("view.dcm", [](DcmDataset* d) {
    d->putAndInsertString(DCM_SeriesDescription, "PLAX");
    DcmItem* item = nullptr;
    EXPECT_TRUE(d->findOrCreateSequenceItem(DCM_ViewCodeSequence, item, 0).good());
    item->putAndInsertString(DCM_CodeValue, "399214001");
    item->putAndInsertString(DCM_CodingSchemeDesignator, "SCT");
    item->putAndInsertString(DCM_CodeMeaning, "Apical four chamber");
  });
  i = readDicomEchoInfo(view);
  EXPECT_EQ(i.viewLabel, "A4C");
  EXPECT_EQ(i.viewCode, "399214001");
  EXPECT_EQ(i.viewSource, ViewLabelSource::ViewCodeSequence);

  // An unrecognised view meaning is kept as written.
  const std::string other = variant("other.dcm", [](DcmDataset* d) {
    DcmItem* item = nullptr;
    EXPECT_TRUE(d->findOrCreateSequenceItem(DCM_ViewCodeSequence, item, 0).good());
    item->putAndInsertString(DCM_CodeValue, "X1");
    item->putAndInsertString(DCM_CodeMeaning, "Suprasternal notch");
  });
  i = readDicomEchoInfo(other);
  EXPECT_EQ(i.viewLabel, "Suprasternal notch");
  EXPECT_EQ(i.viewSource, ViewLabelSource::ViewCodeSequence);

  // Big endian is still readable.
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(us(kMono).c_str()).good());
  const std::string be = tmp.file("be.dcm");
  ASSERT_TRUE(ff.saveFile(be.c_str(), EXS_BigEndianExplicit).good());
  const EchoFrames a = readDicomEchoFrames(be);
  const EchoFrames b = readDicomEchoFrames(us(kMono));
  EXPECT_EQ(a.pixels, b.pixels);
}

// ------------------------------------------------------------------ frames

TEST(DicomEcho, FramesMonoEqualRawPixelData) {
  const std::string p = us(kMono);
  const EchoFrames f = readDicomEchoFrames(p);
  EXPECT_EQ(f.frames, 8);
  EXPECT_EQ(f.rows, 120);
  EXPECT_EQ(f.cols, 128);
  EXPECT_EQ(f.channels, 1);
  const std::vector<Uint8> raw = rawPixels8(p);
  ASSERT_EQ(raw.size(), 8u * 120 * 128);
  EXPECT_EQ(f.pixels, std::vector<std::uint8_t>(raw.begin(), raw.end()));
  // first bytes as shown by dcmdump: 87\2c\14\0f
  EXPECT_EQ(f.pixels[0], 0x87);
  EXPECT_EQ(f.pixels[1], 0x2c);
  EXPECT_EQ(f.pixels[3], 0x0f);

  // A sub-range decodes the same frames.
  const EchoFrames part = readDicomEchoFrames(p, 3, 2);
  EXPECT_EQ(part.frames, 2);
  ASSERT_EQ(part.pixels.size(), 2u * 120 * 128);
  EXPECT_TRUE(std::equal(part.pixels.begin(), part.pixels.end(), f.frame(3)));
  const EchoFrames tail = readDicomEchoFrames(p, 6, 100);  // clipped to the end
  EXPECT_EQ(tail.frames, 2);
  EXPECT_TRUE(std::equal(tail.pixels.begin(), tail.pixels.end(), f.frame(6)));
  EXPECT_NE(errorOf([&] { readDicomEchoFrames(p, 8, 1); }).find("out of range"), std::string::npos);
  EXPECT_NE(errorOf([&] { readDicomEchoFrames(p, -1, 1); }).find("out of range"), std::string::npos);
}

TEST(DicomEcho, FramesRgbEqualRawPixelData) {
  for (const char* rel : {kRgb, kUncr}) {
    SCOPED_TRACE(rel);
    const std::string p = us(rel);
    const EchoInfo i = readDicomEchoInfo(p);
    const EchoFrames f = readDicomEchoFrames(p);
    EXPECT_EQ(f.channels, 3);
    EXPECT_EQ(f.frames, 1);
    EXPECT_EQ(f.rows, i.rows);
    EXPECT_EQ(f.cols, i.cols);
    const std::vector<Uint8> raw = rawPixels8(p);  // PlanarConfiguration 0: interleaved
    ASSERT_EQ(raw.size(), f.pixels.size());
    EXPECT_EQ(f.pixels, std::vector<std::uint8_t>(raw.begin(), raw.end()));
  }
}

TEST(DicomEcho, FramesPaletteAppliesLut) {
  const std::string p = us(kOb2);
  const EchoFrames f = readDicomEchoFrames(p);
  EXPECT_EQ(f.frames, 2);
  EXPECT_EQ(f.channels, 3);
  EXPECT_EQ(f.rows, 600);
  EXPECT_EQ(f.cols, 800);
  const std::vector<Uint8> idx = rawPixels8(p);
  const auto r = lut16(p, DCM_RedPaletteColorLookupTableData);
  const auto g = lut16(p, DCM_GreenPaletteColorLookupTableData);
  const auto b = lut16(p, DCM_BluePaletteColorLookupTableData);
  ASSERT_EQ(r.size(), 256u);
  ASSERT_EQ(idx.size(), 2u * 600 * 800);
  std::size_t bad = 0, colourful = 0;
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const Uint16* l[3] = {r.data(), g.data(), b.data()};
    for (int c = 0; c < 3; ++c) {
      const int expect = l[c][idx[k]] >> 8;  // 16-bit LUT entries -> 8 bit
      if (std::abs(expect - int(f.pixels[k * 3 + c])) > 1) ++bad;
    }
    if (r[idx[k]] != g[idx[k]]) ++colourful;
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(colourful, 0u);  // the file has colour data: the LUT is not just grey
}

TEST(DicomEcho, FramesRleIdenticalToUncompressed) {
  const EchoFrames a = readDicomEchoFrames(us(kOb2));
  const EchoFrames b = readDicomEchoFrames(us(kObRle));
  EXPECT_EQ(b.frames, 2);
  EXPECT_EQ(b.channels, 3);
  EXPECT_EQ(a.pixels, b.pixels);
  // The single-frame file is the first frame of the 2-frame file.
  const EchoFrames one = readDicomEchoFrames(us(kOb1));
  ASSERT_EQ(one.frames, 1);
  EXPECT_TRUE(std::equal(one.pixels.begin(), one.pixels.end(), a.frame(0)));
}

TEST(DicomEcho, FramesJpegBaselineMonoCloseToOriginal) {
  const EchoFrames orig = readDicomEchoFrames(us(kMono));
  const EchoFrames jpg = readDicomEchoFrames(us(kMonoJpeg));
  EXPECT_EQ(jpg.frames, 8);
  EXPECT_EQ(jpg.channels, 1);
  // This re-encoding carries a uniform brightness offset of about -7 grey levels in the
  // JPEG data itself (DCMTK's dcmdjpeg and FFmpeg's MJPEG decoder give the same bytes),
  // so compare after removing the mean offset, and bound the offset.
  ASSERT_EQ(orig.pixels.size(), jpg.pixels.size());
  double bias = 0;
  for (std::size_t k = 0; k < orig.pixels.size(); ++k) bias += int(orig.pixels[k]) - int(jpg.pixels[k]);
  bias /= static_cast<double>(orig.pixels.size());
  EXPECT_LT(std::abs(bias), 10.0);
  double mad = 0;
  for (std::size_t k = 0; k < orig.pixels.size(); ++k) mad += std::abs(int(orig.pixels[k]) - int(jpg.pixels[k]) - bias);
  mad /= static_cast<double>(orig.pixels.size());
  EXPECT_LT(mad, 5.0);
  EXPECT_GT(mad, 0.0);  // lossy: really decoded, not the same buffer
  // Frames stay in order: frame k matches original frame k better than frame k+1.
  for (int k = 0; k + 1 < 8; ++k) {
    double same = 0, next = 0;
    for (std::size_t i = 0; i < 120u * 128; ++i) {
      same += std::abs(int(orig.frame(k)[i]) - int(jpg.frame(k)[i]));
      next += std::abs(int(orig.frame(k + 1)[i]) - int(jpg.frame(k)[i]));
    }
    EXPECT_LT(same, next) << "frame " << k;
  }
}

TEST(DicomEcho, FramesJpegBaselineYbrNotDoubleConverted) {
  const EchoFrames orig = readDicomEchoFrames(us(kPal));  // RLE palette -> RGB
  const EchoFrames jpg = readDicomEchoFrames(us(kPalJpeg));  // YBR_FULL_422 JPEG of the same frames
  EXPECT_EQ(orig.frames, 10);
  EXPECT_EQ(jpg.frames, 10);
  EXPECT_EQ(orig.channels, 3);
  EXPECT_EQ(jpg.channels, 3);
  EXPECT_LT(meanAbsDiff(orig, jpg), 5.0);
  // Per channel too: a YBR->RGB conversion done twice (or not at all) shifts the colours.
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    std::size_t n = 0;
    for (std::size_t k = c; k < orig.pixels.size(); k += 3, ++n) s += std::abs(int(orig.pixels[k]) - int(jpg.pixels[k]));
    EXPECT_LT(s / n, 5.0) << "channel " << c;
  }
}

TEST(DicomEcho, FramesJpegLossyAndLosslessAgree) {
  // GH538: the same echo screenshot as JPEG baseline (YBR_FULL) and JPEG lossless SV1 (RGB).
  const EchoFrames lossy = readDicomEchoFrames(us(kGhJpeg1));
  const EchoFrames lossless = readDicomEchoFrames(us(kGhJpeg14));
  EXPECT_EQ(lossless.channels, 3);
  EXPECT_EQ(lossless.rows, 434);
  EXPECT_EQ(lossless.cols, 636);
  EXPECT_LT(meanAbsDiff(lossy, lossless), 5.0);
  // The lossless image holds a real picture, not a constant.
  int mn = 255, mx = 0;
  for (auto v : lossless.pixels) {
    mn = std::min(mn, int(v));
    mx = std::max(mx, int(v));
  }
  EXPECT_LT(mn, 10);
  EXPECT_GT(mx, 200);
}

TEST(DicomEcho, FramesAlokaSegmentedPalette) {
  // 16-bit PALETTE COLOR with segmented LUTs (DCMTK cannot apply those): decoded here.
  const EchoInfo i = readDicomEchoInfo(us(kAloka));
  const EchoFrames f = readDicomEchoFrames(us(kAloka));
  ASSERT_EQ(f.frames, 1);
  EXPECT_EQ(f.channels, 3);
  EXPECT_EQ(f.rows, 480);
  EXPECT_EQ(f.cols, 640);
  // Inside the two B-mode regions nearly all pixels are grey (R == G == B) with real texture.
  const UltrasoundRegion& r = i.regions[0];
  std::size_t grey = 0, total = 0;
  double sum = 0;
  for (int y = r.y0 + 40; y <= r.y1 - 10; ++y)
    for (int x = r.x0 + 10; x <= r.x1 - 10; ++x) {
      const std::uint8_t* p = f.frame(0) + (static_cast<std::size_t>(y) * f.cols + x) * 3;
      ++total;
      if (std::abs(p[0] - p[1]) <= 2 && std::abs(p[1] - p[2]) <= 2) ++grey;
      sum += p[0];
    }
  EXPECT_GT(grey, total * 95 / 100);
  const double mean = sum / total;
  EXPECT_GT(mean, 15.0);
  EXPECT_LT(mean, 150.0);
  // The overlay markers are green: some pixels with G far above R and B.
  std::size_t green = 0;
  for (std::size_t k = 0; k < static_cast<std::size_t>(f.rows) * f.cols; ++k) {
    const std::uint8_t* p = f.frame(0) + k * 3;
    if (p[1] > 150 && p[0] < 100 && p[2] < 100) ++green;
  }
  EXPECT_GT(green, 20u);
  // The left margin beside the image is black.
  const std::uint8_t* m = f.frame(0) + (200u * 640 + 2) * 3;
  EXPECT_EQ(m[0] + m[1] + m[2], 0);
}

// 16-bit monochrome (none in the shared data: derived from the 8-bit loop) is windowed to
// 8 bit with the min-max window when the file has no VOI window, with its own window if it has one.
TEST(DicomEcho, Frames16BitWindowedTo8Bit) {
  TempDir tmp;
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(us(kMono).c_str()).good());
  DcmDataset* d = ff.getDataset();
  const std::vector<Uint8> raw = rawPixels8(us(kMono));
  std::vector<Uint16> wide(raw.size());
  for (std::size_t k = 0; k < raw.size(); ++k) wide[k] = static_cast<Uint16>(1000 + raw[k] * 200);
  ASSERT_TRUE(d->putAndInsertUint16(DCM_BitsAllocated, 16).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_BitsStored, 16).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_HighBit, 15).good());
  ASSERT_TRUE(d->putAndInsertUint16Array(DCM_PixelData, wide.data(), static_cast<unsigned long>(wide.size())).good());
  const std::string p = tmp.file("mono16.dcm");
  ASSERT_TRUE(ff.saveFile(p.c_str(), EXS_LittleEndianExplicit).good());
  EXPECT_EQ(readDicomEchoInfo(p).bitsAllocated, 16);
  const EchoFrames f = readDicomEchoFrames(p);
  ASSERT_EQ(f.channels, 1);
  ASSERT_EQ(f.pixels.size(), raw.size());
  const int mn = *std::min_element(raw.begin(), raw.end()), mx = *std::max_element(raw.begin(), raw.end());
  std::size_t bad = 0;
  for (std::size_t k = 0; k < raw.size(); ++k) {
    const double expect = 255.0 * (raw[k] - mn) / double(mx - mn);
    if (std::abs(expect - f.pixels[k]) > 2.0) ++bad;
  }
  EXPECT_EQ(bad, 0u);

  // With a VOI window in the file, that window is used: values below it go black, above it white.
  ASSERT_TRUE(d->putAndInsertString(DCM_WindowCenter, "11000").good());
  ASSERT_TRUE(d->putAndInsertString(DCM_WindowWidth, "4000").good());
  const std::string pw = tmp.file("mono16w.dcm");
  ASSERT_TRUE(ff.saveFile(pw.c_str(), EXS_LittleEndianExplicit).good());
  const EchoFrames w = readDicomEchoFrames(pw);
  for (std::size_t k = 0; k < raw.size(); ++k) {
    const int v = 1000 + raw[k] * 200;
    if (v < 8900) EXPECT_EQ(w.pixels[k], 0) << k;
    if (v > 13100) EXPECT_EQ(w.pixels[k], 255) << k;
    if (HasFailure()) break;
  }
}

// ------------------------------------------------------------------ errors

TEST(DicomEcho, Jpeg2000FailsClearly) {
  for (const char* rel : {kJ2ki, kJ2kr}) {
    const std::string p = us(rel);
    try {
      readDicomEchoFrames(p);
      ADD_FAILURE() << "no error for " << p;
    } catch (const ReadError& e) {
      EXPECT_EQ(e.path(), p);
      EXPECT_EQ(e.cause(), "JPEG 2000 transfer syntax is not supported by this build (DCMTK without JPEG 2000)");
    }
  }
}

TEST(DicomEcho, NotUltrasoundEcg) {
  const std::string p = ecgFile();
  const std::string a = errorOf([&] { readDicomEchoInfo(p); });
  EXPECT_NE(a.find("not an ultrasound image"), std::string::npos) << a;
  EXPECT_NE(a.find("ECG"), std::string::npos) << a;
  const std::string b = errorOf([&] { readDicomEchoFrames(p); });
  EXPECT_NE(b.find("not an ultrasound image"), std::string::npos) << b;
}

TEST(DicomEcho, NotDicom) {
  TempDir tmp;
  const std::string txt = tmp.file("notes.dcm");
  {
    std::ofstream o(txt);
    for (int k = 0; k < 50; ++k) o << "this is not a DICOM file, line " << k << "\n";
  }
  EXPECT_NE(errorOf([&] { readDicomEchoInfo(txt); }).find("not a DICOM file"), std::string::npos);
  EXPECT_NE(errorOf([&] { readDicomEchoFrames(txt); }).find("not a DICOM file"), std::string::npos);
  const std::string manifest = test::dataFile("MANIFEST.md5").string();
  EXPECT_NE(errorOf([&] { readDicomEchoInfo(manifest); }).find("not a DICOM file"), std::string::npos);
  const std::string empty = tmp.file("empty.dcm");
  { std::ofstream o(empty); }
  EXPECT_NE(errorOf([&] { readDicomEchoInfo(empty); }).find("empty file"), std::string::npos);
  EXPECT_NE(errorOf([&] { readDicomEchoInfo(tmp.file("missing.dcm")); }).find("cannot open"), std::string::npos);
  try {
    readDicomEchoInfo(txt);
  } catch (const ReadError& e) {
    EXPECT_EQ(e.path(), txt);
    EXPECT_NE(std::string(e.what()).find(txt), std::string::npos);
  }
}

TEST(DicomEcho, TruncatedFilesFailClearly) {
  TempDir tmp;
  struct Case {
    const char* rel;
    double fraction;
    long minus;
  };
  const Case cases[] = {{kMono, 0.6, 0},     {kMono, 1.0, 2},  {kObRle, 0.6, 0}, {kObRle, 1.0, 2},
                        {kMonoJpeg, 0.6, 0}, {kPalJpeg, 0.5, 0}, {kAloka, 0.7, 0}, {kUncr, 1.0, 100}};
  int n = 0;
  for (const Case& c : cases) {
    const std::string p = truncatedCopy(us(c.rel), tmp.file("cut" + std::to_string(n++) + ".dcm"), c.fraction, c.minus);
    SCOPED_TRACE(p + " from " + c.rel);
    const std::string a = errorOf([&] { readDicomEchoInfo(p); });
    EXPECT_NE(a.find("truncated"), std::string::npos) << a;
    const std::string b = errorOf([&] { readDicomEchoFrames(p); });
    EXPECT_NE(b.find("truncated"), std::string::npos) << b;
  }
}
