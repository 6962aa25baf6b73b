// echo2ecg serve --db FILE --aet AET --port N [--allow AET@HOST ...] [--allow-any] [--folder DIR]
// The storage SCP in the foreground: one line per event (or one JSON line with --json) until Ctrl-C.
#include <csignal>
#include <cstdio>
#include <ctime>

#include "commands.h"
#include "json_out.h"
#include "net/storage_scp.h"

namespace {

using namespace e2e::cli;
namespace net = e2e::net;

e2e::job::CancelToken* gCancel = nullptr;
extern "C" void onServeSignal(int) {
  if (gCancel) gCancel->cancel();
}

std::string timeText(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

void printEvent(const net::ScpEvent& e, bool json) {
  const bool obj = e.type == net::ScpEvent::Type::ObjectStored || e.type == net::ScpEvent::Type::ObjectAborted;
  if (json) {
    nlohmann::ordered_json j;
    j["time"] = timeText(e.time);
    j["event"] = net::toString(e.type);
    if (!e.callingAet.empty()) j["callingAet"] = e.callingAet;
    if (!e.peerHost.empty()) j["peerHost"] = e.peerHost;
    if (obj) {
      j["outcome"] = net::toString(e.object.outcome);
      j["status"] = e.object.dimseStatus;
      j["sopInstanceUid"] = e.object.sopInstanceUid;
      j["studyUid"] = e.object.studyUid;
      j["path"] = e.object.path;
    }
    if (!e.message.empty()) j["message"] = e.message;
    printJsonLine(j);
    return;
  }
  std::string line = timeText(e.time) + " " + net::toString(e.type);
  if (!e.callingAet.empty()) line += " " + e.callingAet + "@" + e.peerHost;
  if (obj) line += " " + e.object.sopInstanceUid + ": " + net::toString(e.object.outcome);
  if (!e.message.empty()) line += " (" + e.message + ")";
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int runServe(int argc, char** argv) {
  auto a = parseArgs(argc, argv, {"db", "aet", "port", "allow", "folder", "timeout"}, {"allow-any", "json"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg serve [--db FILE] --aet AET --port N [--allow AET@HOST ...] [--allow-any]\n"
        "                      [--folder DIR] [--timeout S] [--json]\n"
        "DICOM storage SCP (C-ECHO, C-STORE of ECG/waveform, ultrasound, PDF, SR and secondary capture\n"
        "objects). Each received object is written to DIR (default <db>.received/<StudyUID>/<SOPUID>.dcm)\n"
        "and imported like `echo2ecg import`: duplicates are skipped, a SOP Instance UID stored with\n"
        "different content is refused (status 0x0111) and nothing is overwritten.\n"
        "  --allow AET@HOST   a peer allowed to connect (repeatable; HOST may be a name, an IP or *)\n"
        "  --allow-any        accept any peer (otherwise peers not in the allow list are refused)\n"
        "  --timeout S        seconds to wait for each message of a peer (default 30)\n"
        "  --json             one JSON object per event\n"
        "Runs until Ctrl-C. Exit codes: 0 stopped, 1 runtime error, 2 usage error, 4 port not available.\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("serve", a.error);
  if (!a.positional.empty()) return usageError("serve", "unexpected argument '" + a.positional.front() + "'");
  net::ScpOptions o;
  o.dbPath = dbPathFrom(a);
  o.folder = a.get("folder");
  o.aet = a.get("aet", o.aet);
  if (!net::validAeTitle(o.aet)) return usageError("serve", "--aet must be 1-16 printable characters");
  long long n = 0;
  if (!a.has("port") || !parseInt(a.get("port"), 1, 65535, n)) return usageError("serve", "--port N (1-65535) is required");
  o.port = static_cast<int>(n);
  if (a.has("timeout")) {
    if (!parseInt(a.get("timeout"), 1, 3600, n)) return usageError("serve", "--timeout needs seconds 1..3600");
    o.dimseTimeoutS = static_cast<int>(n);
  }
  if (a.has("allow")) {
    for (const auto& s : a.options.at("allow")) {
      try {
        o.allow.push_back(net::parseAllowedPeer(s));
      } catch (const std::invalid_argument& e) {
        return usageError("serve", e.what());
      }
    }
  }
  o.allowAny = a.has("allow-any");
  if (o.allow.empty() && !o.allowAny)
    return usageError("serve", "no peer may connect: give --allow AET@HOST (repeatable) or --allow-any");
  const bool json = a.has("json");
  net::StorageScp scp(o, [json](const net::ScpEvent& e) { printEvent(e, json); });
  if (!json) std::printf("Receiving into %s (database %s)\n", scp.folder().c_str(), o.dbPath.c_str());
  e2e::job::CancelToken cancel;
  gCancel = &cancel;
  std::signal(SIGINT, onServeSignal);
  std::signal(SIGTERM, onServeSignal);
  net::ScpStats s;
  try {
    s = scp.run(cancel);
  } catch (const net::NetError& e) {
    gCancel = nullptr;
    std::fprintf(stderr, "echo2ecg serve: %s\n", e.what());
    return kNetworkError;
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  gCancel = nullptr;
  if (!json)
    std::printf("Stopped: %d association(s), %d refused; received %d: added %d, not imported %d, skipped %d, "
                "conflicts %d, failed %d, aborted %d\n",
                s.associations, s.refusedAssociations, s.received, s.added, s.notImported, s.skipped, s.conflicts,
                s.failed, s.aborted);
  return kOk;
}

}  // namespace

E2E_REGISTER_COMMAND("serve", "DICOM storage SCP: receive studies from modalities and PACS into the database", runServe);
