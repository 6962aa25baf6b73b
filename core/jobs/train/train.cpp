// The train job's entry: checks the request, runs the task, turns every failure into a report and
// an `error` event (see train.h).
#include "jobs/train/train.h"

#include "jobs/train/common.h"

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

TrainReport runTrain(const TrainRequest& o, const TrainEvents& events, const job::CancelToken& cancel) {
  const train::Emitter em{events};
  try {
    checkRequest(o);
    if (o.task == "echo-pretrain") return train::runEchoPretrain(o, em, cancel);
    return train::runModelTraining(o, em, cancel);
  } catch (const train::TrainError& e) {
    em.error(e.what());
    return {e.status, e.what(), "", ""};
  } catch (const std::exception& e) {
    em.error(e.what());
    return {TrainStatus::Failed, e.what(), "", ""};
  }
}

}  // namespace e2e::jobs
