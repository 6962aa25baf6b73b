// echo2ecg report ID|UID --pdf OUT [--db FILE] [--paper a4|letter] [--layout L] [--gain MM]
//
// The ECG printout of one stored ECG (exact scale on A4 or Letter), for batch use. The page is
// painted by the GUI's printout code (ui/ecg/EcgPrintout), which needs Qt Gui for PDF painting
// and fonts: this command runs `echo2ecg-gui --export-pdf` (offscreen, no window) so that the
// command line itself stays Qt-free, builds without Qt and starts without loading it, and so
// that File > Print, Export PDF… and this command share one page.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "common/process.h"
#include "db/database.h"
#ifdef E2E_CLI_WITH_TORCH
#include "pipeline/data.h"  // requireUnchanged: the file still has the content it was imported with
#endif

namespace {

namespace fs = std::filesystem;

bool executable(const fs::path& p) { return !p.empty() && ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p); }

// $E2E_GUI, else echo2ecg-gui beside this program (installed), else ../gui/ (the build tree),
// else the PATH; empty when none is found.
std::string guiProgram() {
  if (const char* env = std::getenv("E2E_GUI"); env && *env) return env;
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    const fs::path dir = fs::path(std::string(buf, static_cast<std::size_t>(n))).parent_path();
    for (const fs::path& p : {dir / "echo2ecg-gui", dir.parent_path() / "gui" / "echo2ecg-gui"})
      if (executable(p)) return p.string();
  }
  if (const char* path = std::getenv("PATH"))
    for (std::string rest = path; !rest.empty();) {
      const auto colon = rest.find(':');
      const fs::path p = fs::path(rest.substr(0, colon)) / "echo2ecg-gui";
      if (executable(p)) return p.string();
      rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
  return {};
}

// The stored instance of `key` (instance id or SOP Instance UID); nullopt with `why` otherwise.
std::optional<e2e::db::InstanceRow> findEcg(e2e::db::Database& db, const std::string& key, std::string& why) {
  long long id = 0;
  std::optional<e2e::db::InstanceRow> inst;
  if (key.find('.') == std::string::npos && e2e::cli::parseInt(key, 1, 1LL << 62, id)) inst = db.instanceById(id);
  else inst = db.instanceByUid(key);
  if (!inst) {
    why = "no instance with this id or SOP Instance UID: " + key;
    return std::nullopt;
  }
  if (inst->modality != "ECG") {
    why = "instance " + std::to_string(inst->id) + " is " + (inst->modality.empty() ? "not an ECG" : inst->modality) +
          ", not an ECG (" + inst->path + ")";
    return std::nullopt;
  }
  return inst;
}

int runReport(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"pdf", "db", "paper", "layout", "gain"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg report ID|UID --pdf OUT.pdf [--db FILE] [--paper a4|letter] [--layout L] [--gain MM]\n"
        "Writes the printout of a stored ECG as a one-page PDF at exact scale: 25 mm/s and 10 mm/mV\n"
        "on the paper, landscape, with the patient, measurements, statements and calibration pulses;\n"
        "the same page as File > Print in echo2ecg-gui.\n"
        "ID is an instance id of 'list instances', UID its SOP Instance UID.\n"
        "  --paper a4|letter  paper (default a4)\n"
        "  --layout L         3x4+R (default), 3x4, 6x2 or 12x1\n"
        "  --gain MM          5, 10 (default) or 20 mm/mV\n"
        "The page is painted by echo2ecg-gui (offscreen, no window): $E2E_GUI, else the one installed\n"
        "beside echo2ecg, else the one on the PATH.\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("report", a.error);
  if (a.positional.size() != 1) return usageError("report", "expected exactly one ECG instance id or UID");
  if (a.get("pdf").empty()) return usageError("report", "--pdf OUT.pdf is required");
  const std::string paper = a.get("paper", "a4");
  if (paper != "a4" && paper != "letter" && paper != "A4" && paper != "Letter")
    return usageError("report", "unknown paper '" + paper + "' (a4, letter)");
  const std::string layout = a.get("layout", "3x4+R");
  if (layout != "3x4+R" && layout != "3x4" && layout != "6x2" && layout != "12x1")
    return usageError("report", "unknown layout '" + layout + "' (3x4+R, 3x4, 6x2, 12x1)");
  const std::string gain = a.get("gain", "10");
  if (gain != "5" && gain != "10" && gain != "20") return usageError("report", "--gain must be 5, 10 or 20 (mm/mV)");

  const std::string dbPath = dbPathFrom(a);
  if (!fs::exists(dbPath)) {
    std::fprintf(stderr, "echo2ecg report: database not found: %s\n", dbPath.c_str());
    return kRuntimeError;
  }
  std::string why;
  std::optional<e2e::db::InstanceRow> inst;
  {
    e2e::db::Database db(dbPath, e2e::db::Database::Mode::ReadOnly);
    inst = findEcg(db, a.positional.front(), why);
  }
  if (!inst) {
    std::fprintf(stderr, "echo2ecg report: %s\n", why.c_str());
    return kRuntimeError;
  }
#ifdef E2E_CLI_WITH_TORCH
  e2e::pipeline::requireUnchanged(inst->path, inst->sha256);  // never another recording under this patient's id
#endif
  const std::string gui = guiProgram();
  if (gui.empty()) {
    std::fprintf(stderr,
                 "echo2ecg report: echo2ecg-gui is needed to paint the printout and was not found (install the "
                 "workstation or set $E2E_GUI)\n");
    return kRuntimeError;
  }
  e2e::ProcessOptions po;
  po.env = {"QT_QPA_PLATFORM=offscreen"};
  const e2e::ProcessResult r = e2e::runProcess(
      {gui, "--export-pdf", a.get("pdf"), "--paper", paper, "--layout", layout, "--gain", gain, "--", inst->path}, po);
  if (!r.started) {
    std::fprintf(stderr, "echo2ecg report: cannot run %s: %s\n", gui.c_str(), r.startError.c_str());
    return kRuntimeError;
  }
  std::fputs(r.out.c_str(), stdout);
  // echo2ecg-gui names itself in its messages (the user ran echo2ecg report); Qt's note about a
  // missing XDG_RUNTIME_DIR in a headless run says nothing about the printout.
  std::string line;
  for (std::size_t p = 0; p < r.err.size(); p += line.size()) {
    const std::size_t nl = r.err.find('\n', p);
    line = r.err.substr(p, nl == std::string::npos ? std::string::npos : nl - p + 1);
    if (line.rfind("QStandardPaths: ", 0) == 0) continue;
    if (line.rfind("echo2ecg-gui: ", 0) == 0) std::fprintf(stderr, "echo2ecg report: %s", line.c_str() + 14);
    else std::fputs(line.c_str(), stderr);
  }
  return r.ok() ? kOk : (r.exitCode == kUsageError ? kUsageError : kRuntimeError);
}

}  // namespace

E2E_REGISTER_COMMAND("report", "ECG printout as a one-page PDF at exact scale (A4 or Letter)", runReport);
