// The one path by which database changes reach the views: polls db::DatabaseWatch (a read-only
// connection's data_version, so it notices imports, `echo2ecg` child processes, the DICOM receiver
// and other programs alike) and emits what changed. Panels connect to its signals instead of being
// refreshed by whoever changed the database.
#pragma once

#include <QObject>
#include <QString>
#include <memory>

#include "db/change_watch.h"

class QTimer;

namespace e2e::ui {

class DatabaseObserver : public QObject {
  Q_OBJECT
 public:
  explicit DatabaseObserver(QObject* parent = nullptr, int intervalMs = 1000);
  ~DatabaseObserver() override;
  // Watches this database from now on ("" = none). A file that cannot be opened is watched again
  // on the next poll (it may not exist yet).
  void setDatabasePath(const QString& path);
  QString databasePath() const { return path_; }

 public Q_SLOTS:
  // Checks now (after a job ends, so that views update at once instead of at the next tick).
  void pollNow();

 Q_SIGNALS:
  void changed(const e2e::db::DatabaseChange& change);
  void studiesChanged();
  void labelsChanged();
  void embeddingsChanged();
  void predictionsChanged();
  void modelsChanged();

 private:
  QString path_;
  std::unique_ptr<db::DatabaseWatch> watch_;
  QTimer* timer_ = nullptr;
};

}  // namespace e2e::ui
