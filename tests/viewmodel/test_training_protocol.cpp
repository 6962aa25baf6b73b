// The protocol parser (docs/training-protocol.md): every event kind, and malformed lines.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "viewmodel/training_card.h"
#include "viewmodel/training_protocol.h"

using namespace e2e::vm;

TEST(TrainingJson, ParsesValuesAndRejectsGarbage) {
  JsonValue v;
  ASSERT_TRUE(parseJson(R"({"a":[1,2.5,-3e2],"b":"x\"\u00e9\n","c":true,"d":null,"e":{}})", v));
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v["a"].size(), 3u);
  EXPECT_DOUBLE_EQ(v["a"][2].get<double>(), -300);
  EXPECT_EQ(v["b"].get<std::string>(), "x\"\xC3\xA9\n");
  EXPECT_TRUE(v["c"].get<bool>());
  EXPECT_TRUE(v["d"].is_null());
  EXPECT_FALSE(v.contains("missing"));
  EXPECT_EQ(v.value("missing", 7.0), 7);
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "tru", "\"abc", "{'a':1}", "01x", "-"})
    EXPECT_FALSE(parseJson(bad, v)) << bad;
  std::string deep(200, '[');
  EXPECT_FALSE(parseJson(deep, v));
  JsonValue rt;
  ASSERT_TRUE(parseJson(R"({"k":[0.1,"s",false,null]})", rt));
  EXPECT_EQ(toJson(rt), R"({"k":[0.1,"s",false,null]})");
}

// parseJson / toJson on nlohmann-json: the nesting limit of the hand-written reader (64 nested
// values, a scalar in the innermost container counting), clear errors, document order, round trip.
TEST(TrainingJson, NestingLimitErrorsOrderAndRoundTrip) {
  JsonValue v;
  std::string err;
  auto nested = [](int n, const std::string& inner) { return std::string(n, '[') + inner + std::string(n, ']'); };
  EXPECT_TRUE(parseJson(nested(64, ""), v, &err)) << err;
  EXPECT_TRUE(parseJson(nested(63, "1"), v, &err)) << err;
  EXPECT_FALSE(parseJson(nested(65, ""), v, &err));
  EXPECT_NE(err.find("nested too deeply"), std::string::npos) << err;
  err.clear();
  EXPECT_FALSE(parseJson(nested(64, "1"), v, &err));
  EXPECT_NE(err.find("nested too deeply"), std::string::npos) << err;
  EXPECT_FALSE(parseJson(nested(100000, "0"), v));  // no recursion, no crash

  // A failed parse leaves `out` alone and explains itself without nlohmann's exception id.
  ASSERT_TRUE(parseJson(R"({"keep":1})", v));
  err.clear();
  EXPECT_FALSE(parseJson(R"({"a":})", v, &err));
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(err.find("[json.exception"), std::string::npos) << err;
  EXPECT_NE(err.find("column"), std::string::npos) << err;
  EXPECT_EQ(toJson(v), R"({"keep":1})");
  EXPECT_FALSE(parseJson("\"caf\xE9\"", v, &err));  // Latin-1, not UTF-8
  EXPECT_FALSE(parseJson("\"a\tb\"", v, &err));     // raw control character in a string
  EXPECT_FALSE(parseJson("{\"a\":1,\"b\":2", v, &err));
  EXPECT_FALSE(parseJson("NaN", v, &err));

  // Objects keep document order (the card printer shows members as written).
  const std::string doc = R"({"z":1,"a":{"y":[1.5,"t\u0001",true],"b":null},"m":-7,"big":12345678901234567890,"e":1e-07})";
  ASSERT_TRUE(parseJson(doc, v, &err)) << err;
  EXPECT_EQ(v.begin().key(), "z");
  EXPECT_EQ(toJson(v), doc);
  JsonValue again;
  ASSERT_TRUE(parseJson(toJson(v), again));
  EXPECT_EQ(again, v);

  // Numbers that are not finite are written as null; bytes that are not UTF-8 as U+FFFD (valid JSON).
  JsonValue w = JsonValue::object();
  w["nan"] = std::nan("");
  w["inf"] = -INFINITY;
  w["s"] = std::string("M\xFCller");
  EXPECT_EQ(toJson(w), "{\"nan\":null,\"inf\":null,\"s\":\"M\xEF\xBF\xBDller\"}");
  EXPECT_TRUE(parseJson(toJson(w), again));
}

TEST(TrainingProtocol, NumbersOfAnyJsonKindAndNonUtf8Lines) {
  // Integers, floats and exponents are all numbers; numeric versions are rounded to an integer text.
  auto r = parseProgressLine(R"({"event":"start","total_epochs":3.0,"steps_per_epoch":1e1,"start_epoch":-0,)"
                             R"("split":{"train":{"patients":2,"samples":3,"class_counts":[1,2.0,"x"]}}})");
  ASSERT_TRUE(r.ok) << r.warning;
  EXPECT_EQ(r.event.totalEpochs, 3);
  EXPECT_EQ(r.event.stepsPerEpoch, 10);
  EXPECT_EQ(r.event.startEpoch, 0);
  EXPECT_EQ(r.event.split.at("train").classCounts, (std::vector<int>{1, 2, 0}));
  r = parseProgressLine(R"({"event":"done","version":2.6,"test_metrics":{"auroc":1,"n":600,"x_ci":[0,"a"]}})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.version, "3");
  EXPECT_DOUBLE_EQ(r.event.testMetrics.at("n"), 600);
  EXPECT_TRUE(r.event.testIntervals.empty());
  // Classes that are not strings are shown as their JSON text.
  r = parseProgressLine(R"({"event":"start","classes":[0,1.5,null,"b"]})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.classes, (std::vector<std::string>{"0", "1.5", "null", "b"}));
  // A line that is not UTF-8 is ignored with a readable warning (never an exception).
  r = parseProgressLine("{\"event\":\"error\",\"message\":\"caf\xE9\"}");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.warning.rfind("not JSON (", 0), 0u) << r.warning;
  EXPECT_EQ(r.warning.find("[json.exception"), std::string::npos) << r.warning;
  // Duplicate members: one value is kept, the line is not rejected.
  r = parseProgressLine(R"({"event":"error","message":"a","message":"b"})");
  EXPECT_TRUE(r.ok);
}

TEST(TrainingProtocol, StartEvent) {
  const auto r = parseProgressLine(
      R"({"event":"start","task":"lvef","method":"linear","run_dir":"/r","device":"cpu","total_epochs":10,)"
      R"("steps_per_epoch":12,"start_epoch":2,"resumed":true,"classes":["<40","40-49",">=50"],)"
      R"("split":{"train":{"patients":70,"samples":71,"class_counts":[17,14,39]},)"
      R"("val":{"patients":15,"samples":15,"class_counts":[4,3,8]},"test":{"patients":15,"class_counts":[4,3,8]}},)"
      R"("synthetic_data":true})"
      "\r\n");
  ASSERT_TRUE(r.ok) << r.warning;
  const auto& e = r.event;
  EXPECT_EQ(e.kind, EventKind::Start);
  EXPECT_EQ(e.task, "lvef");
  EXPECT_EQ(e.method, "linear");
  EXPECT_EQ(e.runDir, "/r");
  EXPECT_EQ(e.device, "cpu");
  EXPECT_EQ(e.totalEpochs, 10);
  EXPECT_EQ(e.stepsPerEpoch, 12);
  EXPECT_EQ(e.startEpoch, 2);
  EXPECT_TRUE(e.resumed);
  EXPECT_TRUE(e.synthetic);
  ASSERT_EQ(e.classes.size(), 3u);
  EXPECT_EQ(e.classes[1], "40-49");
  ASSERT_EQ(e.split.size(), 3u);
  EXPECT_EQ(e.split.at("train").patients, 70);
  EXPECT_EQ(e.split.at("train").samples, 71);
  EXPECT_EQ(e.split.at("train").classCounts, (std::vector<int>{17, 14, 39}));
  EXPECT_EQ(e.split.at("test").samples, 15);  // defaults to patients
}

TEST(TrainingProtocol, StepEpochCheckpoint) {
  auto r = parseProgressLine(
      R"({"event":"step","epoch":0,"step":5,"total_steps":120,"loss":1.02,"lr":0.0005,"elapsed_s":3.1,"eta_s":71.0})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.kind, EventKind::Step);
  EXPECT_EQ(r.event.epoch, 0);
  EXPECT_EQ(r.event.step, 5);
  EXPECT_EQ(r.event.totalSteps, 120);
  EXPECT_DOUBLE_EQ(r.event.loss, 1.02);
  EXPECT_DOUBLE_EQ(r.event.lr, 0.0005);
  EXPECT_DOUBLE_EQ(r.event.elapsedS, 3.1);
  EXPECT_DOUBLE_EQ(r.event.etaS, 71.0);
  r = parseProgressLine(R"({"event":"step","epoch":1,"step":2,"loss":0.5})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.etaS, -1);
  EXPECT_EQ(r.event.elapsedS, -1);

  r = parseProgressLine(R"({"event":"epoch","epoch":0,"train_loss":0.98,"val_loss":0.91,)"
                        R"("val_metrics":{"accuracy":0.6,"balanced_accuracy":0.55,"f1":0.5,"auroc":0.8,"auprc":0.7}})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.kind, EventKind::Epoch);
  EXPECT_DOUBLE_EQ(r.event.trainLoss, 0.98);
  EXPECT_TRUE(r.event.hasValLoss);
  EXPECT_DOUBLE_EQ(r.event.valLoss, 0.91);
  EXPECT_EQ(r.event.valMetrics.size(), 5u);
  EXPECT_DOUBLE_EQ(r.event.valMetrics.at("auroc"), 0.8);

  r = parseProgressLine(R"({"event":"checkpoint","epoch":0,"path":"/r/last.ckpt"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.kind, EventKind::Checkpoint);
  EXPECT_EQ(r.event.epoch, 0);
  EXPECT_EQ(r.event.path, "/r/last.ckpt");
}

TEST(TrainingProtocol, DoneBinaryAndMulticlass) {
  auto r = parseProgressLine(
      R"({"event":"done","model_id":"echo2ecg-shd","version":"3","parent":"echo2ecg-pretrain:1","weights_hash":"ab12",)"
      R"("weights_path":"/r/model.pt","test_metrics":{"accuracy":0.7,"auroc":0.81,"auroc_ci":[0.7,0.9]},)"
      R"("roc":{"fpr":[0,0.5,1],"tpr":[0,0.8,1]},"confusion":[[5,1],[2,4]],"classes":["no","yes"]})");
  ASSERT_TRUE(r.ok) << r.warning;
  const auto& d = r.event;
  EXPECT_EQ(d.kind, EventKind::Done);
  EXPECT_EQ(d.modelId, "echo2ecg-shd");
  EXPECT_EQ(d.version, "3");
  EXPECT_EQ(d.parent, "echo2ecg-pretrain:1");
  EXPECT_EQ(d.weightsHash, "ab12");
  EXPECT_EQ(d.weightsPath, "/r/model.pt");
  EXPECT_DOUBLE_EQ(d.testMetrics.at("auroc"), 0.81);
  EXPECT_EQ(d.testMetrics.count("auroc_ci"), 0u);
  EXPECT_DOUBLE_EQ(d.testIntervals.at("auroc").first, 0.7);
  ASSERT_EQ(d.roc.size(), 1u);
  EXPECT_EQ(d.roc[0].tpr, (std::vector<double>{0, 0.8, 1}));
  ASSERT_EQ(d.confusion.size(), 2u);
  EXPECT_EQ(d.confusion[1], (std::vector<double>{2, 4}));

  r = parseProgressLine(R"({"event":"done","model_id":"m","version":4,"roc":[{"class":"<40","fpr":[0,1],"tpr":[0,1]},)"
                        R"({"class":">=50","fpr":[0,0.2,1],"tpr":[0,0.9]}],"confusion":[[1,0,0],[0,1,0],[0,0,1]]})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.version, "4");  // numeric versions are accepted
  ASSERT_EQ(r.event.roc.size(), 2u);
  EXPECT_EQ(r.event.roc[0].cls, "<40");
  EXPECT_EQ(r.event.roc[1].fpr.size(), 2u);  // truncated to the shorter list
  EXPECT_EQ(r.event.confusion.size(), 3u);
}

TEST(TrainingProtocol, CancelledAndError) {
  auto r = parseProgressLine(R"({"event":"cancelled","epoch":3,"checkpoint":"/r/last.ckpt"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.kind, EventKind::Cancelled);
  EXPECT_EQ(r.event.epoch, 3);
  EXPECT_EQ(r.event.path, "/r/last.ckpt");
  r = parseProgressLine(R"({"event":"error","message":"out of memory"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.kind, EventKind::Error);
  EXPECT_EQ(r.event.message, "out of memory");
}

TEST(TrainingProtocol, MalformedLinesAreIgnoredWithAWarning) {
  for (const char* bad : {"", "   ", "Epoch 1/10 loss 0.3", "{", "[1,2]", "\"start\"", R"({"task":"lvef"})",
                          R"({"event":5})", R"({"event":"teleport"})", R"({"event":"step","loss":1})",
                          R"({"event":"epoch","train_loss":1})", "{\"event\":\"start\",\"total_epochs\":1}garbage",
                          "\x01\x02\xff\xfe", R"({"event":"done","roc":"nope","confusion":{"a":1}})"}) {
    const auto r = parseProgressLine(bad);
    if (std::string(bad).find("\"done\"") != std::string::npos) {
      // Wrong-typed members of a known event are dropped, the event itself is kept.
      EXPECT_TRUE(r.ok);
      EXPECT_TRUE(r.event.roc.empty());
      EXPECT_TRUE(r.event.confusion.empty());
      continue;
    }
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_FALSE(r.warning.empty()) << bad;
  }
  // Wrong types inside a known event fall back to defaults instead of failing.
  const auto r = parseProgressLine(R"({"event":"start","total_epochs":"ten","classes":[1,"a"],"split":[]})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.totalEpochs, 0);
  EXPECT_EQ(r.event.classes.size(), 2u);
  EXPECT_TRUE(r.event.split.empty());
}

TEST(TrainingCard, MetricsAndPrettyPrint) {
  const std::string card = R"({"recipe":{"task":"lvef"},"metrics":{"auroc":0.912,"balanced_accuracy":0.8,"n":12}})";
  const auto m = cardMetrics(card);
  EXPECT_DOUBLE_EQ(m.at("auroc"), 0.912);
  EXPECT_EQ(cardMetricsSummary(card, 2), "AUROC 0.912, bal. acc 0.800");
  EXPECT_DOUBLE_EQ(cardMetrics(R"({"metrics":{"test":{"f1":0.5},"val":{"f1":0.9}}})").at("f1"), 0.5);
  EXPECT_DOUBLE_EQ(cardMetrics(R"({"test_metrics":{"accuracy":0.7}})").at("accuracy"), 0.7);
  EXPECT_TRUE(cardMetrics("not json").empty());
  EXPECT_EQ(prettyJson("not json"), "not json");
  EXPECT_EQ(prettyJson(R"({"a":{"b":[1,2]}})"), "{\n  \"a\": {\n    \"b\": [1,2]\n  }\n}");
}

TEST(TrainingCard, CardsOfEveryShape) {
  // Document order, nested arrays of containers, empty containers, escaped keys.
  EXPECT_EQ(prettyJson(R"({"z":[{"a":1},[]],"a\"b":{},"e":[]})"),
            "{\n  \"z\": [\n    {\n      \"a\": 1\n    },\n    []\n  ],\n  \"a\\\"b\": {},\n  \"e\": []\n}");
  EXPECT_EQ(prettyJson("[1,\"x\",null]"), "[1,\"x\",null]");
  EXPECT_EQ(prettyJson("  42 "), "42");
  EXPECT_EQ(prettyJson("{\"a\":1"), "{\"a\":1");  // malformed: unchanged
  EXPECT_EQ(prettyJson(""), "");
  // Metrics: only numbers count; a card that is not an object has none.
  EXPECT_EQ(cardMetrics(R"({"metrics":{"auroc":0.9,"note":"x","ci":[0,1]}})"),
            (std::map<std::string, double>{{"auroc", 0.9}}));
  EXPECT_TRUE(cardMetrics("[1,2]").empty());
  EXPECT_TRUE(cardMetrics(R"({"metrics":[0.9]})").empty());
  EXPECT_TRUE(cardMetrics(R"({"metrics":{"auroc":0.9})").empty());  // truncated
  EXPECT_EQ(cardMetricsSummary(R"({"metrics":{"note":"x"},"test_metrics":{"accuracy":0.75,"f1":0.5}})", 3),
            "acc 0.750, F1 0.500");
  // A real card shipped in models/ (written by `echo2ecg train`).
  std::ifstream f(std::string(E2E_SOURCE_DIR) + "/models/cards/lvef-linear.json");
  ASSERT_TRUE(f);
  const std::string card((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(cardMetricsSummary(card, 4), "AUROC 0.939, bal. acc 0.804, acc 0.862, F1 0.816");
  const std::string pretty = prettyJson(card);
  EXPECT_NE(pretty, card);
  EXPECT_EQ(pretty.rfind("{\n  \"model_id\": \"echo2ecg-lvef\",\n", 0), 0u) << pretty.substr(0, 80);
  JsonValue a, b;
  ASSERT_TRUE(parseJson(card, a));
  ASSERT_TRUE(parseJson(pretty, b));
  EXPECT_EQ(a, b);
}
