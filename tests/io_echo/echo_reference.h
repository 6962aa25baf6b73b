// The echo reader as it was before issue 22 (whole loop decoded at once: chooseRepresentation of
// the whole data set, then one DicomImage over all frames), kept in the tests as the reference the
// frame-by-frame reader must match bit for bit, and as the "before" of the memory figures.
#pragma once
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <torch/torch.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "common/types.h"
#include "model/model.h"

namespace e2e::testref {

inline EchoFrames oldFullDecode(const std::string& path) {
  // Same registration as the reader (DCMTK keeps the first registration).
  DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never);
  DcmRLEDecoderRegistration::registerCodecs();
  DJLSDecoderRegistration::registerCodecs();
  DcmFileFormat ff;
  if (ff.loadFile(path.c_str()).bad()) throw std::runtime_error("cannot load " + path);
  DcmDataset* ds = ff.getDataset();
  long bitsStored = 8;
  ds->findAndGetLongInt(DCM_BitsStored, bitsStored);
  const DcmXfer orig(ds->getOriginalXfer());
  if (orig.isEncapsulated() && ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad())
    throw std::runtime_error("cannot decompress " + path);
  DicomImage img(ds, ds->getCurrentXfer(), CIF_MayDetachPixelData, 0, 0);
  if (img.getStatus() != EIS_Normal) throw std::runtime_error("cannot decode " + path);
  EchoFrames out;
  out.rows = static_cast<int>(img.getHeight());
  out.cols = static_cast<int>(img.getWidth());
  out.frames = static_cast<int>(img.getFrameCount());
  out.channels = img.isMonochrome() ? 1 : 3;
  if (img.isMonochrome() && bitsStored > 8) {
    if (img.getWindowCount() > 0) img.setWindow(0);
    else img.setMinMaxWindow(0);
  }
  const std::size_t bytes = static_cast<std::size_t>(out.rows) * out.cols * out.channels;
  out.pixels.resize(bytes * out.frames);
  for (int f = 0; f < out.frames; ++f) {
    const void* p = img.getOutputData(8, static_cast<unsigned long>(f), 0);
    if (!p) throw std::runtime_error("cannot render " + path);
    std::memcpy(out.pixels.data() + bytes * f, p, bytes);
    img.deleteOutputData();
  }
  return out;
}

// prepareClip as it was: all picked frames stacked in float, then resized and normalised at once.
inline torch::Tensor oldPrepareClip(const EchoFrames& fr, const model::VideoInputSpec& spec, int startFrame) {
  namespace F = torch::nn::functional;
  const int64_t ch = fr.channels;
  std::vector<torch::Tensor> picked;
  for (int64_t i = 0; i < spec.frames; ++i) {
    const int64_t f = (startFrame + i * spec.frameStride) % fr.frames;
    auto t = torch::from_blob(const_cast<std::uint8_t*>(fr.frame(static_cast<int>(f))), {fr.rows, fr.cols, ch},
                              torch::kUInt8);
    picked.push_back(t.to(torch::kFloat32));
  }
  auto clip = torch::stack(picked).permute({0, 3, 1, 2});
  if (spec.channels == 3 && ch == 1) clip = clip.expand({-1, 3, -1, -1});
  if (spec.channels == 1 && ch == 3) clip = clip.mean(1, true);
  clip = F::interpolate(clip.contiguous(), F::InterpolateFuncOptions()
                                               .size(std::vector<int64_t>{spec.height, spec.width})
                                               .mode(torch::kBilinear)
                                               .align_corners(false));
  clip = (clip - torch::tensor(spec.mean).view({1, -1, 1, 1})) / torch::tensor(spec.std).view({1, -1, 1, 1});
  return clip.permute({1, 0, 2, 3}).contiguous();
}

}  // namespace e2e::testref
