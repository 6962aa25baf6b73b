// Tests of the FFmpeg video reader. No video files are in the shared data, so the
// tests write small AVI files with libavformat (MJPEG and lossless raw grey) with a
// known frame rate and a known moving pattern, then read them back.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "avi_writer.h"
#include "io/video_reader.h"
#include "test_util.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
}

using namespace e2e;
namespace fs = std::filesystem;

namespace {

constexpr int kW = 96, kH = 64, kFrames = 20;

// Pattern: dark background (value 20) with a bright 12x12 square (value 230) whose
// left edge moves 3 pixels per frame; in colour the square is reddish.
int squareX(int frame) { return 4 + 3 * frame; }
constexpr int kSquareY = 20, kSquare = 12;

// Writes an AVI with the given codec; returns false if the encoder is missing.
bool writeAvi(const std::string& path, AVCodecID codecId, int fpsNum, int fpsDen) {
  const bool mjpeg = codecId == AV_CODEC_ID_MJPEG;
  test::AviSpec spec;
  spec.codec = codecId;
  spec.pixFmt = mjpeg ? AV_PIX_FMT_YUVJ444P : AV_PIX_FMT_GRAY8;
  spec.width = kW;
  spec.height = kH;
  spec.frames = kFrames;
  spec.fpsNum = fpsNum;
  spec.fpsDen = fpsDen;
  spec.fixedQuality = mjpeg;
  return test::writeTestAvi(path, spec, [&](AVFrame* fr, int f) {
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        const bool in = x >= squareX(f) && x < squareX(f) + kSquare && y >= kSquareY && y < kSquareY + kSquare;
        if (mjpeg) {
          // YUV (full range): the square is a saturated-ish red, the background dark grey.
          fr->data[0][y * fr->linesize[0] + x] = in ? 120 : 20;
          fr->data[1][y * fr->linesize[1] + x] = in ? 100 : 128;
          fr->data[2][y * fr->linesize[2] + x] = in ? 220 : 128;
        } else {
          fr->data[0][y * fr->linesize[0] + x] = static_cast<uint8_t>(in ? 230 : 20 + (x + y) % 7);
        }
      }
  });
}

struct TempDir {
  fs::path dir;
  TempDir() {
    dir = fs::temp_directory_path() /
          (std::string("e2e_video_test_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& n) const { return (dir / n).string(); }
};

// Centre of the bright pixels of a frame (channel 0).
double brightCentreX(const EchoFrames& f, int i, int threshold) {
  double sx = 0;
  int n = 0;
  for (int y = 0; y < f.rows; ++y)
    for (int x = 0; x < f.cols; ++x)
      if (f.frame(i)[(static_cast<std::size_t>(y) * f.cols + x) * f.channels] > threshold) {
        sx += x;
        ++n;
      }
  return n ? sx / n : -1;
}

}  // namespace

TEST(VideoReader, LooksLikeVideo) {
  EXPECT_TRUE(looksLikeVideoFile("/x/a4c_loop.avi"));
  EXPECT_TRUE(looksLikeVideoFile("clip.MP4"));
  EXPECT_TRUE(looksLikeVideoFile("clip.mov"));
  EXPECT_TRUE(looksLikeVideoFile("clip.mkv"));
  EXPECT_FALSE(looksLikeVideoFile("image.dcm"));
  EXPECT_FALSE(looksLikeVideoFile("avi"));
  EXPECT_FALSE(looksLikeVideoFile("record.hea"));
}

TEST(VideoReader, MjpegAviRoundTrip) {
  TempDir tmp;
  const std::string p = tmp.file("patient7_A4C_loop.avi");
  ASSERT_TRUE(writeAvi(p, AV_CODEC_ID_MJPEG, 25, 1)) << "MJPEG encoder/AVI muxer unavailable";
  const EchoInfo i = readVideoInfo(p);
  EXPECT_EQ(i.format, SourceFormat::Video);
  EXPECT_EQ(i.sourcePath, p);
  EXPECT_EQ(i.rows, kH);
  EXPECT_EQ(i.cols, kW);
  EXPECT_EQ(i.frames, kFrames);
  EXPECT_NEAR(i.fps, 25.0, 1e-6);
  EXPECT_EQ(i.fpsSource, FrameRateSource::Container);
  EXPECT_EQ(i.samplesPerPixel, 3);
  EXPECT_EQ(i.viewLabel, "A4C");
  EXPECT_EQ(i.viewSource, ViewLabelSource::Filename);
  // Synthesised identity: stable, DICOM-shaped UIDs from the content hash.
  EXPECT_EQ(i.identity.sopInstanceUid.rfind("2.25.", 0), 0u);
  EXPECT_LE(i.identity.sopInstanceUid.size(), 64u);
  EXPECT_NE(i.identity.sopInstanceUid, i.identity.seriesUid);
  EXPECT_NE(i.identity.seriesUid, i.identity.studyUid);
  EXPECT_EQ(i.identity.modality, "US");
  EXPECT_EQ(i.identity.seriesDescription, "patient7_A4C_loop");
  EXPECT_EQ(readVideoInfo(p).identity.sopInstanceUid, i.identity.sopInstanceUid);

  const EchoFrames f = readVideoFrames(p);
  EXPECT_EQ(f.frames, kFrames);
  EXPECT_EQ(f.rows, kH);
  EXPECT_EQ(f.cols, kW);
  EXPECT_EQ(f.channels, 3);
  ASSERT_EQ(f.pixels.size(), static_cast<std::size_t>(kFrames) * kH * kW * 3);
  for (int k : {0, 7, 19}) {
    SCOPED_TRACE(k);
    // Square centre: reddish (R well above G and B); background dark grey.
    const int cx = squareX(k) + kSquare / 2, cy = kSquareY + kSquare / 2;
    const std::uint8_t* s = f.frame(k) + (static_cast<std::size_t>(cy) * kW + cx) * 3;
    EXPECT_GT(s[0], 180);
    EXPECT_LT(s[1], 110);
    EXPECT_GT(s[0] - s[2], 40);
    const std::uint8_t* bg = f.frame(k) + (static_cast<std::size_t>(55) * kW + (cx + 40) % kW) * 3;
    EXPECT_NEAR(bg[0], 20, 6);
    EXPECT_NEAR(bg[1], 20, 6);
    EXPECT_NEAR(bg[2], 20, 6);
    EXPECT_NEAR(brightCentreX(f, k, 120), squareX(k) + (kSquare - 1) / 2.0, 1.0);
  }
  // Sub-range.
  const EchoFrames part = readVideoFrames(p, 5, 3);
  EXPECT_EQ(part.frames, 3);
  EXPECT_NEAR(brightCentreX(part, 0, 120), squareX(5) + (kSquare - 1) / 2.0, 1.0);
  EXPECT_TRUE(std::equal(part.pixels.begin(), part.pixels.end(), f.frame(5)));
}

TEST(VideoReader, LosslessGreyAviExact) {
  TempDir tmp;
  const std::string p = tmp.file("grey.avi");
  ASSERT_TRUE(writeAvi(p, AV_CODEC_ID_FFV1, 30000, 1001)) << "FFV1 encoder unavailable";
  const EchoInfo i = readVideoInfo(p);
  EXPECT_EQ(i.frames, kFrames);
  EXPECT_NEAR(i.fps, 30000.0 / 1001.0, 1e-6);
  EXPECT_EQ(i.fpsSource, FrameRateSource::Container);
  EXPECT_EQ(i.samplesPerPixel, 1);
  EXPECT_EQ(i.viewSource, ViewLabelSource::None);
  const EchoFrames f = readVideoFrames(p);
  ASSERT_EQ(f.channels, 1);
  ASSERT_EQ(f.frames, kFrames);
  std::size_t wrong = 0;
  for (int k = 0; k < kFrames; ++k)
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        const bool in = x >= squareX(k) && x < squareX(k) + kSquare && y >= kSquareY && y < kSquareY + kSquare;
        const int expect = in ? 230 : 20 + (x + y) % 7;
        if (f.frame(k)[y * kW + x] != expect) ++wrong;
      }
  EXPECT_EQ(wrong, 0u);
}

TEST(VideoReader, Errors) {
  TempDir tmp;
  const std::string txt = tmp.file("fake.avi");
  {
    std::ofstream o(txt);
    o << "this is not a video\n";
  }
  try {
    readVideoInfo(txt);
    ADD_FAILURE() << "no error";
  } catch (const ReadError& e) {
    EXPECT_EQ(e.path(), txt);
    EXPECT_FALSE(e.cause().empty());
  }
  EXPECT_THROW(readVideoFrames(txt), ReadError);
  EXPECT_THROW(readVideoInfo(tmp.file("missing.avi")), ReadError);
  // A DICOM file is not a video.
  EXPECT_THROW(readVideoInfo(test::dataFile("us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm").string()), ReadError);

  // A truncated AVI fails clearly instead of returning a short loop silently.
  const std::string good = tmp.file("good.avi");
  ASSERT_TRUE(writeAvi(good, AV_CODEC_ID_MJPEG, 25, 1));
  const std::string cut = tmp.file("cut.avi");
  {
    std::ifstream in(good, std::ios::binary);
    std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(cut, std::ios::binary);
    out.write(buf.data(), static_cast<std::streamsize>(buf.size() / 2));
  }
  try {
    readVideoFrames(cut);
    ADD_FAILURE() << "truncated video read without error";
  } catch (const ReadError& e) {
    EXPECT_EQ(e.path(), cut);
    EXPECT_NE(e.cause().find("truncated"), std::string::npos) << e.cause();
  }
  // The frames that are present can still be read explicitly.
  const EchoFrames head = readVideoFrames(cut, 0, 3);
  EXPECT_EQ(head.frames, 3);
  EXPECT_THROW(readVideoFrames(good, kFrames + 5, 1), ReadError);
}
