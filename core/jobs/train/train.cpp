// The train job's entry: checks the request, runs the task, turns every failure into a report and
// an `error` event (see train.h).
#include "jobs/train/train.h"

#include <filesystem>
#include <fstream>
#include <optional>

#include "jobs/train/common.h"
#include "common/text.h"

namespace e2e::jobs {

namespace {
void checkRequest(const TrainRequest& o) {
  const bool known = o.task == "pretrain" || o.task == "ecg-pretrain" || o.task == "lvef" || o.task == "shd" ||
                     o.task == "echo-pretrain";
  if (!known) train::badRequest("unknown task '" + o.task + "' (pretrain, ecg-pretrain, lvef, shd, echo-pretrain)");
  if (o.task != "echo-pretrain" && o.method != "linear" && o.method != "knn" && o.method != "full" &&
      o.method != "ecg-features" && o.method != "ecg-features-knn")
    train::badRequest("unknown method '" + o.method + "' (linear, knn, full)");
  train::checkRunDir(o);
}
}  // namespace

namespace {
// A run directory whose run finished (card.json is written last, with the registered version):
// resuming it would only register and activate a second version with the same weights.
std::optional<TrainReport> alreadyFinished(const TrainRequest& o, const train::Emitter& em) {
  const auto card = std::filesystem::path(o.runDir) / "card.json";
  std::error_code ec;
  if (!o.resume || o.dryRun || !std::filesystem::exists(card, ec)) return std::nullopt;
  std::ifstream in(card);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  const std::string id = j.is_object() ? j.value("model_id", "") : "";
  const std::string version = j.is_object() ? j.value("version", "") : "";
  em.text("run " + o.runDir + " already finished" + (id.empty() ? "" : " (" + id + " version " + version + ")") +
          ": nothing to resume, nothing changed");
  return TrainReport{TrainStatus::Done, "already finished", id, version};
}
}  // namespace

TrainReport runTrain(const TrainRequest& o, const TrainEvents& events, const job::CancelToken& cancel) {
  const train::Emitter em{events};
  try {
    checkRequest(o);
    if (auto done = alreadyFinished(o, em)) return *done;
    if (o.task == "echo-pretrain") return train::runEchoPretrain(o, em, cancel);
    return train::runModelTraining(o, em, cancel);
  } catch (const train::TrainError& e) {
    em.error(errorText(e));
    return {e.status, errorText(e), "", ""};
  } catch (const std::exception& e) {
    em.error(errorText(e));
    return {TrainStatus::Failed, errorText(e), "", ""};
  }
}

}  // namespace e2e::jobs
