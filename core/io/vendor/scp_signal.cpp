#include "io/vendor/scp_signal.h"

#include <algorithm>
#include <cmath>

namespace e2e::scp {
namespace {

std::string leadLabel(const LeadSet& leads, std::size_t i) {
  return "lead " + std::to_string(i + 1) + " (" + leadName(leads.leads[i].code) + ")";
}

// Decodes `count` values of one lead and undoes the differences. A shortfall of at most 2 %
// (encoders that drop the last codes) is padded with the last value and reported; more is an error.
std::vector<std::int32_t> decodeLead(const EncodedLeads& e, const HuffTables& t, std::size_t i, std::size_t count,
                                     std::size_t& table, const std::string& where, const std::string& label,
                                     std::vector<std::string>& warnings) {
  const auto& [p, n] = e.leads[i];
  if (count > maxValues(t, n))
    throw ScpError(where + ": " + label + " needs " + std::to_string(count) + " samples but its " + std::to_string(n) +
                   " bytes can hold at most " + std::to_string(maxValues(t, n)));
  std::vector<std::int32_t> v;
  try {
    v = decodeValues(t, p, n, count, table);
  } catch (const ScpError& err) {
    throw ScpError(where + ": " + label + ": " + err.what());
  }
  if (v.size() < count) {
    const std::size_t missing = count - v.size();
    if (v.empty() || missing * 50 > count)
      throw ScpError(where + ": " + label + " holds only " + std::to_string(v.size()) + " of " +
                     std::to_string(count) + " samples (truncated or corrupt)");
    warnings.push_back(where + ": " + label + " ends " + std::to_string(missing) + " samples early; padded");
  }
  undoDifferences(v, e.difference);
  if (v.size() < count) v.resize(count, v.back());
  return v;
}

// Protected-zone mask over a lead's samples [start, end] (1-based absolute numbers).
std::vector<char> protectedMask(const LeadDef& d, const QrsLocations& q) {
  std::vector<char> mask(d.count(), 0);
  for (const auto& z : q.zones) {
    if (z.protEnd < z.protStart || z.protEnd < d.start || z.protStart > d.end) continue;
    const std::uint32_t a = std::max(z.protStart, d.start), b = std::min(z.protEnd, d.end);
    std::fill(mask.begin() + (a - d.start), mask.begin() + (b - d.start) + 1, 1);
  }
  return mask;
}

// Number of stored values for a bimodal lead: full rate in protected zones, one per `rate` elsewhere.
std::size_t bimodalStored(const std::vector<char>& mask, std::size_t rate) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < mask.size();) {
    std::size_t j = i;
    while (j < mask.size() && mask[j] == mask[i]) ++j;
    n += mask[i] ? j - i : (j - i + rate - 1) / rate;
    i = j;
  }
  return n;
}

// Expands a bimodal lead to full rate: protected samples copied, each decimated value (the mean
// of its block) placed at its block centre and linearly interpolated in between.
std::vector<std::int32_t> expandBimodal(const std::vector<std::int32_t>& v, const std::vector<char>& mask,
                                        std::size_t rate) {
  std::vector<std::int32_t> out(mask.size());
  std::size_t pos = 0;
  for (std::size_t i = 0; i < mask.size();) {
    std::size_t j = i;
    while (j < mask.size() && mask[j] == mask[i]) ++j;
    if (mask[i]) {
      for (std::size_t k = i; k < j; ++k) out[k] = v[pos++];
    } else {
      const std::size_t blocks = (j - i + rate - 1) / rate;
      auto centre = [&](std::size_t b) {
        const std::size_t first = i + b * rate, last = std::min(first + rate, j) - 1;
        return 0.5 * static_cast<double>(first + last);
      };
      for (std::size_t k = i; k < j; ++k) {
        const std::size_t b = (k - i) / rate;
        const double c = centre(b);
        std::size_t b2 = static_cast<double>(k) < c ? (b == 0 ? b : b - 1) : (b + 1 < blocks ? b + 1 : b);
        const double c2 = centre(b2);
        const double y1 = v[pos + b], y2 = v[pos + b2];
        const double y = c2 == c ? y1 : y1 + (y2 - y1) * (static_cast<double>(k) - c) / (c2 - c);
        out[k] = static_cast<std::int32_t>(std::lround(y));
      }
      pos += blocks;
    }
    i = j;
  }
  return out;
}

}  // namespace

RawLeads decodeReferenceBeats(const EncodedLeads& e, const HuffTables& t, std::size_t count, const LeadSet& leads,
                              std::vector<std::string>& warnings) {
  RawLeads out;
  std::size_t table = 0;
  for (std::size_t i = 0; i < e.leads.size(); ++i) {
    if (count > 0) {
      out.push_back(decodeLead(e, t, i, count, table, "section 5 (reference beats)", leadLabel(leads, i), warnings));
      continue;
    }
    // Length unknown (no section 4): everything the bytes decode to.
    const auto& [p, n] = e.leads[i];
    std::vector<std::int32_t> v = decodeValues(t, p, n, maxValues(t, n), table);
    undoDifferences(v, e.difference);
    out.push_back(std::move(v));
  }
  if (count == 0) warnings.push_back("section 5: reference beat length unknown (no section 4); decoded all bytes");
  return out;
}

RawLeads decodeRhythm(const EncodedLeads& e, const HuffTables& t, const LeadSet& leads, const QrsLocations* qrs,
                      int medianIntervalUs, std::vector<std::string>& warnings) {
  const std::string where = "section 6 (rhythm)";
  std::size_t rate = 1;
  if (e.bimodal) {
    if (!qrs || !qrs->hasProtected) throw ScpError(where + ": bimodal compression without protected zones in section 4");
    if (medianIntervalUs <= 0 || e.intervalUs % medianIntervalUs != 0 || e.intervalUs / medianIntervalUs > 4)
      throw ScpError(where + ": bimodal sample interval " + std::to_string(e.intervalUs) +
                     " us is not 1-4 times the reference beat interval of " + std::to_string(medianIntervalUs) + " us");
    rate = static_cast<std::size_t>(e.intervalUs / medianIntervalUs);
  }
  RawLeads out;
  std::size_t table = 0;
  for (std::size_t i = 0; i < e.leads.size(); ++i) {
    const LeadDef& d = leads.leads[i];
    if (rate == 1) {
      out.push_back(decodeLead(e, t, i, d.count(), table, where, leadLabel(leads, i), warnings));
      continue;
    }
    if (d.count() > maxValues(t, e.leads[i].second) * rate)
      throw ScpError(where + ": " + leadLabel(leads, i) + " needs " + std::to_string(d.count()) +
                     " samples, more than its bytes can hold");
    const std::vector<char> mask = protectedMask(d, *qrs);
    const std::size_t stored = bimodalStored(mask, rate);
    const auto v = decodeLead(e, t, i, stored, table, where, leadLabel(leads, i), warnings);
    out.push_back(expandBimodal(v, mask, rate));
  }
  if (rate > 1)
    warnings.push_back("rhythm data bimodally compressed (factor " + std::to_string(rate) +
                       "): samples outside the QRS zones are interpolated");
  return out;
}

void addReferenceBeats(std::vector<std::vector<double>>& rhythmMv, const LeadSet& leads, const QrsLocations& qrs,
                       const RawLeads& median, int medianAvmNv) {
  const double scale = medianAvmNv / 1e6;
  for (const auto& z : qrs.zones) {
    if (z.type != 0 || z.end < z.start) continue;
    for (std::size_t li = 0; li < rhythmMv.size() && li < median.size(); ++li) {
      const LeadDef& d = leads.leads[li];
      auto& r = rhythmMv[li];
      const auto& m = median[li];
      // Sample numbers s (1-based) with a reference-beat index 0 <= medFid - fid + s - 1 < m.size().
      const long long shift = static_cast<long long>(qrs.medianFiducial) - z.fiducial - 1;
      long long lo = std::max<long long>(std::max(z.start, d.start), -shift);
      long long hi = std::min<long long>(std::min(z.end, d.end), static_cast<long long>(m.size()) - 1 - shift);
      for (long long s = lo; s <= hi; ++s) {
        const std::size_t ri = static_cast<std::size_t>(s - d.start);
        if (ri < r.size()) r[ri] += m[static_cast<std::size_t>(s + shift)] * scale;
      }
    }
  }
}

}  // namespace e2e::scp
