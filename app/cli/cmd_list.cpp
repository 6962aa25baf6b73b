// echo2ecg list [patients|studies|series|instances] [--db FILE] [--filter TEXT] [--modality M] ...
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "commands.h"
#include "common/person_name.h"
#include "db/database.h"

namespace {

// A tab-separated cell: "-" when empty; control characters escaped (tsvCell), so that a value read
// from a file (a tab in a patient ID) can never add columns or rows.
std::string cell(const std::string& s) { return s.empty() ? "-" : e2e::cli::tsvCell(s); }

int runList(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "filter", "modality", "from", "to", "label", "limit"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg list [patients|studies|series|instances] [--db FILE] [--filter TEXT]\n"
        "                     [--modality M] [--from YYYYMMDD] [--to YYYYMMDD] [--label KEY[=VALUE]]\n"
        "                     [--limit N]\n"
        "Lists what the database holds (default: studies), one row per line, tab-separated.\n"
        "  --filter TEXT   case-insensitive substring of patient name or ID (instances: also path/UID)\n"
        "  --modality M    only studies/series/instances with this modality (ECG, US, ...)\n"
        "  --from/--to     study date range\n"
        "  --label K[=V]   only with a study or patient label K (of value V)\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("list", a.error);
  if (a.positional.size() > 1) return usageError("list", "too many arguments");
  const std::string what = a.positional.empty() ? "studies" : a.positional[0];
  if (what != "patients" && what != "studies" && what != "series" && what != "instances")
    return usageError("list", "unknown list '" + what + "' (patients, studies, series or instances)");
  e2e::db::Filter f;
  f.text = a.get("filter");
  f.modality = a.get("modality");
  f.dateFrom = a.get("from");
  f.dateTo = a.get("to");
  if (a.has("label")) {
    const std::string l = a.get("label");
    const auto eq = l.find('=');
    f.labelKey = l.substr(0, eq);
    if (eq != std::string::npos) f.labelValue = l.substr(eq + 1);
    if (f.labelKey.empty()) return usageError("list", "--label needs KEY or KEY=VALUE");
  }
  if (a.has("limit")) {
    long long n = 0;
    if (!parseInt(a.get("limit"), 1, 1LL << 40, n)) return usageError("list", "--limit needs a positive integer");
    f.limit = static_cast<int>(std::min<long long>(n, 1 << 30));
  }
  const std::string dbPath = dbPathFrom(a);
  if (!std::filesystem::exists(dbPath)) {
    std::fprintf(stderr, "echo2ecg list: database not found: %s\n", dbPath.c_str());
    return kRuntimeError;
  }
  // Viewing: a database this user may not write is read as it is (read-only).
  e2e::db::Database db(dbPath, e2e::db::Database::Mode::ReadOnly);
  std::size_t n = 0;
  if (what == "patients") {
    std::printf("id\tpatient_id\tname\tbirth_date\tsex\tstudies\n");
    for (const auto& p : db.listPatients(f)) {
      std::printf("%lld\t%s\t%s\t%s\t%s\t%d\n", static_cast<long long>(p.id), cell(p.patientId).c_str(),
                  cell(e2e::formatPersonName(p.name)).c_str(), cell(p.birthDate).c_str(), cell(p.sex).c_str(), p.studyCount);
      ++n;
    }
  } else if (what == "studies") {
    std::printf("id\tdate\tpatient_id\tpatient_name\tmodalities\tinstances\tdescription\tstudy_uid\n");
    for (const auto& s : db.listStudies(f)) {
      std::printf("%lld\t%s\t%s\t%s\t%s\t%d\t%s%s\t%s\n", static_cast<long long>(s.id), cell(s.date).c_str(),
                  cell(s.patientId).c_str(), cell(e2e::formatPersonName(s.patientName)).c_str(), cell(s.modalities).c_str(),
                  s.instanceCount, s.synthetic ? "[SYNTHETIC] " : "", cell(s.description).c_str(), e2e::cli::tsvCell(s.studyUid).c_str());
      ++n;
    }
  } else if (what == "series") {
    std::printf("id\tstudy_id\tmodality\tnumber\tinstances\tdescription\tseries_uid\n");
    for (const auto& s : db.listSeries(f)) {
      std::printf("%lld\t%lld\t%s\t%d\t%d\t%s\t%s\n", static_cast<long long>(s.id),
                  static_cast<long long>(s.studyRowId), cell(s.modality).c_str(), s.number, s.instanceCount,
                  cell(s.description).c_str(), e2e::cli::tsvCell(s.seriesUid).c_str());
      ++n;
    }
  } else {
    std::printf("id\tmodality\tformat\tpatient_id\tpatient_name\tdate\tsop_instance_uid\tpath\n");
    for (const auto& i : db.listInstances(f)) {
      std::printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", static_cast<long long>(i.id), cell(i.modality).c_str(),
                  e2e::cli::tsvCell(i.format).c_str(), cell(i.patientId).c_str(), cell(e2e::formatPersonName(i.patientName)).c_str(),
                  cell(i.studyDate).c_str(), e2e::cli::tsvCell(i.sopInstanceUid).c_str(), e2e::cli::tsvCell(i.path).c_str());
      ++n;
    }
  }
  std::fprintf(stderr, "%zu %s\n", n, what.c_str());
  return kOk;
}

}  // namespace

E2E_REGISTER_COMMAND("list", "list patients, studies, series or instances (with filters)", runList);
