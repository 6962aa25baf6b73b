// What every training task shares (see common.h).
#include "jobs/train/common.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "common/files.h"
#include "model/autocast.h"
#include "model/train.h"
#include "pipeline/embedding_model.h"

namespace fs = std::filesystem;

namespace e2e::jobs::train {

// ---- events ----

void Emitter::event(const Json& j) const {
  if (sinks.event) sinks.event(j);
}
void Emitter::text(const std::string& s) const {
  if (sinks.text) sinks.text(s);
}
void Emitter::error(const std::string& msg) const {
  event({{"event", "error"}, {"message", msg}});
  text("error: " + msg);
}
void Emitter::step(std::int64_t epoch, int step, int totalSteps, double loss, double lr, double elapsed,
                   double eta) const {
  event({{"event", "step"}, {"epoch", epoch}, {"step", step}, {"total_steps", totalSteps}, {"loss", loss},
         {"lr", lr}, {"elapsed_s", elapsed}, {"eta_s", std::max(0.0, eta)}});
}
void Emitter::epochDone(std::int64_t epoch, double trainLoss, double valLoss, const Json& valMetrics) const {
  event({{"event", "epoch"}, {"epoch", epoch}, {"train_loss", trainLoss}, {"val_loss", valLoss},
         {"val_metrics", valMetrics}});
  text("epoch " + std::to_string(epoch) + ": train loss " + num(trainLoss) + ", val loss " + num(valLoss));
}
void Emitter::checkpoint(std::int64_t epoch, const std::string& path) const {
  event({{"event", "checkpoint"}, {"epoch", epoch}, {"path", path}});
}
void Emitter::cancelled(std::int64_t epoch, const std::string& path) const {
  event({{"event", "cancelled"}, {"epoch", epoch}, {"checkpoint", path}});
  text("cancelled in epoch " + std::to_string(epoch) + "; resume with --resume");
}
void Emitter::cancelledBeforeTraining(std::int64_t epoch) const {
  event({{"event", "cancelled"}, {"epoch", epoch}, {"checkpoint", nullptr}});
}

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

// ---- run directory, checkpoints ----

std::string nextVersion(db::Database& db, const std::string& modelId) {
  long long mx = 0;
  for (auto& m : db.listModels())
    if (m.modelId == modelId) {
      char* end = nullptr;
      long long v = std::strtoll(m.version.c_str(), &end, 10);
      if (end && *end == '\0') mx = std::max(mx, v);
    }
  return std::to_string(mx + 1);
}

std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed, std::int64_t epoch) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::mt19937_64 g(seed * 1000003ULL + static_cast<std::uint64_t>(epoch) + 17);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[g() % i]);
  return p;
}

std::vector<std::vector<std::size_t>> chunks(const std::vector<std::size_t>& items, std::size_t n) {
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t i = 0; i < items.size(); i += n)
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + n)));
  return out;
}

void saveCkpt(const std::string& path, std::int64_t epoch, torch::nn::Module& m, torch::optim::Optimizer* opt) {
  torch::serialize::OutputArchive a;
  a.write("epoch", torch::tensor(epoch));
  torch::serialize::OutputArchive ma;
  m.save(ma);
  a.write("model", ma);
  if (opt) {
    torch::serialize::OutputArchive oa;
    opt->save(oa);
    a.write("optimizer", oa);
  }
  a.save_to(path + ".tmp");
  fs::rename(path + ".tmp", path);
}

std::int64_t loadCkpt(const std::string& path, torch::nn::Module& m, torch::optim::Optimizer* opt) {
  torch::serialize::InputArchive a;
  a.load_from(path);
  torch::Tensor e;
  a.read("epoch", e);
  torch::serialize::InputArchive ma;
  a.read("model", ma);
  m.load(ma);
  if (opt) {
    torch::serialize::InputArchive oa;
    if (a.try_read("optimizer", oa)) opt->load(oa);
  }
  return e.item<int64_t>();
}

std::string lastCkptPath(const std::string& runDir) { return (fs::path(runDir) / "last.ckpt").string(); }

bool useAmp(const std::string& precision, const torch::Device& device) {
  return precision == "bf16" || (precision == "auto" && device.is_cuda());
}

void checkRunDir(const TrainRequest& o) {
  if (o.runDir.empty()) badRequest("--run-dir is required");
  if (fs::exists(lastCkptPath(o.runDir)) && !o.resume && !o.dryRun)
    badRequest("run dir " + o.runDir + " already has a checkpoint; use --resume or another --run-dir");
}

// ---- epoch loop ----

std::string EpochLoop::bestPath() const { return (fs::path(runDir) / "best.ckpt").string(); }
std::string EpochLoop::bestValPath() const { return (fs::path(runDir) / "best_val.txt").string(); }

void EpochLoop::loadBestSoFar() {
  if (!selectBest || startEpoch <= 0 || !fs::exists(bestPath()) || !fs::exists(bestValPath())) return;
  std::ifstream bf(bestValPath());
  bf >> bestVal >> bestEpoch;
  if (!bf) bestVal = std::numeric_limits<double>::infinity(), bestEpoch = -1;
}

bool EpochLoop::trainEpoch(std::int64_t epoch, const std::vector<std::size_t>& train, const job::CancelToken& cancel,
                           int& stepsDone, double& lossMean, std::chrono::steady_clock::time_point t0) {
  const int totalSteps = epochs * stepsPerEpoch;
  std::vector<std::size_t> order;
  for (auto p : permutation(train.size(), seed, epoch)) order.push_back(train[p]);
  double lossSum = 0;
  int lossN = 0, step = 0;
  for (auto& bidx : chunks(order, static_cast<std::size_t>(std::max(1, batchSize)))) {
    if (bidx.size() < minBatch) continue;
    const double pos = static_cast<double>(epoch) + static_cast<double>(step) / std::max(1, stepsPerEpoch);
    const double curLr = cosine ? model::warmupCosineLr(pos, lr, 0.1 * lr, std::min(1.0, epochs * 0.2), epochs) : lr;
    auto& groups = opt->param_groups();
    for (std::size_t gi = 0; gi < groups.size(); ++gi)
      groups[gi].options().set_lr(curLr * (gi < groupScale.size() ? groupScale[gi] : 1.0));
    opt->zero_grad();
    torch::Tensor l;
    {
      model::Bf16Autocast ac(amp, device);
      l = loss(bidx);
    }
    l = l.to(torch::kFloat32);
    l.backward();
    if (clipNorm > 0) torch::nn::utils::clip_grad_norm_(module.parameters(), clipNorm);
    opt->step();
    const double lv = l.item<double>();
    if (!std::isfinite(lv))
      throw std::runtime_error("training loss is not finite in epoch " + std::to_string(epoch) + " step " +
                               std::to_string(step + 1) + " (lower --lr, or --precision fp32)");
    lossSum += lv * static_cast<double>(bidx.size());
    lossN += static_cast<int>(bidx.size());
    ++step;
    ++stepsDone;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // remaining steps of the whole run (after --resume, elapsed time counts this process only)
    em.step(epoch, step, totalSteps, lv, curLr, el,
            el / stepsDone * (totalSteps - static_cast<int>(epoch) * stepsPerEpoch - step));
    if (cancel.cancelled()) break;
  }
  lossMean = lossN ? lossSum / lossN : std::nan("");
  return !cancel.cancelled();
}

void EpochLoop::endEpoch(std::int64_t epoch, double trainLoss) {
  const double val = valLoss ? valLoss() : std::nan("");
  em.epochDone(epoch, trainLoss, val, valMetrics ? valMetrics() : Json::object());
  if (selectBest && std::isfinite(val) && val < bestVal) {
    bestVal = val;
    bestEpoch = epoch;
    saveCkpt(bestPath(), epoch, module, nullptr);
    writeFileAtomic(bestValPath(), num(bestVal) + " " + std::to_string(bestEpoch) + "\n");
  }
  saveCkpt(lastCkptPath(runDir), epoch + 1, module, opt);
  em.checkpoint(epoch, lastCkptPath(runDir));
}

bool EpochLoop::run(const std::vector<std::size_t>& train, const job::CancelToken& cancel) {
  loadBestSoFar();
  const auto t0 = std::chrono::steady_clock::now();
  int stepsDone = 0;
  for (std::int64_t epoch = startEpoch; epoch < epochs; ++epoch) {
    torch::manual_seed(seed * 7919ULL + static_cast<std::uint64_t>(epoch));
    module.train();
    if (beginEpoch) beginEpoch(epoch);
    double trainLoss = 0;
    if (!trainEpoch(epoch, train, cancel, stepsDone, trainLoss, t0)) {
      // the interrupted epoch is redone on resume (the weights keep the finished steps)
      saveCkpt(lastCkptPath(runDir), epoch, module, opt);
      em.cancelled(epoch, lastCkptPath(runDir));
      return false;
    }
    endEpoch(epoch, trainLoss);
  }
  return true;
}

bool EpochLoop::restoreBest() {
  if (!selectBest || bestEpoch < 0 || !fs::exists(bestPath())) return false;
  loadCkpt(bestPath(), module, nullptr);
  em.text("kept epoch " + std::to_string(bestEpoch) + " (lowest validation loss " + num(bestVal) + ")");
  return true;
}

// ---- run record ----

void append(Json& to, const Json& from) {
  for (auto& [k, v] : from.items()) to[k] = v;
}

Json RunRecord::startEvent(std::int64_t startEpoch, bool resumed, const Json& extra) const {
  Json j{{"event", "start"},         {"task", task},
         {"method", method},         {"run_dir", o.runDir},
         {"device", device},         {"precision", precision},
         {"total_epochs", epochs},   {"steps_per_epoch", stepsPerEpoch},
         {"start_epoch", startEpoch}, {"resumed", resumed},
         {"classes", classes}};
  append(j, extra);
  j["split"] = split;
  j["synthetic_data"] = synthetic;
  return j;
}

Json RunRecord::card(const Json& fields, const Json& data, const Json& recipe) const {
  Json c{{"model_id", modelId}, {"version", version},   {"task", task},
         {"method", method},    {"parent", parent},     {"base_dir", baseDir},
         {"weights_path", fs::absolute(weightsPath).string()}};
  if (!bundleDir.empty()) c["bundle_dir"] = fs::absolute(bundleDir).string();
  c["weights_hash"] = weightsHash;
  append(c, fields);
  c["preprocessing"] = preprocessing;
  Json d{{"db", o.dbPath}};
  append(d, data);
  d["synthetic"] = synthetic;
  d["split"] = split;
  c["data"] = d;
  Json r{{"epochs", epochs}, {"batch_size", batchSize}, {"lr", lr},        {"weight_decay", weightDecay},
         {"seed", o.seed},   {"device", device},       {"precision", precision}};
  append(r, recipe);
  c["recipe"] = r;
  c["seed"] = o.seed;
  c["test_metrics"] = testMetrics;
  return c;
}

void RunRecord::finish(db::Database& db, const Emitter& em, const Json& cardJson, const Json& extra) const {
  const std::string cardText = cardJson.dump(-1, ' ', false, Json::error_handler_t::replace);
  writeFileAtomic((fs::path(o.runDir) / "card.json").string(), cardText);
  if (o.registerModel) {
    db::ModelRow row;
    row.modelId = modelId;
    row.version = version;
    row.parent = parent;
    row.weightsHash = weightsHash;
    row.cardJson = cardText;
    db.registerModel(row);
    db.setActiveModel(modelId, version);
  }
  Json done{{"event", "done"},          {"model_id", modelId},
            {"version", version},       {"parent", parent},
            {"weights_hash", weightsHash}, {"weights_path", fs::absolute(weightsPath).string()},
            {"test_metrics", testMetrics}};
  append(done, extra);
  done["classes"] = classes;
  em.event(done);
  em.text("done: " + modelId + " version " + version + " test " +
          testMetrics.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Json splitParts(const std::function<Json(int)>& partFields) {
  return Json{{"train", partFields(0)}, {"val", partFields(1)}, {"test", partFields(2)}};
}

bool anySyntheticStudy(db::Database& db) {
  for (auto& st : db.listStudies())
    if (st.synthetic) return true;
  return false;
}

}  // namespace e2e::jobs::train
