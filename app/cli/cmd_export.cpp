// echo2ecg export --anonymize OUT [--db FILE] [--shift-dates DAYS] ID|UID...   (or --files FILE...)
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "db/database.h"
#include "io/anonymize.h"

namespace {

// The DICOM source files of the given instance ids / SOP Instance UIDs / Study Instance UIDs;
// what cannot be exported goes to `problems`.
std::vector<std::string> sourcesFromDb(const std::string& dbPath, const std::vector<std::string>& keys,
                                       std::vector<std::string>& problems) {
  using namespace e2e::cli;
  e2e::db::Database db(dbPath, e2e::db::Database::Mode::ReadOnly);
  std::vector<e2e::db::InstanceRow> rows;
  for (const auto& key : keys) {
    long long id = 0;
    std::optional<e2e::db::InstanceRow> inst;
    if (key.find('.') == std::string::npos && parseInt(key, 1, 1LL << 62, id)) inst = db.instanceById(id);
    else inst = db.instanceByUid(key);
    if (inst) {
      rows.push_back(*inst);
    } else if (auto study = db.studyRowIdByUid(key)) {
      e2e::db::Filter f;
      f.studyRowId = *study;
      for (const auto& i : db.listInstances(f)) rows.push_back(i);
    } else {
      problems.push_back(key + ": no instance or study with this id or UID in " + dbPath);
    }
  }
  std::vector<std::string> paths;
  std::set<std::int64_t> seen;  // an instance named twice (by id and by its study) is exported once
  for (const auto& r : rows) {
    if (!seen.insert(r.id).second) continue;
    if (r.format != "DICOM-ECG" && r.format != "DICOM-US")
      problems.push_back("instance " + std::to_string(r.id) + " (" + r.format + ", " + r.path +
                         "): not a DICOM object; export as DICOM is not supported");
    else
      paths.push_back(r.path);
  }
  return paths;
}

int runExport(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"anonymize", "db", "name", "patient-id", "uid-root", "shift-dates"}, {"files", "keep-sex"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg export --anonymize OUT [--db FILE] ID|UID...\n"
        "       echo2ecg export --anonymize OUT --files FILE...\n"
        "Writes anonymised copies of DICOM ECG and ultrasound objects into the folder OUT, following\n"
        "the DICOM Basic Application Level Confidentiality Profile (PS3.15 Annex E): identifying\n"
        "attributes removed or emptied, patient name and ID replaced by a pseudonym, every UID\n"
        "replaced consistently (objects of one study stay one study), private tags removed.\n"
        "ID is an instance id of 'list instances'; UID a SOP Instance UID or a Study Instance UID\n"
        "(then every instance of the study). Only DICOM sources can be exported.\n"
        "  --name NAME        patient name to write (default ANON^<n>, one n per patient)\n"
        "  --patient-id ID    patient ID to write (default ANON<n>)\n"
        "  --keep-sex         keep Patient's Sex (default: emptied)\n"
        "  --uid-root ROOT    root of the new UIDs (default: DCMTK's)\n"
        "  --shift-dates DAYS move every date (DA/DT) by DAYS days, negative for earlier, instead of\n"
        "                     emptying it: the intervals between dates stay exact, times are kept\n"
        "                     (PS3.15 Modified Dates Option; default: dates emptied or removed)\n"
        "Ultrasound images that may carry burned-in annotation (names in the pixels) are reported.\n"
        "Exit status 3 when some item could not be exported.\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("export", a.error);
  if (!a.has("anonymize") || a.get("anonymize").empty())
    return usageError("export", "--anonymize OUT is required (only anonymised export is supported)");
  if (a.positional.empty()) return usageError("export", "expected at least one ID, UID or file");
  std::vector<std::string> problems, paths;
  if (a.has("files")) {
    paths = a.positional;
  } else {
    const std::string dbPath = dbPathFrom(a);
    if (!std::filesystem::exists(dbPath)) {
      std::fprintf(stderr, "echo2ecg export: database not found: %s\n", dbPath.c_str());
      return kRuntimeError;
    }
    paths = sourcesFromDb(dbPath, a.positional, problems);
  }
  e2e::io::AnonymizeOptions opt;
  opt.outDir = a.get("anonymize");
  opt.patientName = a.get("name");
  opt.patientId = a.get("patient-id");
  opt.keepPatientSex = a.has("keep-sex");
  opt.uidRoot = a.get("uid-root");
  if (a.has("shift-dates")) {
    long long days = 0;
    if (!parseInt(a.get("shift-dates"), -e2e::io::kMaxDateShiftDays, e2e::io::kMaxDateShiftDays, days))
      return usageError("export", "--shift-dates needs a whole number of days between -" +
                                      std::to_string(e2e::io::kMaxDateShiftDays) + " and " +
                                      std::to_string(e2e::io::kMaxDateShiftDays) + ", got '" + a.get("shift-dates") + "'");
    opt.shiftDays = static_cast<int>(days);
  }
  e2e::io::AnonymizeReport rep;
  if (!paths.empty()) rep = e2e::io::anonymizeFiles(paths, opt);
  for (const auto& w : rep.written) std::printf("%s -> %s\n", w.source.c_str(), w.output.c_str());
  for (const auto& w : rep.warnings) std::fprintf(stderr, "echo2ecg export: warning: %s\n", w.c_str());
  problems.insert(problems.end(), rep.errors.begin(), rep.errors.end());
  for (const auto& p : problems) std::fprintf(stderr, "echo2ecg export: %s\n", p.c_str());
  std::printf("%zu written, %zu warning(s), %zu not exported\n", rep.written.size(), rep.warnings.size(),
              problems.size());
  return problems.empty() ? kOk : kFinishedWithProblems;
}

}  // namespace

E2E_REGISTER_COMMAND("export", "anonymised export of DICOM ECG and ultrasound objects (PS3.15 Basic Profile)",
                     runExport);
