// Notices when the study database changes, whoever changed it: an import job, an `echo2ecg` child
// process (embed, train, predict, models activate), the DICOM receiver or another program. Views
// observe the database through this one path (as Slicer's views observe MRML) instead of being
// refreshed by whoever remembers to. Qt-free; the workstation polls it from a timer.
#pragma once
#include <memory>
#include <string>

#include "db/database.h"

namespace e2e::db {

// Which parts changed since the last poll.
struct DatabaseChange {
  bool studies = false;      // instances imported or deleted (and with them patients, studies, series)
  bool labels = false;       // labels set or replaced
  bool embeddings = false;   // vectors stored or deleted
  bool predictions = false;  // predictions stored
  bool models = false;       // model versions registered or (de)activated
  // Someone committed, but no row count, highest row id or active model differs (a row replaced
  // in place, a decode error recorded): views that cannot tell should refresh.
  bool other = false;
  bool any() const { return studies || labels || embeddings || predictions || models || other; }
};

class DatabaseWatch {
 public:
  // Opens its own read-only connection (throws DbError like Database when the file cannot be opened).
  explicit DatabaseWatch(const std::string& path);
  ~DatabaseWatch();
  const std::string& path() const { return path_; }
  // What changed since the last poll (or since construction); nothing when no one committed.
  DatabaseChange poll();

 private:
  std::string path_;
  std::unique_ptr<Database> db_;
  std::int64_t version_ = -1;
  Database::ContentStamp stamp_;
};

}  // namespace e2e::db
