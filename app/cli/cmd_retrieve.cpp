// echo2ecg retrieve --db FILE ECG_ID [--k 10] [--include-same-patient] | --evaluate [--seed S]
#include <cstdio>

#include "commands.h"
#include "pipeline/pipeline.h"

namespace {
int runRetrieveCmd(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "model", "k", "seed", "method", "hnsw-threshold"}, {"include-same-patient", "evaluate", "json"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg retrieve [--db FILE] [--model ID:VERSION|ID|DIR] ECG_ID [--k 10] [--include-same-patient] [--json]\n"
        "       echo2ecg retrieve [--db FILE] [--model ID:VERSION|ID|DIR] --evaluate [--seed S] [--json]\n"
        "                         [--include-same-patient] [--method embedding|ecg-features|paired-ecg]\n"
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
        "Above --hnsw-threshold studies (default 20000; 0 = always exact) the search is approximate (HNSW, recall@10 about\n"
        "0.99); its graph is saved to DB.index/ and reused while the study embeddings are unchanged.\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("retrieve", a.error);
  e2e::pipeline::RetrieveOptions o;
  o.dbPath = dbPathFrom(a);
  o.model = a.get("model");
  o.json = a.has("json");
  o.evaluate = a.has("evaluate");
  o.method = a.get("method");
  o.includeSamePatient = a.has("include-same-patient");
  long long n = 0;
  if (a.has("k")) {
    if (!parseInt(a.get("k"), 1, 100000, n)) return usageError("retrieve", "--k needs an integer >= 1");
    o.k = static_cast<int>(n);
  }
  if (a.has("seed")) {
    if (!parseInt(a.get("seed"), 0, 1LL << 62, n)) return usageError("retrieve", "--seed needs an integer >= 0");
    o.seed = static_cast<std::uint64_t>(n);
  }
  if (a.has("hnsw-threshold")) {
    if (!parseInt(a.get("hnsw-threshold"), 0, 1LL << 40, n))
      return usageError("retrieve", "--hnsw-threshold needs an integer >= 0");
    o.hnswThreshold = n;
  }
  if (!o.evaluate) {
    if (a.positional.size() != 1) return usageError("retrieve", "give exactly one ECG_ID (or --evaluate)");
    o.query = a.positional[0];
  }
  try {
    return e2e::pipeline::runRetrieve(o);
  } catch (const std::invalid_argument& e) {
    return usageError("retrieve", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg retrieve: %s\n", e.what());
    return kRuntimeError;
  }
}
}  // namespace

E2E_REGISTER_COMMAND("retrieve", "ECG -> echo study retrieval in the aligned embedding space", runRetrieveCmd);
