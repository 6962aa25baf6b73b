// Internal to the DICOM ECG reader (dicom_ecg*.cpp): helpers shared by its source files
// and the Reader class whose members are spread over them. Not part of the public API.
#pragma once
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace e2e::dicom_ecg_detail {

// Text helpers (dicom_ecg.cpp).
std::string trim(const std::string& s);  // also strips NULs
std::string lower(std::string s);
std::string upper(std::string s);
std::string fmt(double v);

// Whole (multi-valued) string value of an element of this item, trimmed; "" if absent.
std::string getString(DcmItem& item, const DcmTagKey& key);
std::optional<double> getDouble(DcmItem& item, const DcmTagKey& key, unsigned long pos = 0);
std::optional<long> getInteger(DcmItem& item, const DcmTagKey& key, unsigned long pos = 0);

struct Code {
  std::string value, scheme, meaning;
  bool empty() const { return value.empty() && meaning.empty(); }
};

// First item of a code sequence.
Code getCode(DcmItem& item, const DcmTagKey& seqKey);

// Lead name from free text ("Lead I (Einthoven)"), "" if none (dicom_ecg.cpp).
std::string leadFromText(const std::string& text);

// Sample encoding of one multiplex group (dicom_ecg_waveform.cpp).
struct SampleFormat {
  int bytes = 2;
  std::string interp;  // SB UB MB AB SS US SL UL
};

struct GroupResult {
  EcgGroup group;
  int originalIndex = 0;
  std::vector<int> channelMap;  // original channel index -> kept index, or -1
};

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  EcgRecord read();

 private:
  [[noreturn]] void fail(const std::string& cause) const { throw ReadError(path_, cause); }
  void warn(const std::string& w) { rec_.warnings.push_back(w); }

  // dicom_ecg.cpp: file checks, loading, identity.
  void checkFile();
  void load();
  void readIdentity();

  // dicom_ecg_waveform.cpp: multiplex groups and channels.
  std::optional<GroupResult> readGroup(DcmItem& item, int index);
  SampleFormat readSampleFormat(DcmItem& item, const std::string& where);
  std::vector<std::uint8_t> readWaveformBytes(DcmItem& item, const std::string& where, long nch, long ns,
                                              const SampleFormat& sf);
  std::string resolveLead(DcmItem& ci, const std::string& cwhere, int gi, long c, const Code& src);
  double readCalibration(DcmItem& ci, const std::string& cwhere, EcgChannel& ch);

  // dicom_ecg_annotations.cpp: waveform annotations and measurements.
  void readAnnotations();
  void readAnnotationReferences(DcmItem& it, EcgAnnotation& a);

  std::string path_;
  DcmFileFormat ff_;
  DcmDataset* ds_ = nullptr;
  EcgRecord rec_;
  bool ecgSop_ = false;
  std::vector<std::string> skipped_;
  std::map<int, int> groupMap_;                     // original group -> record group
  std::map<int, std::vector<int>> channelMaps_;     // original group -> channel map
};

}  // namespace e2e::dicom_ecg_detail
