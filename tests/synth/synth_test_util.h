// Helpers for the synth tests: temp dirs and DCMTK decoding of what the generator wrote.
#pragma once
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>

namespace synthtest {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("e2e_synth_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

inline std::string readBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string str(DcmItem* item, const DcmTagKey& tag) {
  OFString v;
  if (item && item->findAndGetOFStringArray(tag, v).good()) return v.c_str();
  return {};
}

// 12 leads (mV) decoded from the first multiplex group.
struct Ecg {
  double fs = 0;
  unsigned channels = 0, samples = 0;
  std::vector<std::vector<double>> leads;
};

inline Ecg readEcg(DcmFileFormat& ff) {
  Ecg e;
  DcmItem* grp = nullptr;
  EXPECT_TRUE(ff.getDataset()->findAndGetSequenceItem(DCM_WaveformSequence, grp, 0).good());
  if (!grp) return e;
  Uint16 nch = 0;
  Uint32 ns = 0;
  grp->findAndGetUint16(DCM_NumberOfWaveformChannels, nch);
  grp->findAndGetUint32(DCM_NumberOfWaveformSamples, ns);
  Float64 fs = 0;
  grp->findAndGetFloat64(DCM_SamplingFrequency, fs);
  e.fs = fs;
  e.channels = nch;
  e.samples = ns;
  std::vector<double> sens(nch, 1.0);
  for (unsigned c = 0; c < nch; ++c) {
    DcmItem* cd = nullptr;
    if (grp->findAndGetSequenceItem(DCM_ChannelDefinitionSequence, cd, static_cast<int>(c)).good()) {
      Float64 s = 1;
      cd->findAndGetFloat64(DCM_ChannelSensitivity, s);
      sens[c] = s;
    }
  }
  const Uint16* raw = nullptr;
  unsigned long count = 0;
  EXPECT_TRUE(grp->findAndGetUint16Array(DCM_WaveformData, raw, &count).good());
  EXPECT_EQ(count, static_cast<unsigned long>(nch) * ns);
  if (!raw || count < static_cast<unsigned long>(nch) * ns) return e;
  e.leads.assign(nch, std::vector<double>(ns));
  for (unsigned k = 0; k < ns; ++k)
    for (unsigned c = 0; c < nch; ++c) e.leads[c][k] = static_cast<Sint16>(raw[k * nch + c]) * sens[c];
  return e;
}

struct Echo {
  int rows = 0, cols = 0, frames = 0;
  std::vector<std::uint8_t> pixels;
  const std::uint8_t* frame(int f) const { return pixels.data() + static_cast<std::size_t>(f) * rows * cols; }
};

inline Echo readEcho(DcmFileFormat& ff) {
  Echo e;
  DcmDataset* d = ff.getDataset();
  Uint16 r = 0, c = 0;
  d->findAndGetUint16(DCM_Rows, r);
  d->findAndGetUint16(DCM_Columns, c);
  Sint32 nf = 0;
  d->findAndGetSint32(DCM_NumberOfFrames, nf);
  e.rows = r;
  e.cols = c;
  e.frames = nf;
  const Uint8* px = nullptr;
  unsigned long n = 0;
  EXPECT_TRUE(d->findAndGetUint8Array(DCM_PixelData, px, &n).good());
  EXPECT_EQ(n, static_cast<unsigned long>(r) * c * nf);
  if (px) e.pixels.assign(px, px + n);
  return e;
}

}  // namespace synthtest
