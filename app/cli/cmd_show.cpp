// echo2ecg show ID|UID --db FILE
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "commands.h"
#include "common/person_name.h"
#include "labels/snomed_terms.h"
#include "db/database.h"
#include "io/reader.h"
#include "signal/ecg_quality.h"

namespace {

const char* orDash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

void num(const char* label, double v, const char* unit) {
  if (!std::isfinite(v)) {
    std::printf("    %-14s -\n", label);
    return;
  }
  // Device measurements are whole numbers; derived ones (e.g. HR from RR) get one decimal.
  const bool whole = std::fabs(v - std::round(v)) < 1e-6;
  std::printf(whole ? "    %-14s %.0f %s\n" : "    %-14s %.1f %s\n", label, v, unit);
}

void showEcg(const e2e::db::EcgRow& e) {
  std::printf("ECG\n");
  if (!e.manufacturer.empty() || !e.modelName.empty())
    std::printf("  Device: %s %s\n", orDash(e.manufacturer), e.modelName.c_str());
  std::printf("  Sampling: %.6g Hz, %lld samples (%.2f s), %d leads%s\n", e.samplingHz,
              static_cast<long long>(e.numSamples), e.samplingHz > 0 ? e.numSamples / e.samplingHz : 0.0,
              e.numLeads, e.hasMedian ? ", median beats present" : "");
  std::string leads;
  for (const auto& l : e.leads) leads += (leads.empty() ? "" : " ") + l;
  std::printf("  Leads: %s\n", orDash(leads));
  std::printf("  Measurements:\n");
  const auto& m = e.measurements;
  num("Heart rate", m.heartRateBpm, "bpm");
  num("RR", m.rrMs, "ms");
  num("PR", m.prMs, "ms");
  num("QRS", m.qrsMs, "ms");
  num("QT", m.qtMs, "ms");
  num("QTc", m.qtcMs, m.qtcFormula.empty() ? "ms" : ("ms (" + m.qtcFormula + ")").c_str());
  num("P axis", m.pAxisDeg, "deg");
  num("QRS axis", m.qrsAxisDeg, "deg");
  num("T axis", m.tAxisDeg, "deg");
  if (!e.statements.empty()) {
    std::printf("  Statements:\n");
    for (const auto& s : e.statements) std::printf("    %s\n", s.c_str());
  }
  if (!e.diagnoses.empty()) {
    std::string dx;
    for (const auto& s : e.diagnoses) dx += (dx.empty() ? "" : ", ") + e2e::labels::snomedDisplayText(s);
    std::printf("  Diagnoses: %s\n", dx.c_str());
  }
}

// Signal quality (issue 23), computed from the file as it is now (never stored by `show`).
void showQuality(const std::string& path) {
  e2e::signal::EcgQuality q;
  try {
    auto obj = e2e::readAny(path);
    const auto* rec = std::get_if<e2e::EcgRecord>(&obj);
    if (!rec) return;
    q = e2e::signal::assessEcgQuality(*rec);
  } catch (const std::exception& ex) {
    std::printf("Signal quality\n  - (the file cannot be read: %s)\n", ex.what());
    return;
  }
  std::printf("Signal quality (%s)\n", q.version.c_str());
  if (q.usable)
    std::printf("  Record: score %.2f, usable (%d of 12 leads usable)\n", q.score, q.usableLeads);
  else
    std::printf("  Record: score %.2f, NOT USABLE: %s\n", q.score, q.reason.c_str());
  std::string leads;
  for (const auto& l : q.leads) {
    std::string codes;
    for (const auto& c : l.codes) codes += (codes.empty() ? "" : "+") + c;
    leads += (leads.empty() ? "" : ", ") + l.lead + " " + (codes.empty() ? std::string("ok") : codes);
  }
  std::printf("  Leads: %s\n", leads.c_str());
  for (const auto& i : q.issues) std::printf("    [%s] %s\n", e2e::signal::toString(i.severity), i.message.c_str());
  for (const auto& n : q.notes) std::printf("    note: %s\n", n.c_str());
}

void showEcho(const e2e::db::EchoRow& e) {
  std::printf("Echo loop\n");
  if (!e.manufacturer.empty() || !e.modelName.empty())
    std::printf("  Device: %s %s\n", orDash(e.manufacturer), e.modelName.c_str());
  std::printf("  Geometry: %d x %d, %d frames, %d sample(s)/pixel, %d/%d bits\n", e.cols, e.rows, e.frames,
              e.samplesPerPixel, e.bitsStored, e.bitsAllocated);
  if (std::isfinite(e.fps) && e.fps > 0)
    std::printf("  Frame rate: %.6g fps (source: %s), duration %.3f s\n", e.fps, e.fpsSource.c_str(),
                e.frames / e.fps);
  else
    std::printf("  Frame rate: - (source: %s)\n", e.fpsSource.c_str());
  std::printf("  Photometric: %s\n  Transfer syntax: %s\n", orDash(e.photometric), orDash(e.transferSyntaxUid));
  std::printf("  View: %s (source: %s%s%s)\n", orDash(e.viewLabel), e.viewSource.c_str(),
              e.viewCode.empty() ? "" : ", code ", e.viewCode.c_str());
  std::printf("  Regions: %zu\n", e.regions.size());
  int k = 0;
  for (const auto& r : e.regions)
    std::printf("    #%d [%d,%d]-[%d,%d] format %d type %d flags %d, %.6g %s/px x %.6g %s/px\n", k++, r.x0, r.y0,
                r.x1, r.y1, r.spatialFormat, r.dataType, r.flags, r.deltaX,
                e2e::ultrasoundUnitName(r.unitsX).c_str(), r.deltaY, e2e::ultrasoundUnitName(r.unitsY).c_str());
}

void showInstance(e2e::db::Database& db, std::int64_t id) {
  const auto d = db.details(id);
  if (!d) return;
  const auto& i = d->instance;
  std::printf("Instance %lld\n", static_cast<long long>(i.id));
  std::printf("  SOP Instance UID: %s\n", i.sopInstanceUid.c_str());
  std::printf("  SOP Class UID:    %s\n", orDash(i.sopClassUid));
  std::printf("  Format:           %s\n", i.format.c_str());
  std::printf("  Path:             %s\n", i.path.c_str());
  std::printf("  Size:             %llu bytes\n", static_cast<unsigned long long>(i.fileSize));
  std::printf("  SHA-256:          %s\n", i.sha256.c_str());
  std::printf("  Imported:         %s\n", i.importedAt.c_str());
  std::printf("Patient %lld\n", static_cast<long long>(d->patient.id));
  // The name as everywhere else ("FAMILY, Given"), and the stored DICOM value where it differs.
  const std::string name = e2e::formatPersonName(d->patient.name);
  const std::string stored = name == d->patient.name ? "" : " (DICOM " + d->patient.name + ")";
  std::printf("  ID: %s  Name: %s%s  Birth date: %s  Sex: %s\n", orDash(d->patient.patientId), orDash(name),
              stored.c_str(), orDash(d->patient.birthDate), orDash(d->patient.sex));
  std::printf("Study %lld%s\n", static_cast<long long>(d->study.id), d->study.synthetic ? "  [SYNTHETIC DATA]" : "");
  std::printf("  UID: %s\n  Date: %s  Time: %s  Accession: %s\n  Description: %s\n", d->study.studyUid.c_str(),
              orDash(d->study.date), orDash(d->study.time), orDash(d->study.accession), orDash(d->study.description));
  std::printf("Series %lld\n  UID: %s\n  Modality: %s  Number: %d  Description: %s\n",
              static_cast<long long>(d->series.id), d->series.seriesUid.c_str(), orDash(d->series.modality),
              d->series.number, orDash(d->series.description));
  if (d->ecg) {
    showEcg(*d->ecg);
    showQuality(i.path);
  }
  if (d->echo) showEcho(*d->echo);
  if (!d->labels.empty()) {
    std::printf("Labels\n");
    for (const auto& l : d->labels)
      std::printf("  %s = %s (%s%s)\n", l.key.c_str(), l.value.c_str(), l.studyRowId ? "study" : "patient",
                  l.source.empty() ? "" : (", " + l.source).c_str());
  }
  const auto preds = db.predictionsFor(i.id);
  if (!preds.empty()) {
    std::printf("Predictions\n");
    for (const auto& p : preds) {
      std::printf("  %s: %s %s (%s, %s)", p.task.c_str(), p.modelId.c_str(), p.modelVersion.c_str(),
                  p.createdAt.c_str(), p.precision.c_str());
      for (const auto& [k2, v] : p.probabilities) std::printf(" %s=%.3f", k2.c_str(), v);
      std::printf("\n");
    }
  }
}

int runShow(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg show ID|UID [--db FILE]\n"
        "Shows everything stored about one instance: its patient, study and series, ECG leads and\n"
        "measurements and the ECG's signal quality (read from the file), or echo geometry, frame rate\n"
        "and its source, regions and view.\n"
        "ID is the instance id printed by 'list instances'; UID a SOP Instance UID, or a Study\n"
        "Instance UID (then every instance of that study is shown).\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("show", a.error);
  if (a.positional.size() != 1) return usageError("show", "expected exactly one ID or UID");
  const std::string dbPath = dbPathFrom(a);
  if (!std::filesystem::exists(dbPath)) {
    std::fprintf(stderr, "echo2ecg show: database not found: %s\n", dbPath.c_str());
    return kRuntimeError;
  }
  // Viewing: a database this user may not write is read as it is (read-only).
  e2e::db::Database db(dbPath, e2e::db::Database::Mode::ReadOnly);
  const std::string key = a.positional[0];
  long long id = 0;
  std::optional<e2e::db::InstanceRow> inst;
  if (key.find('.') == std::string::npos && parseInt(key, 1, 1LL << 62, id))
    inst = db.instanceById(id);
  else
    inst = db.instanceByUid(key);
  if (inst) {
    showInstance(db, inst->id);
    return kOk;
  }
  if (auto study = db.studyRowIdByUid(key)) {
    e2e::db::Filter f;
    f.studyRowId = *study;
    bool first = true;
    for (const auto& i : db.listInstances(f)) {
      if (!first) std::printf("\n");
      first = false;
      showInstance(db, i.id);
    }
    return kOk;
  }
  std::fprintf(stderr, "echo2ecg show: no instance or study '%s' in %s\n", key.c_str(), dbPath.c_str());
  return kRuntimeError;
}

}  // namespace

E2E_REGISTER_COMMAND("show", "show full details of one instance (by id or UID) or study (by UID)", runShow);
