// Numbered forward migrations of the study database. Migration N (1-based) takes a database
// at PRAGMA user_version N-1 to N. Never edit a released step: append a new one.
#pragma once
#include <string>
#include <vector>

namespace e2e::db {
const std::vector<std::string>& migrations();
}
