#include "app/DatabaseObserver.h"

#include <QTimer>

namespace e2e::ui {

DatabaseObserver::DatabaseObserver(QObject* parent, int intervalMs) : QObject(parent) {
  timer_ = new QTimer(this);
  timer_->setInterval(intervalMs);
  connect(timer_, &QTimer::timeout, this, &DatabaseObserver::pollNow);
}

DatabaseObserver::~DatabaseObserver() = default;

void DatabaseObserver::setDatabasePath(const QString& path) {
  path_ = path;
  watch_.reset();
  if (path.isEmpty()) {
    timer_->stop();
    return;
  }
  try {
    watch_ = std::make_unique<db::DatabaseWatch>(path.toStdString());
  } catch (const std::exception&) {
    watch_.reset();  // not there yet: tried again at the next poll
  }
  timer_->start();
}

void DatabaseObserver::pollNow() {
  if (path_.isEmpty()) return;
  db::DatabaseChange c;
  try {
    if (!watch_) {
      watch_ = std::make_unique<db::DatabaseWatch>(path_.toStdString());
      c.studies = c.labels = c.embeddings = c.predictions = c.models = c.other = true;  // it appeared
    } else {
      c = watch_->poll();
    }
  } catch (const std::exception&) {
    watch_.reset();
    return;
  }
  if (!c.any()) return;
  Q_EMIT changed(c);
  if (c.studies) Q_EMIT studiesChanged();
  if (c.labels) Q_EMIT labelsChanged();
  if (c.embeddings) Q_EMIT embeddingsChanged();
  if (c.predictions) Q_EMIT predictionsChanged();
  if (c.models) Q_EMIT modelsChanged();
}

}  // namespace e2e::ui
