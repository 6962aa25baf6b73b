#include "io/ecg_leads.h"

#include <algorithm>
#include <functional>

namespace e2e {
namespace {

int standardRank(const std::string& label) {
  const auto& std12 = standardLeads();
  const auto it = std::find(std12.begin(), std12.end(), label);
  return it == std12.end() ? static_cast<int>(std12.size()) : static_cast<int>(it - std12.begin());
}

EcgChannel derivedChannel(const EcgChannel& like, const std::string& label, const std::string& formula,
                          std::size_t n, const std::function<float(std::size_t)>& value) {
  EcgChannel c = like;
  c.label = label;
  c.codeValue.clear();
  c.codingScheme.clear();
  c.codeMeaning = "derived: " + formula;
  c.samples.resize(n);
  for (std::size_t i = 0; i < n; ++i) c.samples[i] = value(i);
  return c;
}

}  // namespace

void sortStandardLeadOrder(EcgGroup& group) {
  std::stable_sort(group.channels.begin(), group.channels.end(),
                   [](const EcgChannel& a, const EcgChannel& b) { return standardRank(a.label) < standardRank(b.label); });
}

int deriveLimbLeads(EcgGroup& group) {
  const EcgChannel* i1 = group.channel("I");
  const EcgChannel* i2 = group.channel("II");
  if (!i1 || !i2 || i1->samples.size() != i2->samples.size() || i1->unit != i2->unit) return 0;
  const EcgChannel lead1 = *i1, lead2 = *i2;  // copies: push_back below may move the channels
  const std::vector<float>& a = lead1.samples;
  const std::vector<float>& b = lead2.samples;
  const std::size_t n = a.size();
  struct Spec {
    const char* label;
    const char* formula;
    std::function<float(std::size_t)> f;
  };
  const Spec specs[] = {
      {"III", "II - I", [&](std::size_t k) { return b[k] - a[k]; }},
      {"aVR", "-(I + II) / 2", [&](std::size_t k) { return -0.5f * (a[k] + b[k]); }},
      {"aVL", "I - II / 2", [&](std::size_t k) { return a[k] - 0.5f * b[k]; }},
      {"aVF", "II - I / 2", [&](std::size_t k) { return b[k] - 0.5f * a[k]; }},
  };
  int added = 0;
  for (const Spec& s : specs) {
    if (group.channel(s.label)) continue;
    group.channels.push_back(derivedChannel(lead1, s.label, s.formula, n, s.f));
    ++added;
  }
  if (added) sortStandardLeadOrder(group);
  return added;
}

int deriveLimbLeads(EcgRecord& record) {
  std::vector<std::string> derived;  // labels added in any group, first-seen order
  int touched = 0;
  for (EcgGroup& g : record.groups) {
    std::vector<std::string> before;
    for (const auto& c : g.channels) before.push_back(c.label);
    if (deriveLimbLeads(g) == 0) continue;
    ++touched;
    for (const auto& c : g.channels)
      if (std::find(before.begin(), before.end(), c.label) == before.end() &&
          std::find(derived.begin(), derived.end(), c.label) == derived.end())
        derived.push_back(c.label);
  }
  if (derived.empty()) return touched;
  // Merged with what the record already lists (comma-separated, no duplicates).
  std::string& list = record.extra["derivedLeads"];
  std::vector<std::string> have;
  for (std::size_t pos = 0; !list.empty() && pos <= list.size();) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    have.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  for (const auto& label : derived)
    if (std::find(have.begin(), have.end(), label) == have.end()) list += (list.empty() ? "" : ",") + label;
  return touched;
}

}  // namespace e2e
