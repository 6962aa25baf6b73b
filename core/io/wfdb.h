// PhysioNet WFDB records: .hea header with format 16/212 .dat signals, or the MAT v4
// '.mat' signal files of the PhysioNet/CinC Challenge 2021.
#pragma once
#include <string>

#include "common/types.h"

namespace e2e {

// `path` is the .hea file (or the record path without extension). Samples are converted to
// mV whatever the header unit (uV, mV, V; case-insensitive). Header comments (# Age, # Sex,
// # Dx ...; LUDB's #<age>, #<sex> as age, sex) are kept in EcgRecord::extra; the CinC Dx codes and
// the statements after LUDB's "#<diagnoses>:" (one a line, trailing '.' dropped) in diagnoses.
// Throws ReadError on any inconsistency.
EcgRecord readWfdb(const std::string& path);

}  // namespace e2e
