// Label tables (CSV) applied to studies or patients already in the database. Qt-free.
// The first row is the header; one column is the key (study_uid, accession or patient_id, or a
// column named by the caller),
// every other non-empty cell becomes a label (key = column name, lower-cased).
#pragma once
#include <string>
#include <vector>

#include "db/database.h"

#include "common/text.h"

namespace e2e::labels {

enum class KeyColumn { Auto, StudyUid, Accession, PatientId };
// "study_uid", "accession" (also "accession_number"), "patient_id"; false if unknown.
bool parseKeyColumn(const std::string& s, KeyColumn& out);
const char* toString(KeyColumn k);

struct UnmatchedRow {
  int line = 0;  // 1-based line number in the file
  std::string key;
};

struct ImportResult {
  KeyColumn keyColumn = KeyColumn::Auto;  // the one used
  int rows = 0;                           // data rows read
  int matchedRows = 0;                    // rows that named a study/patient in the database
  int labelsStored = 0;                   // label values written (upserts)
  std::vector<UnmatchedRow> unmatched;
  std::vector<std::string> warnings;      // malformed rows (wrong field count, empty key)
};

// One CSV line into fields (RFC 4180 quotes; fields trimmed): the shared helper.
using e2e::splitCsvLine;
using e2e::CsvRecordReader;

// Reads `path` (RFC 4180: quoted cells may span lines) and stores its labels in one transaction.
// Auto: study_uid, else accession, else patient_id, whichever the header has first.
// `keyColumnName` (any case, e.g. "ID") names the column holding the `by` key instead of its usual
// name; it needs a `by` other than Auto. Cells are trimmed; the lines of a multi-line cell are joined
// with "; ". Throws std::runtime_error if the file cannot be read, has no usable key column, has a
// quote left open or a cell over 1 MiB (the message names the line). `source` defaults to
// "csv:<file name>".
ImportResult importLabelsCsv(db::Database& db, const std::string& path, KeyColumn by = KeyColumn::Auto,
                             const std::string& source = "", const std::string& keyColumnName = "");

}  // namespace e2e::labels
