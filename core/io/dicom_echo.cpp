// DICOM ultrasound (echo) reader built on DCMTK.
//
// Policy on SOP classes:
//  * the ultrasound storage classes (US Image, US Multi-frame and their retired
//    predecessors) are read without comment;
//  * other image objects with Modality US are read with a warning;
//  * Secondary Capture and X-ray angiography / fluoroscopy cines (e.g. an XA JPEG
//    cine) are read as a generic cine loop with a "not ultrasound" warning, so
//    that they can be viewed; identity.modality tells the caller what they are;
//  * everything else (ECG waveforms, CT, MR, SR, files without Pixel Data...) is
//    rejected with a ReadError "not an ultrasound image ...".
#include "io/dicom_echo.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfcache.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmimage/diregist.h"  // colour image support for DicomImage
#include "dcmtk/dcmimgle/dcmimage.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"

namespace e2e {

namespace {

void registerDecoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    // YBR_FULL / YBR_FULL_422 JPEG data is converted to RGB by the decoder and the
    // PhotometricInterpretation is updated to RGB, so DicomImage does not convert again.
    DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never);
    DcmRLEDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
  });
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (std::isspace(static_cast<unsigned char>(s[b])) || s[b] == '\0')) ++b;
  while (e > b && (std::isspace(static_cast<unsigned char>(s[e - 1])) || s[e - 1] == '\0')) --e;
  return s.substr(b, e - b);
}

std::string getStr(DcmItem* item, const DcmTagKey& tag) {
  OFString s;
  if (item && item->findAndGetOFStringArray(tag, s).good()) return trim(s.c_str());
  return "";
}

bool getLong(DcmItem* item, const DcmTagKey& tag, long& out, unsigned long pos = 0) {
  long int v = 0;
  if (item && item->findAndGetLongInt(tag, v, pos).good()) {
    out = v;
    return true;
  }
  // IS strings
  Sint32 s = 0;
  if (item && item->findAndGetSint32(tag, s, pos).good()) {
    out = s;
    return true;
  }
  return false;
}

bool getDouble(DcmItem* item, const DcmTagKey& tag, double& out, unsigned long pos = 0) {
  Float64 v = 0;
  if (item && item->findAndGetFloat64(tag, v, pos).good() && std::isfinite(v)) {
    out = v;
    return true;
  }
  long l = 0;
  if (getLong(item, tag, l, pos)) {
    out = static_cast<double>(l);
    return true;
  }
  return false;
}

std::string fmt(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

bool startsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

bool isJpeg2000(const std::string& ts) {
  // 1.2.840.10008.1.2.4.90-93 (JPEG 2000 part 1/2), .201-.203 (HTJ2K)
  return ts == "1.2.840.10008.1.2.4.90" || ts == "1.2.840.10008.1.2.4.91" || ts == "1.2.840.10008.1.2.4.92" ||
         ts == "1.2.840.10008.1.2.4.93" || startsWith(ts, "1.2.840.10008.1.2.4.20");
}
bool isVideoTs(const std::string& ts) {
  // MPEG-2, MPEG-4 AVC/H.264, HEVC/H.265: 1.2.840.10008.1.2.4.100 ... .108
  return startsWith(ts, "1.2.840.10008.1.2.4.10");
}

bool isSecondaryCaptureOrXray(const std::string& uid) {
  static const char* k[] = {"1.2.840.10008.5.1.4.1.1.7",     "1.2.840.10008.5.1.4.1.1.7.1",
                            "1.2.840.10008.5.1.4.1.1.7.2",   "1.2.840.10008.5.1.4.1.1.7.3",
                            "1.2.840.10008.5.1.4.1.1.7.4",   "1.2.840.10008.5.1.4.1.1.12.1",
                            "1.2.840.10008.5.1.4.1.1.12.1.1", "1.2.840.10008.5.1.4.1.1.12.2",
                            "1.2.840.10008.5.1.4.1.1.12.2.1", "1.2.840.10008.5.1.4.1.1.12.3"};
  for (const char* s : k)
    if (uid == s) return true;
  return false;
}

std::string sopName(const std::string& uid) {
  const char* n = dcmFindNameOfUID(uid.c_str(), nullptr);
  if (n) return std::string(n) + " (" + uid + ")";
  return uid.empty() ? std::string("<no SOP Class UID>") : uid;
}

bool hasDicmMagic(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char buf[132];
  if (!f.read(buf, 132)) return false;
  return std::memcmp(buf + 128, "DICM", 4) == 0;
}

// Loads a DICOM file. metaOnly: large values (pixel data) stay on disk.
void loadDicom(const std::string& path, DcmFileFormat& ff, bool metaOnly) {
  {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) throw ReadError(path, "cannot open file");
    if (f.tellg() <= 0) throw ReadError(path, "empty file, not a DICOM file");
  }
  const bool magic = hasDicmMagic(path);
  const Uint32 maxRead = metaOnly ? 4096 : DCM_MaxReadLength;
  OFCondition c = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, maxRead, magic ? ERM_autoDetect : ERM_dataset);
  DcmDataset* ds = ff.getDataset();
  if (!magic) {
    // A raw data set without preamble is legal but rare: accept it only if it parses
    // cleanly and carries the basic image attributes.
    if (c.bad() || !ds || !ds->tagExists(DCM_SOPClassUID) || !ds->tagExists(DCM_Rows))
      throw ReadError(path, "not a DICOM file (no 'DICM' marker and no readable DICOM data set)");
    return;
  }
  if (c.bad()) {
    std::string why = c.text();
    if (c == EC_EndOfStream || c == EC_StreamNotifyClient || why.find("end of") != std::string::npos ||
        why.find("Premature") != std::string::npos)
      throw ReadError(path, "truncated DICOM file (" + why + ")");
    throw ReadError(path, "corrupt or truncated DICOM file (" + why + ")");
  }
}


}  // namespace

bool isUltrasoundSopClass(const std::string& uid) {
  return uid == "1.2.840.10008.5.1.4.1.1.3.1" || uid == "1.2.840.10008.5.1.4.1.1.6.1" ||
         uid == "1.2.840.10008.5.1.4.1.1.3" || uid == "1.2.840.10008.5.1.4.1.1.6";
}

namespace {

Identity readIdentity(DcmItem* ds, DcmItem* meta) {
  Identity id;
  id.patientId = getStr(ds, DCM_PatientID);
  id.patientName = getStr(ds, DCM_PatientName);
  id.birthDate = getStr(ds, DCM_PatientBirthDate);
  id.sex = getStr(ds, DCM_PatientSex);
  id.age = getStr(ds, DCM_PatientAge);
  id.studyUid = getStr(ds, DCM_StudyInstanceUID);
  id.studyDate = getStr(ds, DCM_StudyDate);
  id.studyTime = getStr(ds, DCM_StudyTime);
  id.studyDescription = getStr(ds, DCM_StudyDescription);
  id.accessionNumber = getStr(ds, DCM_AccessionNumber);
  id.seriesUid = getStr(ds, DCM_SeriesInstanceUID);
  id.seriesDescription = getStr(ds, DCM_SeriesDescription);
  long sn = 0;
  if (getLong(ds, DCM_SeriesNumber, sn)) id.seriesNumber = static_cast<int>(sn);
  id.modality = getStr(ds, DCM_Modality);
  id.sopClassUid = getStr(ds, DCM_SOPClassUID);
  if (id.sopClassUid.empty()) id.sopClassUid = getStr(meta, DCM_MediaStorageSOPClassUID);
  id.sopInstanceUid = getStr(ds, DCM_SOPInstanceUID);
  if (id.sopInstanceUid.empty()) id.sopInstanceUid = getStr(meta, DCM_MediaStorageSOPInstanceUID);
  id.manufacturer = getStr(ds, DCM_Manufacturer);
  id.modelName = getStr(ds, DCM_ManufacturerModelName);
  return id;
}

void readTiming(DcmItem* ds, EchoInfo& info) {
  DcmElement* el = nullptr;
  if (ds->findAndGetElement(DCM_FrameTimeVector, el).good() && el && el->getVM() >= 2) {
    std::vector<double> t;
    for (unsigned long i = 0; i < el->getVM(); ++i) {
      Float64 v = 0;
      if (el->getFloat64(v, i).bad() || !std::isfinite(v)) {
        t.clear();
        break;
      }
      t.push_back(v);
    }
    double sum = 0;
    for (std::size_t i = 1; i < t.size(); ++i) sum += t[i];
    if (t.size() >= 2 && sum > 0) {
      const double mean = sum / static_cast<double>(t.size() - 1);
      info.fps = 1000.0 / mean;
      info.fpsSource = FrameRateSource::FrameTimeVector;
      info.frameTimesMs = t;
      if (static_cast<int>(t.size()) != info.frames)
        info.warnings.push_back("FrameTimeVector has " + std::to_string(t.size()) + " entries for " +
                                std::to_string(info.frames) + " frames");
      return;
    }
    info.warnings.push_back("FrameTimeVector present but unusable; ignored");
  }
  double v = 0;
  if (getDouble(ds, DCM_FrameTime, v) && v > 0) {
    info.fps = 1000.0 / v;
    info.fpsSource = FrameRateSource::FrameTime;
    return;
  }
  if (getDouble(ds, DCM_CineRate, v) && v > 0) {
    info.fps = v;
    info.fpsSource = FrameRateSource::CineRate;
    return;
  }
  if (getDouble(ds, DCM_RecommendedDisplayFrameRate, v) && v > 0) {
    info.fps = v;
    info.fpsSource = FrameRateSource::RecommendedDisplayFrameRate;
    return;
  }
  info.fps = 30.0;
  info.fpsSource = FrameRateSource::Default;
  info.warnings.push_back(std::string("no frame timing in the file (FrameTimeVector, FrameTime, CineRate, "
                                      "RecommendedDisplayFrameRate)") +
                          (info.frames <= 1 ? " for this single-frame image" : "") + "; assuming 30 fps");
}

void readRegions(DcmItem* ds, EchoInfo& info) {
  DcmSequenceOfItems* seq = nullptr;
  if (ds->findAndGetSequence(DCM_SequenceOfUltrasoundRegions, seq).bad() || !seq) return;
  for (unsigned long i = 0; i < seq->card(); ++i) {
    DcmItem* it = seq->getItem(i);
    UltrasoundRegion r;
    long l = 0;
    double d = 0;
    if (getLong(it, DCM_RegionLocationMinX0, l)) r.x0 = static_cast<int>(l);
    if (getLong(it, DCM_RegionLocationMinY0, l)) r.y0 = static_cast<int>(l);
    if (getLong(it, DCM_RegionLocationMaxX1, l)) r.x1 = static_cast<int>(l);
    if (getLong(it, DCM_RegionLocationMaxY1, l)) r.y1 = static_cast<int>(l);
    if (getLong(it, DCM_RegionSpatialFormat, l)) r.spatialFormat = static_cast<int>(l);
    if (getLong(it, DCM_RegionDataType, l)) r.dataType = static_cast<int>(l);
    if (getLong(it, DCM_RegionFlags, l)) r.flags = static_cast<int>(l);
    if (getLong(it, DCM_PhysicalUnitsXDirection, l)) r.unitsX = static_cast<int>(l);
    if (getLong(it, DCM_PhysicalUnitsYDirection, l)) r.unitsY = static_cast<int>(l);
    if (getDouble(it, DCM_PhysicalDeltaX, d)) r.deltaX = d;
    if (getDouble(it, DCM_PhysicalDeltaY, d)) r.deltaY = d;
    if (getLong(it, DCM_ReferencePixelX0, l)) r.refPixelX0 = static_cast<double>(l);
    if (getLong(it, DCM_ReferencePixelY0, l)) r.refPixelY0 = static_cast<double>(l);
    info.regions.push_back(r);
  }
}

void readView(DcmItem* ds, EchoInfo& info) {
  DcmItem* vc = nullptr;
  if (ds->findAndGetSequenceItem(DCM_ViewCodeSequence, vc, 0).good() && vc) {
    const std::string meaning = getStr(vc, DCM_CodeMeaning);
    info.viewCode = getStr(vc, DCM_CodeValue);
    std::string label = echoViewFromText(meaning);
    if (label.empty()) label = meaning.empty() ? info.viewCode : meaning;
    if (!label.empty()) {
      info.viewLabel = label;
      info.viewSource = ViewLabelSource::ViewCodeSequence;
      return;
    }
  }
  const std::string fromDesc = echoViewFromText(info.identity.seriesDescription);
  if (!fromDesc.empty()) {
    info.viewLabel = fromDesc;
    info.viewSource = ViewLabelSource::SeriesDescription;
    return;
  }
  info.viewLabel.clear();
  info.viewSource = ViewLabelSource::None;
}

std::size_t expectedNativeBytes(const EchoInfo& info) {
  const std::size_t px = static_cast<std::size_t>(info.rows) * info.cols * info.samplesPerPixel * info.frames;
  if (info.bitsAllocated == 1) return (px + 7) / 8;
  return px * static_cast<std::size_t>((info.bitsAllocated + 7) / 8);
}

// Header facts shared by the info and frame readers. Throws for non-ultrasound and broken headers.
EchoInfo parseInfo(const std::string& path, DcmFileFormat& ff) {
  DcmDataset* ds = ff.getDataset();
  DcmMetaInfo* meta = ff.getMetaInfo();
  EchoInfo info;
  info.sourcePath = path;
  info.format = SourceFormat::DicomEcho;
  info.identity = readIdentity(ds, meta);
  const std::string& sop = info.identity.sopClassUid;
  const bool hasPixels = ds->tagExists(DCM_PixelData);
  if (!isUltrasoundSopClass(sop)) {
    const std::string what = "SOP class " + sopName(sop) + ", modality '" + info.identity.modality + "'";
    if (!hasPixels) throw ReadError(path, "not an ultrasound image: " + what + ", no Pixel Data");
    if (info.identity.modality == "US")
      info.warnings.push_back(what + " is not an ultrasound storage class; read as an echo loop");
    else if (isSecondaryCaptureOrXray(sop))
      info.warnings.push_back("not ultrasound: " + what + "; read as a generic cine loop");
    else
      throw ReadError(path, "not an ultrasound image: " + what);
  }
  if (!hasPixels) throw ReadError(path, "ultrasound object without Pixel Data");

  info.transferSyntaxUid = getStr(meta, DCM_TransferSyntaxUID);
  if (info.transferSyntaxUid.empty()) info.transferSyntaxUid = DcmXfer(ds->getOriginalXfer()).getXferID();
  info.photometric = getStr(ds, DCM_PhotometricInterpretation);
  long l = 0;
  if (getLong(ds, DCM_Rows, l)) info.rows = static_cast<int>(l);
  if (getLong(ds, DCM_Columns, l)) info.cols = static_cast<int>(l);
  info.frames = 1;
  if (getLong(ds, DCM_NumberOfFrames, l)) info.frames = static_cast<int>(l);
  if (getLong(ds, DCM_SamplesPerPixel, l)) info.samplesPerPixel = static_cast<int>(l);
  if (getLong(ds, DCM_BitsAllocated, l)) info.bitsAllocated = static_cast<int>(l);
  if (getLong(ds, DCM_BitsStored, l)) info.bitsStored = static_cast<int>(l);
  else info.bitsStored = info.bitsAllocated;
  if (info.rows <= 0 || info.cols <= 0)
    throw ReadError(path, "invalid image size (Rows " + std::to_string(info.rows) + ", Columns " +
                              std::to_string(info.cols) + ")");
  if (info.frames <= 0) throw ReadError(path, "invalid NumberOfFrames " + std::to_string(info.frames));
  if (info.samplesPerPixel != 1 && info.samplesPerPixel != 3)
    throw ReadError(path, "unsupported SamplesPerPixel " + std::to_string(info.samplesPerPixel));
  if (info.photometric.empty()) {
    info.photometric = info.samplesPerPixel == 3 ? "RGB" : "MONOCHROME2";
    info.warnings.push_back("PhotometricInterpretation missing; assuming " + info.photometric);
  }

  // Native pixel data must be complete: a cut file must not yield garbage frames.
  const DcmXfer xfer(ds->getOriginalXfer());
  DcmElement* pix = nullptr;
  if (!xfer.isEncapsulated() && ds->findAndGetElement(DCM_PixelData, pix).good() && pix) {
    const std::size_t have = pix->getLength();
    const std::size_t need = expectedNativeBytes(info);
    if (have < need)
      throw ReadError(path, "truncated pixel data: " + std::to_string(have) + " bytes for " +
                                std::to_string(info.frames) + " frame(s) of " + std::to_string(info.rows) + "x" +
                                std::to_string(info.cols) + " that need " + std::to_string(need) + " bytes");
  }
  if (isJpeg2000(info.transferSyntaxUid))
    info.warnings.push_back("JPEG 2000 transfer syntax is not supported by this build (DCMTK without JPEG 2000); "
                            "frames cannot be decoded");

  readTiming(ds, info);
  readRegions(ds, info);
  readView(ds, info);
  return info;
}

// More decoded pixel data than this from one file is refused before anything is allocated (a real
// loop, 1024 x 768 RGB x 300 frames, is 0.7 GB).
constexpr std::size_t kMaxDecodedBytes = std::size_t{4} << 30;

bool isJpegFamily(const std::string& ts) {
  // 1.2.840.10008.1.2.4.50-.70 (JPEG baseline/extended/lossless), .80/.81 (JPEG-LS)
  const std::string root = "1.2.840.10008.1.2.4.";
  if (ts.rfind(root, 0) != 0) return false;
  const std::string n = ts.substr(root.size());
  return (n.size() == 2 && n >= "50" && n <= "70") || n == "80" || n == "81";
}

// The frame size in the first JPEG / JPEG-LS stream of the file (its SOF segment), false if none
// is found in the first 16 MiB.
bool firstJpegFrameSize(const std::string& path, int& width, int& height) {
  std::ifstream f(path, std::ios::binary);
  std::string buf(std::size_t{16} << 20, '\0');
  f.read(&buf[0], static_cast<std::streamsize>(buf.size()));
  buf.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, f.gcount())));
  const auto u = [&](std::size_t i) { return static_cast<unsigned char>(buf[i]); };
  std::size_t i = buf.find("\xFF\xD8\xFF");
  if (i == std::string::npos) return false;
  i += 2;
  while (i + 9 < buf.size() && u(i) == 0xFF) {
    const unsigned m = u(i + 1);
    if (m == 0xFF) { ++i; continue; }  // fill byte
    const bool sof = (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) || m == 0xF7;
    if (sof) {
      height = (u(i + 5) << 8) | u(i + 6);
      width = (u(i + 7) << 8) | u(i + 8);
      return true;
    }
    if (m == 0xD9 || m == 0xDA) return false;  // end of image / start of scan before any SOF
    i += 2 + ((u(i + 2) << 8) | u(i + 3));
  }
  return false;
}

// The header's image geometry must agree with the file before frames are decoded: a bounded
// decoded size, and for JPEG data the size the JPEG stream itself declares.
void checkPixelGeometry(const std::string& path, const EchoInfo& info) {
  const std::size_t need = expectedNativeBytes(info);
  if (need > kMaxDecodedBytes || need / std::max<std::size_t>(1, info.frames) > (std::size_t{1} << 30))
    throw ReadError(path, "implausible image size: " + std::to_string(info.frames) + " frame(s) of " +
                              std::to_string(info.rows) + "x" + std::to_string(info.cols) + " would decode to " +
                              std::to_string(need) + " bytes (limit " + std::to_string(kMaxDecodedBytes) + ")");
  if (!isJpegFamily(info.transferSyntaxUid)) return;
  int w = 0, h = 0;
  if (!firstJpegFrameSize(path, w, h))
    throw ReadError(path, "JPEG transfer syntax but no JPEG frame header (SOF) found in the pixel data");
  if (w != info.cols || h != info.rows)
    throw ReadError(path, "the JPEG stream's frame is " + std::to_string(w) + "x" + std::to_string(h) +
                              " (width x height) but the DICOM header says Columns " + std::to_string(info.cols) +
                              ", Rows " + std::to_string(info.rows));
}

// Whole file size vs. where the parser stopped is not exposed by DCMTK; for the
// metadata reader we check that native pixel data actually fits in the file.
void checkFileHoldsPixelData(const std::string& path, DcmDataset* ds, const EchoInfo& info) {
  const DcmXfer xfer(ds->getOriginalXfer());
  checkPixelGeometry(path, info);
  if (xfer.isEncapsulated()) return;
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  const auto size = static_cast<std::size_t>(f.tellg());
  const std::size_t need = expectedNativeBytes(info);
  if (size < need)
    throw ReadError(path, "truncated DICOM file: " + std::to_string(size) + " bytes cannot hold " +
                              std::to_string(need) + " bytes of pixel data");
}

// PS3.3 C.7.9.2: segmented palette colour lookup table data.
bool expandSegmentedLut(const Uint16* d, std::size_t n, std::vector<Uint16>& out, int depth = 0) {
  std::size_t i = 0;
  while (i + 1 < n) {
    const Uint16 op = d[i], len = d[i + 1];
    if (op == 0) {  // discrete
      if (i + 2 + len > n) return false;
      out.insert(out.end(), d + i + 2, d + i + 2 + len);
      i += 2 + len;
    } else if (op == 1) {  // linear, from the previous value to y1
      if (i + 2 >= n || out.empty()) return false;
      const double y0 = out.back(), y1 = d[i + 2];
      for (unsigned j = 1; j <= len; ++j) out.push_back(static_cast<Uint16>(std::lround(y0 + (y1 - y0) * j / len)));
      i += 3;
    } else if (op == 2) {  // indirect: replay `len` segments starting at a word offset
      if (i + 3 >= n || depth > 0) return false;
      const std::size_t off = static_cast<std::size_t>(d[i + 2]) | (static_cast<std::size_t>(d[i + 3]) << 16);
      std::size_t j = off;
      for (unsigned s = 0; s < len; ++s) {
        if (j + 1 >= n) return false;
        const Uint16 sop = d[j], slen = d[j + 1];
        const std::size_t segWords = sop == 0 ? 2u + slen : sop == 1 ? 3u : 4u;
        if (j + segWords > n || !expandSegmentedLut(d + j, segWords, out, depth + 1)) return false;
        j += segWords;
      }
      i += 4;
    } else {
      return false;
    }
  }
  return i == n;
}

EchoFrames decodeSegmentedPalette(const std::string& path, DcmDataset* ds, const EchoInfo& info, int first, int n) {
  if (DcmXfer(ds->getOriginalXfer()).isEncapsulated())
    throw ReadError(path, "segmented PALETTE COLOR lookup tables with compressed pixel data are not supported");
  const DcmTagKey descTags[3] = {DCM_RedPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableDescriptor,
                                 DCM_BluePaletteColorLookupTableDescriptor};
  const DcmTagKey segTags[3] = {DCM_SegmentedRedPaletteColorLookupTableData,
                                DCM_SegmentedGreenPaletteColorLookupTableData,
                                DCM_SegmentedBluePaletteColorLookupTableData};
  std::vector<Uint16> lut[3];
  long firstMapped[3] = {0, 0, 0};
  int lutBits[3] = {16, 16, 16};
  for (int c = 0; c < 3; ++c) {
    long entries = 0, fm = 0, bits = 16;
    if (!getLong(ds, descTags[c], entries, 0) || !getLong(ds, descTags[c], fm, 1) || !getLong(ds, descTags[c], bits, 2))
      throw ReadError(path, "PALETTE COLOR image with an invalid lookup table descriptor");
    if (entries == 0) entries = 65536;
    const Uint16* data = nullptr;
    unsigned long cnt = 0;
    if (ds->findAndGetUint16Array(segTags[c], data, &cnt).bad() || !data || cnt == 0)
      throw ReadError(path, "PALETTE COLOR image without lookup table data");
    if (!expandSegmentedLut(data, cnt, lut[c]) || lut[c].empty())
      throw ReadError(path, "invalid segmented PALETTE COLOR lookup table data");
    if (static_cast<long>(lut[c].size()) != entries) lut[c].resize(static_cast<std::size_t>(entries), lut[c].back());
    firstMapped[c] = fm;
    lutBits[c] = static_cast<int>(bits);
  }
  EchoFrames out;
  out.rows = info.rows;
  out.cols = info.cols;
  out.frames = n;
  out.channels = 3;
  const std::size_t fpx = static_cast<std::size_t>(info.rows) * info.cols;
  out.pixels.resize(fpx * 3 * n);
  const Uint16* p16 = nullptr;
  const Uint8* p8 = nullptr;
  if (info.bitsAllocated == 16) {
    if (ds->findAndGetUint16Array(DCM_PixelData, p16).bad() || !p16)
      throw ReadError(path, "cannot read Pixel Data");
  } else if (info.bitsAllocated == 8) {
    if (ds->findAndGetUint8Array(DCM_PixelData, p8).bad() || !p8) throw ReadError(path, "cannot read Pixel Data");
  } else {
    throw ReadError(path, "PALETTE COLOR with BitsAllocated " + std::to_string(info.bitsAllocated) + " not supported");
  }
  const unsigned mask = info.bitsStored >= 16 ? 0xFFFFu : ((1u << info.bitsStored) - 1u);
  for (int f = 0; f < n; ++f) {
    const std::size_t base = static_cast<std::size_t>(first + f) * fpx;
    std::uint8_t* dst = out.pixels.data() + static_cast<std::size_t>(f) * fpx * 3;
    for (std::size_t i = 0; i < fpx; ++i) {
      const long v = static_cast<long>((p16 ? p16[base + i] : p8[base + i]) & mask);
      for (int c = 0; c < 3; ++c) {
        long idx = v - firstMapped[c];
        idx = std::max(0L, std::min(idx, static_cast<long>(lut[c].size()) - 1));
        const unsigned e = lut[c][static_cast<std::size_t>(idx)];
        dst[i * 3 + c] = static_cast<std::uint8_t>(lutBits[c] > 8 ? (e >> (lutBits[c] - 8)) : e);
      }
    }
  }
  return out;
}

}  // namespace

EchoInfo readDicomEchoInfo(const std::string& path) {
  DcmFileFormat ff;
  loadDicom(path, ff, /*metaOnly=*/true);
  EchoInfo info = parseInfo(path, ff);
  checkFileHoldsPixelData(path, ff.getDataset(), info);
  return info;
}

namespace {

// The old way, kept for what per-frame rendering cannot reproduce: 16-bit grey data without a VOI
// window (DicomImage's min-max window spans all decoded frames) and bit-packed data. Decompresses
// and renders frames [first, first+n) at once.
EchoFrames decodeRange(const std::string& path, DcmDataset* ds, const EchoInfo& info, int first, int n) {
  const DcmXfer orig(ds->getOriginalXfer());
  if (orig.isEncapsulated()) {
    OFCondition c = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (c.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit))
      throw ReadError(path, std::string("cannot decompress pixel data in transfer syntax ") + orig.getXferName() +
                                " (" + info.transferSyntaxUid +
                                "): " + (c.bad() ? c.text() : "no decoder available or corrupt data"));
    DcmElement* pix = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, pix).bad() || !pix || pix->getLength() < expectedNativeBytes(info))
      throw ReadError(path, "compressed pixel data decoded to fewer bytes than " + std::to_string(info.frames) +
                                " frames need (truncated or corrupt file)");
  }
  DicomImage img(ds, ds->getCurrentXfer(), CIF_MayDetachPixelData, static_cast<unsigned long>(first),
                 static_cast<unsigned long>(n));
  if (img.getStatus() != EIS_Normal)
    throw ReadError(path, std::string("cannot decode image: ") + DicomImage::getString(img.getStatus()));
  if (static_cast<int>(img.getFrameCount()) < n)
    throw ReadError(path, "only " + std::to_string(img.getFrameCount()) + " of " + std::to_string(n) +
                              " requested frames could be decoded");
  EchoFrames out;
  out.rows = static_cast<int>(img.getHeight());
  out.cols = static_cast<int>(img.getWidth());
  out.frames = n;
  out.channels = img.isMonochrome() ? 1 : 3;
  if (img.isMonochrome() && info.bitsStored > 8) {
    // 16-bit data: the file's own VOI window if any, else the min-max window.
    if (img.getWindowCount() > 0) img.setWindow(0);
    else img.setMinMaxWindow(0);
  }
  const std::size_t frameBytes = static_cast<std::size_t>(out.rows) * out.cols * out.channels;
  out.pixels.resize(frameBytes * n);
  for (int f = 0; f < n; ++f) {
    const void* p = img.getOutputData(8, static_cast<unsigned long>(f), 0);
    if (!p) throw ReadError(path, "cannot render frame " + std::to_string(first + f));
    std::memcpy(out.pixels.data() + frameBytes * f, p, frameBytes);
    img.deleteOutputData();
  }
  return out;
}

struct NeedsWholeRange {};  // FrameDecoder cannot render this file frame by frame: decodeRange

// Frame by frame: each frame is read (native data: only its bytes, from the file) or decompressed
// alone (DcmPixelData::getUncompressedFrame), then rendered by DicomImage from a one-frame copy of
// the header, so memory is one frame of raw data plus the output, never the whole loop.
class FrameDecoder {
 public:
  FrameDecoder(const std::string& path, DcmDataset* ds, const EchoInfo& info) : path_(path), ds_(ds), info_(info) {
    if (ds->findAndGetElement(DCM_PixelData, pixEl_).bad() || !pixEl_)
      throw ReadError(path, "cannot read Pixel Data");
    encapsulated_ = DcmXfer(ds->getOriginalXfer()).isEncapsulated();
    Uint32 size = 0;
    if (pixEl_->getUncompressedFrameSize(ds, size).bad() || size == 0)
      throw ReadError(path, "cannot determine the size of one frame");
    frameSize_ = size;
    raw_.resize(frameSize_ + (frameSize_ & 1));
  }
  // 16-bit grey data without a VOI window needs the min-max of all frames: decodeRange.
  static bool canDecode(DcmDataset* ds, const EchoInfo& info) {
    const bool grey = info.samplesPerPixel == 1 && info.photometric != "PALETTE COLOR";
    return info.bitsAllocated % 8 == 0 &&
           !(grey && info.bitsStored > 8 && !(ds->tagExists(DCM_WindowWidth) && ds->tagExists(DCM_WindowCenter)));
  }
  // Renders loop frame f (8-bit grey or RGB) into the frames `slots` of `out` (out.frames set by
  // the caller; its size is taken from the first frame rendered).
  void render(int f, EchoFrames& out, const std::vector<int>& slots) {
    fetch(f);
    if (!header_) makeHeader();
    if (info_.bitsAllocated == 16)
      header_->putAndInsertUint16Array(DCM_PixelData, reinterpret_cast<const Uint16*>(raw_.data()), frameSize_ / 2);
    else
      header_->putAndInsertUint8Array(DCM_PixelData, raw_.data(), frameSize_);
    DicomImage img(header_.get(), EXS_LittleEndianExplicit, CIF_MayDetachPixelData, 0, 1);
    if (img.getStatus() != EIS_Normal || img.getFrameCount() < 1)
      throw ReadError(path_, "cannot decode frame " + std::to_string(f) + ": " + DicomImage::getString(img.getStatus()));
    if (out.pixels.empty()) {
      out.rows = static_cast<int>(img.getHeight());
      out.cols = static_cast<int>(img.getWidth());
      out.channels = img.isMonochrome() ? 1 : 3;
      out.pixels.resize(static_cast<std::size_t>(out.rows) * out.cols * out.channels * out.frames);
    }
    if (img.isMonochrome() && info_.bitsStored > 8) {
      if (img.getWindowCount() == 0) throw NeedsWholeRange{};
      img.setWindow(0);
    }
    const std::size_t bytes = static_cast<std::size_t>(out.rows) * out.cols * out.channels;
    const void* p = img.getOutputData(8, 0, 0);
    if (!p || img.getWidth() != static_cast<unsigned long>(out.cols) ||
        img.getHeight() != static_cast<unsigned long>(out.rows))
      throw ReadError(path_, "cannot render frame " + std::to_string(f));
    for (int s : slots) std::memcpy(out.pixels.data() + bytes * s, p, bytes);
  }

 private:
  // The raw (decompressed) bytes of frame f in raw_. Compressed frames are found from the offset
  // table or the fragment count; failing that, by walking the frames before it in order.
  void fetch(int f) {
    OFString model;
    const bool guess = f != nextFrame_;  // DCMTK finds the first fragment when it can
    Uint32 frag = guess ? 0 : nextFragment_;
    OFCondition c = get(f, frag, model);
    if (c.bad() && guess && f > 0 && encapsulated_) {
      int g = f > nextFrame_ && nextFrame_ > 0 ? nextFrame_ : 0;
      frag = g == nextFrame_ ? nextFragment_ : 0;
      for (c = EC_Normal; c.good() && g < f; ++g) c = get(g, frag, model);
      if (c.good()) c = get(f, frag, model);
    }
    if (c.bad())
      throw ReadError(path_, "cannot decompress frame " + std::to_string(f) + " (transfer syntax " +
                                 info_.transferSyntaxUid + "): " + c.text() + " (truncated or corrupt data?)");
    nextFrame_ = f + 1;
    nextFragment_ = frag;
    if (!model.empty()) colorModel_ = model.c_str();
  }
  OFCondition get(int f, Uint32& frag, OFString& model) {
    return pixEl_->getUncompressedFrame(ds_, static_cast<Uint32>(f), frag, raw_.data(),
                                        static_cast<Uint32>(raw_.size()), model, &cache_);
  }
  // A copy of every attribute but Pixel Data (taken after the first decompression, which may have
  // updated the planar configuration), one frame, the decompressed colour model.
  void makeHeader() {
    header_ = std::make_unique<DcmDataset>();
    for (unsigned long i = 0; i < ds_->card(); ++i) {
      DcmElement* e = ds_->getElement(i);
      if (e && e->getTag() != DCM_PixelData) header_->insert(static_cast<DcmElement*>(e->clone()), true);
    }
    header_->putAndInsertString(DCM_NumberOfFrames, "1");
    if (!colorModel_.empty()) header_->putAndInsertString(DCM_PhotometricInterpretation, colorModel_.c_str());
  }

  const std::string& path_;
  DcmDataset* ds_;
  const EchoInfo& info_;
  DcmElement* pixEl_ = nullptr;
  bool encapsulated_ = false;
  Uint32 frameSize_ = 0;
  std::vector<Uint8> raw_;
  DcmFileCache cache_;
  std::unique_ptr<DcmDataset> header_;
  std::string colorModel_;
  int nextFrame_ = 0;
  Uint32 nextFragment_ = 0;
};

// Loads the header (pixel data stays on disk) and checks it; throws for what cannot be decoded.
EchoInfo openForFrames(const std::string& path, DcmFileFormat& ff) {
  registerDecoders();
  loadDicom(path, ff, /*metaOnly=*/false);
  EchoInfo info = parseInfo(path, ff);
  const std::string& ts = info.transferSyntaxUid;
  if (isJpeg2000(ts))
    throw ReadError(path, "JPEG 2000 transfer syntax is not supported by this build (DCMTK without JPEG 2000)");
  if (isVideoTs(ts))
    throw ReadError(path, "MPEG/H.264/HEVC video transfer syntax (" + ts + ") is not supported by this reader");
  checkPixelGeometry(path, info);  // before anything allocates what the header claims
  return info;
}

EchoFrames emptyFrames(const EchoInfo& info) {
  EchoFrames empty;
  empty.rows = info.rows;
  empty.cols = info.cols;
  empty.channels = (info.samplesPerPixel == 3 || info.photometric == "PALETTE COLOR") ? 3 : 1;
  return empty;
}

bool isSegmentedPalette(DcmDataset* ds, const EchoInfo& info) {
  return info.photometric == "PALETTE COLOR" && ds->tagExists(DCM_SegmentedRedPaletteColorLookupTableData);
}

// Frames first.. of `all` picked in the order of `indices`.
EchoFrames pick(const EchoFrames& all, int first, const std::vector<int>& indices) {
  EchoFrames out;
  out.rows = all.rows;
  out.cols = all.cols;
  out.channels = all.channels;
  out.frames = static_cast<int>(indices.size());
  const std::size_t bytes = static_cast<std::size_t>(all.rows) * all.cols * all.channels;
  out.pixels.resize(bytes * indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::memcpy(out.pixels.data() + bytes * i, all.frame(indices[i] - first), bytes);
  return out;
}

// The listed frames, frame by frame (each decoded once, in increasing order); nullopt when the
// file needs decodeRange.
std::optional<EchoFrames> decodeListed(const std::string& path, DcmDataset* ds, const EchoInfo& info,
                                       const std::vector<int>& indices) {
  if (isSegmentedPalette(ds, info) || !FrameDecoder::canDecode(ds, info)) return std::nullopt;
  std::map<int, std::vector<int>> slots;  // loop frame -> its places in the output
  for (std::size_t i = 0; i < indices.size(); ++i) slots[indices[i]].push_back(static_cast<int>(i));
  EchoFrames out;
  out.frames = static_cast<int>(indices.size());
  try {
    FrameDecoder dec(path, ds, info);
    for (const auto& [f, where] : slots) dec.render(f, out, where);
  } catch (const NeedsWholeRange&) {
    return std::nullopt;
  }
  return out;
}

void checkFrame(const std::string& path, const EchoInfo& info, int f) {
  if (f < 0 || f >= info.frames)
    throw ReadError(path, "frame " + std::to_string(f) + " out of range (file has " + std::to_string(info.frames) +
                              " frames)");
}

}  // namespace

EchoFrames readDicomEchoFrames(const std::string& path, const std::vector<int>& indices) {
  DcmFileFormat ff;
  const EchoInfo info = openForFrames(path, ff);
  DcmDataset* ds = ff.getDataset();
  for (int f : indices) checkFrame(path, info, f);
  if (indices.empty()) return emptyFrames(info);
  if (auto out = decodeListed(path, ds, info, indices)) return std::move(*out);
  if (isSegmentedPalette(ds, info)) {
    const int lo = *std::min_element(indices.begin(), indices.end());
    const int hi = *std::max_element(indices.begin(), indices.end());
    return pick(decodeSegmentedPalette(path, ds, info, lo, hi - lo + 1), lo, indices);
  }
  // As the whole loop would render (a min-max window over all frames).
  return pick(decodeRange(path, ds, info, 0, info.frames), 0, indices);
}

EchoFrames readDicomEchoFrames(const std::string& path, int first, int count) {
  DcmFileFormat ff;
  const EchoInfo info = openForFrames(path, ff);
  DcmDataset* ds = ff.getDataset();
  checkFrame(path, info, first);
  const int n = count < 0 ? info.frames - first : std::min(count, info.frames - first);
  if (n <= 0) return emptyFrames(info);
  std::vector<int> idx(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = first + i;
  if (auto out = decodeListed(path, ds, info, idx)) return std::move(*out);
  if (isSegmentedPalette(ds, info)) return decodeSegmentedPalette(path, ds, info, first, n);
  return decodeRange(path, ds, info, first, n);
}

}  // namespace e2e
