// ECG -> echo study search (see study_search.h).
#include "retrieval/study_search.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "labels/study_labels.h"

namespace fs = std::filesystem;

namespace e2e::retrieval {

namespace {
// "ID:VERSION/ecg-aligned" -> the model it belongs to; nullopt for another kind of key.
std::optional<pipeline::EmbeddingModel> modelOfEcgKey(const db::EmbeddingKey& k) {
  const std::string suffix = "/ecg-aligned";
  const auto& id = k.modelId;
  if (id.size() <= suffix.size() || id.compare(id.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  const std::string label = id.substr(0, id.size() - suffix.size());
  const auto colon = label.rfind(':');
  if (colon == std::string::npos || !pipeline::knownPreprocVersion(k.preprocVersion)) return std::nullopt;
  pipeline::EmbeddingModel m;
  m.modelId = label.substr(0, colon);
  m.version = label.substr(colon + 1);
  m.weightsHash = k.weightsHash;
  m.preprocVersion = k.preprocVersion;
  m.precision = k.precision;
  m.source = pipeline::EmbeddingModel::Source::Directory;
  return m;
}

// The precision the workstation searches `m` in (it searches stored vectors only): that of the
// newest stored vector of the query ECG under m that has study vectors in the same precision, else
// the one precision m has study vectors in (fp32 when it has both or none).
std::string storedSearchPrecision(db::Database& db, const pipeline::EmbeddingModel& m, std::int64_t ecgInstanceId) {
  for (const auto& k : db.embeddingKeysOfInstance(ecgInstanceId))
    if (k.modelId == m.ecgKey() && k.weightsHash == m.weightsHash && k.preprocVersion == m.preprocVersion &&
        !db.studyEmbeddingInputs(m.studyKey(), m.weightsHash, m.preprocVersion, k.precision).empty())
      return k.precision;
  std::set<std::string> withStudies;
  for (const auto& s : db.embeddingSets())
    if (s.modelId == m.studyKey() && s.weightsHash == m.weightsHash && s.preprocVersion == m.preprocVersion &&
        s.studies > 0)
      withStudies.insert(s.precision);
  return withStudies.size() == 1 ? *withStudies.begin() : "fp32";
}

// The file name of a model's saved retrieval index (".hnsw" held the HNSW graph of format 1).
std::string indexFileName(const pipeline::EmbeddingModel& m, const char* extension = ".ivf") {
  std::string name = m.studyKey();
  if (m.precision != "fp32") name += "-" + m.precision;  // fp32 keeps the name files had before schema 7
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  return name + extension;
}

std::string seconds(double s) {
  char took[32];
  std::snprintf(took, sizeof took, "%.1f s", s);
  return took;
}

// The saved index when it holds these vectors or a prefix of them (then the new studies are added
// to it and it is saved again), else a new one (saved when indexDir is set).
void buildOrLoadIndex(EmbeddingIndex& index, const std::string& indexDir, const pipeline::EmbeddingModel& m,
                      std::vector<std::string>* notes) {
  auto note = [&](const std::string& s) {
    if (notes) notes->push_back(s);
  };
  const fs::path file = indexDir.empty() ? fs::path() : fs::path(indexDir) / indexFileName(m);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&t0] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  std::string done;
  if (!file.empty()) {
    std::error_code ec;  // the HNSW graph of the previous format is never used again
    if (fs::remove(fs::path(indexDir) / indexFileName(m, ".hnsw"), ec))
      note("retrieval index: removed the HNSW graph of the previous format");
    try {
      const auto r = index.load(file.string());
      if (r == EmbeddingIndex::LoadResult::Loaded) return;
      if (r == EmbeddingIndex::LoadResult::Appended) done = "added the new studies to the saved IVF index";
    } catch (const std::exception& e) {
      note(std::string("warning: ignoring the saved retrieval index (it is rebuilt): ") + e.what());
    }
  }
  if (done.empty()) {
    index.build();
    done = "built the IVF index";
  }
  done += " of " + std::to_string(index.size()) + " studies in " + seconds(elapsed());
  if (file.empty()) return;
  try {
    fs::create_directories(file.parent_path());
    index.save(file.string());
    note("retrieval index: " + done + ", saved to " + file.string());
  } catch (const std::exception& e) {
    note("warning: the retrieval index was made (" + done + ") but not saved: " + e.what());
  }
}

StudyHit describeStudy(db::Database& db, const SearchHit& h, int rank) {
  StudyHit r;
  r.rank = rank;
  r.studyRowId = h.id;
  r.patientRowId = h.group;
  r.similarity = h.similarity;
  db::Filter sf;
  sf.studyRowId = h.id;
  if (const auto studies = db.listStudies(sf); !studies.empty()) {
    const auto& s = studies.front();
    r.studyUid = s.studyUid;
    r.studyDate = s.date;
    r.description = s.description;
    r.patientName = s.patientName;
    r.patientId = s.patientId;
  }
  r.labels = labels::studyLabels(db, h.group, h.id);
  if (auto it = r.labels.find("lvef_percent"); it != r.labels.end()) {
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (end && *end == '\0' && !it->second.empty() && std::isfinite(v)) r.lvefPercent = v;
  }
  db::Filter inf;
  inf.studyRowId = h.id;
  inf.modality = "US";
  for (const auto& i : db.listInstances(inf)) {
    r.usPaths.push_back(i.path);
    if (auto di = db.details(i.id); di && di->echo && !di->echo->viewLabel.empty()) r.views.push_back(di->echo->viewLabel);
  }
  return r;
}
}  // namespace

std::optional<pipeline::EmbeddingModel> chooseSearchModel(db::Database& db, const std::string& spec,
                                                          std::int64_t ecgInstanceId, bool storedFallback) {
  std::optional<pipeline::EmbeddingModel> m;
  if (!spec.empty()) m = pipeline::resolveEmbeddingModel(db, spec);
  else if (auto active = pipeline::activeRegisteredEmbeddingModel(db)) m = active;
  else if (!storedFallback) m = pipeline::resolveEmbeddingModel(db, "");
  if (m) {
    if (storedFallback) m->precision = storedSearchPrecision(db, *m, ecgInstanceId);
    return m;
  }
  for (const auto& k : db.embeddingKeysOfInstance(ecgInstanceId)) {
    auto km = modelOfEcgKey(k);
    if (km && !db.studyEmbeddingInputs(km->studyKey(), km->weightsHash, km->preprocVersion, km->precision).empty())
      return km;
  }
  return std::nullopt;
}

StudyIndex::StudyIndex() = default;
StudyIndex::StudyIndex(Options o) : opts_(std::move(o)) {}
StudyIndex::~StudyIndex() = default;

void StudyIndex::invalidate() {
  cachedKey_.clear();
  index_.reset();
  patientOf_.clear();
}

const EmbeddingIndex& StudyIndex::ensure(db::Database& db, const pipeline::EmbeddingModel& m,
                                         std::vector<std::string>* notes) {
  const std::string key = m.studyKey() + "|" + m.weightsHash + "|" + m.preprocVersion + "|" + m.precision;
  if (index_ && key == cachedKey_) return *index_;
  invalidate();
  const auto loops = db.usLoopsByStudy();
  std::map<std::int64_t, std::int64_t> patientOf;
  for (const auto& s : db.listStudies()) patientOf[s.id] = s.patientRowId;
  EmbeddingIndex::Options io;
  if (opts_.exactThreshold >= 0) io.exactThreshold = static_cast<std::size_t>(opts_.exactThreshold);
  auto vectors = db.embeddingsFor(m.studyKey(), m.weightsHash, m.preprocVersion, m.precision);  // one precision
  // the dimension of the model's vectors (512 for the Echo2ECG encoders)
  auto index = std::make_unique<EmbeddingIndex>(vectors.empty() ? 512 : static_cast<int>(vectors.front().vec.size()), io);
  for (auto& s : vectors) {
    if (!s.key.studyRowId || !loops.count(*s.key.studyRowId)) continue;  // a study with no loop any more
    const std::int64_t study = *s.key.studyRowId;
    if (static_cast<int>(s.vec.size()) != index->dim())
      throw std::runtime_error("the study vectors of " + m.label() + " have " + std::to_string(s.vec.size()) +
                               " dimensions, not " + std::to_string(index->dim()));
    const std::int64_t patient = patientOf.count(study) ? patientOf[study] : -1;
    index->add(study, patient, s.vec);
    patientOf_[study] = patient;
  }
  if (index->usesApproximate()) buildOrLoadIndex(*index, opts_.graphDir, m, notes);
  index_ = std::move(index);
  cachedKey_ = key;
  return *index_;
}

std::optional<std::vector<float>> storedEcgVector(db::Database& db, const pipeline::EmbeddingModel& m,
                                                  std::int64_t ecgInstanceId) {
  db::EmbeddingKey k;
  k.instanceRowId = ecgInstanceId;
  k.modelId = m.ecgKey();
  k.weightsHash = m.weightsHash;
  k.preprocVersion = m.preprocVersion;
  k.precision = m.precision;
  return db.getEmbedding(k);
}

StudySearchResult searchSimilarStudies(db::Database& db, StudyIndex& index, const pipeline::EmbeddingModel& m,
                                       const std::vector<float>& query, const StudySearchRequest& req) {
  StudySearchResult out;
  out.coverage = pipeline::embeddingCoverage(db, m);
  const auto details = db.details(req.ecgInstanceId);
  if (!details) throw std::invalid_argument("no ECG instance " + std::to_string(req.ecgInstanceId));
  out.queryPatientRowId = details->patient.id;
  const EmbeddingIndex& idx = index.ensure(db, m, &out.notes);
  out.searched = idx.size();
  if (idx.size() == 0) return out;
  for (auto study : pipeline::outdatedStudyVectors(db, m.studyKey(), m.weightsHash, m.preprocVersion, m.precision))
    out.outdatedSearched += index.patientOf().count(study);
  if (static_cast<int>(query.size()) != idx.dim())
    throw std::runtime_error("the ECG vector has " + std::to_string(query.size()) + " dimensions, the study vectors " +
                             std::to_string(idx.dim()));
  const auto hits = idx.search(query, req.k, req.includeSamePatient ? -1 : out.queryPatientRowId);
  int rank = 0;
  for (const auto& h : hits) out.hits.push_back(describeStudy(db, h, ++rank));
  return out;
}

}  // namespace e2e::retrieval
