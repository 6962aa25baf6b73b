// Torch-free part of the pipeline: ECG input tensors, the paired cohort, the patient split.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "common/hash.h"
#include "io/reader.h"
#include "jobs/import/ecg_plausibility.h"
#include "labels/study_labels.h"
#include "pipeline/data.h"
#include "signal/preprocess.h"

namespace fs = std::filesystem;

namespace e2e::pipeline {

namespace {
// No model output is ever made from an implausible record or one without signal.
void requireSignal(const EcgRecord& rec) {
  std::string why = importer::ecgImplausibility(rec);
  if (why.empty()) why = importer::ecgNoSignal(rec);
  if (!why.empty()) throw ReadError(rec.sourcePath.empty() ? "ECG" : rec.sourcePath, why);
}
}  // namespace

std::vector<float> ecgInputFromRecord(const EcgRecord& rec, const std::string& preprocVersion) {
  requireKnownPreprocVersion(preprocVersion);
  requireSignal(rec);
  const auto method = preprocVersion == kPreprocFourierVersion ? signal::ResampleMethod::Fourier
                                                               : signal::ResampleMethod::WindowedSinc;
  auto tl = signal::buildTwelveLead(rec, kEcgHz, kEcgSamples, method);
  signal::preprocessEcg(tl.matrix);
  return tl.matrix.data;
}

std::vector<float> ecgInputFromFile(const std::string& path, const std::string& preprocVersion) {
  auto obj = readAny(path);
  if (!std::holds_alternative<EcgRecord>(obj)) throw ReadError(path, "not an ECG");
  return ecgInputFromRecord(std::get<EcgRecord>(obj), preprocVersion);
}

std::string instanceContentHash(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext != ".hea") return sha256File(path);
  // The importer hashes a WFDB record as all its files in order (header first).
  Sha256 h;
  std::vector<char> buf(1 << 16);
  for (const auto& f : wfdbRecordFiles(path)) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw ReadError(f, "cannot open file for reading");
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      if (in.gcount() > 0) h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw ReadError(f, "read error");
  }
  return h.hexDigest();
}

void requireUnchanged(const std::string& path, const std::string& sha256) {
  if (instanceContentHash(path) != sha256) throw FileChangedError(path);
}

std::vector<float> ecgInputFromSample(const Sample& s, const std::string& preprocVersion) {
  requireUnchanged(s.ecgPath, s.ecgSha256);
  return ecgInputFromFile(s.ecgPath, preprocVersion);
}

std::vector<float> handcraftedEcgFeatures(const Sample& s) {
  requireUnchanged(s.ecgPath, s.ecgSha256);
  return handcraftedEcgFeatures(s.ecgPath);
}

std::vector<Sample> withUnchangedEcgFiles(const std::vector<Sample>& samples,
                                          const std::function<bool(std::int64_t)>& willRead,
                                          std::vector<std::string>& errors) {
  std::vector<Sample> out;
  out.reserve(samples.size());
  for (const auto& s : samples) {
    if (willRead && willRead(s.ecgInstanceId)) {
      try {
        requireUnchanged(s.ecgPath, s.ecgSha256);
      } catch (const std::exception& e) {
        const std::string what = e.what();
        errors.push_back(what.find(s.ecgPath) != std::string::npos ? what : s.ecgPath + ": " + what);
        continue;
      }
    }
    out.push_back(s);
  }
  return out;
}

std::vector<float> handcraftedEcgFeatures(const std::string& path) {
  auto obj = readAny(path);
  if (!std::holds_alternative<EcgRecord>(obj)) throw ReadError(path, "not an ECG");
  const auto& rec = std::get<EcgRecord>(obj);
  requireSignal(rec);
  const auto& m = rec.measurements;
  auto v = [](double x) { return std::isfinite(x) ? static_cast<float>(x) : 0.f; };
  std::vector<float> f = {v(m.heartRateBpm), v(m.prMs), v(m.qrsMs), v(m.qtMs), v(m.qtcMs), v(m.qrsAxisDeg)};
  auto tl = signal::buildTwelveLead(rec, kEcgHz, 1000);
  for (std::size_t r = 0; r < 12; ++r) {
    const float* x = tl.matrix.row(r);
    float lo = x[0], hi = x[0];
    double s = 0, ss = 0;
    for (std::size_t c = 0; c < tl.matrix.cols; ++c) {
      lo = std::min(lo, x[c]);
      hi = std::max(hi, x[c]);
      s += x[c];
    }
    const double mean = s / static_cast<double>(tl.matrix.cols);
    for (std::size_t c = 0; c < tl.matrix.cols; ++c) ss += (x[c] - mean) * (x[c] - mean);
    f.push_back(hi - lo);
    f.push_back(static_cast<float>(std::sqrt(ss / static_cast<double>(tl.matrix.cols))));
  }
  return f;
}

namespace {
bool parseDouble(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && std::isfinite(out);
}

void applyLabel(Sample& s, const std::string& key, const std::string& value) {
  double v = 0;
  if (key == "lvef_percent" || key == "lvef") {
    if (parseDouble(value, v)) s.lvefPercent = v;
  } else if (key == "lvef_class") {
    if (parseDouble(value, v) && v >= 0 && v <= 2) s.lvefClass = static_cast<int>(v);
    else if (value == "<40") s.lvefClass = 0;
    else if (value == "40-49") s.lvefClass = 1;
    else if (value == ">=50") s.lvefClass = 2;
  } else if (key == "shd") {
    if (parseDouble(value, v)) s.shd = v != 0 ? 1 : 0;
    else if (value == "true" || value == "yes") s.shd = 1;
    else if (value == "false" || value == "no") s.shd = 0;
  }
}
}  // namespace

std::vector<Sample> loadSamples(db::Database& db, const std::string& filterText, bool requireEcho) {
  db::Filter sf;
  sf.text = filterText;
  std::map<std::string, db::StudyRow> studies;
  for (auto& s : db.listStudies(sf)) studies[s.studyUid] = s;

  db::Filter us;
  us.modality = "US";
  us.text = filterText;
  std::map<std::string, std::vector<db::InstanceRow>> echoByStudy;
  for (auto& i : db.listInstances(us)) echoByStudy[i.studyUid].push_back(i);

  std::vector<Sample> out;
  for (const char* modality : {"ECG"}) {
    db::Filter ef;
    ef.modality = modality;
    ef.text = filterText;
    for (auto& inst : db.listInstances(ef)) {
      auto st = studies.find(inst.studyUid);
      if (st == studies.end()) continue;
      Sample s;
      s.ecgInstanceId = inst.id;
      s.studyRowId = st->second.id;
      s.patientRowId = st->second.patientRowId;
      s.patientId = inst.patientId;
      s.studyUid = inst.studyUid;
      s.ecgPath = inst.path;
      s.ecgSha256 = inst.sha256;
      auto e = echoByStudy.find(inst.studyUid);
      if (e != echoByStudy.end()) {
        auto loops = e->second;
        std::sort(loops.begin(), loops.end(), [](auto& a, auto& b) { return a.id < b.id; });
        for (auto& l : loops) {
          s.echoInstanceIds.push_back(l.id);
          s.echoPaths.push_back(l.path);
          s.echoSha256s.push_back(l.sha256);
        }
      }
      if (requireEcho && s.echoInstanceIds.empty()) continue;
      for (auto& [key, value] : labels::studyLabels(db, s.patientRowId, s.studyRowId)) applyLabel(s, key, value);
      if (s.lvefClass < 0 && std::isfinite(s.lvefPercent))
        s.lvefClass = s.lvefPercent < 40 ? 0 : (s.lvefPercent < 50 ? 1 : 2);
      out.push_back(std::move(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) { return a.ecgInstanceId < b.ecgInstanceId; });
  return out;
}

namespace {
std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
std::uint64_t hashString(const std::string& s, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ULL ^ splitmix(seed);
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return splitmix(h);
}
}  // namespace

std::vector<int> splitByPatient(const std::vector<Sample>& samples, std::uint64_t seed) {
  // Patients ordered by a seeded hash of their ID: stable whatever else is in the database.
  std::set<std::string> ids;
  for (auto& s : samples) ids.insert(s.patientId.empty() ? std::to_string(s.patientRowId) : s.patientId);
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (auto& id : ids) order.emplace_back(hashString(id, seed), id);
  std::sort(order.begin(), order.end());
  const std::size_t n = order.size();
  const std::size_t nTrain = static_cast<std::size_t>(std::llround(0.70 * static_cast<double>(n)));
  const std::size_t nVal = static_cast<std::size_t>(std::llround(0.15 * static_cast<double>(n)));
  std::map<std::string, int> part;
  for (std::size_t i = 0; i < n; ++i) part[order[i].second] = i < nTrain ? 0 : (i < nTrain + nVal ? 1 : 2);
  std::vector<int> out;
  out.reserve(samples.size());
  for (auto& s : samples) out.push_back(part[s.patientId.empty() ? std::to_string(s.patientRowId) : s.patientId]);
  return out;
}

int labelFor(const Sample& s, const std::string& task) {
  if (task == "lvef") return s.lvefClass;
  if (task == "shd") return s.shd;
  return -1;
}

std::vector<std::string> classNames(const std::string& task) {
  if (task == "lvef") return {"<40", "40-49", ">=50"};
  if (task == "shd") return {"no_shd", "shd"};
  return {};
}

}  // namespace e2e::pipeline
