// DICOM person names (PN) for display, one way everywhere: "FAMILY, Given Middle".
// Qt-free.
#pragma once
#include <string>

namespace e2e {

// A DICOM PN value "Family^Given^Middle^Prefix^Suffix[=ideographic[=phonetic]]" for display:
//   "Doe^John^Q"          -> "DOE, John Q"
//   "Doe^John^^Dr.^Jr."   -> "DOE, Dr. John, Jr."   (prefix before the given names, suffix after a comma)
//   "Patient^Test"        -> "PATIENT, Test"
//   "OB^^^^"              -> "OB"                   (trailing empty parts dropped)
//   "Anonymized"          -> "Anonymized"           (a name without '^' is shown as it is)
//   "^John"               -> "John"                 (no family name)
//   ""  / "^^"            -> ""                     (callers show their own placeholder)
// Each component is trimmed of spaces. Only the first (alphabetic) component group is shown; the
// ideographic and phonetic groups after '=' are ignored, unless the alphabetic group is empty (then
// the first non-empty group is used). The family name is upper-cased (ASCII and Latin-1 letters of
// UTF-8 text; other bytes are kept as they are).
std::string formatPersonName(const std::string& pn);

}  // namespace e2e
