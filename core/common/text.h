// Small text helpers shared by the CLI, the database and the job protocol. Qt-free.
#pragma once
#include <string>
#include <vector>

namespace e2e {

// A JSON string literal (with the quotes), written by nlohmann-json: control characters escaped
// (\n, \t, ..., others as \u00xx); bytes that are not valid UTF-8 become U+FFFD (always valid JSON).
std::string jsonQuote(const std::string& s);

// One CSV line into fields: RFC 4180 quoting ("" inside quotes is a quote), CR/LF dropped,
// each field trimmed of surrounding spaces and tabs.
std::vector<std::string> splitCsvLine(const std::string& line);

// One word for a POSIX shell command line shown to the user: unchanged when it holds only safe
// characters, else single-quoted (an embedded ' becomes '\'').
std::string shellWord(const std::string& s);

}  // namespace e2e
