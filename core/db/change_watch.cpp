#include "db/change_watch.h"

namespace e2e::db {

DatabaseWatch::DatabaseWatch(const std::string& path)
    : path_(path), db_(std::make_unique<Database>(path, Database::Mode::ReadOnly)) {
  version_ = db_->dataVersion();
  stamp_ = db_->contentStamp();
}

DatabaseWatch::~DatabaseWatch() = default;

DatabaseChange DatabaseWatch::poll() {
  DatabaseChange c;
  const auto v = db_->dataVersion();
  if (v == version_) return c;
  version_ = v;
  const auto s = db_->contentStamp();
  c.studies = s.instances != stamp_.instances || s.maxInstanceId != stamp_.maxInstanceId;
  c.labels = s.labels != stamp_.labels || s.maxLabelId != stamp_.maxLabelId;
  c.embeddings = s.embeddings != stamp_.embeddings || s.maxEmbeddingId != stamp_.maxEmbeddingId;
  c.predictions = s.predictions != stamp_.predictions || s.maxPredictionId != stamp_.maxPredictionId;
  c.models = s.models != stamp_.models || s.maxModelId != stamp_.maxModelId || s.activeModels != stamp_.activeModels;
  c.other = !c.any();
  stamp_ = s;
  return c;
}

}  // namespace e2e::db
