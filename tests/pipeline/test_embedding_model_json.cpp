// The embedding-model resolver's JSON inputs (torch-free): bundle.json of a bundle directory and the
// "bundle_dir" of a registered model card, both read with nlohmann-json. Top-level members only,
// defaults for missing or wrong-typed members, and clear std::runtime_errors (never a JSON library
// exception) for a malformed bundle.json.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "common/text.h"
#include "db/database.h"
#include "pipeline/embedding_model.h"

namespace fs = std::filesystem;
using namespace e2e;
using pipeline::EmbeddingModel;

namespace {

class EmbeddingModelJson : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_embmodel_json_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A bundle directory with this bundle.json and (empty) weight files.
  std::string bundle(const std::string& name, const std::string& json,
                     std::initializer_list<const char*> weights = {"echo2ecg.pt"}) {
    const fs::path d = dir_ / name;
    fs::create_directories(d);
    std::ofstream(d / "bundle.json") << json;
    for (const char* w : weights) std::ofstream(d / w) << "w";
    return d.string();
  }
  // The message of the runtime_error that f throws ("" if none; a failure if anything else is thrown).
  template <class F>
  static std::string errorOf(F&& f) {
    try {
      f();
    } catch (const std::runtime_error& e) {
      return e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a runtime_error: " << e.what();
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(EmbeddingModelJson, BundleJsonTopLevelMembersAndDefaults) {
  db::Database db((dir_ / "s.db").string());
  // Pretty-printed, escapes, and members of the same names nested deeper (which do not count).
  const std::string d = bundle("b1", R"({
    "recipe": {"model_id": "nested", "version": "9", "weights": "nested.pt"},
    "model_id" : "echo2ecg-\u00e9t\u00e9 \"q\"",
    "version":"7",
    "weights": "w\/main.pt",
    "video_weights": "video.pt",
    "weights_hash": "abc123"
  })", {});
  fs::create_directories(fs::path(d) / "w");
  std::ofstream(fs::path(d) / "w" / "main.pt") << "w";
  std::ofstream(fs::path(d) / "video.pt") << "v";
  const EmbeddingModel m = pipeline::resolveEmbeddingModel(db, d, /*checkFiles=*/true);
  EXPECT_EQ(m.modelId, "echo2ecg-\xC3\xA9t\xC3\xA9 \"q\"");
  EXPECT_EQ(m.version, "7");
  EXPECT_EQ(m.weightsHash, "abc123");
  EXPECT_EQ(m.source, EmbeddingModel::Source::Directory);

  // Missing or wrong-typed members take the pipeline's defaults.
  const std::string d2 = bundle("b2", R"({"version": 3, "weights_hash": null, "data": {"model_id": "x"}})");
  const EmbeddingModel m2 = pipeline::resolveEmbeddingModel(db, d2, true);
  EXPECT_EQ(m2.modelId, "echo2ecg");
  EXPECT_EQ(m2.version, "1");
  EXPECT_EQ(m2.weightsHash, "");

  // The bundled models/ of the source tree.
  const EmbeddingModel shipped = pipeline::resolveEmbeddingModel(db, std::string(E2E_SOURCE_DIR) + "/models", true);
  EXPECT_EQ(shipped.modelId, "echo2ecg-synthetic");
  EXPECT_EQ(shipped.version, "3");
  EXPECT_EQ(shipped.weightsHash.size(), 64u);

  // A weights file that bundle.json names but that is missing.
  const std::string d3 = bundle("b3", R"({"weights": "gone.pt"})");
  const std::string e = errorOf([&] { pipeline::resolveEmbeddingModel(db, d3, true); });
  EXPECT_TRUE(has(e, "gone.pt") && has(e, "does not exist")) << e;
  EXPECT_NO_THROW(pipeline::resolveEmbeddingModel(db, d3, false));
}

TEST_F(EmbeddingModelJson, MalformedBundleJsonIsAClearError) {
  db::Database db((dir_ / "s.db").string());
  for (const char* text : {"", "{", R"({"model_id": "a",})", R"({"model_id": "a"} trailing)", "not json",
                           "{\"model_id\": \"caf\xE9\"}"}) {
    const std::string d = bundle("bad", text);
    for (bool check : {false, true}) {
      const std::string e = errorOf([&] { pipeline::resolveEmbeddingModel(db, d, check); });
      EXPECT_TRUE(has(e, (fs::path(d) / "bundle.json").string()) && has(e, "is not valid JSON")) << text << ": " << e;
      EXPECT_FALSE(has(e, "[json.exception")) << e;  // no bare library message without context
    }
  }
  for (const char* text : {"[1,2]", "\"echo2ecg\"", "null"}) {
    const std::string d = bundle("notobj", text);
    const std::string e = errorOf([&] { pipeline::resolveEmbeddingModel(db, d, false); });
    EXPECT_TRUE(has(e, "is not a JSON object")) << text << ": " << e;
  }
}

TEST_F(EmbeddingModelJson, RegisteredCardsBundleDir) {
  db::Database db((dir_ / "s.db").string());
  // A directory name that needs escaping in JSON.
  const std::string d =
      bundle("run \"1\" \\ \xC3\xA9", R"({"model_id":"echo2ecg-pretrain","version":"1","weights_hash":"h1"})");
  // The card as the trainer writes it (the directory as a JSON string, other members around it).
  const std::string card = "{\"model_id\":\"echo2ecg-pretrain\",\"data\":{\"db\":\"s.db\",\"bundle_dir\":\"/nested\"},"
                           "\"bundle_dir\":" + jsonQuote(d) + ",\"weights_hash\":\"h1\"}";
  db.registerModel({0, pipeline::kEmbeddingModelId, "1", "", "h1", card, "", true});
  auto a = pipeline::activeRegisteredEmbeddingModel(db);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->dir, d);
  EXPECT_EQ(a->weightsHash, "h1");
  EXPECT_EQ(pipeline::resolveEmbeddingModel(db, "", true).dir, d);
  EXPECT_EQ(pipeline::resolveEmbeddingModel(db, "echo2ecg-pretrain:1", true).dir, d);

  // bundle.json records other weights than were registered.
  db.registerModel({0, pipeline::kEmbeddingModelId, "2", "", "h2", card, "", false});
  std::string e = errorOf([&] { pipeline::resolveEmbeddingModel(db, "echo2ecg-pretrain:2", true); });
  EXPECT_TRUE(has(e, "changed since it was registered")) << e;

  // Cards without a usable top-level "bundle_dir": malformed, not an object, nested only, not a string.
  int v = 3;
  for (const std::string bad : {std::string("{\"bundle_dir\":\"") + d, std::string("not json"), std::string("[]"),
                                std::string(R"({"data":{"bundle_dir":"/x"}})"), std::string(R"({"bundle_dir":5})")}) {
    const std::string ver = std::to_string(v++);
    db.registerModel({0, pipeline::kEmbeddingModelId, ver, "", "h", bad, "", false});
    const std::string spec = std::string(pipeline::kEmbeddingModelId) + ":" + ver;
    e = errorOf([&] { pipeline::resolveEmbeddingModel(db, spec, false); });
    EXPECT_TRUE(has(e, "names no \"bundle_dir\"")) << bad << ": " << e;
    db.setActiveModel(pipeline::kEmbeddingModelId, ver);
    a = pipeline::activeRegisteredEmbeddingModel(db);  // never throws on a bad card
    ASSERT_TRUE(a);
    EXPECT_EQ(a->dir, "") << bad;
    e = errorOf([&] { pipeline::resolveEmbeddingModel(db, "", false); });
    EXPECT_TRUE(has(e, "names no bundle directory")) << bad << ": " << e;
  }
}

}  // namespace
