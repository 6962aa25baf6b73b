// Issue 22 (bounded memory for echo loops): the embedder decodes only the frames of the clip
// (model::clipFrameIndices, pipeline::readEchoFrames(path, spec)). On every real ultrasound file of
// the shared data (raw, RLE, JPEG baseline and lossless, palette, 16-bit; and the XA JPEG cine) the
// clip tensors and the frames are bit-identical to the old path: the whole loop decoded at once
// (tests/io_echo/echo_reference.h) and then prepareClip as it was (the clip is now resized frame by
// frame, with the same values). The same for video files (written here).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include "avi_writer.h"
#include "echo_reference.h"
#include "io/dicom_echo.h"
#include "io/video_reader.h"
#include "model/model.h"
#include "pipeline/embedder.h"
#include "test_util.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

using namespace e2e;
using e2e::test::dataFile;
namespace fs = std::filesystem;

namespace {

std::vector<model::VideoInputSpec> specs() {
  model::VideoInputSpec echoPrime;  // 16 frames at stride 2, 224 x 224 (EchoPrime's MViT clip)
  echoPrime.height = echoPrime.width = 224;
  echoPrime.mean = {29.1f, 28.1f, 29.0f};
  echoPrime.std = {47.9f, 46.5f, 47.2f};
  model::VideoInputSpec grey;  // one channel, stride 3: wraps on short loops
  grey.channels = 1;
  grey.frameStride = 3;
  grey.mean = {10.f};
  grey.std = {50.f};
  return {echoPrime, grey, model::VideoInputSpec{}};
}

std::vector<fs::path> echoFiles() {
  std::vector<fs::path> out;
  for (const char* dir : {"us_dicom", "cardiac_xa_jpeg_cine"})
    for (const auto& e : fs::recursive_directory_iterator(dataFile(dir)))
      if (e.is_regular_file() && e.path().extension() == ".dcm") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool sameFrames(const EchoFrames& a, const EchoFrames& b) {
  return a.rows == b.rows && a.cols == b.cols && a.frames == b.frames && a.channels == b.channels &&
         a.pixels == b.pixels;
}

// The old path's frames: the whole loop at once (segmented palettes were, and are, decoded by the
// reader's own palette code as one range).
EchoFrames oldFrames(const fs::path& p) {
  DcmFileFormat ff;
  if (ff.loadFile(p.c_str()).good() &&
      ff.getDataset()->tagExists(DCM_SegmentedRedPaletteColorLookupTableData))
    return readDicomEchoFrames(p.string(), 0, -1);
  return testref::oldFullDecode(p.string());
}

}  // namespace

TEST(EchoClip, IndicesAreWhatPrepareClipUses) {
  model::VideoInputSpec s;  // 16 at stride 2
  EXPECT_EQ(model::clipFrameIndices(100, s, 0), (std::vector<int>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                                                   28, 30}));
  EXPECT_EQ(model::clipFrameIndices(5, s, 1), (std::vector<int>{1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1}));
  EXPECT_THROW(model::clipFrameIndices(0, s, 0), std::invalid_argument);
  // A synthetic loop whose frame f is filled with f: the clip's frames are those of the indices.
  for (int n : {1, 7, 31, 40}) {
    EchoFrames fr;
    fr.rows = 4;
    fr.cols = 4;
    fr.frames = n;
    for (int f = 0; f < n; ++f) fr.pixels.insert(fr.pixels.end(), 16, static_cast<std::uint8_t>(f));
    model::VideoInputSpec id;
    id.channels = 1;
    id.height = id.width = 4;
    id.mean = {0.f};
    id.std = {1.f};
    const auto clip = model::prepareClip(fr, id, 3);
    const auto idx = model::clipFrameIndices(n, id, 3);
    for (int t = 0; t < 16; ++t) EXPECT_EQ(clip[0][t][0][0].item<float>(), static_cast<float>(idx[t])) << n;
  }
}

TEST(EchoClip, RealFilesClipAndFramesBitIdenticalToWholeLoopDecode) {
  const auto files = echoFiles();
  ASSERT_GE(files.size(), 15u);
  int compared = 0, multiFrame = 0;
  for (const auto& p : files) {
    SCOPED_TRACE(p.string());
    EchoFrames all;
    try {
      all = oldFrames(p);
    } catch (const std::exception&) {  // undecodable before (JPEG 2000): still an error, and a clear one
      EXPECT_THROW(readDicomEchoFrames(p.string()), ReadError);
      EXPECT_THROW(pipeline::readEchoFrames(p.string(), model::VideoInputSpec{}), ReadError);
      continue;
    }
    ASSERT_GT(all.frames, 0);
    // Whole loop, frame by frame now: identical.
    EXPECT_TRUE(sameFrames(readDicomEchoFrames(p.string()), all));
    // Any list of frames (unordered, repeated): those frames of the whole loop.
    const std::vector<int> list{all.frames - 1, 0, all.frames / 2, 0};
    const auto listed = readDicomEchoFrames(p.string(), list);
    ASSERT_EQ(listed.frames, 4);
    const std::size_t fb = static_cast<std::size_t>(all.rows) * all.cols * all.channels;
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(0, std::memcmp(listed.frame(i), all.frame(list[i]), fb)) << "listed frame " << list[i];
    // The clip: prepareClip over the whole loop == the clip from only its frames (EchoPrime's
    // clip); for the other clip shapes, the picked frames are those frames of the whole loop.
    const auto specList = specs();
    for (std::size_t k = 0; k < 2; ++k) {  // EchoPrime's clip, and a grey one at stride 3
      const auto& spec = specList[k];
      const auto before = testref::oldPrepareClip(all, spec, 0);
      const auto picked = pipeline::readEchoFrames(p.string(), spec, 0);
      EXPECT_TRUE(torch::equal(model::prepareClipFromPicked(picked, spec), before)) << "stride " << spec.frameStride;
      if (k == 0) EXPECT_TRUE(torch::equal(model::prepareClip(all, spec, 0), before));
    }
    for (const auto& spec : specList)
      for (int start : {1, 5}) {
        const auto idx = model::clipFrameIndices(all.frames, spec, start);
        const auto fr = pipeline::readEchoFrames(p.string(), spec, start);
        ASSERT_EQ(fr.frames, spec.frames);
        for (int t = 0; t < fr.frames; ++t) EXPECT_EQ(0, std::memcmp(fr.frame(t), all.frame(idx[t]), fb)) << t;
      }
    ++compared;
    if (all.frames > 1) ++multiFrame;
  }
  EXPECT_GE(compared, 12);
  EXPECT_GE(multiFrame, 6);
}

namespace {

// An MJPEG AVI of `frames` frames, 64 x 48, frame f a gradient shifted by 5 f.
void writeAvi(const fs::path& path, int frames) {
  test::AviSpec spec;
  spec.frames = frames;  // MJPEG, YUVJ420P, 64 x 48, 25 fps
  ASSERT_TRUE(test::writeTestAvi(path.string(), spec, [](AVFrame* fr, int f) {
    for (int y = 0; y < 48; ++y)
      for (int x = 0; x < 64; ++x) fr->data[0][y * fr->linesize[0] + x] = static_cast<uint8_t>((x * 3 + y + 5 * f) & 255);
    for (int c = 1; c < 3; ++c)
      for (int y = 0; y < 24; ++y)
        for (int x = 0; x < 32; ++x) fr->data[c][y * fr->linesize[c] + x] = static_cast<uint8_t>(128 + c * 20 - f % 30);
  }));
}

}  // namespace

TEST(EchoClip, VideoClipBitIdenticalToWholeLoopDecode) {
  // Long (past the clip's span), exactly the span, and short loops (the clip wraps).
  for (int frames : {90, 31, 32, 12, 1}) {
    const fs::path p = fs::temp_directory_path() / ("clip_" + std::to_string(frames) + ".avi");
    writeAvi(p, frames);
    SCOPED_TRACE(p.string());
    const auto all = readVideoFrames(p.string());
    ASSERT_EQ(all.frames, frames);
    for (const auto& spec : specs())
      for (int start : {0, 2}) {
        if (start == 2 && spec.channels == 1) continue;
        const auto picked = pipeline::readEchoFrames(p.string(), spec, start);
        const auto before = testref::oldPrepareClip(all, spec, start);
        EXPECT_TRUE(torch::equal(model::prepareClipFromPicked(picked, spec), before));
        EXPECT_TRUE(torch::equal(model::prepareClip(all, spec, start), before));
      }
    const std::vector<int> list{frames - 1, 0, frames - 1};
    const auto listed = readVideoFrames(p.string(), list);
    ASSERT_EQ(listed.frames, 3);
    const std::size_t fb = static_cast<std::size_t>(all.rows) * all.cols * all.channels;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(0, std::memcmp(listed.frame(i), all.frame(list[i]), fb));
    int available = -1;
    EXPECT_EQ(readVideoFrames(p.string(), {frames + 3}, &available).frames, 0);
    EXPECT_EQ(available, frames);
    EXPECT_THROW(readVideoFrames(p.string(), {frames + 3}), ReadError);
    fs::remove(p);
  }
}

TEST(EchoClip, JpegFramesSplitOverFragmentsWithoutOffsetTable) {
  // The real JPEG loop re-wrapped with each frame in two fragments and an empty offset table:
  // DCMTK cannot locate frame k directly, the reader walks the frames before it (one at a time).
  const fs::path src = dataFile("us_dicom/derived_reencoded/US-PAL-8-10x-echo.rgb_jpeg_baseline.dcm");
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(src.c_str()).good());
  DcmPixelData* pd = nullptr;
  DcmPixelSequence* seq = nullptr;
  ASSERT_TRUE(ff.getDataset()->findAndGetElement(DCM_PixelData, reinterpret_cast<DcmElement*&>(pd)).good());
  E_TransferSyntax xfer = EXS_Unknown;
  const DcmRepresentationParameter* param = nullptr;
  pd->getOriginalRepresentationKey(xfer, param);
  ASSERT_TRUE(pd->getEncapsulatedRepresentation(xfer, param, seq).good());
  auto* split = new DcmPixelSequence(DCM_PixelSequenceTag);
  split->insert(new DcmPixelItem(DCM_PixelItemTag));  // empty offset table
  for (unsigned long i = 1; i < seq->card(); ++i) {
    DcmPixelItem* item = nullptr;
    ASSERT_TRUE(seq->getItem(item, i).good());
    Uint8* data = nullptr;
    ASSERT_TRUE(item->getUint8Array(data).good());
    const Uint32 len = item->getLength(), half = (len / 2) & ~1u;
    for (auto [off, n] : {std::pair<Uint32, Uint32>{0, half}, {half, len - half}}) {
      auto* part = new DcmPixelItem(DCM_PixelItemTag);
      part->putUint8Array(data + off, n);
      split->insert(part);
    }
  }
  auto* npd = new DcmPixelData(DCM_PixelData);
  npd->putOriginalRepresentation(xfer, nullptr, split);
  ff.getDataset()->insert(npd, true);
  const fs::path out = fs::temp_directory_path() / "split_fragments.dcm";
  ASSERT_TRUE(ff.saveFile(out.c_str(), xfer).good());
  const auto all = testref::oldFullDecode(src.string());
  const std::vector<int> list{5, 1, 9, 2};
  const auto listed = readDicomEchoFrames(out.string(), list);
  ASSERT_EQ(listed.frames, 4);
  const std::size_t fb = static_cast<std::size_t>(all.rows) * all.cols * all.channels;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(0, std::memcmp(listed.frame(i), all.frame(list[i]), fb)) << list[i];
  EXPECT_TRUE(sameFrames(readDicomEchoFrames(out.string()), all));
  fs::remove(out);
}

TEST(EchoClip, SixteenBitGreyWithAndWithoutWindow) {
  // With a VOI window each frame renders alone; without one the min-max window spans the whole
  // loop, so that file is still decoded whole: both as the whole-loop decode.
  for (bool window : {true, false}) {
    DcmFileFormat ff;
    DcmDataset* ds = ff.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, UID_UltrasoundMultiframeImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6.7.8.9");
    ds->putAndInsertString(DCM_Modality, "US");
    ds->putAndInsertUint16(DCM_Rows, 24);
    ds->putAndInsertUint16(DCM_Columns, 32);
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 12);
    ds->putAndInsertUint16(DCM_HighBit, 11);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    ds->putAndInsertString(DCM_NumberOfFrames, "5");
    if (window) {
      ds->putAndInsertString(DCM_WindowCenter, "1500");
      ds->putAndInsertString(DCM_WindowWidth, "2000");
    }
    std::vector<Uint16> px(24 * 32 * 5);
    for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<Uint16>((i * 7 + i / 768 * 500) % 4096);
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
    const fs::path p = fs::temp_directory_path() / (window ? "grey16_window.dcm" : "grey16.dcm");
    ASSERT_TRUE(ff.saveFile(p.c_str(), EXS_LittleEndianExplicit).good());
    const auto all = testref::oldFullDecode(p.string());
    ASSERT_EQ(all.frames, 5);
    EXPECT_TRUE(sameFrames(readDicomEchoFrames(p.string()), all)) << window;
    const auto listed = readDicomEchoFrames(p.string(), std::vector<int>{4, 0});
    EXPECT_EQ(0, std::memcmp(listed.frame(0), all.frame(4), 24 * 32)) << window;
    EXPECT_EQ(0, std::memcmp(listed.frame(1), all.frame(0), 24 * 32)) << window;
    const auto spec = specs()[0];
    EXPECT_TRUE(torch::equal(model::prepareClipFromPicked(pipeline::readEchoFrames(p.string(), spec), spec),
                             testref::oldPrepareClip(all, spec, 0)));
    fs::remove(p);
  }
}
