// The ECG printout as a DICOM Encapsulated PDF (see results_pdf.h).
#include "net/results_pdf.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrui.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "net/dicom_object.h"
#include "common/build_info.h"
#include "db/database.h"

namespace e2e::net {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("encapsulated PDF: " + what); }

void must(const OFCondition& c, const std::string& what) {
  if (c.bad()) bad("invalid " + what + " (" + c.text() + ")");
}

void checkPdf(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) bad(name + " is empty");
  if (bytes.compare(0, 5, "%PDF-") != 0) bad(name + " is not a PDF (it does not start with %PDF-)");
}

// The PDF bytes of the request: the file (size checked before reading) or the bytes given.
std::string pdfOf(const PdfDocumentRequest& req) {
  const std::string limit = std::to_string(kMaxPdfBytes / (1024 * 1024)) + " MiB";
  if (req.pdfPath.empty()) {
    if (req.pdfBytes.size() > kMaxPdfBytes) bad("the PDF is larger than the limit of " + limit);
    checkPdf(req.pdfBytes, "the PDF");
    return req.pdfBytes;
  }
  std::error_code ec;
  if (!fs::is_regular_file(req.pdfPath, ec)) bad("the PDF file '" + req.pdfPath + "' does not exist");
  const auto size = fs::file_size(req.pdfPath, ec);
  if (ec) throw std::runtime_error("cannot read " + req.pdfPath + ": " + ec.message());
  if (size > kMaxPdfBytes)
    bad("the PDF file '" + req.pdfPath + "' is " + std::to_string(size) + " bytes, over the limit of " + limit);
  std::ifstream in(req.pdfPath, std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(size)))
    throw std::runtime_error("cannot read " + req.pdfPath);
  checkPdf(bytes, "the file '" + req.pdfPath + "'");
  return bytes;
}

void validate(const SrSourceStudy& s) {
  if (!validDicomUid(s.studyUid)) bad("the source Study Instance UID '" + s.studyUid + "' is missing or not a UID");
  const bool anyRef = !s.seriesUid.empty() || !s.sopClassUid.empty() || !s.sopInstanceUid.empty();
  if (anyRef && !(validDicomUid(s.sopClassUid) && validDicomUid(s.sopInstanceUid)))
    bad("the source ECG reference needs a valid SOP class and SOP instance UID (got '" + s.sopClassUid + "', '" +
        s.sopInstanceUid + "')");
}

std::string newUid(const char* root) {
  char buf[100];
  return dcmGenerateUniqueIdentifier(buf, root);
}

void put(DcmItem& ds, const DcmTagKey& tag, const std::string& v, const std::string& what) {
  must(ds.putAndInsertString(tag, v.c_str()), what + " '" + v + "'");
}

// Patient and General Study: the source's (type 2 attributes present even when empty).
void putPatientAndStudy(DcmItem& ds, const SrSourceStudy& s) {
  put(ds, DCM_PatientName, s.patientName, "patient name");
  put(ds, DCM_PatientID, s.patientId, "patient ID");
  put(ds, DCM_PatientBirthDate, s.birthDate, "patient birth date");
  put(ds, DCM_PatientSex, s.sex, "patient sex");
  put(ds, DCM_StudyInstanceUID, s.studyUid, "Study Instance UID");
  put(ds, DCM_StudyDate, s.studyDate, "study date");
  put(ds, DCM_StudyTime, s.studyTime, "study time");
  put(ds, DCM_ReferringPhysicianName, s.referringPhysician, "referring physician");
  put(ds, DCM_StudyID, s.studyId.substr(0, 16), "study ID");
  put(ds, DCM_AccessionNumber, s.accessionNumber, "accession number");
  if (!s.studyDescription.empty()) put(ds, DCM_StudyDescription, s.studyDescription, "study description");
}

// Encapsulated Document Series, General / SC / Enhanced General Equipment.
void putSeriesAndEquipment(DcmItem& ds, const PdfDocumentRequest& req) {
  put(ds, DCM_Modality, "DOC", "modality");
  put(ds, DCM_SeriesInstanceUID, newUid(SITE_SERIES_UID_ROOT), "Series Instance UID");
  put(ds, DCM_SeriesNumber, "9002", "series number");
  put(ds, DCM_SeriesDescription, req.seriesDescription, "series description");
  put(ds, DCM_Manufacturer, kSrManufacturer, "manufacturer");
  put(ds, DCM_ManufacturerModelName, "Echo2ECG", "model name");
  put(ds, DCM_DeviceSerialNumber, "0", "device serial number");  // software: no device serial
  put(ds, DCM_SoftwareVersions, build::projectVersion(), "software version");
  put(ds, DCM_ConversionType, "WSD", "conversion type");  // workstation
}

void setCreationTime(DcmItem& ds, std::time_t when) {
  if (when == 0) when = std::time(nullptr);
  std::tm tm{};
  localtime_r(&when, &tm);
  char date[16], time[16], dt[32];
  std::strftime(date, sizeof date, "%Y%m%d", &tm);
  std::strftime(time, sizeof time, "%H%M%S", &tm);
  std::strftime(dt, sizeof dt, "%Y%m%d%H%M%S", &tm);
  for (const DcmTagKey& k : {DCM_InstanceCreationDate, DCM_ContentDate}) put(ds, k, date, "date");
  for (const DcmTagKey& k : {DCM_InstanceCreationTime, DCM_ContentTime}) put(ds, k, time, "time");
  put(ds, DCM_AcquisitionDateTime, dt, "acquisition date-time");
}

// Encapsulated Document module and SOP Common; returns the new SOP Instance UID.
std::string putDocument(DcmItem& ds, const PdfDocumentRequest& req, const std::string& pdf) {
  const std::string sop = newUid(SITE_INSTANCE_UID_ROOT);
  put(ds, DCM_SOPClassUID, kEncapsulatedPdfSopClass, "SOP class");
  put(ds, DCM_SOPInstanceUID, sop, "SOP Instance UID");
  put(ds, DCM_InstanceNumber, "1", "instance number");
  put(ds, DCM_BurnedInAnnotation, "YES", "burned in annotation");
  put(ds, DCM_DocumentTitle, req.documentTitle, "document title");
  DcmItem* code = nullptr;
  must(ds.findOrCreateSequenceItem(DCM_ConceptNameCodeSequence, code, 0), "concept name");
  put(*code, DCM_CodeValue, "11524-6", "code value");
  put(*code, DCM_CodingSchemeDesignator, "LN", "coding scheme");
  put(*code, DCM_CodeMeaning, "EKG study", "code meaning");
  put(ds, DCM_MIMETypeOfEncapsulatedDocument, "application/pdf", "MIME type");
  const SrSourceStudy& s = req.source;
  if (!s.sopInstanceUid.empty()) {
    DcmItem* ref = nullptr;
    must(ds.findOrCreateSequenceItem(DCM_SourceInstanceSequence, ref, 0), "source instance");
    put(*ref, DCM_ReferencedSOPClassUID, s.sopClassUid, "source SOP class");
    put(*ref, DCM_ReferencedSOPInstanceUID, s.sopInstanceUid, "source SOP instance");
  }
  // OB values have an even length: a PDF of odd length gets one NUL byte (the length says where
  // the document ends).
  must(ds.putAndInsertUint32(DCM_EncapsulatedDocumentLength, static_cast<Uint32>(pdf.size())), "document length");
  std::string padded = pdf;
  if (padded.size() % 2) padded.push_back('\0');
  must(ds.putAndInsertUint8Array(DCM_EncapsulatedDocument, reinterpret_cast<const Uint8*>(padded.data()),
                                 static_cast<unsigned long>(padded.size())),
       "encapsulated document");
  return sop;
}

bool requestIsAscii(const PdfDocumentRequest& r) {
  const SrSourceStudy& s = r.source;
  for (const std::string* t : {&s.patientName, &s.patientId, &s.studyDescription, &s.accessionNumber,
                               &s.referringPhysician, &s.studyId, &r.documentTitle, &r.seriesDescription})
    if (!isAsciiText(*t)) return false;
  return true;
}

}  // namespace

std::string writeEncapsulatedPdf(const PdfDocumentRequest& req) {
  if (req.outPath.empty() && req.outDir.empty()) bad("no output file or folder");
  if (req.documentTitle.empty()) bad("the document title is empty");
  validate(req.source);
  const std::string pdf = pdfOf(req);
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
  if (!requestIsAscii(req)) put(ds, DCM_SpecificCharacterSet, "ISO_IR 192", "character set");
  putPatientAndStudy(ds, req.source);
  putSeriesAndEquipment(ds, req);
  setCreationTime(ds, req.createdAt);
  const std::string sop = putDocument(ds, req, pdf);
  const std::string out = req.outPath.empty() ? (fs::path(req.outDir) / (sop + ".dcm")).string() : req.outPath;
  saveDicomAtomic(file, out);
  return out;
}

SrSourceStudy pdfSourceFromDatabase(db::Database& db, std::int64_t instanceRowId) {
  const auto d = db.details(instanceRowId);
  if (!d) throw std::invalid_argument("no instance with id " + std::to_string(instanceRowId) + " in " + db.path());
  if (d->instance.format.rfind("DICOM", 0) == 0) return SrSourceStudy::fromDicomFile(d->instance.path);
  SrSourceStudy s;
  s.patientId = d->patient.patientId;
  s.patientName = d->patient.name;
  s.birthDate = d->patient.birthDate;
  s.sex = d->patient.sex;
  s.studyUid = d->study.studyUid;
  s.studyDate = d->study.date;
  s.studyTime = d->study.time;
  s.studyDescription = d->study.description;
  s.accessionNumber = d->study.accession;
  return s;  // no DICOM object to reference: series / SOP UIDs stay empty
}

}  // namespace e2e::net
