// Small text helpers shared by the CLI, the database and the job protocol. Qt-free.
#pragma once
#include <cstddef>
#include <exception>
#include <istream>
#include <string>
#include <vector>

namespace e2e {

// A JSON string literal (with the quotes), written by nlohmann-json: control characters escaped
// (\n, \t, ..., others as \u00xx); bytes that are not valid UTF-8 become U+FFFD (always valid JSON).
std::string jsonQuote(const std::string& s);

// One CSV line into fields: RFC 4180 quoting ("" inside quotes is a quote), CR/LF dropped,
// each field trimmed of surrounding spaces and tabs.
std::vector<std::string> splitCsvLine(const std::string& line);

// CSV records (RFC 4180) read one at a time from a stream: a quoted field may span lines (its line
// breaks kept as '\n', CR LF as '\n'), "" inside quotes is a quote, each field trimmed of surrounding
// spaces and tabs. Bounded: a field over maxFieldBytes, a record over maxFields fields or a quote
// left open at the end of the input is a std::runtime_error naming `name` and the line.
class CsvRecordReader {
 public:
  explicit CsvRecordReader(std::istream& in, std::string name, std::size_t maxFieldBytes = std::size_t{1} << 20,
                           std::size_t maxFields = 100000);
  // The next record into `fields`; false at the end of the input. A blank line is a record of one
  // empty field.
  bool next(std::vector<std::string>& fields);
  // 1-based line on which the record last returned by next() starts.
  int line() const { return recordLine_; }

 private:
  std::istream& in_;
  std::string name_;
  std::size_t maxFieldBytes_, maxFields_;
  int lineNo_ = 1, recordLine_ = 0;
};

// One word for a POSIX shell command line shown to the user: unchanged when it holds only safe
// characters, else single-quoted (an embedded ' becomes '\'').
std::string shellWord(const std::string& s);

// The message of an exception as a user should read it: libtorch (c10::Error) appends a C++ stack
// trace ("Exception raised from ...", "frame #0: ...") that is cut off here; an allocation failure
// (std::bad_alloc, or libtorch's "DefaultCPUAllocator: can't allocate memory: you tried to allocate
// N bytes") becomes "out of memory: ..." naming the size. Other messages are unchanged.
std::string errorText(const std::exception& e);
std::string errorText(const std::string& what);

}  // namespace e2e
