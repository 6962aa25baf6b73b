#include "viewmodel/study_tree.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "common/person_name.h"

namespace e2e::vm {

namespace {
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(lower(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(lower(cur));
  return out;
}

void addDistinct(std::vector<std::string>& list, const std::string& m) {
  if (!m.empty() && std::find(list.begin(), list.end(), m) == list.end()) list.push_back(m);
}

std::string joinComma(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& m : list) out += (out.empty() ? "" : ", ") + m;
  return out;
}

// The lower-cased searchable text of each level, '\n'-separated so that a word never spans fields.
std::string patientText(const TreePatient& p) {
  return lower(p.displayName + "\n" + p.dicomName + "\n" + p.patientId);
}
std::string studyText(const TreeStudy& s) {
  return lower(s.date + "\n" + displayStudyDate(s.date) + "\n" + s.description + "\n" + s.accession);
}
std::string seriesText(const TreeSeries& s) { return lower(s.modality + "\n" + s.description); }

// Sorting: a three-way comparison of two strings (the tie-breaks keep the order stable).
int compareText(const std::string& a, const std::string& b) {
  const std::string la = lower(a), lb = lower(b);
  return la < lb ? -1 : (lb < la ? 1 : 0);
}
template <class T>
int compareNum(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}
}  // namespace

std::string TreeInstance::fileName() const {
  const auto slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string TreeStudy::modalities() const {
  std::vector<std::string> m;
  for (const auto& s : series) addDistinct(m, s.modality);
  return joinComma(m);
}

std::size_t TreeStudy::instanceCount() const {
  std::size_t n = 0;
  for (const auto& s : series) n += s.instances.size();
  return n;
}

std::string TreePatient::latestDate() const {
  std::string d;
  for (const auto& s : studies) d = std::max(d, s.date);
  return d;
}

std::string TreePatient::modalities() const {
  std::vector<std::string> m;
  for (const auto& st : studies)
    for (const auto& s : st.series) addDistinct(m, s.modality);
  return joinComma(m);
}

std::size_t TreePatient::seriesCount() const {
  std::size_t n = 0;
  for (const auto& s : studies) n += s.series.size();
  return n;
}

std::size_t TreePatient::instanceCount() const {
  std::size_t n = 0;
  for (const auto& s : studies) n += s.instanceCount();
  return n;
}

StudyTree StudyTree::fromRows(const std::vector<db::BrowseRow>& rows) {
  StudyTree t;
  // Row id -> position, so that rows may come in any order.
  std::map<std::int64_t, std::size_t> patientAt, studyAt, seriesAt;
  for (const auto& r : rows) {
    auto [pit, newPatient] = patientAt.emplace(r.patientRowId, t.patients_.size());
    if (newPatient)
      t.patients_.push_back({r.patientRowId, r.patientId, r.patientName, formatPersonName(r.patientName), r.birthDate,
                             r.sex, {}});
    TreePatient& p = t.patients_[pit->second];
    auto [sit, newStudy] = studyAt.emplace(r.studyRowId, p.studies.size());
    if (newStudy)
      p.studies.push_back({r.studyRowId, r.studyUid, r.studyDate, r.studyTime, r.studyDescription, r.accession,
                           r.synthetic, {}});
    TreeStudy& st = p.studies[sit->second];
    auto [seit, newSeries] = seriesAt.emplace(r.seriesRowId, st.series.size());
    if (newSeries)
      st.series.push_back({r.seriesRowId, r.seriesUid, r.modality, r.seriesDescription, r.seriesNumber, {}});
    st.series[seit->second].instances.push_back({r.instanceRowId, r.sopInstanceUid, r.path, r.format});
  }
  for (auto& p : t.patients_)
    for (auto& st : p.studies) {
      std::stable_sort(st.series.begin(), st.series.end(), [](const TreeSeries& a, const TreeSeries& b) {
        return a.number != b.number ? a.number < b.number : a.rowId < b.rowId;
      });
      for (auto& se : st.series)
        std::stable_sort(se.instances.begin(), se.instances.end(),
                         [](const TreeInstance& a, const TreeInstance& b) { return a.rowId < b.rowId; });
    }
  t.sort(TreeSortKey::Date, true);
  return t;
}

StudyTree StudyTree::fromDatabase(db::Database& database, const db::Filter& f) {
  return fromRows(database.browseRows(f));
}

TreeCounts StudyTree::counts() const {
  TreeCounts c;
  c.patients = patients_.size();
  for (const auto& p : patients_) {
    c.studies += p.studies.size();
    c.series += p.seriesCount();
    c.instances += p.instanceCount();
  }
  return c;
}

void StudyTree::sort(TreeSortKey key, bool descending) {
  auto patientCmp = [key](const TreePatient& a, const TreePatient& b) {
    switch (key) {
      case TreeSortKey::Name: return compareText(a.displayName, b.displayName);
      case TreeSortKey::Id: return compareText(a.patientId, b.patientId);
      case TreeSortKey::Date: return compareText(a.latestDate(), b.latestDate());
      case TreeSortKey::Modality: return compareText(a.modalities(), b.modalities());
      case TreeSortKey::Count: return compareNum(a.instanceCount(), b.instanceCount());
    }
    return 0;
  };
  auto studyCmp = [key](const TreeStudy& a, const TreeStudy& b) {
    switch (key) {
      case TreeSortKey::Name: return compareText(a.description, b.description);
      case TreeSortKey::Id: return compareText(a.accession, b.accession);
      case TreeSortKey::Date: return compareText(a.date + a.time, b.date + b.time);
      case TreeSortKey::Modality: return compareText(a.modalities(), b.modalities());
      case TreeSortKey::Count: return compareNum(a.instanceCount(), b.instanceCount());
    }
    return 0;
  };
  // Ties: by name and row id, always ascending, so that equal keys keep one fixed order.
  std::stable_sort(patients_.begin(), patients_.end(), [&](const TreePatient& a, const TreePatient& b) {
    const int c = patientCmp(a, b);
    if (c != 0) return descending ? c > 0 : c < 0;
    const int n = compareText(a.displayName, b.displayName);
    return n != 0 ? n < 0 : a.rowId < b.rowId;
  });
  for (auto& p : patients_)
    std::stable_sort(p.studies.begin(), p.studies.end(), [&](const TreeStudy& a, const TreeStudy& b) {
      const int c = studyCmp(a, b);
      if (c != 0) return descending ? c > 0 : c < 0;
      return a.rowId < b.rowId;
    });
}

StudyTree StudyTree::filtered(const std::string& text) const {
  const std::vector<std::string> ws = words(text);
  if (ws.empty()) return *this;
  auto allFound = [&ws](const std::string& hay) {
    return std::all_of(ws.begin(), ws.end(), [&hay](const std::string& w) { return hay.find(w) != std::string::npos; });
  };
  StudyTree out;
  for (const auto& p : patients_) {
    TreePatient keptPatient = p;
    keptPatient.studies.clear();
    const std::string pt = patientText(p);
    for (const auto& st : p.studies) {
      TreeStudy keptStudy = st;
      keptStudy.series.clear();
      const std::string stt = pt + "\n" + studyText(st);
      for (const auto& se : st.series)
        if (!se.instances.empty() && allFound(stt + "\n" + seriesText(se))) keptStudy.series.push_back(se);
      if (!keptStudy.series.empty()) keptPatient.studies.push_back(std::move(keptStudy));
    }
    if (!keptPatient.studies.empty()) out.patients_.push_back(std::move(keptPatient));
  }
  return out;
}

std::string studyTreeTitle(const TreeCounts& shown, const TreeCounts& all) {
  auto part = [](std::size_t n, std::size_t total, const char* one, const char* many) {
    std::string s = std::to_string(n);
    if (n != total) s += " of " + std::to_string(total);
    return s + " " + (total == 1 ? one : many);
  };
  return "Studies (" + part(shown.patients, all.patients, "patient", "patients") + ", " +
         part(shown.studies, all.studies, "study", "studies") + ")";
}

std::string displayStudyDate(const std::string& d) {
  if (d.size() != 8 || !std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; })) return d;
  return d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2);
}

std::string objectCountText(std::size_t series, std::size_t instances) {
  return std::to_string(series) + " series, " + std::to_string(instances) +
         (instances == 1 ? " instance" : " instances");
}

}  // namespace e2e::vm
