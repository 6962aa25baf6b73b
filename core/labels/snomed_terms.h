// SNOMED CT terms of the ECG diagnosis codes (WFDB "# Dx:" lines of the PhysioNet/CinC
// Challenge records, e.g. 426177001 = sinus bradycardia). Qt-free, a fixed table: no lookup
// ever needs a network or a file.
#pragma once

#include <string>
#include <vector>

namespace e2e::labels {

struct SnomedTerm {
  const char* code;          // SNOMED CT concept id
  const char* term;          // clinical term, sentence case ("Sinus bradycardia")
  const char* abbreviation;  // the Challenge's abbreviation ("SB")
  bool scored;               // scored by the 2021 Challenge metric
};

// Every entry of the table, sorted by code (numeric order).
const std::vector<SnomedTerm>& snomedTerms();

// The entry of a code (surrounding blanks ignored), or nullptr when the table has no such code.
const SnomedTerm* findSnomedTerm(const std::string& code);

// "Sinus bradycardia" for 426177001; "SNOMED <code>" for a code the table does not know.
std::string snomedTermText(const std::string& code);

// "Sinus bradycardia (426177001)": the term with its code in brackets; "SNOMED <code>" for an
// unknown code; text that is not a numeric code (a free-text diagnosis) unchanged. For printouts and
// the CLI, where no tooltip can carry the code.
std::string snomedDisplayText(const std::string& code);

}  // namespace e2e::labels
