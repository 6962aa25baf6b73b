#include "labels/study_labels.h"

namespace e2e::labels {

std::map<std::string, std::string> studyLabels(db::Database& db, std::int64_t patientRowId, std::int64_t studyRowId) {
  std::map<std::string, std::string> out;
  if (patientRowId > 0)
    for (const auto& l : db.labelsForPatient(patientRowId))
      if (!l.studyRowId) out[l.key] = l.value;
  if (studyRowId > 0)
    for (const auto& l : db.labelsForStudy(studyRowId)) out[l.key] = l.value;
  return out;
}

}  // namespace e2e::labels
