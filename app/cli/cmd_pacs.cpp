// echo2ecg pacs echo|find|get|move|send --peer AET@HOST:PORT [--aet OURS] [--tls-*] ...
// Prints what core/net reports; maps network failures to exit code 4.
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "commands.h"
#include "db/database.h"
#include "json_out.h"
#include "net/scu.h"
#include "tls_args.h"

namespace {

using namespace e2e::cli;
namespace net = e2e::net;

e2e::job::CancelToken* gCancel = nullptr;
extern "C" void onPacsSignal(int) {
  if (gCancel) gCancel->cancel();
}

const char* kUsage =
    "Usage: echo2ecg pacs echo|find|get|move|send --peer AET@HOST:PORT [--aet OURS] [--timeout S] ...\n"
    "DICOM query/retrieve and send against a PACS or modality (C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE).\n"
    "  --peer AET@HOST:PORT  the remote application entity (required)\n"
    "  --aet OURS            our AE title (default ECHO2ECG)\n"
    "  --timeout S           seconds to wait for each answer (default 60)\n"
    "find:  [--level patient|study|series] [--patient-id ID] [--patient-name NAME] [--date FROM-TO]\n"
    "       [--modality ECG|US|...] [--accession A] [--study-uid UID] [--limit N] [--json]\n"
    "       (wildcards * and ? in IDs and names; dates YYYYMMDD, FROM- or -TO for open ranges)\n"
    "get:   --study-uid UID [--study-uid UID ...] | --study-uid UID --series-uid UID\n"
    "       [--db FILE] [--folder DIR]\n"
    "       objects come back on the same association (one for all the studies) and are imported\n"
    "       into the database (stored in DIR, default <db>.received)\n"
    "move:  --study-uid UID [--series-uid UID] --dest AET   (the peer sends to AET, which it must know)\n"
    "send:  FILE... | --study-uid UID [--db FILE]           (C-STORE of files, or of a stored study)\n"
    "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 finished with failures or conflicts,\n"
    "4 network error (unreachable peer, association rejected, timeout, TLS), 130 interrupted.\n";

net::Association associationFrom(const ParsedArgs& a) {
  net::Association as;
  as.peer = net::parsePeer(a.get("peer"));
  if (a.has("aet")) as.ourAet = a.get("aet");
  if (!net::validAeTitle(as.ourAet)) throw std::invalid_argument("--aet must be 1-16 printable characters");
  as.tls = tlsOptionsFrom(a);
  long long t = 0;
  if (a.has("timeout")) {
    if (!parseInt(a.get("timeout"), 1, 3600, t)) throw std::invalid_argument("--timeout needs seconds 1..3600");
    as.dimseTimeoutS = static_cast<int>(t);
    as.acseTimeoutS = static_cast<int>(std::min<long long>(t, 60));
  }
  return as;
}

void splitDate(const std::string& d, net::FindRequest& r) {
  const auto dash = d.find('-');
  if (dash == std::string::npos) {
    r.dateFrom = r.dateTo = d;
  } else {
    r.dateFrom = d.substr(0, dash);
    r.dateTo = d.substr(dash + 1);
  }
}

void printRow(const net::FindRow& r, bool json) {
  if (json) {
    nlohmann::ordered_json j;
    j["level"] = net::toString(r.level);
    j["patientId"] = r.patientId;
    j["patientName"] = r.patientName;
    if (r.level == net::QueryLevel::Patient) {
      j["birthDate"] = r.birthDate;
      j["sex"] = r.sex;
      j["studies"] = r.numStudies;
    } else {
      j["studyUid"] = r.studyUid;
      j["studyDate"] = r.studyDate;
      j["accession"] = r.accession;
      if (r.level == net::QueryLevel::Study) {
        j["modalities"] = r.modalitiesInStudy;
        j["description"] = r.studyDescription;
        j["series"] = r.numSeries;
      } else {
        j["seriesUid"] = r.seriesUid;
        j["modality"] = r.modality;
        j["seriesNumber"] = r.seriesNumber;
      }
      j["instances"] = r.numInstances;
    }
    printJsonLine(j);
    return;
  }
  if (r.level == net::QueryLevel::Patient)
    std::printf("%-20s %-30s %-8s %s studies=%d\n", r.patientId.c_str(), r.patientName.c_str(), r.birthDate.c_str(),
                r.sex.c_str(), r.numStudies);
  else if (r.level == net::QueryLevel::Study)
    std::printf("%-8s %-10s %-16s %-20s %-24s %s instances=%d\n", r.studyDate.c_str(), r.modalitiesInStudy.c_str(),
                r.accession.c_str(), r.patientId.c_str(), r.patientName.c_str(), r.studyUid.c_str(), r.numInstances);
  else
    std::printf("%-6s %4d %-20s %s instances=%d\n", r.modality.c_str(), r.seriesNumber, r.patientId.c_str(),
                r.seriesUid.c_str(), r.numInstances);
}

int runFind(const ParsedArgs& a, const net::Association& as, const e2e::job::CancelToken& cancel) {
  net::FindRequest r;
  r.level = net::parseQueryLevel(a.get("level", "study"));
  r.patientId = a.get("patient-id");
  r.patientName = a.get("patient-name");
  if (a.has("date")) splitDate(a.get("date"), r);
  r.modality = a.get("modality");
  r.accession = a.get("accession");
  r.studyUid = a.get("study-uid");
  long long n = 0;
  if (a.has("limit")) {
    if (!parseInt(a.get("limit"), 1, 1000000, n)) return usageError("pacs", "--limit needs an integer >= 1");
    r.maxResults = static_cast<int>(n);
  }
  const bool json = a.has("json");
  const auto rep = net::find(as, r, cancel, [&](const net::FindRow& row) { printRow(row, json); });
  if (!json)
    std::printf("%zu %s result(s) from %s: %s\n", rep.rows.size(), net::toString(r.level), as.peer.str().c_str(),
                rep.statusText.c_str());
  if (rep.cancelled) return kInterrupted;
  return rep.status == 0 ? kOk : kFinishedWithProblems;
}

void printIssues(const char* what, const std::vector<net::ObjectIssue>& v) {
  for (const auto& i : v)
    std::printf("  %s: %s%s%s\n", what, i.sopInstanceUid.empty() ? i.path.c_str() : i.sopInstanceUid.c_str(),
                i.message.empty() ? "" : ": ", i.message.c_str());
}

int retrieveResult(const char* op, const net::RetrieveReport& rep, bool isGet) {
  printIssues("conflict", rep.conflicts);
  printIssues("error", rep.errors);
  printIssues("not imported", rep.notImportedObjects);
  std::printf("%s %s: %s; peer completed %d, failed %d, warning %d", op, rep.cancelled ? "cancelled" : "finished",
              rep.statusText.c_str(), rep.completed, rep.failed, rep.warning);
  if (isGet)
    std::printf("; received %d: added %d, stored %d, not imported %d, skipped %d, conflicts %zu, errors %zu",
                rep.received, rep.added, rep.stored, rep.notImported, rep.skipped, rep.conflicts.size(),
                rep.errors.size());
  std::printf(" in %.1f s\n", rep.seconds);
  if (rep.cancelled) return kInterrupted;
  return rep.ok() ? kOk : kFinishedWithProblems;
}

net::RetrieveRequest retrieveRequest(const ParsedArgs& a) {
  net::RetrieveRequest r;
  r.studyUid = a.get("study-uid");
  r.seriesUid = a.get("series-uid");
  if (!r.seriesUid.empty()) r.level = net::QueryLevel::Series;
  return r;
}

std::function<void(const net::RetrieveProgress&)> retrieveProgress() {
  if (!isatty(STDERR_FILENO)) return {};
  return [](const net::RetrieveProgress& p) {
    std::fprintf(stderr, "\rcompleted %d, failed %d, remaining %d, received %d   ", p.completed, p.failed,
                 p.remaining, p.received);
    std::fflush(stderr);
  };
}

// get: one C-GET per --study-uid, all on one association.
int runGet(const ParsedArgs& a, const net::Association& as, const e2e::job::CancelToken& cancel) {
  std::vector<net::RetrieveRequest> reqs;
  const std::vector<std::string> studies =
      a.has("study-uid") ? a.options.at("study-uid") : std::vector<std::string>{""};
  if (studies.size() > 1 && a.has("series-uid"))
    return usageError("pacs", "--series-uid goes with one --study-uid (the series' study)");
  for (const auto& uid : studies) {
    auto req = retrieveRequest(a);
    req.studyUid = uid;
    req.dbPath = a.has("folder") && !a.has("db") ? "" : dbPathFrom(a);
    req.folder = a.get("folder");
    reqs.push_back(req);
  }
  const auto show = retrieveProgress();
  const auto reps = net::getMany(as, reqs, cancel, [&](std::size_t, const net::RetrieveProgress& p) {
    if (show) show(p);
  });
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
  int rc = kOk;
  for (std::size_t i = 0; i < reps.size(); ++i) {
    if (reps.size() > 1 || studies.size() > 1) std::printf("study %s: ", studies[i].c_str());
    const int r = retrieveResult("C-GET", reps[i], true);
    if (r != kOk && rc != kInterrupted) rc = r;
  }
  if (studies.size() > 1) {
    int received = 0, added = 0, ok = 0;
    for (const auto& r : reps) {
      received += r.received;
      added += r.added;
      ok += r.ok() ? 1 : 0;
    }
    std::printf("%d of %zu studies retrieved on one association: received %d, added %d\n", ok, studies.size(),
                received, added);
  }
  return rc;
}

int runSend(const ParsedArgs& a, const net::Association& as, const e2e::job::CancelToken& cancel) {
  net::SendRequest r;
  r.files.assign(a.positional.begin() + 1, a.positional.end());
  if (a.has("study-uid")) {
    e2e::db::Database db(dbPathFrom(a), e2e::db::Database::Mode::ReadOnly);
    const auto sid = db.studyRowIdByUid(a.get("study-uid"));
    if (!sid) throw std::runtime_error("study " + a.get("study-uid") + " is not in " + db.path());
    e2e::db::Filter f;
    f.studyRowId = *sid;
    for (const auto& i : db.listInstances(f)) r.files.push_back(i.path);
  }
  if (r.files.empty()) return usageError("pacs", "send needs files or --study-uid");
  const auto rep = net::send(as, r, cancel);
  printIssues("failed", rep.failures);
  std::printf("Send %s: sent %d of %zu (%d with warnings), failed %zu, %.1f MiB in %.1f s\n",
              rep.cancelled ? "cancelled" : "finished", rep.sent, r.files.size(), rep.warnings, rep.failures.size(),
              static_cast<double>(rep.bytes) / (1024.0 * 1024.0), rep.seconds);
  if (rep.cancelled) return kInterrupted;
  return rep.ok() ? kOk : kFinishedWithProblems;
}

int dispatch(const std::string& op, const ParsedArgs& a, const e2e::job::CancelToken& cancel) {
  const net::Association as = associationFrom(a);
  if (op == "echo") {
    const auto r = net::echo(as);
    std::printf("C-ECHO %s: %s in %.1f ms\n", as.peer.str().c_str(), net::dimseStatusText(r.status).c_str(),
                r.roundTripMs);
    return kOk;
  }
  if (op == "find") return runFind(a, as, cancel);
  if (op == "send") return runSend(a, as, cancel);
  if (op == "get") return runGet(a, as, cancel);
  auto req = retrieveRequest(a);
  req.destinationAet = a.get("dest");
  const auto rep = net::move(as, req, cancel, retrieveProgress());
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
  return retrieveResult("C-MOVE", rep, false);
}

int runPacs(int argc, char** argv) {
  auto a = parseArgs(argc, argv,
                     withTlsOptions({"peer", "aet", "timeout", "level", "patient-id", "patient-name", "date",
                                     "modality", "accession", "study-uid", "series-uid", "limit", "db", "folder",
                                     "dest"}),
                     withTlsFlags({"json"}));
  if (a.help) {
    std::printf("%s%s", kUsage, kTlsUsage);
    return kOk;
  }
  if (!a.error.empty()) return usageError("pacs", a.error);
  if (a.positional.empty()) return usageError("pacs", "which operation? echo, find, get, move or send");
  const std::string op = a.positional.front();
  if (op != "echo" && op != "find" && op != "get" && op != "move" && op != "send")
    return usageError("pacs", "unknown operation '" + op + "' (echo, find, get, move, send)");
  if (op != "send" && a.positional.size() > 1) return usageError("pacs", "unexpected argument '" + a.positional[1] + "'");
  if (!a.has("peer")) return usageError("pacs", "--peer AET@HOST:PORT is required");
  e2e::job::CancelToken cancel;
  gCancel = &cancel;
  std::signal(SIGINT, onPacsSignal);
  std::signal(SIGTERM, onPacsSignal);
  int rc = kOk;
  try {
    rc = dispatch(op, a, cancel);
  } catch (const net::NetError& e) {
    // A TLS message names TLS itself.
    if (e.kind() == net::NetError::Kind::Tls) std::fprintf(stderr, "echo2ecg pacs %s: %s\n", op.c_str(), e.what());
    else std::fprintf(stderr, "echo2ecg pacs %s: %s: %s\n", op.c_str(), net::toString(e.kind()), e.what());
    rc = kNetworkError;
  } catch (const std::invalid_argument& e) {
    rc = usageError("pacs", e.what());
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  gCancel = nullptr;
  return rc;
}

}  // namespace

E2E_REGISTER_COMMAND("pacs", "DICOM query/retrieve and send: echo, find, get, move, send (--peer AET@HOST:PORT)", runPacs);
