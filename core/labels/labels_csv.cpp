#include "labels/labels_csv.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
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

// Header row, lower-cased, without a UTF-8 byte order mark. Throws if the file is empty.
std::vector<std::string> readHeaderRow(std::istream& in, const std::string& path) {
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(path + " is empty");
  if (line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 BOM
  auto header = splitCsvLine(line);
  for (auto& c : header) std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return header;
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

// The key column to use (sets res.keyColumn); throws if the header has none.
int chooseKeyColumn(const std::vector<std::string>& header, KeyColumn by, const std::string& path,
                    ImportResult& res) {
  int keyCol = -1;
  if (by == KeyColumn::Auto) {
    for (KeyColumn k : {KeyColumn::StudyUid, KeyColumn::Accession, KeyColumn::PatientId})
      if ((keyCol = columnFor(header, k)) >= 0) {
        res.keyColumn = k;
        break;
      }
    if (keyCol < 0) throw std::runtime_error(path + ": no study_uid, accession or patient_id column");
  } else {
    keyCol = columnFor(header, by);
    res.keyColumn = by;
    if (keyCol < 0) throw std::runtime_error(path + ": no " + std::string(toString(by)) + " column");
  }
  return keyCol;
}

// Columns that identify rather than label are never stored as labels.
std::vector<bool> identifierColumns(const std::vector<std::string>& header) {
  std::vector<bool> skip(header.size(), false);
  for (const char* id : {"study_uid", "accession", "accession_number", "patient_id"})
    if (int c = columnOf(header, id); c >= 0) skip[c] = true;
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
  const std::string& key = f[ctx.keyCol];
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
    if (ctx.skip[i] || f[i].empty() || header[i].empty()) continue;
    for (auto s : targets.studies) {
      db.setStudyLabel(s, header[i], f[i], ctx.source);
      ++res.labelsStored;
    }
    for (auto p : targets.patients) {
      db.setPatientLabel(p, header[i], f[i], ctx.source);
      ++res.labelsStored;
    }
  }
}

}  // namespace

ImportResult importLabelsCsv(db::Database& db, const std::string& path, KeyColumn by, const std::string& source) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  ImportContext ctx;
  ctx.header = readHeaderRow(in, path);
  ImportResult res;
  ctx.keyCol = chooseKeyColumn(ctx.header, by, path, res);
  ctx.skip = identifierColumns(ctx.header);
  ctx.source = source.empty() ? "csv:" + std::filesystem::path(path).filename().string() : source;
  if (res.keyColumn == KeyColumn::Accession)
    for (const auto& s : db.listStudies())
      if (!s.accession.empty()) ctx.byAccession[s.accession].push_back(s.id);

  db::Database::Transaction tx(db);
  int lineNo = 1;
  std::string line;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    importRow(db, ctx, splitCsvLine(line), lineNo, res);
  }
  tx.commit();
  return res;
}

}  // namespace e2e::labels
