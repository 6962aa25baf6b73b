// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// Label tables (core/labels/labels_csv): the input is the CSV file, imported into a small study
// database (two patients, three studies) by the automatic key column and by an explicit "ID"
// column as patient IDs. The database is made anew every 500 inputs so that it stays small.
#include <memory>

#include "db/database.h"
#include "fuzz_util.h"
#include "labels/labels_csv.h"

namespace {

namespace fs = std::filesystem;

std::unique_ptr<e2e::db::Database> freshDatabase() {
  const fs::path p = e2e::fuzz::scratchDir() / "labels.db";
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(p.string() + suffix, ec);
  auto db = std::make_unique<e2e::db::Database>(p.string());
  db->exec("PRAGMA synchronous = OFF");  // scratch database: no fsync per import
  const char* rows[][3] = {{"P1", "1.2.3.1", "ACC1"}, {"P1", "1.2.3.2", "ACC2"}, {"P2", "1.2.3.3", "ACC3"}};
  for (const auto& r : rows) {
    e2e::Identity id;
    id.patientId = r[0];
    id.patientName = std::string("DOE^") + r[0];
    id.studyUid = r[1];
    id.accessionNumber = r[2];
    id.studyDate = "20240101";
    db->findOrCreateStudy(db->findOrCreatePatient(id), id);
  }
  return db;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::unique_ptr<e2e::db::Database> db;
  static int runs = 0;
  if (!db || ++runs % 500 == 0) {
    db.reset();
    db = freshDatabase();
  }
  const std::string path = e2e::fuzz::writeScratch("labels.csv", data, size);
  using e2e::labels::KeyColumn;
  e2e::fuzz::expectOnlyErrors([&] { (void)e2e::labels::importLabelsCsv(*db, path); });
  e2e::fuzz::expectOnlyErrors([&] { (void)e2e::labels::importLabelsCsv(*db, path, KeyColumn::PatientId, "", "ID"); });
  return 0;
}
