// Issue 22.6: an ultrasound file's Rows / Columns / NumberOfFrames must agree with the file before
// frames are decoded: a 475 KB JPEG file claiming Columns = 65535 made `embed` grow to 16.5 GB.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "io/dicom_echo.h"
#include "test_util.h"

using namespace e2e;
namespace fs = std::filesystem;

namespace {

const char* kJpeg = "us_dicom/derived_reencoded/US-MONO2-8-8x-execho.jpeg_baseline.dcm";

class EchoGeometry : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_echo_geom_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A copy of `rel` with some of its header values replaced (the pixel data stays as it is).
  std::string edited(const std::string& rel, long rows, long cols, long frames) {
    DcmFileFormat ff;
    EXPECT_TRUE(ff.loadFile(test::dataFile(rel).string().c_str()).good());
    DcmDataset* ds = ff.getDataset();
    if (rows > 0) ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(rows));
    if (cols > 0) ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(cols));
    if (frames > 0) ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
    const std::string out = (dir_ / "edited.dcm").string();
    EXPECT_TRUE(ff.saveFile(out.c_str(), EXS_Unknown).good());
    return out;
  }
  fs::path dir_;
};

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ReadError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_F(EchoGeometry, TheUneditedJpegFileDecodes) {
  const std::string path = test::dataFile(kJpeg).string();
  const auto info = readDicomEchoInfo(path);
  const auto frames = readDicomEchoFrames(path, 0, 1);
  EXPECT_EQ(frames.cols, info.cols);
  EXPECT_EQ(frames.rows, info.rows);
}

TEST_F(EchoGeometry, ColumnsThatDisagreeWithTheJpegStreamAreRefusedBeforeDecoding) {
  const auto info = readDicomEchoInfo(test::dataFile(kJpeg).string());
  const std::string path = edited(kJpeg, 0, 65535, 0);
  const std::string atImport = errorOf([&] { readDicomEchoInfo(path); });
  EXPECT_NE(atImport.find("the JPEG stream's frame is " + std::to_string(info.cols) + "x" + std::to_string(info.rows)),
            std::string::npos)
      << atImport;
  EXPECT_NE(atImport.find("Columns 65535"), std::string::npos) << atImport;
  const std::string atDecode = errorOf([&] { readDicomEchoFrames(path); });
  EXPECT_NE(atDecode.find("Columns 65535"), std::string::npos) << atDecode;
}

TEST_F(EchoGeometry, HugeHeaderGeometryIsRefusedWithoutAllocating) {
  const std::string path = edited(kJpeg, 65535, 65535, 100000);
  const std::string e = errorOf([&] { readDicomEchoFrames(path); });
  EXPECT_NE(e.find("implausible image size"), std::string::npos) << e;
  EXPECT_NE(errorOf([&] { readDicomEchoInfo(path); }).find("implausible image size"), std::string::npos);
}
