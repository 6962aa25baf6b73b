// Issue 22: embedding a long echo loop costs memory in proportion to the clip, not the loop.
// A synthetic long loop (600 frames of 640 x 480 RGB: 553 MB of pixels) is written here, raw and
// RLE; a forked child caps its own address space at what it already has plus kClipBudget
// (RLIMIT_AS) and turns the loop into the EchoPrime clip (pipeline::readEchoFrames(path, spec),
// model::prepareClipFromPicked: 16 frames at stride 2, 224 x 224). It must succeed, and decoding
// the whole loop first (the old way) must fail under the same cap. The child's peak RSS growth
// is printed (docs/reliability.md quotes it).
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "io/dicom_echo.h"
#include "model/model.h"
#include "pipeline/embedder.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

constexpr int kFrames = 600, kRows = 480, kCols = 640;
constexpr std::size_t kPlane = std::size_t{kRows} * kCols;
constexpr std::size_t kClipBudget = std::size_t{128} << 20;  // address space a clip may add

std::uint8_t pixel(int f, std::size_t i, int c) {
  return static_cast<std::uint8_t>((f * 3 + static_cast<int>(i / 128) + c * 60) & 255);
}

DcmFileFormat header() {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  char uid[100];
  ds->putAndInsertString(DCM_SOPClassUID, UID_UltrasoundMultiframeImageStorage);
  ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  ds->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
  ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  ds->putAndInsertString(DCM_Modality, "US");
  ds->putAndInsertString(DCM_PatientID, "LONGLOOP");
  ds->putAndInsertUint16(DCM_Rows, kRows);
  ds->putAndInsertUint16(DCM_Columns, kCols);
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 3);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "RGB");
  ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
  ds->putAndInsertUint16(DCM_BitsAllocated, 8);
  ds->putAndInsertUint16(DCM_BitsStored, 8);
  ds->putAndInsertUint16(DCM_HighBit, 7);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(kFrames).c_str());
  ds->putAndInsertString(DCM_FrameTime, "33.3");
  return ff;
}

// Raw: the header written by DCMTK, then Pixel Data (the last element) streamed frame by frame,
// so the test itself never holds the loop.
fs::path writeRaw(const fs::path& dir) {
  const fs::path p = dir / "long_raw.dcm";
  DcmFileFormat ff = header();
  EXPECT_TRUE(ff.saveFile(p.c_str(), EXS_LittleEndianExplicit).good());
  std::ofstream out(p, std::ios::binary | std::ios::app);
  const std::uint32_t len = static_cast<std::uint32_t>(kPlane * 3 * kFrames);
  const unsigned char tag[12] = {0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0,
                                 static_cast<unsigned char>(len), static_cast<unsigned char>(len >> 8),
                                 static_cast<unsigned char>(len >> 16), static_cast<unsigned char>(len >> 24)};
  out.write(reinterpret_cast<const char*>(tag), 12);
  std::vector<char> frame(kPlane * 3);
  for (int f = 0; f < kFrames; ++f) {
    for (std::size_t i = 0; i < kPlane; ++i)
      for (int c = 0; c < 3; ++c) frame[i * 3 + c] = static_cast<char>(pixel(f, i, c));
    out.write(frame.data(), static_cast<std::streamsize>(frame.size()));
  }
  return p;
}

// RLE Lossless: one fragment per frame, three segments (R, G, B) of 128-byte runs.
fs::path writeRle(const fs::path& dir) {
  const fs::path p = dir / "long_rle.dcm";
  DcmFileFormat ff = header();
  auto* seq = new DcmPixelSequence(DCM_PixelSequenceTag);
  seq->insert(new DcmPixelItem(DCM_PixelItemTag));  // empty offset table
  const std::size_t segBytes = kPlane / 128 * 2;
  for (int f = 0; f < kFrames; ++f) {
    std::vector<Uint8> rle(64 + 3 * segBytes, 0);
    const Uint32 head[4] = {3, 64, static_cast<Uint32>(64 + segBytes), static_cast<Uint32>(64 + 2 * segBytes)};
    std::memcpy(rle.data(), head, sizeof head);  // little-endian host
    for (int c = 0; c < 3; ++c)
      for (std::size_t r = 0; r < kPlane / 128; ++r) {
        rle[64 + c * segBytes + 2 * r] = 0x81;  // repeat the next byte 128 times
        rle[64 + c * segBytes + 2 * r + 1] = pixel(f, r * 128, c);
      }
    auto* item = new DcmPixelItem(DCM_PixelItemTag);
    item->putUint8Array(rle.data(), static_cast<Uint32>(rle.size()));
    seq->insert(item);
  }
  auto* pd = new DcmPixelData(DCM_PixelData);
  pd->putOriginalRepresentation(EXS_RLELossless, nullptr, seq);
  ff.getDataset()->insert(pd, true);
  EXPECT_TRUE(ff.saveFile(p.c_str(), EXS_RLELossless).good());
  return p;
}

long statusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  return -1;
}

struct ChildResult {
  bool ok = false;
  long peakGrowthMb = -1;  // peak RSS minus RSS at the start, in the child
};

// `work` in a forked child whose address space may grow by `budget` bytes (0: unlimited).
ChildResult inChild(const std::function<void()>& work, std::size_t budget) {
  int fd[2];
  if (::pipe(fd) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fd[0]);
    torch::set_num_threads(1);  // no pool threads: their stacks would count against the cap
    ::mallopt(M_ARENA_MAX, 1);
    if (budget > 0) {
      const rlim_t lim = static_cast<rlim_t>(statusKb("VmSize:")) * 1024 + budget;
      const rlimit rl{lim, lim};
      ::setrlimit(RLIMIT_AS, &rl);
    }
    std::ofstream("/proc/self/clear_refs") << "5";  // restart the peak RSS count here
    const long rss0 = statusKb("VmRSS:");
    int rc = 0;
    try {
      work();
    } catch (...) {
      rc = 3;
    }
    const long growth = (statusKb("VmHWM:") - rss0) / 1024;
    (void)!::write(fd[1], &growth, sizeof growth);
    ::_exit(rc);
  }
  ::close(fd[1]);
  ChildResult r;
  int st = 0;
  ::waitpid(pid, &st, 0);
  if (::read(fd[0], &r.peakGrowthMb, sizeof r.peakGrowthMb) != sizeof r.peakGrowthMb) r.peakGrowthMb = -1;
  ::close(fd[0]);
  r.ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  return r;
}

model::VideoInputSpec echoPrime() {
  model::VideoInputSpec s;  // 16 frames at stride 2
  s.height = s.width = 224;
  return s;
}

class EchoClipMemory : public ::testing::TestWithParam<bool> {};

}  // namespace

TEST_P(EchoClipMemory, LongLoopClipWithinClipBudget) {
  const fs::path dir = fs::temp_directory_path() / ("e2e_longloop_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (GetParam() ? writeRle(dir) : writeRaw(dir)).string();
  ASSERT_EQ(readDicomEchoInfo(path).frames, kFrames);
  const auto spec = echoPrime();
  const ChildResult clip = inChild(
      [&] {
        const auto t = model::prepareClipFromPicked(pipeline::readEchoFrames(path, spec), spec);
        if (t.size(0) != 3 || t.size(1) != 16 || t.size(2) != 224) throw std::runtime_error("clip shape");
      },
      kClipBudget);
  EXPECT_TRUE(clip.ok) << "the clip of a long loop did not fit in " << (kClipBudget >> 20) << " MB";
  const ChildResult whole = inChild([&] { model::prepareClip(readDicomEchoFrames(path), spec); }, kClipBudget);
  EXPECT_FALSE(whole.ok) << "decoding the whole " << kFrames << "-frame loop fit in the clip budget";
  std::printf("[ budget   ] %s loop %d x %dx%d RGB: clip peak RSS +%ld MB under a +%zu MB address-space cap\n",
              GetParam() ? "RLE" : "raw", kFrames, kCols, kRows, clip.peakGrowthMb, kClipBudget >> 20);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(RawAndRle, EchoClipMemory, ::testing::Values(false, true),
                         [](const auto& i) { return std::string(i.param ? "Rle" : "Raw"); });
