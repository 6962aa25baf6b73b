// echo2ecg retrieve --db FILE ECG_ID [--k 10] [--include-same-patient] | --evaluate [--seed S]
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "commands.h"
#include "jobs/retrieve.h"
#include "json_out.h"

namespace {
using e2e::jobs::RetrieveReport;
using Json = nlohmann::ordered_json;

std::string number(double v) {
  if (!std::isfinite(v)) return "-";
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

// Warnings of the aligned model's coverage (stderr): studies not searched, vectors made from other loops.
void warnCoverage(const e2e::jobs::RetrieveCoverage& c, const std::string& missing) {
  if (!missing.empty()) std::fprintf(stderr, "warning: missing embeddings: %s\n", missing.c_str());
  if (c.outdated > 0) {
    const bool one = c.outdated == 1;
    std::fprintf(stderr,
                 "warning: outdated embeddings: %lld echo stud%s had loops imported or deleted since %s embedded; "
                 "%s searched with the loops %s had then: run `%s`\n",
                 c.outdated, one ? "y" : "ies", one ? "it was" : "they were", one ? "it is" : "they are",
                 one ? "it" : "they", c.embedCommand.c_str());
  }
}

int printEvaluation(const RetrieveReport& r, const e2e::jobs::RetrieveRequest& o, bool json, const std::string& missing) {
  const auto& e = *r.evaluated;
  const auto& m = e.metrics;
  Json j{{"mAP", m.mAP}, {"median_rank", m.medianRank}, {"queries", m.queries}, {"targets", e.targets}};
  for (auto& [k, v] : m.recallAt) j["recall@" + std::to_string(k)] = v;
  for (auto& [k, v] : m.precisionAt) j["precision@" + std::to_string(k)] = v;
  j["model"] = e.model;
  j["missing_studies"] = r.coverage.missing;
  if (json) {
    e2e::cli::printJsonLine(j);
    return e2e::cli::kOk;
  }
  std::printf("Retrieval (ECG -> echo study, %s, test split seed %llu): %zu queries, %zu targets, "
              "similar = LVEF within 0.5 SD\n",
              e.modelText.c_str(), static_cast<unsigned long long>(o.seed), e.queries, e.targets);
  if (!missing.empty()) std::printf("Missing embeddings: %s\n", missing.c_str());
  std::printf("%s\n", e2e::formatRetrievalMetrics(m).c_str());
  std::printf("JSON ");
  e2e::cli::printJsonLine(j);
  return e2e::cli::kOk;
}

int printSearch(const RetrieveReport& r, const e2e::jobs::RetrieveRequest& o, bool json, const std::string& missing) {
  const auto& s = *r.search;
  for (const auto& note : s.result.notes) std::fprintf(stderr, "%s\n", note.c_str());
  if (json) {
    Json j{{"model", e2e::jobs::modelJson(s.model)},
           {"query", {{"ecg_instance_id", s.queryInstanceId},
                      {"patient_id", s.queryPatientId},
                      {"ood_score", std::isfinite(s.queryOodScore) ? Json(s.queryOodScore) : Json(nullptr)},
                      {"ood_threshold", std::isfinite(s.queryOodThreshold) ? Json(s.queryOodThreshold) : Json(nullptr)},
                      {"ood", s.queryOod}}},
           {"include_same_patient", o.includeSamePatient},
           {"echo_studies", r.coverage.echoStudies},
           {"searched_studies", s.result.searched},
           {"missing_studies", r.coverage.missing},
           {"outdated_studies", r.coverage.outdated},
           {"stale_rows_ignored", r.coverage.stale},
           {"results", Json::array()}};
    for (const auto& h : s.result.hits)
      j["results"].push_back({{"rank", h.rank},
                              {"study_row_id", h.studyRowId},
                              {"similarity", h.similarity},
                              {"query_ood", s.queryOod},
                              {"patient_id", h.patientId},
                              {"lvef_percent", h.lvefPercent},
                              {"study_uid", h.studyUid}});
    e2e::cli::printJsonLine(j);
    return e2e::cli::kOk;
  }
  std::printf("Query ECG %lld (patient %s), model %s, %s%s\n", static_cast<long long>(s.queryInstanceId),
              s.queryPatientId.c_str(), s.model.describe().c_str(), s.model.precision.c_str(),
              o.includeSamePatient ? "" : ", own patient excluded");
  if (s.queryOod == "out")
    std::printf("OUT-OF-DISTRIBUTION query: OOD score %.1f > threshold %.1f (the ECG is unlike the model's training "
                "ECGs; these neighbours are not meaningful)\n", s.queryOodScore, s.queryOodThreshold);
  else if (s.queryOod == "in")
    std::printf("Query in distribution: OOD score %.1f <= threshold %.1f\n", s.queryOodScore, s.queryOodThreshold);
  else
    std::printf("Query OOD: unknown (the model has no out-of-distribution statistics; `echo2ecg models ood-fit`)\n");
  std::printf("Searched %zu of %lld echo studies%s\n", s.result.searched, r.coverage.echoStudies,
              missing.empty() ? "" : (" (missing embeddings: " + missing + ")").c_str());
  std::printf("rank  study_row  similarity  patient  lvef  study_uid\n");
  for (const auto& h : s.result.hits)
    std::printf("%4d  %9lld  %10.4f  %s  %s  %s\n", h.rank, static_cast<long long>(h.studyRowId), h.similarity,
                h.patientId.c_str(), number(h.lvefPercent).c_str(), h.studyUid.c_str());
  return e2e::cli::kOk;
}

void printRetrieveHelp() {
  std::printf(
      "Usage: echo2ecg retrieve [--db FILE] [--model ID:VERSION|ID|DIR] ECG_ID [--k 10] [--include-same-patient] [--json]\n"
      "       echo2ecg retrieve [--db FILE] [--model ID:VERSION|ID|DIR] --evaluate [--seed S] [--json]\n"
      "                         [--include-same-patient] [--method embedding|ecg-features|paired-ecg]\n"
      "       [--precision auto|fp32|bf16] with either form\n"
      "Top-k echo studies by cosine similarity to the ECG in the aligned space; the query's own patient\n"
      "is excluded unless --include-same-patient. --evaluate: Recall/Precision@{1,3,5,10}, mAP and median\n"
      "rank over the test split (ECG -> echo study; similar = LVEF within 0.5 SD; the query's own patient\n"
      "is left out unless --include-same-patient). --method ecg-features: the ECG-only baseline, which ranks\n"
      "test studies by the hand-crafted features of their paired ECGs (no model). --method paired-ecg: the\n"
      "same with the model's ECG embeddings (any model with an ECG side, ECG-only encoders included).\n"
      "One model only (default: the ACTIVE echo2ecg-pretrain version, else the bundled models/): the\n"
      "ECG's vector and the STORED study embeddings of exactly that model version, weights hash and\n"
      "preprocessing. Embeddings of other versions are never used; studies without one are left out and\n"
      "counted, and with none at all retrieve fails with 'missing embeddings' (run `echo2ecg embed`).\n"
      "The output (text, or one JSON object with --json) names the model version used.\n"
      "--precision: the query ECG's inference precision and the precision of the study embeddings searched\n"
      "(never mixed); auto (default) = bfloat16 on CUDA or a CPU with AVX512-BF16 / AMX, else fp32, as\n"
      "`echo2ecg embed` stores by default. Embeddings made in another precision are not searched: the error\n"
      "says which precision they were made in.\n"
      "Above --exact-threshold studies (default 20000; 0 = always approximate) the search is approximate: an\n"
      "inverted-file index (k-means lists, 8-bit scan, exact re-ranking; recall@10 0.9995 at 10^6 studies). It is\n"
      "saved to DB.index/ and reused; studies embedded since are appended to it, any other change rebuilds it.\n"
      "(--hnsw-threshold is the old name of --exact-threshold.)\n");
}

int runRetrieveCmd(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "model", "k", "seed", "method", "exact-threshold", "hnsw-threshold", "precision"}, {"include-same-patient", "evaluate", "json"});
  if (a.help) {
    printRetrieveHelp();
    return kOk;
  }
  if (!a.error.empty()) return usageError("retrieve", a.error);
  e2e::jobs::RetrieveRequest o;
  o.dbPath = dbPathFrom(a);
  o.model = a.get("model");
  const bool json = a.has("json");
  o.evaluate = a.has("evaluate");
  o.method = a.get("method");
  o.includeSamePatient = a.has("include-same-patient");
  try {
    o.precision = e2e::model::parsePrecisionRequest(a.get("precision", "auto"));
  } catch (const std::invalid_argument& e) {
    return usageError("retrieve", e2e::errorText(e).c_str());
  }
  long long n = 0;
  if (a.has("k")) {
    if (!parseInt(a.get("k"), 1, 100000, n)) return usageError("retrieve", "--k needs an integer >= 1");
    o.k = static_cast<int>(n);
  }
  if (a.has("seed")) {
    if (!parseInt(a.get("seed"), 0, 1LL << 62, n)) return usageError("retrieve", "--seed needs an integer >= 0");
    o.seed = static_cast<std::uint64_t>(n);
  }
  for (const char* opt : {"hnsw-threshold", "exact-threshold"}) {
    if (!a.has(opt)) continue;
    if (!parseInt(a.get(opt), 0, 1LL << 40, n))
      return usageError("retrieve", std::string("--") + opt + " needs an integer >= 0");
    o.exactThreshold = n;
  }
  if (!o.evaluate) {
    if (a.positional.size() != 1) return usageError("retrieve", "give exactly one ECG_ID (or --evaluate)");
    o.query = a.positional[0];
  }
  try {
    const auto r = e2e::jobs::runRetrieve(o);
    for (const auto& skipped : r.skipped) std::fprintf(stderr, "skipping ECG: %s\n", skipped.c_str());
    const std::string& missing = r.coverage.missingText;
    warnCoverage(r.coverage, missing);
    return r.evaluation ? printEvaluation(r, o, json, missing) : printSearch(r, o, json, missing);
  } catch (const e2e::jobs::MissingEmbeddings& e) {
    if (json)
      printJsonLine({{"error", "missing_embeddings"},
                     {"message", e2e::errorText(e).c_str()},
                     {"model", e2e::jobs::modelJson(e.model)},
                     {"echo_studies", e.coverage.echoStudies},
                     {"missing_studies", e.coverage.missing},
                     {"stale_rows_ignored", e.coverage.stale}});
    std::fprintf(stderr, "echo2ecg retrieve: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  } catch (const std::invalid_argument& e) {
    return usageError("retrieve", e2e::errorText(e).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg retrieve: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  }
}
}  // namespace

E2E_REGISTER_COMMAND("retrieve", "ECG -> echo study retrieval in the aligned embedding space", runRetrieveCmd);
