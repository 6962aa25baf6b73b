// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// Model bundles and model cards, the torch-free part (core/pipeline/embedding_model; the pipeline's
// loadBundle needs libtorch and a weights file): "<bundle.json text>\0<model card JSON>".
// The bundle.json is resolved as a bundle directory (with and without the file checks); the card
// is registered as the active embedding model in a rolled-back transaction and resolved.
#include <memory>

#include "db/database.h"
#include "fuzz_util.h"
#include "pipeline/embedding_model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  using namespace e2e;
  static std::unique_ptr<db::Database> db;
  static std::string dir;
  if (!db) {
    db = std::make_unique<db::Database>((fuzz::scratchDir() / "models.db").string());
    dir = (fuzz::scratchDir() / "bundle").string();
    fs::create_directories(dir);
    fuzz::writeScratch("bundle/echo2ecg.pt", "not weights");
  }
  const auto parts = fuzz::splitAtNul(data, size);
  const std::string_view bundleJson = parts.first;
  const std::string card(parts.second);
  fuzz::writeScratch("bundle/bundle.json", bundleJson);
  fuzz::expectOnlyErrors([&] { (void)pipeline::resolveEmbeddingModel(*db, dir, false); });
  fuzz::expectOnlyErrors([&] { (void)pipeline::resolveEmbeddingModel(*db, dir, true); });

  db::Database::Transaction tx(*db);  // rolled back: the database stays empty
  fuzz::expectOnlyErrors([&] {
    db::ModelRow row;
    row.modelId = pipeline::kEmbeddingModelId;
    row.version = "1";
    row.weightsHash = "0123456789abcdef";
    row.cardJson = card;
    row.active = true;
    db->registerModel(row);
    (void)pipeline::activeRegisteredEmbeddingModel(*db);
    (void)pipeline::resolveEmbeddingModel(*db, "", true);
    (void)pipeline::resolveEmbeddingModel(*db, std::string(pipeline::kEmbeddingModelId) + ":1", true);
  });
  return 0;
}
