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
#pragma once
#include <string>
#include <vector>

namespace e2e::io {

struct AnonymizeOptions {
  std::string outDir;        // created if missing; files are named <new SOP Instance UID>.dcm
  std::string patientName;   // empty: "ANON^<n>", n counting distinct patients of this run from 1
  std::string patientId;     // empty: "ANON<n>"
  bool keepPatientSex = false;  // the profile's Z action by default
  std::string uidRoot;       // root of the new UIDs; empty: DCMTK's site root
};

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
// empty or cannot be created.
AnonymizeReport anonymizeFiles(const std::vector<std::string>& dicomPaths, const AnonymizeOptions& options);

}  // namespace e2e::io
