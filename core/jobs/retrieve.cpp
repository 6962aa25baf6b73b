// The retrieve job (see retrieve.h).
#include "jobs/retrieve.h"

#include "pipeline/predictor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "common/text.h"
#include "pipeline/bundle.h"
#include "pipeline/embedder.h"
#include "pipeline/predictor.h"

namespace e2e::jobs {

using namespace e2e::pipeline;

nlohmann::ordered_json modelJson(const EmbeddingModel& m) {
  return {{"model_id", m.modelId},         {"version", m.version},
          {"key", m.label()},              {"weights_hash", m.weightsHash},
          {"preprocessing", m.preprocVersion}, {"precision", m.precision}, {"source", m.sourceText()}};
}

std::string missingText(const RetrieveCoverage& c, const EmbeddingModel& m) {
  if (c.missing <= 0) return "";
  std::string t = std::to_string(c.missing) + " of " + std::to_string(c.echoStudies) +
                  " echo studies have no embedding of " + m.label() + " and are not searched";
  if (c.undecodable > 0)
    t += " (" + std::to_string(c.undecodable) + " of them with no loop that decodes in this build; `echo2ecg " +
         "embed` names the files)";
  if (c.missing > c.undecodable) t += ": run `" + c.embedCommand + "`";
  return t;
}

namespace {
// Retrieval metrics of a [queries x targets] similarity matrix with LVEF-based relevance (within 0.5 SD
// of the targets' LVEF, as the reference). Targets of the query's own patient are left out of its
// ranking and relevance unless includeSamePatient (as single-query retrieval does).
RetrieveEvaluationReport evaluateRanking(const std::vector<float>& sim, const std::vector<double>& qv,
                                         const std::vector<double>& tv, const std::vector<std::int64_t>& qPatient,
                                         const std::vector<std::int64_t>& tPatient, bool includeSamePatient) {
  auto rel = phenotypeRelevance(qv, tv, 0.5);
  auto rank = rankBySimilarity(sim, static_cast<int>(qv.size()), static_cast<int>(tv.size()));
  if (!includeSamePatient)
    for (std::size_t q = 0; q < rank.size(); ++q) {
      auto own = [&](int t) { return tPatient[static_cast<std::size_t>(t)] == qPatient[q]; };
      rank[q].erase(std::remove_if(rank[q].begin(), rank[q].end(), own), rank[q].end());
      rel[q].erase(std::remove_if(rel[q].begin(), rel[q].end(), own), rel[q].end());
    }
  RetrieveEvaluationReport r;
  r.metrics = computeRetrievalMetrics(rank, rel, {1, 3, 5, 10});
  r.queries = qv.size();
  r.targets = tv.size();
  return r;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, na = 0, nb = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    d += a[k] * b[k];
    na += a[k] * a[k];
    nb += b[k] * b[k];
  }
  return d / std::sqrt(std::max(1e-12, na * nb));
}

// Labelled paired samples and their patient split (the split every retrieval evaluation uses).
struct LabelledSplit {
  std::vector<Sample> lab;
  std::vector<int> split;  // per sample: 0 train, 1 val, 2 test
  std::vector<Sample> test() const {
    std::vector<Sample> t;
    for (std::size_t i = 0; i < lab.size(); ++i)
      if (split[i] == 2) t.push_back(lab[i]);
    return t;
  }
};
LabelledSplit labelledPairedSplit(db::Database& db, std::uint64_t seed) {
  LabelledSplit ls;
  for (auto& s : loadSamples(db, "", true))
    if (std::isfinite(s.lvefPercent)) ls.lab.push_back(s);
  ls.split = splitByPatient(ls.lab, seed);
  return ls;
}

// Paired-ECG retrieval (the ECG-only baselines): each test echo study is represented by its own
// paired ECG's vector z (one per study, the first ECG), and every test ECG ranks the test studies by
// the cosine similarity of its vector to theirs. No shared space is needed, so any ECG-only
// representation gets a retrieval mAP on the same test split and relevance as the aligned models.
RetrieveEvaluationReport evaluatePairedEcg(const LabelledSplit& ls,
                                           const std::function<bool(std::size_t, std::vector<float>&)>& vecOf,
                                           bool includeSamePatient) {
  std::vector<std::vector<float>> z;
  std::vector<double> lv;
  std::vector<std::int64_t> pat;
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < ls.lab.size(); ++i) {
    if (ls.split[i] != 2 || seen.count(ls.lab[i].studyRowId)) continue;
    std::vector<float> v;
    if (!vecOf(i, v) || v.empty()) continue;
    seen.insert(ls.lab[i].studyRowId);
    z.push_back(std::move(v));
    lv.push_back(ls.lab[i].lvefPercent);
    pat.push_back(ls.lab[i].patientRowId);
  }
  if (z.size() < 2) throw std::runtime_error("paired-ECG retrieval needs at least two test studies with a usable paired ECG");
  auto zt = torch::nn::functional::normalize(featTensor(z), torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto sm = torch::mm(zt, zt.t()).contiguous();
  std::vector<float> sim(sm.data_ptr<float>(), sm.data_ptr<float>() + sm.numel());
  return evaluateRanking(sim, lv, lv, pat, pat, includeSamePatient);
}

// The request's precision, resolved, set on the bundle (the query vectors it computes) and on the
// model (which stored vectors are read).
void setPrecision(const RetrieveRequest& o, Bundle& b, EmbeddingModel& em, RetrieveReport& rep) {
  // auto: the machine's default, the one `echo2ecg embed` stores by default (bf16 where CUDA is usable)
  rep.precision = model::resolvePrecision(o.precision, pickDevice("auto").is_cuda());
  b.precision = rep.precision.precision;
  em.precision = rep.precision.name();
}

// "; the stored study vectors of <model> were made in bf16: re-embed ... or pass --precision bf16" when
// the model has study vectors in other precisions only; "" otherwise.
std::string otherPrecisionText(const EmbeddingCoverage& cov, const EmbeddingModel& em, const std::string& embedCmd) {
  if (cov.otherPrecisions.empty()) return "";
  std::string made;
  for (const auto& p : cov.otherPrecisions) made += (made.empty() ? "" : " and ") + p;
  return "; embeddings were made in " + made + ", not " + em.precision + ": re-embed with `" + embedCmd +
         "` or pass --precision " + cov.otherPrecisions.front();
}

// ECG-only retrieval baseline (no network): hand-crafted ECG features (handcraftedEcgFeatures,
// z-scored with training-split statistics) of query and target ECGs.
RetrieveReport retrieveWithEcgFeatures(const RetrieveRequest& o) {
  db::Database db(o.dbPath);
  RetrieveReport rep;
  rep.evaluation = true;
  const auto ls = labelledPairedSplit(db, o.seed);
  std::vector<std::vector<float>> f(ls.lab.size());
  std::vector<std::vector<float>> train;
  for (std::size_t i = 0; i < ls.lab.size(); ++i) {
    try {
      f[i] = handcraftedEcgFeatures(ls.lab[i]);
    } catch (const std::exception& e) {
      rep.skipped.push_back(errorText(e));
      continue;
    }
    if (ls.split[i] == 0) train.push_back(f[i]);
  }
  if (train.size() < 2)
    throw std::runtime_error("the ecg-features retrieval baseline needs labelled paired studies in the training split");
  auto t = featTensor(train);
  auto mu = t.mean(0), sdv = t.std(0).clamp_min(1e-6);
  rep.evaluated = evaluatePairedEcg(
      ls,
      [&](std::size_t i, std::vector<float>& v) {
        if (f[i].empty()) return false;
        v = rowVec((torch::tensor(f[i]) - mu) / sdv);
        return true;
      },
      o.includeSamePatient);
  rep.evaluated->model = {{"method", "ecg-features"}};
  rep.evaluated->modelText = "ECG-only baseline: hand-crafted features of the paired ECGs";
  return rep;
}

// The same with a model's ECG embeddings (any model with an ECG side, ECG-only encoders included):
// how far an ECG representation alone ranks studies, without the echo side of the model.
RetrieveReport retrieveWithPairedEcgEmbeddings(const RetrieveRequest& o) {
  setThreads(0);
  db::Database db(o.dbPath);
  RetrieveReport rep;
  rep.evaluation = true;
  EmbeddingModel em = resolveEmbeddingModel(db, o.model);
  Bundle b = loadEmbeddingBundle(em);
  requireEcgSide(b, em.label());
  setPrecision(o, b, em, rep);
  const auto ls = labelledPairedSplit(db, o.seed);
  EcgEmbedder ecg(db, b);
  ecg.ensure(ls.test(), 16);
  rep.skipped = ecg.errors;
  rep.evaluated = evaluatePairedEcg(
      ls,
      [&](std::size_t i, std::vector<float>& v) {
        const auto* e = ecg.find(ls.lab[i].ecgInstanceId);
        if (!e) return false;
        v = *e;
        return true;
      },
      o.includeSamePatient);
  rep.evaluated->model = {{"method", "paired-ecg"}, {"model", modelJson(em)}};
  rep.evaluated->modelText = "ECG embeddings of the paired ECGs (no echo side), " + em.describe();
  return rep;
}

// The coverage of an aligned model among the echo studies (pipeline::embeddingCoverage, as the
// workstation shows it); throws MissingEmbeddings when none of them has a vector.
RetrieveCoverage alignedCoverage(db::Database& db, const RetrieveRequest& o, const EmbeddingModel& em) {
  const auto cov = embeddingCoverage(db, em);
  RetrieveCoverage c;
  c.echoStudies = cov.echoStudies;
  c.missing = cov.missingStudies();
  c.stale = cov.staleRows;
  c.embedCommand = "echo2ecg embed --db " + shellWord(o.dbPath) + (o.model.empty() ? "" : " --model " + shellWord(o.model)) +
                   (o.precision ? " --precision " + em.precision : "");
  if (c.echoStudies == 0) throw std::runtime_error("no echo studies in " + o.dbPath);
  if (cov.echoStudiesEmbedded == 0) {
    const std::string other = otherPrecisionText(cov, em, c.embedCommand);
    throw MissingEmbeddings("missing embeddings: none of the " + std::to_string(c.echoStudies) +
                                " echo studies has an embedding of " + em.describe() + " in " + em.precision +
                                (c.stale ? " (the " + std::to_string(c.stale) + " stored rows of other versions are never used)"
                                         : "") +
                                (other.empty() ? "; run `" + c.embedCommand + "` (or the workstation's re-embed job) first"
                                               : other),
                            em, c);
  }
  // Of the missing studies, those none of whose loops decoded when embed last tried: re-embedding
  // does not help (the embed errors name the files).
  if (c.missing > 0) c.undecodable = cov.undecodableStudies;
  c.missingText = missingText(c, em);
  return c;
}

// Stored study vectors of the model for the studies that still have loops: study row -> vector.
std::map<std::int64_t, std::vector<float>> storedStudyVectors(db::Database& db, const EmbeddingModel& em) {
  const auto loops = db.usLoopsByStudy();
  std::map<std::int64_t, std::vector<float>> out;
  for (auto& s : db.embeddingsFor(em.studyKey(), em.weightsHash, em.preprocVersion, em.precision))
    if (s.key.studyRowId && loops.count(*s.key.studyRowId)) out[*s.key.studyRowId] = std::move(s.vec);
  return out;
}

// The aligned model's retrieval metrics over the test split: test ECGs against test studies.
RetrieveEvaluationReport evaluateAligned(db::Database& db, EcgEmbedder& ecg, const RetrieveRequest& o,
                                         const EmbeddingModel& em, const std::map<std::int64_t, std::vector<float>>& studyVec,
                                         const RetrieveCoverage& cov) {
  const auto test = labelledPairedSplit(db, o.seed).test();
  ecg.ensure(test, 16);
  std::map<std::int64_t, double> lvefOfStudy;
  std::map<std::int64_t, std::int64_t> patientOfStudy;
  std::vector<std::int64_t> targets;
  for (auto& s : test) {
    lvefOfStudy[s.studyRowId] = s.lvefPercent;
    patientOfStudy[s.studyRowId] = s.patientRowId;
    if (studyVec.count(s.studyRowId) && std::find(targets.begin(), targets.end(), s.studyRowId) == targets.end())
      targets.push_back(s.studyRowId);
  }
  std::vector<const Sample*> queries;
  for (auto& s : test)
    if (ecg.find(s.ecgInstanceId)) queries.push_back(&s);
  if (queries.empty() || targets.size() < 2) {
    const std::string& missing = cov.missingText;
    throw std::runtime_error("retrieval evaluation needs test ECGs and at least two test echo studies with embeddings of " +
                             em.label() + "; the test split (seed " + std::to_string(o.seed) + ") has " +
                             std::to_string(queries.size()) + " ECG(s) and " + std::to_string(targets.size()) + " stud" +
                             (targets.size() == 1 ? "y" : "ies") +
                             (!missing.empty() ? " (" + missing + ")" : std::string(": the database needs more paired patients")));
  }
  std::vector<float> sim(queries.size() * targets.size());
  std::vector<double> qv, tv;
  std::vector<std::int64_t> qp, tp;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const auto& e = *ecg.find(queries[q]->ecgInstanceId);
    qv.push_back(queries[q]->lvefPercent);
    qp.push_back(queries[q]->patientRowId);
    for (std::size_t t = 0; t < targets.size(); ++t)
      sim[q * targets.size() + t] = static_cast<float>(cosine(e, studyVec.at(targets[t])));
  }
  for (auto t : targets) {
    tv.push_back(lvefOfStudy[t]);
    tp.push_back(patientOfStudy[t]);
  }
  auto r = evaluateRanking(sim, qv, tv, qp, tp, o.includeSamePatient);
  r.model = modelJson(em);
  r.modelText = em.describe();
  return r;
}

// The ECG a single query names: its row id or SOP Instance UID.
Sample querySample(db::Database& db, const std::string& query) {
  std::optional<std::int64_t> row;
  char* end = nullptr;
  const long long v = std::strtoll(query.c_str(), &end, 10);
  if (end && *end == '\0' && !query.empty()) row = v;
  else if (auto inst = db.instanceByUid(query)) row = inst->id;
  if (row)
    for (auto& s : loadSamples(db))
      if (s.ecgInstanceId == *row) return s;
  throw std::invalid_argument("no ECG instance " + query);
}
}  // namespace

RetrieveReport runRetrieve(const RetrieveRequest& o) {
  const bool pairedEcg = o.method == "ecg-features" || o.method == "paired-ecg";
  if (!o.method.empty() && o.method != "embedding" && !pairedEcg)
    throw std::invalid_argument("--method must be embedding, ecg-features or paired-ecg");
  if (pairedEcg && !o.evaluate)
    throw std::invalid_argument("--method " + o.method + " is an evaluation baseline: use it with --evaluate");
  if (o.method == "ecg-features") return retrieveWithEcgFeatures(o);
  if (o.method == "paired-ecg") return retrieveWithPairedEcgEmbeddings(o);
  setThreads(0);
  db::Database db(o.dbPath);
  RetrieveReport rep;
  rep.evaluation = o.evaluate;
  EmbeddingModel em = resolveEmbeddingModel(db, o.model);
  Bundle b = loadEmbeddingBundle(em);  // checks the weights; computes the query ECG's vector if missing
  requireEcgSide(b, em.label());
  requireEchoSide(b, em.label());
  setPrecision(o, b, em, rep);
  rep.coverage = alignedCoverage(db, o, em);
  EcgEmbedder ecg(db, b);
  if (o.evaluate) {
    const auto studyVec = storedStudyVectors(db, em);
    // searched as they are, with a warning to re-embed (a study with no loop left is not searched)
    for (auto study : outdatedStudyVectors(db, em.studyKey(), em.weightsHash, em.preprocVersion, em.precision))
      rep.coverage.outdated += studyVec.count(study);
    rep.evaluated = evaluateAligned(db, ecg, o, em, studyVec, rep.coverage);
    rep.skipped = ecg.errors;
    return rep;
  }
  const Sample q = querySample(db, o.query);
  ecg.ensure({q}, 1);  // the query's vector of the same model (stored for next time)
  const auto* qv = ecg.find(q.ecgInstanceId);
  if (!qv) throw std::runtime_error("cannot embed ECG " + o.query + (ecg.errors.empty() ? "" : ": " + ecg.errors.front()));
  retrieval::StudyIndex::Options io;
  io.exactThreshold = o.exactThreshold;
  io.graphDir = o.dbPath + ".index";
  retrieval::StudyIndex index(io);
  RetrieveSearchReport s;
  s.model = em;
  s.queryInstanceId = q.ecgInstanceId;
  s.queryPatientId = q.patientId;
  s.result = retrieval::searchSimilarStudies(db, index, em, *qv, {q.ecgInstanceId, o.k, o.includeSamePatient});
  if (const auto ood = loadBundleOod(b.dir, b.hash)) {
    s.queryOodScore = ood->distance(*qv);
    s.queryOodThreshold = ood->threshold;
  }
  s.queryOod = std::isfinite(s.queryOodThreshold) ? (s.queryOodScore > s.queryOodThreshold ? "out" : "in") : "unknown";
  rep.coverage.outdated = static_cast<long long>(s.result.outdatedSearched);
  rep.search = std::move(s);
  return rep;
}

}  // namespace e2e::jobs
