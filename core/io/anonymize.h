// Anonymised export of DICOM objects (ECG waveforms, ultrasound) following the DICOM Basic
// Application Level Confidentiality Profile (PS3.15 Annex E, Table E.1-1), with DCMTK.
//
// Per object: patient name/ID replaced by a pseudonym, other identifying attributes removed (X),
// emptied (Z) or given a dummy value (D) where the IOD requires one; every instance UID
// (study, series, SOP instance, frame of reference, referenced SOP instances in sequences, ...)
// remapped consistently within one run, so that objects of one study stay one study; private
// elements, curve data and overlay data removed; Patient Identity Removed = YES and the
// de-identification method (DCM 113100) recorded. Waveform samples and pixel data are kept as
// they are, so an ultrasound image with burned-in annotation is reported as a warning.
//
// Dates: by default the profile's actions (study date emptied, series/acquisition dates removed,
// content date given a dummy value). With shiftDays set (the profile's Retain Longitudinal
// Temporal Information with Modified Dates Option), every DA and DT value of the object,
// sequences included, is moved by the same number of days instead (times of day kept), so the
// intervals between the dates of one patient stay exact; Longitudinal Temporal Information
// Modified is set to MODIFIED and the option's code (DCM 113107) recorded.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace e2e::io {

struct AnonymizeOptions {
  std::string outDir;        // created if missing; files are named <new SOP Instance UID>.dcm
  std::string patientName;   // empty: "ANON^<n>", n counting distinct patients of this run from 1
  std::string patientId;     // empty: "ANON<n>"
  bool keepPatientSex = false;  // the profile's Z action by default
  std::string uidRoot;       // root of the new UIDs; empty: DCMTK's site root
  // Days added to every date (negative: earlier); none: the profile's empty/remove/dummy actions.
  // At most kMaxDateShiftDays either way.
  std::optional<int> shiftDays;
};
constexpr int kMaxDateShiftDays = 36525 * 2;  // 200 years

// A DICOM DA value (YYYYMMDD) or DT value (YYYYMMDD[HHMMSS[.F]][&ZZXX]) moved by `days` (what
// follows the date is kept; the old form YYYY.MM.DD is accepted and written as YYYYMMDD); nullopt
// when it does not start with a valid date or the result is outside the years 1-9999.
std::optional<std::string> shiftDicomDate(const std::string& value, int days);

struct AnonymizeReport {
  struct Written {
    std::string source, output;
  };
  std::vector<Written> written;
  std::vector<std::string> warnings;  // e.g. burned-in annotation on an ultrasound image
  std::vector<std::string> errors;    // one per file that was not written ("PATH: reason")
};

// Anonymises every file of `dicomPaths` into options.outDir. A file that is not a DICOM object
// (no DICOM file meta header or no SOP Class / Instance UID) gets an error and nothing is
// written for it; the others are still exported. Each output is written to a temporary file and
// renamed, so a reader never sees a partial object. Throws std::runtime_error when outDir is
// empty or cannot be created, or shiftDays is beyond kMaxDateShiftDays.
AnonymizeReport anonymizeFiles(const std::vector<std::string>& dicomPaths, const AnonymizeOptions& options);

}  // namespace e2e::io
