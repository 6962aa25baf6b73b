#include "labels/labels_csv.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
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


ImportResult importLabelsCsv(db::Database& db, const std::string& path, KeyColumn by, const std::string& source) {
  std::ifstream in(path);
  std::string line;
  if (!in) throw std::runtime_error("cannot read " + path);
  if (!std::getline(in, line)) throw std::runtime_error(path + " is empty");
  if (line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 BOM
  auto header = splitCsvLine(line);
  for (auto& c : header) std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::tolower(ch); });
  const auto col = [&](const char* name) {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  const auto colFor = [&](KeyColumn k) {
    switch (k) {
      case KeyColumn::StudyUid: return col("study_uid");
      case KeyColumn::Accession: {
        const int a = col("accession");
        return a >= 0 ? a : col("accession_number");
      }
      case KeyColumn::PatientId: return col("patient_id");
      case KeyColumn::Auto: break;
    }
    return -1;
  };
  ImportResult res;
  int keyCol = -1;
  if (by == KeyColumn::Auto) {
    for (KeyColumn k : {KeyColumn::StudyUid, KeyColumn::Accession, KeyColumn::PatientId})
      if ((keyCol = colFor(k)) >= 0) {
        res.keyColumn = k;
        break;
      }
    if (keyCol < 0) throw std::runtime_error(path + ": no study_uid, accession or patient_id column");
  } else {
    keyCol = colFor(by);
    res.keyColumn = by;
    if (keyCol < 0) throw std::runtime_error(path + ": no " + std::string(toString(by)) + " column");
  }
  // Columns that identify rather than label are never stored as labels.
  std::vector<bool> skip(header.size(), false);
  for (const char* id : {"study_uid", "accession", "accession_number", "patient_id"})
    if (int c = col(id); c >= 0) skip[c] = true;
  const std::string src = source.empty() ? "csv:" + std::filesystem::path(path).filename().string() : source;

  std::map<std::string, std::vector<std::int64_t>> byAccession;
  if (res.keyColumn == KeyColumn::Accession)
    for (const auto& s : db.listStudies())
      if (!s.accession.empty()) byAccession[s.accession].push_back(s.id);

  db::Database::Transaction tx(db);
  int lineNo = 1;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    const auto f = splitCsvLine(line);
    ++res.rows;
    if (f.size() != header.size()) {
      res.warnings.push_back("line " + std::to_string(lineNo) + ": " + std::to_string(f.size()) +
                             " fields, header has " + std::to_string(header.size()));
      continue;
    }
    const std::string& key = f[keyCol];
    if (key.empty()) {
      res.warnings.push_back("line " + std::to_string(lineNo) + ": empty " + toString(res.keyColumn));
      continue;
    }
    std::vector<std::int64_t> studies, patients;
    if (res.keyColumn == KeyColumn::StudyUid) {
      if (auto s = db.studyRowIdByUid(key)) studies.push_back(*s);
    } else if (res.keyColumn == KeyColumn::Accession) {
      auto it = byAccession.find(key);
      if (it != byAccession.end()) studies = it->second;
    } else {
      db::Filter flt;
      flt.text = key;
      for (const auto& p : db.listPatients(flt))
        if (p.patientId == key) patients.push_back(p.id);
    }
    if (studies.empty() && patients.empty()) {
      res.unmatched.push_back({lineNo, key});
      continue;
    }
    ++res.matchedRows;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (skip[i] || f[i].empty() || header[i].empty()) continue;
      for (auto s : studies) {
        db.setStudyLabel(s, header[i], f[i], src);
        ++res.labelsStored;
      }
      for (auto p : patients) {
        db.setPatientLabel(p, header[i], f[i], src);
        ++res.labelsStored;
      }
    }
  }
  tx.commit();
  return res;
}

}  // namespace e2e::labels
