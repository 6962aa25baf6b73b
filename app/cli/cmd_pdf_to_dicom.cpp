// echo2ecg pdf-to-dicom --pdf FILE.pdf (--source ECG.dcm | --ecg-id ID [--db FILE]) --out DIR
// An ECG printout (PDF) as a DICOM Encapsulated PDF in the source ECG's study (core/net/results_pdf),
// ready for `echo2ecg pacs send`. Prints the path written.
#include <cstdint>
#include <cstdio>

#include "commands.h"
#include "db/database.h"
#include "json_out.h"
#include "net/results_pdf.h"

namespace {

using namespace e2e::cli;
namespace net = e2e::net;

const char* kUsage =
    "Usage: echo2ecg pdf-to-dicom --pdf FILE.pdf (--source ECG.dcm | --ecg-id ID [--db FILE]) --out DIR\n"
    "                             [--title TEXT] [--json]\n"
    "Wraps an ECG printout (PDF) as a DICOM Encapsulated PDF in the source ECG's study: same patient and\n"
    "Study Instance UID, a new series (modality DOC), a reference to the source ECG instance. Send it\n"
    "with `echo2ecg pacs send DIR/*.dcm --peer ...`.\n"
    "  --pdf FILE.pdf   the printout (must start with %PDF-; at most 64 MiB)\n"
    "  --source ECG.dcm the source DICOM ECG file, or\n"
    "  --ecg-id ID      an ECG of the database (any format; a WFDB or vendor ECG gives its patient and the\n"
    "                   study UID the importer derived, without an instance reference)\n"
    "  --out DIR        the folder the object is written to (<SOPInstanceUID>.dcm)\n"
    "  --title TEXT     the Document Title (default \"ECG printout\")\n"
    "Exit codes: 0 written, 1 bad PDF / source or write error, 2 usage error.\n";

net::PdfDocumentRequest requestFrom(const ParsedArgs& a) {
  net::PdfDocumentRequest r;
  if (!a.positional.empty()) throw UsageError("unexpected argument '" + a.positional.front() + "'");
  if (!a.has("pdf")) throw UsageError("--pdf FILE.pdf is required");
  if (!a.has("out")) throw UsageError("--out DIR is required");
  if (a.has("source") == a.has("ecg-id")) throw UsageError("give the source ECG: --source ECG.dcm or --ecg-id ID");
  r.pdfPath = a.get("pdf");
  r.outDir = a.get("out");
  if (a.has("title")) r.documentTitle = a.get("title");
  if (a.has("source")) {
    r.source = net::SrSourceStudy::fromDicomFile(a.get("source"));
  } else {
    long long id = 0;
    if (!parseInt(a.get("ecg-id"), 1, INT64_MAX, id)) throw UsageError("--ecg-id needs an instance id (see `list`)");
    e2e::db::Database db(dbPathFrom(a), e2e::db::Database::Mode::ReadOnly);
    r.source = net::pdfSourceFromDatabase(db, id);
  }
  return r;
}

int runPdfToDicom(int argc, char** argv) {
  auto a = parseArgs(argc, argv, {"pdf", "source", "ecg-id", "db", "out", "title"}, {"json"});
  if (a.help) {
    std::printf("%s", kUsage);
    return kOk;
  }
  if (!a.error.empty()) return usageError("pdf-to-dicom", a.error);
  try {
    const net::PdfDocumentRequest req = requestFrom(a);
    const std::string path = net::writeEncapsulatedPdf(req);
    if (a.has("json")) {
      nlohmann::ordered_json j;
      j["path"] = path;
      j["studyUid"] = req.source.studyUid;
      j["sourceSopInstanceUid"] = req.source.sopInstanceUid;
      printJsonLine(j);
    } else {
      std::printf("Encapsulated PDF written to %s (study %s)\n", path.c_str(), req.source.studyUid.c_str());
    }
  } catch (const UsageError& e) {
    return usageError("pdf-to-dicom", e2e::errorText(e).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg pdf-to-dicom: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  }
  return kOk;
}

}  // namespace

E2E_REGISTER_COMMAND("pdf-to-dicom", "An ECG printout (PDF) as a DICOM Encapsulated PDF in the ECG's study", runPdfToDicom);
