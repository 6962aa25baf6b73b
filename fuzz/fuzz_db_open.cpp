// Fuzz target (libFuzzer entry point; fuzz/replay_main.cpp replays it in the test suite).
// Opening a study database file (core/db): the schema and user_version checks, read-only and
// read-write (migration). An input that starts with the SQLite header is the database file itself;
// any other input is a list of patches to a valid study database made at start (one patient, one
// study): 4 bytes each, a 24-bit big-endian offset (modulo the file size) and the byte written
// there, so that the fuzzer reaches the header fields (user_version at offset 60, page size, ...)
// and the schema pages of a real file.
#include <fstream>
#include <iterator>
#include <memory>

#include "db/database.h"
#include "fuzz_util.h"

namespace {

namespace fs = std::filesystem;

std::string templateDatabase() {
  const fs::path p = e2e::fuzz::scratchDir() / "template.db";
  {
    e2e::db::Database db(p.string());
    e2e::Identity id;
    id.patientId = "P1";
    id.patientName = "DOE^JANE";
    id.studyUid = "1.2.3.1";
    id.studyDate = "20240101";
    db.findOrCreateStudy(db.findOrCreatePatient(id), id);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.exec("PRAGMA journal_mode = DELETE");
  }
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void removeDatabase(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
}

void readSome(e2e::db::Database& db) {
  (void)db.schemaVersion();
  (void)db.counts();
  (void)db.browseRows();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using e2e::db::Database;
  static const std::string base = templateDatabase();
  static const std::string magic("SQLite format 3\0", 16);
  std::string file;
  if (size >= magic.size() && std::string_view(reinterpret_cast<const char*>(data), magic.size()) == magic) {
    file.assign(reinterpret_cast<const char*>(data), size);
  } else {
    file = base;
    for (std::size_t i = 0; i + 4 <= size && !file.empty(); i += 4) {
      const std::size_t off = ((std::size_t(data[i]) << 16) | (std::size_t(data[i + 1]) << 8) | data[i + 2]) % file.size();
      file[off] = static_cast<char>(data[i + 3]);
    }
  }
  const std::string path = (e2e::fuzz::scratchDir() / "input.db").string();
  removeDatabase(path);
  e2e::fuzz::writeScratch("input.db", file);
  (void)Database::peekSchemaVersion(path);
  e2e::fuzz::expectOnlyErrors([&] {
    Database db(path, Database::Mode::ReadOnly);
    readSome(db);
  });
  e2e::fuzz::expectOnlyErrors([&] {
    Database db(path, Database::Mode::ReadWrite);
    readSome(db);
  });
  removeDatabase(path);
  return 0;
}
