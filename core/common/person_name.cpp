#include "common/person_name.h"

#include <vector>

namespace e2e {

namespace {
std::string trimSpaces(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// Upper-cases ASCII letters and the Latin-1 lower-case letters U+00E0..U+00FE (but not U+00F7, the
// division sign) of UTF-8 text; every other byte is kept, so other scripts and invalid UTF-8 pass.
std::string upperLatin(const std::string& s) {
  std::string out = s;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c >= 'a' && c <= 'z') {
      out[i] = static_cast<char>(c - 'a' + 'A');
    } else if (c == 0xC3 && i + 1 < out.size()) {
      const auto d = static_cast<unsigned char>(out[i + 1]);
      if (d >= 0xA0 && d <= 0xBE && d != 0xB7) out[i + 1] = static_cast<char>(d - 0x20);
      ++i;
    }
  }
  return out;
}

std::string joinNonEmpty(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// One component group "Family^Given^Middle^Prefix^Suffix".
std::string formatGroup(const std::string& group) {
  if (group.find('^') == std::string::npos) return trimSpaces(group);
  std::vector<std::string> c = split(group, '^');
  for (auto& s : c) s = trimSpaces(s);
  while (!c.empty() && c.back().empty()) c.pop_back();
  if (c.empty()) return "";
  if (c.size() == 1) return c[0];
  c.resize(5);
  const std::string given = joinNonEmpty({c[3], c[1], c[2]}, " ");
  std::string out = c[0].empty() ? given : (given.empty() ? upperLatin(c[0]) : upperLatin(c[0]) + ", " + given);
  if (!c[4].empty()) out += out.empty() ? c[4] : ", " + c[4];
  return out;
}
}  // namespace

std::string formatPersonName(const std::string& pn) {
  for (const auto& group : split(pn, '=')) {
    const std::string shown = formatGroup(group);
    if (!shown.empty()) return shown;
  }
  return "";
}

}  // namespace e2e
