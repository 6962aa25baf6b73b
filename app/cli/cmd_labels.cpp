// echo2ecg labels import|list|set: study/patient labels (LVEF, SHD, ...) used for fine-tuning.
#include <cstdio>
#include <filesystem>
#include <string>

#include "commands.h"
#include "db/database.h"
#include "labels/labels_csv.h"

namespace {

int runLabels(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "by", "key-column", "study", "source"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg labels import CSV [--by study_uid|accession|patient_id] [--key-column NAME]\n"
        "                              [--source NAME] [--db FILE]\n"
        "       echo2ecg labels list [--study STUDY_UID] [--db FILE]\n"
        "       echo2ecg labels set STUDY_UID KEY VALUE [--db FILE]\n"
        "  import  every non-key column of the CSV becomes a label of the study (or patient) its\n"
        "          key names; rows naming nothing in the database are reported (exit 3);\n"
        "          --key-column: the column holding the --by key (e.g. --by patient_id --key-column ID)\n"
        "  list    labels, one per line: study_uid, patient_id, key, value, source\n"
        "  set     set (or replace) one study label by hand (source \"manual\")\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("labels", a.error);
  if (a.positional.empty()) return usageError("labels", "missing action (import, list or set)");
  const std::string action = a.positional[0];
  const std::size_t want = action == "import" ? 2 : action == "list" ? 1 : action == "set" ? 4 : 0;
  if (!want) return usageError("labels", "unknown action '" + action + "'");
  if (a.positional.size() != want) return usageError("labels", "wrong number of arguments for " + action);
  e2e::labels::KeyColumn by = e2e::labels::KeyColumn::Auto;
  if (a.has("by") && !e2e::labels::parseKeyColumn(a.get("by"), by))
    return usageError("labels", "--by must be study_uid, accession or patient_id");
  if (a.has("key-column") && (action != "import" || by == e2e::labels::KeyColumn::Auto || a.get("key-column").empty()))
    return usageError("labels", "--key-column NAME goes with import and --by study_uid|accession|patient_id");
  const std::string dbPath = dbPathFrom(a);
  if (!std::filesystem::exists(dbPath)) {
    std::fprintf(stderr, "echo2ecg labels: database not found: %s\n", dbPath.c_str());
    return kRuntimeError;
  }
  try {
    e2e::db::Database db(dbPath, action == "list" ? e2e::db::Database::Mode::ReadOnly : e2e::db::Database::Mode::ReadWrite);
    if (action == "import") {
      const auto r = e2e::labels::importLabelsCsv(db, a.positional[1], by, a.get("source"), a.get("key-column"));
      for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
      for (const auto& u : r.unmatched)
        std::printf("unmatched\tline %d\t%s=%s\n", u.line, e2e::labels::toString(r.keyColumn), u.key.c_str());
      std::printf("%d row(s), %d matched, %zu unmatched, %d label value(s) stored (key: %s)\n", r.rows,
                  r.matchedRows, r.unmatched.size(), r.labelsStored, e2e::labels::toString(r.keyColumn));
      return r.unmatched.empty() && r.warnings.empty() ? kOk : kFinishedWithProblems;
    }
    if (action == "set") {
      const auto sid = db.studyRowIdByUid(a.positional[1]);
      if (!sid) {
        std::fprintf(stderr, "echo2ecg labels: no study %s\n", a.positional[1].c_str());
        return kRuntimeError;
      }
      if (a.positional[2].empty()) return usageError("labels", "empty KEY");
      db.setStudyLabel(*sid, a.positional[2], a.positional[3], a.get("source", "manual"));
      return kOk;
    }
    // list
    std::printf("study_uid\tpatient_id\tkey\tvalue\tsource\n");
    std::size_t n = 0;
    e2e::db::Filter f;
    for (const auto& s : db.listStudies(f)) {
      if (a.has("study") && s.studyUid != a.get("study")) continue;
      for (const auto& l : db.labelsForStudy(s.id)) {
        std::printf("%s\t%s\t%s\t%s\t%s\n", tsvCell(s.studyUid).c_str(),
                    s.patientId.empty() ? "-" : tsvCell(s.patientId).c_str(), tsvCell(l.key).c_str(),
                    tsvCell(l.value).c_str(), l.source.empty() ? "-" : tsvCell(l.source).c_str());
        ++n;
      }
    }
    if (!a.has("study"))
      for (const auto& p : db.listPatients(f))
        for (const auto& l : db.labelsForPatient(p.id)) {
          std::printf("-\t%s\t%s\t%s\t%s\n", tsvCell(p.patientId).c_str(), tsvCell(l.key).c_str(),
                      tsvCell(l.value).c_str(), l.source.empty() ? "-" : tsvCell(l.source).c_str());
          ++n;
        }
    std::fprintf(stderr, "%zu label(s)\n", n);
    return kOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg labels: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  }
}

}  // namespace

E2E_REGISTER_COMMAND("labels", "import a labels CSV, list labels, or set one study label", runLabels);
