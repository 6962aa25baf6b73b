// Helpers for the importer and CLI tests: temp folders and a folder of many real DICOM files
// made from the shared test files by giving each copy new UIDs (DCMTK).
#pragma once
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "test_util.h"

namespace e2e::test {

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() / ("e2e_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& rel = "") const { return rel.empty() ? path_.string() : (path_ / rel).string(); }

 private:
  std::filesystem::path path_;
};

// Copies `src` to `dst`, setting the given tag values (also keeps the meta header's SOP
// Instance UID in step). Returns false (with a gtest failure) on error.
inline bool copyDicomWith(const std::string& src, const std::string& dst,
                          const std::vector<std::pair<DcmTagKey, std::string>>& values) {
  DcmFileFormat ff;
  OFCondition st = ff.loadFile(src.c_str());
  if (st.bad()) {
    ADD_FAILURE() << "cannot load " << src << ": " << st.text();
    return false;
  }
  for (const auto& [tag, value] : values) {
    if (ff.getDataset()->putAndInsertString(tag, value.c_str()).bad()) {
      ADD_FAILURE() << "cannot set tag in " << src;
      return false;
    }
    if (tag == DCM_SOPInstanceUID) ff.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, value.c_str());
  }
  std::filesystem::create_directories(std::filesystem::path(dst).parent_path());
  st = ff.saveFile(dst.c_str(), EXS_Unknown);
  if (st.bad()) {
    ADD_FAILURE() << "cannot save " << dst << ": " << st.text();
    return false;
  }
  return true;
}

// Writes `n` distinct real DICOM files (alternately ECG waveform and ultrasound) under `dir`,
// 5 objects per patient/study. Returns the number written.
inline int makeDicomFolder(const std::string& dir, int n) {
  const std::string ecg = dataFile("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm").string();
  const std::string us = dataFile("us_dicom/derived_reencoded/US-MONO2-8-8x-execho.jpeg_baseline.dcm").string();
  const std::string root = "1.2.826.0.1.3680043.10.543.";
  int written = 0;
  for (int i = 0; i < n; ++i) {
    const int p = i / 5;
    const bool isEcg = i % 2 == 0;
    const std::string name = dir + "/p" + std::to_string(p) + "/" + (isEcg ? "ecg_" : "us_") + std::to_string(i) + ".dcm";
    if (!copyDicomWith(isEcg ? ecg : us, name,
                       {{DCM_SOPInstanceUID, root + "3." + std::to_string(i)},
                        {DCM_SeriesInstanceUID, root + "2." + std::to_string(i)},
                        {DCM_StudyInstanceUID, root + "1." + std::to_string(p)},
                        {DCM_PatientID, "GEN" + std::to_string(p)},
                        {DCM_PatientName, "GENERATED^PATIENT" + std::to_string(p)}}))
      break;
    ++written;
  }
  return written;
}

}  // namespace e2e::test
