#include "io/vendor/xml_file.h"

#include <dcmtk/ofstd/ofstd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>

#include "common/types.h"

namespace e2e::vendor {
std::string trimmed(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string text(const pugi::xml_node& parent, std::string_view local) {
  return trimmed(child(parent, local).text().get());
}

std::optional<double> number(const pugi::xml_node& parent, std::string_view local) {
  return toDouble(text(parent, local));
}

std::string fileHead(const std::string& path, std::size_t n) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::string buf(n, '\0');
  f.read(buf.data(), static_cast<std::streamsize>(n));
  buf.resize(static_cast<std::size_t>(f.gcount()));
  return buf;
}

std::string xmlRootName(std::string_view head) {
  std::string s;
  s.reserve(head.size());
  for (char c : head)
    if (c != '\0') s.push_back(c);  // UTF-16 of ASCII markup: drop the zero bytes
  std::size_t i = 0;
  if (s.size() >= 3 && static_cast<unsigned char>(s[0]) == 0xEF) i = 3;  // UTF-8 BOM
  else if (s.size() >= 2 && (static_cast<unsigned char>(s[0]) == 0xFF || static_cast<unsigned char>(s[0]) == 0xFE)) i = 2;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size() || s[i] != '<') return {};
    if (s.compare(i, 2, "<?") == 0 || s.compare(i, 2, "<!") == 0) {  // declaration, DOCTYPE, comment
      const bool comment = s.compare(i, 4, "<!--") == 0;
      std::size_t end = comment ? s.find("-->", i + 4) : s.find('>', i);
      const std::size_t subset = s.find('[', i);  // DOCTYPE internal subset: "<!DOCTYPE r [ ... ]>"
      if (!comment && s.compare(i, 9, "<!DOCTYPE") == 0 && subset < end) {
        end = s.find("]", subset);
        if (end != std::string::npos) end = s.find('>', end);
      }
      if (end == std::string::npos) return {};
      i = end + (comment ? 3 : 1);  // past "-->" (a comment) or '>'; was end + 1, which left "->" behind
      continue;
    }
    std::size_t j = i + 1;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '>' && s[j] != '/') ++j;
    std::string name = s.substr(i + 1, j - i - 1);
    const std::size_t colon = name.find(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
  }
  return {};
}

void loadXmlFile(const std::string& path, pugi::xml_document& doc) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw ReadError(path, "cannot read file: " + ec.message());
  if (size > kMaxXmlBytes)
    throw ReadError(path, "XML file of " + std::to_string(size) + " bytes is larger than the " +
                              std::to_string(kMaxXmlBytes >> 20) + " MiB an ECG export can be");
  // parse_default without DOCTYPE processing of external entities (pugixml never fetches them).
  const pugi::xml_parse_result r = doc.load_file(path.c_str(), pugi::parse_default, pugi::encoding_auto);
  if (!r)
    throw ReadError(path, std::string("not well-formed XML: ") + r.description() + " at byte " + std::to_string(r.offset));
  if (!doc.document_element()) throw ReadError(path, "XML file has no root element");
}

std::string_view localName(const pugi::xml_node& n) {
  std::string_view s = n.name();
  const std::size_t colon = s.find(':');
  return colon == std::string_view::npos ? s : s.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && localName(c) == local) return c;
  return {};
}

pugi::xml_node descendant(const pugi::xml_node& n, std::string_view local) {
  return n.find_node([&](const pugi::xml_node& c) { return c.type() == pugi::node_element && localName(c) == local; });
}

std::vector<pugi::xml_node> children(const pugi::xml_node& n, std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && localName(c) == local) out.push_back(c);
  return out;
}

std::vector<std::uint8_t> decodeBase64(std::string_view text, const std::string& path, const std::string& what) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
    if (!ok) throw ReadError(path, what + ": invalid base64 (character code " + std::to_string(static_cast<unsigned char>(c)) + ")");
    clean.push_back(c);
  }
  if (clean.size() % 4 == 1) throw ReadError(path, what + ": invalid base64 (truncated)");
  unsigned char* out = nullptr;
  const size_t n = OFStandard::decodeBase64(OFString(clean.c_str(), clean.size()), out);
  std::unique_ptr<unsigned char[]> guard(out);
  return std::vector<std::uint8_t>(out, out + n);
}

std::optional<double> toDouble(std::string_view s) {
  const std::string t = trimmed(s);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<long long> toInt(std::string_view s) {
  const std::string t = trimmed(s);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (end != t.c_str() + t.size() || errno == ERANGE) return std::nullopt;
  return v;
}

}  // namespace e2e::vendor
