// HL7 v3 annotated ECG (aECG, FDA format; namespace urn:hl7-org:v3, root <AnnotatedECG>). No Qt.
#pragma once
#include <string>
#include <string_view>

#include "common/types.h"

namespace e2e {

// True when `head` (the first bytes of a file, e.g. 4 KiB) is XML whose root element is AnnotatedECG.
bool looksLikeHl7Aecg(std::string_view head);

// Reads every series (rhythm, group "RHYTHM", ORIGINAL) and derivedSeries (representative beat,
// group "MEDIAN", DERIVED): one group per sequenceSet, the sampling rate from the GLIST_TS /
// GLIST_PQ increment of its TIME_ABSOLUTE / TIME_RELATIVE sequence, each MDC_ECG_LEAD_* sequence
// an SLIST_PQ (physical = origin + scale * digit, converted to mV). Limb leads the file lacks are
// derived from I and II (extra["derivedLeads"]). Device measurements and interpretation
// statements come from the annotationSets (annotations outside per-beat MDC_ECG_BEAT containers,
// first value of each code wins; a 0 ms QTc is ignored); every such numeric annotation is also
// kept in EcgRecord::annotations. Subject (trialSubject id, name, sex, birthTime), effectiveTime
// and the series device (manufacturer, model) fill the Identity. Unknown vendor elements are
// ignored. Throws ReadError naming the file and the cause.
EcgRecord readHl7Aecg(const std::string& path);

}  // namespace e2e
