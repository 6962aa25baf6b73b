// The labels that apply to one study: its patient's patient-level labels, overridden by the
// study's own labels (the one rule every job, panel and report uses).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "db/database.h"

namespace e2e::labels {

// key -> value. Labels that belong to another study of the same patient are not included.
std::map<std::string, std::string> studyLabels(db::Database& db, std::int64_t patientRowId, std::int64_t studyRowId);

}  // namespace e2e::labels
