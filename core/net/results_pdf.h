// The ECG printout as a DICOM Encapsulated PDF (SOP class 1.2.840.10008.5.1.4.1.1.104.1) linked to
// the source study the way the predictions SR is (net/results_sr.h): the source's patient and Study
// Instance UID, a new series (modality DOC, "Echo2ECG ECG printout") and SOP instance (DCMTK UIDs),
// Document Title, Concept Name (LOINC 11524-6 "EKG study"), MIME type application/pdf, Burned In
// Annotation YES, SC and Enhanced General Equipment (manufacturer "Echo2ECG Workstation", the
// build's software version) and, for a DICOM source, the Source Instance Sequence naming the ECG.
// A non-DICOM source (WFDB, vendor ECG export) has no object in a PACS to reference: the document
// carries its patient and the study UID the importer derived, without an instance reference (as
// the SR does). Sending it is net/scu.h's job. Qt-free, never prints.
#pragma once
#include <cstdint>
#include <ctime>
#include <string>

#include "net/results_sr.h"

namespace e2e::db {
class Database;
}

namespace e2e::net {

inline constexpr const char* kEncapsulatedPdfSopClass = "1.2.840.10008.5.1.4.1.1.104.1";
// The largest PDF accepted (a 12-lead printout is well under 1 MiB).
inline constexpr std::uint64_t kMaxPdfBytes = 64ull * 1024 * 1024;

struct PdfDocumentRequest {
  // The study the printout belongs to: SrSourceStudy::fromDicomFile(ecg.dcm), or
  // pdfSourceFromDatabase(db, ecgInstanceId) for any ECG of the database (DICOM or not).
  SrSourceStudy source;
  // The PDF: the file pdfPath, or (pdfPath empty) the bytes in pdfBytes. Must start with "%PDF-"
  // and be at most kMaxPdfBytes.
  std::string pdfPath, pdfBytes;
  // Where: outPath, or (outPath empty) <outDir>/<SOPInstanceUID>.dcm. The folder must exist.
  std::string outPath, outDir;
  std::string documentTitle = "ECG printout";
  std::string seriesDescription = "Echo2ECG ECG printout";
  std::time_t createdAt = 0;  // content / instance creation date-time (local time); 0: now
};

// Builds the object and writes it (Part 10, explicit VR little endian) to PATH.part, then renames it
// over PATH; returns PATH. Throws std::invalid_argument for a bad request (not a PDF, too large,
// missing or invalid source UIDs, no output), std::runtime_error when reading or writing fails.
std::string writeEncapsulatedPdf(const PdfDocumentRequest& req);

// The source of an ECG of the database: a DICOM ECG's own file (full patient / study attributes and
// the instance reference); any other format from the database rows (patient, study with the UID
// the importer derived; no instance reference). Throws std::invalid_argument when there is no such
// instance, ReadError when a DICOM source file cannot be read.
SrSourceStudy pdfSourceFromDatabase(db::Database& db, std::int64_t instanceRowId);

}  // namespace e2e::net
