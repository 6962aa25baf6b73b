// What the vendor XML readers share: loading a file into a pugixml document with bounded
// memory and clear errors, base64 (DCMTK's decoder), and number parsing. No Qt.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace e2e::vendor {

// Largest XML file the readers accept (a 10 s 12-lead ECG at 1 kHz is under 2 MB as XML;
// the largest real export seen is ~0.5 MB).
constexpr std::uint64_t kMaxXmlBytes = 64ull << 20;

// Loads `path` (UTF-8, UTF-16 LE/BE with or without BOM, ISO-8859-1 declared; DOCTYPE lines
// are skipped, never fetched). Throws ReadError naming the file, the cause and, for a parse
// error, the byte offset. Files over kMaxXmlBytes are refused before reading.
void loadXmlFile(const std::string& path, pugi::xml_document& doc);

// The first `n` bytes of a file, for content sniffing ("" when unreadable).
std::string fileHead(const std::string& path, std::size_t n = 4096);

// The root element's local name (namespace prefix dropped) of an XML text head; "" if the head
// does not look like XML. Handles UTF-16 heads (BOM or not) by dropping the zero bytes.
std::string xmlRootName(std::string_view head);

// Local name of an element ("a:b" -> "b").
std::string_view localName(const pugi::xml_node& n);

// First child / descendant element by local name (namespace prefixes ignored); empty node if none.
pugi::xml_node child(const pugi::xml_node& n, std::string_view local);
pugi::xml_node descendant(const pugi::xml_node& n, std::string_view local);
std::vector<pugi::xml_node> children(const pugi::xml_node& n, std::string_view local);

// Decodes base64 (whitespace ignored). Throws ReadError(path, what + ": invalid base64") on bad input.
std::vector<std::uint8_t> decodeBase64(std::string_view text, const std::string& path, const std::string& what);

// Text helpers the readers share: surrounding white space removed; ASCII case changed.
std::string trimmed(std::string_view s);
std::string upper(std::string s);
std::string lower(std::string s);
// The trimmed text of the first child element named `local` ("" if none), and that text as a number.
std::string text(const pugi::xml_node& parent, std::string_view local);
std::optional<double> number(const pugi::xml_node& parent, std::string_view local);

// Parses a whole trimmed string as a finite double / integer; nullopt otherwise.
std::optional<double> toDouble(std::string_view s);
std::optional<long long> toInt(std::string_view s);

}  // namespace e2e::vendor
