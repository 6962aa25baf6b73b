// SCP-ECG waveform reconstruction: Huffman decoding, differences, bimodal decimation and
// reference-beat subtraction. No Qt.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/vendor/scp_huffman.h"
#include "io/vendor/scp_internal.h"

namespace e2e::scp {

using RawLeads = std::vector<std::vector<std::int32_t>>;  // per lead, in AVM counts

// Section 5: reference beats of `count` samples per lead (0 = unknown: decode what the bytes hold).
RawLeads decodeReferenceBeats(const EncodedLeads& e, const HuffTables& t, std::size_t count,
                              const LeadSet& leads, std::vector<std::string>& warnings);

// Section 6: rhythm (or residual) leads on the full-rate timeline of section 3, bimodal
// decimation undone (needs `qrs` with protected zones and the section 5 sample interval).
RawLeads decodeRhythm(const EncodedLeads& e, const HuffTables& t, const LeadSet& leads, const QrsLocations* qrs,
                      int medianIntervalUs, std::vector<std::string>& warnings);

// Adds the reference beat back into the residual in the subtraction zones of QRS type 0.
// `median` is in `medianAvmNv` counts, `rhythm` in mV; both at the same sampling rate.
void addReferenceBeats(std::vector<std::vector<double>>& rhythmMv, const LeadSet& leads, const QrsLocations& qrs,
                       const RawLeads& median, int medianAvmNv);

}  // namespace e2e::scp
