// echo2ecg serve --db FILE --aet AET --port N [--allow AET@HOST ...] [--allow-any] [--folder DIR] [--tls-*]
// The storage SCP in the foreground: one line per event (or one JSON line with --json) until Ctrl-C.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>

#include "commands.h"
#include "json_out.h"
#include "net/storage_scp.h"
#include "tls_args.h"

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

const char* kServeUsage =
    "Usage: echo2ecg serve [--db FILE] --aet AET --port N [--allow AET@HOST ...] [--allow-any]\n"
    "                      [--folder DIR] [--timeout S] [--json] [TLS options]\n"
    "DICOM storage SCP (C-ECHO, C-STORE of ECG/waveform, ultrasound, PDF, SR and secondary capture\n"
    "objects). Each received object is written to DIR (default <db>.received/<StudyUID>/<SOPUID>.dcm),\n"
    "acknowledged, and imported like `echo2ecg import` in batches: duplicates are skipped, a SOP\n"
    "Instance UID stored with different content is refused (status 0x0111) and nothing is overwritten.\n"
    "Objects acknowledged but not yet imported when serve was killed are imported at the next start.\n"
    "  --allow AET@HOST   a peer allowed to connect (repeatable; HOST may be a name, an IP or *)\n"
    "  --allow-any        accept any peer (otherwise peers not in the allow list are refused)\n"
    "  --timeout S        seconds to wait for each message of a peer (default 30)\n"
    "  --json             one JSON object per event\n"
    "DICOM TLS (any --tls-* option): --tls-key and --tls-cert are required; clients must present a\n"
    "certificate from a --tls-ca / --tls-ca-dir CA unless --tls-no-verify; plain clients are refused.\n";
const char* kServeExit =
    "Runs until Ctrl-C. Exit codes: 0 stopped, 1 runtime error, 2 usage error, 4 port not available or\n"
    "TLS set-up failed (key, certificate or CA files).\n";

// The SCP options from the command line; std::invalid_argument for a usage error.
net::ScpOptions scpOptionsFrom(const ParsedArgs& a) {
  if (!a.positional.empty()) throw std::invalid_argument("unexpected argument '" + a.positional.front() + "'");
  net::ScpOptions o;
  o.dbPath = dbPathFrom(a);
  o.folder = a.get("folder");
  o.aet = a.get("aet", o.aet);
  if (!net::validAeTitle(o.aet)) throw std::invalid_argument("--aet must be 1-16 printable characters");
  long long n = 0;
  if (!a.has("port") || !parseInt(a.get("port"), 1, 65535, n))
    throw std::invalid_argument("--port N (1-65535) is required");
  o.port = static_cast<int>(n);
  if (a.has("timeout")) {
    if (!parseInt(a.get("timeout"), 1, 3600, n)) throw std::invalid_argument("--timeout needs seconds 1..3600");
    o.dimseTimeoutS = static_cast<int>(n);
  }
  if (a.has("allow"))
    for (const auto& s : a.options.at("allow")) o.allow.push_back(net::parseAllowedPeer(s));
  o.allowAny = a.has("allow-any");
  o.tls = tlsOptionsFrom(a);
  if (o.allow.empty() && !o.allowAny)
    throw std::invalid_argument("no peer may connect: give --allow AET@HOST (repeatable) or --allow-any");
  return o;
}

int runServe(int argc, char** argv) {
  auto a = parseArgs(argc, argv, withTlsOptions({"db", "aet", "port", "allow", "folder", "timeout"}),
                     withTlsFlags({"allow-any", "json"}));
  if (a.help) {
    std::printf("%s%s%s", kServeUsage, kTlsUsage, kServeExit);
    return kOk;
  }
  if (!a.error.empty()) return usageError("serve", a.error);
  net::ScpOptions o;
  try {
    o = scpOptionsFrom(a);
  } catch (const std::invalid_argument& e) {
    return usageError("serve", e2e::errorText(e).c_str());
  }
  const bool json = a.has("json");
  std::unique_ptr<net::StorageScp> scp;
  e2e::job::CancelToken cancel;
  net::ScpStats s;
  try {
    scp = std::make_unique<net::StorageScp>(o, [json](const net::ScpEvent& e) { printEvent(e, json); });
    if (!json) std::printf("Receiving into %s (database %s)\n", scp->folder().c_str(), o.dbPath.c_str());
    gCancel = &cancel;
    std::signal(SIGINT, onServeSignal);
    std::signal(SIGTERM, onServeSignal);
    s = scp->run(cancel);
  } catch (const net::NetError& e) {
    gCancel = nullptr;
    std::fprintf(stderr, "echo2ecg serve: %s\n", e2e::errorText(e).c_str());
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
