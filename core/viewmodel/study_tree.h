// The study browser's tree without widgets: patient -> study -> series -> instance, grouped from
// the database's browse rows (core/db), sorted (newest study first by default) and filtered by
// free text, where a match deep in the tree keeps its parents. Qt-free; the Qt item model in
// ui/browser only shows what this computes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "db/database.h"

namespace e2e::vm {

struct TreeInstance {
  std::int64_t rowId = 0;
  std::string sopInstanceUid, path, format;
  std::string fileName() const;  // the last part of path
};

struct TreeSeries {
  std::int64_t rowId = 0;
  std::string seriesUid, modality, description;
  int number = 0;
  std::vector<TreeInstance> instances;
};

struct TreeStudy {
  std::int64_t rowId = 0;
  std::string studyUid, date, time, description, accession;  // date YYYYMMDD, time HHMMSS as stored
  bool synthetic = false;
  std::vector<TreeSeries> series;
  std::string modalities() const;  // distinct series modalities in series order, "ECG, US"
  std::size_t instanceCount() const;
};

struct TreePatient {
  std::int64_t rowId = 0;
  std::string patientId, dicomName, displayName, birthDate, sex;  // displayName: formatPersonName
  std::vector<TreeStudy> studies;
  std::string latestDate() const;  // the newest study date ("" when none has one)
  std::string modalities() const;  // distinct modalities of all studies
  std::size_t seriesCount() const;
  std::size_t instanceCount() const;
};

struct TreeCounts {
  std::size_t patients = 0, studies = 0, series = 0, instances = 0;
};

// The columns the tree can be sorted by: patients by the patient's value (date: the newest study),
// the studies of a patient by the study's value; series keep their number order, instances their
// import order.
enum class TreeSortKey { Name, Id, Date, Modality, Count };

class StudyTree {
 public:
  StudyTree() = default;
  // Groups rows in any order; the result is sorted by date, newest first.
  static StudyTree fromRows(const std::vector<db::BrowseRow>& rows);
  // The whole database, or what the filter's database fields select (dates, modality, label).
  static StudyTree fromDatabase(db::Database& database, const db::Filter& f = {});

  const std::vector<TreePatient>& patients() const { return patients_; }
  TreeCounts counts() const;
  bool empty() const { return patients_.empty(); }

  void sort(TreeSortKey key, bool descending);

  // The part of the tree that matches `text`: it is split into words; an instance stays when every
  // word (case-insensitive) is a substring of the patient's name (as shown or as stored) or ID,
  // the study's date (YYYYMMDD or YYYY-MM-DD), description or accession number, or the series'
  // modality or description; a series, study or patient stays when one of its instances does. So a
  // matching patient keeps all its studies, and a matching series keeps its study and patient.
  // Blank text: the whole tree.
  StudyTree filtered(const std::string& text) const;

 private:
  std::vector<TreePatient> patients_;
};

// "Studies (37 patients, 52 studies)"; when a filter hides some: "Studies (3 of 37 patients, 4 of 52
// studies)".
std::string studyTreeTitle(const TreeCounts& shown, const TreeCounts& all);
// "20240102" -> "2024-01-02"; anything else as it is.
std::string displayStudyDate(const std::string& yyyymmdd);
// Object counts of a patient or study, "3 series, 12 instances" (singular for one).
std::string objectCountText(std::size_t series, std::size_t instances);

}  // namespace e2e::vm
