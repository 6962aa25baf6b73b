#include "labels/labels_csv.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace e2e::labels {

bool parseKeyColumn(const std::string& s, KeyColumn& out) {
  if (s == "auto") out = KeyColumn::Auto;
  else if (s == "study_uid") out = KeyColumn::StudyUid;
  else if (s == "accession" || s == "accession_number") out = KeyColumn::Accession;
  else if (s == "patient_id") out = KeyColumn::PatientId;
  else return false;
  return true;
}

const char* toString(KeyColumn k) {
  switch (k) {
    case KeyColumn::Auto: return "auto";
    case KeyColumn::StudyUid: return "study_uid";
    case KeyColumn::Accession: return "accession";
    case KeyColumn::PatientId: return "patient_id";
  }
  return "?";
}


namespace {

// A cell's value: the lines of a multi-line (quoted) cell trimmed and joined with "; ", empty lines dropped.
std::string cellValue(const std::string& raw) {
  if (raw.find('\n') == std::string::npos) return raw;
  std::string out, piece;
  std::istringstream is(raw);
  while (std::getline(is, piece)) {
    const auto b = piece.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    piece = piece.substr(b, piece.find_last_not_of(" \t") - b + 1);
    out += (out.empty() ? "" : "; ") + piece;
  }
  return out;
}

// Header row, lower-cased, without a UTF-8 byte order mark. Throws if the file is empty.
std::vector<std::string> readHeaderRow(CsvRecordReader& in, const std::string& path) {
  std::vector<std::string> header;
  if (!in.next(header)) throw std::runtime_error(path + " is empty");
  if (header[0].size() >= 3 && header[0].compare(0, 3, "\xEF\xBB\xBF") == 0) header[0].erase(0, 3);  // UTF-8 BOM
  for (auto& c : header) {
    c = cellValue(c);
    std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::tolower(ch); });
  }
  return header;
}

std::string lowerCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

int columnOf(const std::vector<std::string>& header, const char* name) {
  auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

// Column of a key kind (accession also as "accession_number"), or -1.
int columnFor(const std::vector<std::string>& header, KeyColumn k) {
  switch (k) {
    case KeyColumn::StudyUid: return columnOf(header, "study_uid");
    case KeyColumn::Accession: {
      const int a = columnOf(header, "accession");
      return a >= 0 ? a : columnOf(header, "accession_number");
    }
    case KeyColumn::PatientId: return columnOf(header, "patient_id");
    case KeyColumn::Auto: break;
  }
  return -1;
}

// The key column to use (sets res.keyColumn): `keyName` (any case) if given, else the column of
// the key kind; throws if the header has none.
int chooseKeyColumn(const std::vector<std::string>& header, KeyColumn by, const std::string& keyName,
                    const std::string& path, ImportResult& res) {
  int keyCol = -1;
  if (!keyName.empty()) {
    if (by == KeyColumn::Auto)
      throw std::runtime_error("a key column name (" + keyName +
                               ") needs the kind of key it holds: study_uid, accession or patient_id");
    res.keyColumn = by;
    keyCol = columnOf(header, lowerCase(keyName).c_str());
    if (keyCol < 0) throw std::runtime_error(path + ": no column named " + keyName);
  } else if (by == KeyColumn::Auto) {
    for (KeyColumn k : {KeyColumn::StudyUid, KeyColumn::Accession, KeyColumn::PatientId})
      if ((keyCol = columnFor(header, k)) >= 0) {
        res.keyColumn = k;
        break;
      }
    if (keyCol < 0) throw std::runtime_error(path + ": no study_uid, accession or patient_id column");
  } else {
    keyCol = columnFor(header, by);
    res.keyColumn = by;
    if (keyCol < 0) {
      std::string cols;
      for (std::size_t i = 0; i < header.size() && i < 20; ++i) cols += (i ? ", " : "") + header[i];
      throw std::runtime_error(path + ": no " + std::string(toString(by)) + " column (columns: " + cols +
                               (header.size() > 20 ? ", ..." : "") + "; name the key column explicitly)");
    }
  }
  return keyCol;
}

// Columns that identify rather than label are never stored as labels.
std::vector<bool> identifierColumns(const std::vector<std::string>& header, int keyCol) {
  std::vector<bool> skip(header.size(), false);
  for (const char* id : {"study_uid", "accession", "accession_number", "patient_id"})
    if (int c = columnOf(header, id); c >= 0) skip[c] = true;
  if (keyCol >= 0) skip[keyCol] = true;
  return skip;
}

// Studies or patients a row's key names.
struct RowTargets {
  std::vector<std::int64_t> studies, patients;
  bool empty() const { return studies.empty() && patients.empty(); }
};

RowTargets matchKey(db::Database& db, KeyColumn keyColumn, const std::string& key,
                    const std::map<std::string, std::vector<std::int64_t>>& byAccession) {
  RowTargets t;
  if (keyColumn == KeyColumn::StudyUid) {
    if (auto s = db.studyRowIdByUid(key)) t.studies.push_back(*s);
  } else if (keyColumn == KeyColumn::Accession) {
    auto it = byAccession.find(key);
    if (it != byAccession.end()) t.studies = it->second;
  } else {
    db::Filter flt;
    flt.text = key;
    for (const auto& p : db.listPatients(flt))
      if (p.patientId == key) t.patients.push_back(p.id);
  }
  return t;
}

// What the rows are checked and stored against.
struct ImportContext {
  std::vector<std::string> header;
  int keyCol = -1;
  std::vector<bool> skip;
  std::string source;
  std::map<std::string, std::vector<std::int64_t>> byAccession;
};

// One data row (fields `f`, line `lineNo`): matched and its label cells stored.
void importRow(db::Database& db, const ImportContext& ctx, const std::vector<std::string>& f, int lineNo,
               ImportResult& res) {
  const auto& header = ctx.header;
  ++res.rows;
  if (f.size() != header.size()) {
    res.warnings.push_back("line " + std::to_string(lineNo) + ": " + std::to_string(f.size()) +
                           " fields, header has " + std::to_string(header.size()));
    return;
  }
  const std::string key = cellValue(f[ctx.keyCol]);
  if (key.empty()) {
    res.warnings.push_back("line " + std::to_string(lineNo) + ": empty " + toString(res.keyColumn));
    return;
  }
  const RowTargets targets = matchKey(db, res.keyColumn, key, ctx.byAccession);
  if (targets.empty()) {
    res.unmatched.push_back({lineNo, key});
    return;
  }
  ++res.matchedRows;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (ctx.skip[i] || header[i].empty()) continue;
    const std::string value = cellValue(f[i]);
    if (value.empty()) continue;
    for (auto s : targets.studies) {
      db.setStudyLabel(s, header[i], value, ctx.source);
      ++res.labelsStored;
    }
    for (auto p : targets.patients) {
      db.setPatientLabel(p, header[i], value, ctx.source);
      ++res.labelsStored;
    }
  }
}

}  // namespace

ImportResult importLabelsCsv(db::Database& db, const std::string& path, KeyColumn by, const std::string& source,
                             const std::string& keyColumnName) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  CsvRecordReader reader(in, path);
  ImportContext ctx;
  ctx.header = readHeaderRow(reader, path);
  ImportResult res;
  ctx.keyCol = chooseKeyColumn(ctx.header, by, keyColumnName, path, res);
  ctx.skip = identifierColumns(ctx.header, ctx.keyCol);
  ctx.source = source.empty() ? "csv:" + std::filesystem::path(path).filename().string() : source;
  if (res.keyColumn == KeyColumn::Accession)
    for (const auto& s : db.listStudies())
      if (!s.accession.empty()) ctx.byAccession[s.accession].push_back(s.id);

  db::Database::Transaction tx(db);
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    if (fields.size() == 1 && fields[0].find_first_not_of(" \t\r\n") == std::string::npos) continue;
    importRow(db, ctx, fields, reader.line(), res);
  }
  tx.commit();
  return res;
}

}  // namespace e2e::labels
