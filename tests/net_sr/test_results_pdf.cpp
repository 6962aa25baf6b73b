// The ECG printout as a DICOM Encapsulated PDF (net/results_pdf.h): a one-page PDF made here (with
// correct xref offsets) wrapped for real ECGs of ../shared/data, validated with dciodvfy, read back
// with DCMTK, refused for non-PDF and over-large input, built for a WFDB and a vendor ECG of a
// database, round-tripped through Orthanc (C-STORE, C-GET back, the same PDF bytes), and written by
// `echo2ecg pdf-to-dicom`.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/build_info.h"
#include "common/process.h"
#include "db/database.h"
#include "jobs/import/importer.h"
#include "net/net_test_util.h"
#include "net/results_pdf.h"
#include "net/scu.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::net;
using e2e::test::dataFile;

namespace {

const char* kTwelveLead = "ecg_dicom/pydicom_debian/waveform_ecg.dcm";
const char* kWfdb = "ecg_wfdb/wfdb-python_ptb_s0010_re/s0010_re.hea";
const char* kMuse = "ecg_vendor/muse_xml/ml4h_muse_ecg_deidentified_1.xml";

// A valid one-page PDF (Helvetica text), its cross-reference table at the right byte offsets.
std::string makePdf(const std::string& text) {
  const std::string content = "BT /F1 18 Tf 72 500 Td (" + text + ") Tj ET\n";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "endstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", off);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

std::string str(DcmItem& ds, const DcmTagKey& tag) {
  OFString v;
  return ds.findAndGetOFStringArray(tag, v).good() ? std::string(v.c_str()) : std::string();
}

// The EncapsulatedDocument bytes, cut to EncapsulatedDocumentLength.
std::string documentOf(const std::string& path) {
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(path.c_str()).good()) << path;
  DcmDataset& ds = *ff.getDataset();
  const Uint8* p = nullptr;
  unsigned long n = 0;
  Uint32 len = 0;
  if (ds.findAndGetUint8Array(DCM_EncapsulatedDocument, p, &n).bad() || !p) return "";
  if (ds.findAndGetUint32(DCM_EncapsulatedDocumentLength, len).good() && len <= n) n = len;
  return std::string(reinterpret_cast<const char*>(p), n);
}

// dciodvfy prints "Error - ..." / "Warning - ..." lines; an Error is a failure.
void expectValidIod(const std::string& path) {
  if (!fs::exists("/usr/bin/dciodvfy")) GTEST_SKIP() << "dciodvfy (Debian dicom3tools) is not installed";
  const ProcessResult r = runProcess({"/usr/bin/dciodvfy", path});
  ASSERT_TRUE(r.started) << r.startError;
  std::istringstream lines(r.out + "\n" + r.err);
  std::string line, errors;
  while (std::getline(lines, line)) {
    if (line.rfind("Error", 0) == 0) errors += line + "\n";
    if (line.rfind("Warning", 0) == 0) std::cout << "dciodvfy: " << line << "\n";
  }
  EXPECT_TRUE(errors.empty()) << errors << "full output:\n" << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("EncapsulatedPDF"), std::string::npos) << r.out << r.err;
}

class NetPdf : public ::testing::Test {
 protected:
  std::string pdfFile(const std::string& text) {
    const std::string path = dir_.str("printout.pdf");
    std::ofstream(path, std::ios::binary) << makePdf(text);
    return path;
  }
  PdfDocumentRequest requestFor(const std::string& rel) {
    PdfDocumentRequest r;
    r.source = SrSourceStudy::fromDicomFile(dataFile(rel));
    r.pdfPath = pdfFile("Echo2ECG 12-lead ECG printout");
    r.outDir = dir_.str("out");
    fs::create_directories(r.outDir);
    r.createdAt = 1796644800;
    return r;
  }
  test::TempDir dir_{"pdf"};
};

// Ghostscript, when installed, confirms that the test's PDF is well formed (no xref repair).
TEST_F(NetPdf, TheGeneratedPdfIsWellFormed) {
  if (access("/usr/bin/gs", X_OK) != 0) GTEST_SKIP() << "ghostscript is not installed";
  const ProcessResult r = runProcess({"/usr/bin/gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=nullpage", pdfFile("x")});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("rror"), std::string::npos) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("repair"), std::string::npos) << r.out << r.err;
}

TEST_F(NetPdf, DicomEcgSourcePassesDciodvfyAndCarriesTheStudy) {
  const PdfDocumentRequest req = requestFor(kTwelveLead);
  const std::string out = writeEncapsulatedPdf(req);
  EXPECT_EQ(fs::path(out).parent_path(), fs::path(req.outDir));
  EXPECT_FALSE(fs::exists(out + ".part"));
  expectValidIod(out);
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(out.c_str()).good());
  DcmDataset& ds = *ff.getDataset();
  EXPECT_EQ(str(ds, DCM_SOPClassUID), kEncapsulatedPdfSopClass);
  EXPECT_EQ(fs::path(out).stem().string(), str(ds, DCM_SOPInstanceUID));
  EXPECT_EQ(str(ds, DCM_StudyInstanceUID), req.source.studyUid);
  EXPECT_EQ(str(ds, DCM_PatientID), "642341");
  EXPECT_EQ(str(ds, DCM_PatientID), req.source.patientId);
  EXPECT_EQ(str(ds, DCM_PatientName), req.source.patientName);
  EXPECT_EQ(str(ds, DCM_PatientBirthDate), req.source.birthDate);
  EXPECT_EQ(str(ds, DCM_AccessionNumber), req.source.accessionNumber);
  EXPECT_NE(str(ds, DCM_SeriesInstanceUID), req.source.seriesUid);
  EXPECT_FALSE(str(ds, DCM_SeriesInstanceUID).empty());
  EXPECT_EQ(str(ds, DCM_Modality), "DOC");
  EXPECT_EQ(str(ds, DCM_SeriesDescription), "Echo2ECG ECG printout");
  EXPECT_EQ(str(ds, DCM_DocumentTitle), "ECG printout");
  EXPECT_EQ(str(ds, DCM_MIMETypeOfEncapsulatedDocument), "application/pdf");
  EXPECT_EQ(str(ds, DCM_BurnedInAnnotation), "YES");
  EXPECT_EQ(str(ds, DCM_Manufacturer), "Echo2ECG Workstation");
  EXPECT_EQ(str(ds, DCM_SoftwareVersions), build::projectVersion());
  DcmItem* item = nullptr;
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_ConceptNameCodeSequence, item, 0).good());
  EXPECT_EQ(str(*item, DCM_CodeValue), "11524-6");
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_SourceInstanceSequence, item, 0).good());
  EXPECT_EQ(str(*item, DCM_ReferencedSOPInstanceUID), req.source.sopInstanceUid);
  EXPECT_EQ(str(*item, DCM_ReferencedSOPClassUID), req.source.sopClassUid);
  std::ifstream in(req.pdfPath, std::ios::binary);
  const std::string pdf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(documentOf(out), pdf);
}

// The dciodvfy check can fail: the same object without its MIME type is an Error.
TEST_F(NetPdf, DciodvfyFlagsABrokenCopy) {
  if (!fs::exists("/usr/bin/dciodvfy")) GTEST_SKIP() << "dciodvfy (Debian dicom3tools) is not installed";
  const std::string out = writeEncapsulatedPdf(requestFor(kTwelveLead));
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(out.c_str()).good());
  ASSERT_TRUE(ff.getDataset()->findAndDeleteElement(DCM_MIMETypeOfEncapsulatedDocument).good());
  const std::string broken = dir_.str("broken.dcm");
  ASSERT_TRUE(ff.saveFile(broken.c_str(), EXS_LittleEndianExplicit).good());
  const ProcessResult r = runProcess({"/usr/bin/dciodvfy", broken});
  EXPECT_NE((r.out + r.err).find("Error"), std::string::npos) << r.out << r.err;
}

TEST_F(NetPdf, OddLengthBytesArePaddedButTheLengthIsKept) {
  PdfDocumentRequest req = requestFor(kTwelveLead);
  req.pdfPath.clear();
  req.pdfBytes = makePdf("odd");
  if (req.pdfBytes.size() % 2 == 0) req.pdfBytes = makePdf("odd!");
  ASSERT_EQ(req.pdfBytes.size() % 2, 1u);
  req.outPath = dir_.str("odd.dcm");
  const std::string out = writeEncapsulatedPdf(req);
  EXPECT_EQ(out, req.outPath);
  EXPECT_EQ(documentOf(out), req.pdfBytes);
  expectValidIod(out);
}

TEST_F(NetPdf, NonPdfOverLargeAndBadRequestsAreRefusedAndWriteNothing) {
  PdfDocumentRequest req = requestFor(kTwelveLead);
  auto errorOf = [](const PdfDocumentRequest& r) -> std::string {
    try {
      writeEncapsulatedPdf(r);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  PdfDocumentRequest r = req;
  std::ofstream(dir_.str("note.pdf")) << "Hello, not a PDF\n";
  r.pdfPath = dir_.str("note.pdf");
  EXPECT_NE(errorOf(r).find("not a PDF"), std::string::npos) << errorOf(r);
  r.pdfPath = dataFile(kTwelveLead);  // a DICOM file is not a PDF either
  EXPECT_NE(errorOf(r).find("not a PDF"), std::string::npos) << errorOf(r);
  r.pdfPath = dir_.str("missing.pdf");
  EXPECT_NE(errorOf(r).find("does not exist"), std::string::npos) << errorOf(r);
  // Over the limit: a sparse file, refused by its size before it is read.
  {
    std::ofstream(dir_.str("huge.pdf")) << "%PDF-1.4\n";
  }
  fs::resize_file(dir_.str("huge.pdf"), kMaxPdfBytes + 1);
  r.pdfPath = dir_.str("huge.pdf");
  EXPECT_NE(errorOf(r).find("over the limit of 64 MiB"), std::string::npos) << errorOf(r);
  r = req;
  r.pdfPath.clear();
  r.pdfBytes.clear();
  EXPECT_NE(errorOf(r).find("empty"), std::string::npos) << errorOf(r);
  r = req;
  r.source.studyUid = "not-a-uid";
  EXPECT_NE(errorOf(r).find("Study Instance UID"), std::string::npos) << errorOf(r);
  r = req;
  r.outDir.clear();
  EXPECT_NE(errorOf(r).find("no output"), std::string::npos) << errorOf(r);
  r = req;
  r.outDir = dir_.str("no/such/folder");
  EXPECT_NE(errorOf(r).find("no folder"), std::string::npos) << errorOf(r);
  EXPECT_TRUE(test::filesUnder(req.outDir).empty());
}

// A WFDB record and a GE MUSE export of a database: their patient and the study UID the importer
// derived, no instance reference, still a valid object.
TEST_F(NetPdf, NonDicomSourcesFromTheDatabase) {
  db::Database db(dir_.str("studies.db"));
  importer::ImportOptions io;
  io.paths = {dataFile(kWfdb), dataFile(kMuse)};
  ASSERT_EQ(importer::runImport(db, io).added, 2);
  int checked = 0;
  for (const auto& inst : db.listInstances()) {
    PdfDocumentRequest req = requestFor(kTwelveLead);
    req.source = pdfSourceFromDatabase(db, inst.id);
    EXPECT_EQ(req.source.studyUid, inst.studyUid);
    EXPECT_EQ(req.source.patientId, inst.patientId);
    EXPECT_TRUE(req.source.sopInstanceUid.empty());
    req.outPath = dir_.str("doc" + std::to_string(inst.id) + ".dcm");
    const std::string out = writeEncapsulatedPdf(req);
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(out.c_str()).good());
    EXPECT_EQ(str(*ff.getDataset(), DCM_StudyInstanceUID), inst.studyUid);
    EXPECT_EQ(str(*ff.getDataset(), DCM_PatientID), inst.patientId);
    DcmItem* item = nullptr;
    EXPECT_TRUE(ff.getDataset()->findAndGetSequenceItem(DCM_SourceInstanceSequence, item, 0).bad());
    expectValidIod(out);
    ++checked;
  }
  EXPECT_EQ(checked, 2);
  EXPECT_THROW(pdfSourceFromDatabase(db, 999999), std::invalid_argument);
}

// Sent to Orthanc and fetched back with C-GET: the same PDF bytes, in the source ECG's study.
TEST_F(NetPdf, RoundTripThroughOrthanc) {
  if (!test::OrthancServer::available()) GTEST_SKIP() << "Orthanc (Debian package orthanc) is not installed";
  const PdfDocumentRequest req = requestFor(kTwelveLead);
  const std::string out = writeEncapsulatedPdf(req);
  test::OrthancServer orthanc;
  Association a;
  a.peer = parsePeer(orthanc.peer());
  SendRequest send;
  send.files = {dataFile(kTwelveLead), out};
  const auto sent = net::send(a, send);
  ASSERT_TRUE(sent.ok()) << orthanc.logTail();
  EXPECT_EQ(sent.sent, 2);
  FindRequest f;
  f.level = QueryLevel::Series;
  f.studyUid = req.source.studyUid;
  const auto series = find(a, f);
  EXPECT_EQ(series.rows.size(), 2u);  // the ECG's series and the printout's
  RetrieveRequest g;
  g.studyUid = req.source.studyUid;
  g.folder = dir_.str("got");
  const auto got = get(a, g);
  ASSERT_TRUE(got.ok()) << got.statusText;
  ASSERT_EQ(got.files.size(), 2u);
  int pdfs = 0;
  for (const auto& file : got.files) {
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(file.c_str()).good());
    if (str(*ff.getDataset(), DCM_SOPClassUID) != kEncapsulatedPdfSopClass) continue;
    ++pdfs;
    EXPECT_EQ(documentOf(file), documentOf(out));
    EXPECT_EQ(documentOf(file), makePdf("Echo2ECG 12-lead ECG printout"));
    EXPECT_EQ(str(*ff.getDataset(), DCM_StudyInstanceUID), req.source.studyUid);
  }
  EXPECT_EQ(pdfs, 1);
}

#ifdef E2E_CLI_PATH
TEST_F(NetPdf, CliPdfToDicom) {
  const std::string outDir = dir_.str("cli");
  fs::create_directories(outDir);
  const std::string pdf = pdfFile("CLI printout");
  auto r = test::runTool(std::string(E2E_CLI_PATH) + " pdf-to-dicom --pdf " + pdf + " --source '" +
                         dataFile(kTwelveLead) + "' --out " + outDir + " --title 'Resting ECG'");
  EXPECT_EQ(r.rc, 0) << r.out;
  const auto files = test::filesUnder(outDir);
  ASSERT_EQ(files.size(), 1u) << r.out;
  EXPECT_NE(r.out.find(files.front()), std::string::npos) << r.out;
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(files.front().c_str()).good());
  EXPECT_EQ(str(*ff.getDataset(), DCM_DocumentTitle), "Resting ECG");
  r = test::runTool(std::string(E2E_CLI_PATH) + " pdf-to-dicom --pdf '" + dataFile(kTwelveLead) + "' --source '" +
                    dataFile(kTwelveLead) + "' --out " + outDir);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("not a PDF"), std::string::npos) << r.out;
  r = test::runTool(std::string(E2E_CLI_PATH) + " pdf-to-dicom --pdf " + pdf + " --out " + outDir);
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_EQ(test::filesUnder(outDir).size(), 1u);
}
#endif

}  // namespace
