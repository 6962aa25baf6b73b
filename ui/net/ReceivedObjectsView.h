// What the receiver got, newest last: time, calling AE, patient, SOP class, result (one row per
// object, refused and aborted ones included). Lives in the "Received objects" dock.
#pragma once

#include <QHash>
#include <QWidget>

#include "net/storage_scp.h"

class QLabel;
class QTableWidget;

namespace e2e::ui {

class ReceivedObjectsView : public QWidget {
  Q_OBJECT
 public:
  explicit ReceivedObjectsView(QWidget* parent = nullptr);
  void setDatabasePath(const QString& path) {
    dbPath_ = path;
    patients_.clear();
  }
  QTableWidget* table() const { return table_; }
  int count() const;
  enum Column { Time, CallingAe, Patient, SopClass, Result, NumColumns };

 public Q_SLOTS:
  // Adds a row for ObjectStored / ObjectAborted events; counts refused associations.
  void addEvent(const e2e::net::ScpEvent& e);
  void clear();

 private:
  QString patientOf(const net::StoreResult& r);
  void updateSummary();

  QTableWidget* table_ = nullptr;
  QLabel* summary_ = nullptr;
  QString dbPath_;
  QHash<QString, QString> patients_;  // study UID -> "NAME (ID)": one database read per study
  int refused_ = 0;
};

}  // namespace e2e::ui
