#include "common/text.h"

#include <new>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace e2e {

std::string jsonQuote(const std::string& s) {
  // nlohmann-json's serialiser: ", \ and control characters escaped (\n, \t, \b, \f, \r, else \u00xx);
  // bytes that are not valid UTF-8 become U+FFFD, so that the result is always valid JSON.
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> splitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r' && c != '\n') {
      cur += c;
    }
  }
  out.push_back(cur);
  for (auto& f : out) {
    const auto b = f.find_first_not_of(" \t");
    const auto e = f.find_last_not_of(" \t");
    f = b == std::string::npos ? std::string() : f.substr(b, e - b + 1);
  }
  return out;
}

namespace {
void trimSpaces(std::string& f) {
  const auto b = f.find_first_not_of(" \t");
  const auto e = f.find_last_not_of(" \t");
  f = b == std::string::npos ? std::string() : f.substr(b, e - b + 1);
}
}  // namespace

CsvRecordReader::CsvRecordReader(std::istream& in, std::string name, std::size_t maxFieldBytes,
                                 std::size_t maxFields)
    : in_(in), name_(std::move(name)), maxFieldBytes_(maxFieldBytes), maxFields_(maxFields) {}

bool CsvRecordReader::next(std::vector<std::string>& fields) {
  fields.clear();
  std::streambuf* sb = in_.rdbuf();
  using Traits = std::streambuf::traits_type;
  int c = sb ? sb->sbumpc() : Traits::eof();
  if (c == Traits::eof()) return false;
  recordLine_ = lineNo_;
  std::string cur;
  bool quoted = false;
  int quoteLine = 0;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(name_ + ": line " + std::to_string(lineNo_) + ": " + what);
  };
  for (; c != Traits::eof(); c = sb->sbumpc()) {
    const char ch = Traits::to_char_type(c);
    if (ch == '\r' && sb->sgetc() == '\n') continue;  // CR LF: the LF ends the line
    if (ch == '\n' || ch == '\r') ++lineNo_;
    if (quoted) {
      if (ch == '"' && sb->sgetc() == '"') {
        sb->sbumpc();
        cur += '"';
      } else if (ch == '"') {
        quoted = false;
      } else {
        cur += ch == '\r' ? '\n' : ch;
      }
    } else if (ch == '"') {
      quoted = true;
      quoteLine = lineNo_;
    } else if (ch == ',' || ch == '\n' || ch == '\r') {
      fields.push_back(std::move(cur));
      cur.clear();
      if (ch != ',') break;
      if (fields.size() >= maxFields_) fail("more than " + std::to_string(maxFields_) + " fields");
    } else {
      cur += ch;
    }
    if (cur.size() > maxFieldBytes_)
      fail("field longer than " + std::to_string(maxFieldBytes_) + " bytes (record starts on line " +
           std::to_string(recordLine_) + ")");
  }
  if (quoted)
    throw std::runtime_error(name_ + ": line " + std::to_string(quoteLine) +
                             ": quoted field not closed before the end of the file");
  if (c == Traits::eof()) fields.push_back(std::move(cur));
  for (auto& f : fields) trimSpaces(f);
  return true;
}

std::string shellWord(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=+,") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string errorText(const std::string& what) {
  std::string msg = what;
  for (const char* marker : {"\nException raised from ", "\nframe #0: "}) {
    const auto at = msg.find(marker);
    if (at != std::string::npos) msg.erase(at);
  }
  const std::string alloc = "can't allocate memory: you tried to allocate ";
  const auto a = msg.find(alloc);
  if (a != std::string::npos) {
    std::size_t i = a + alloc.size();
    std::string digits;
    while (i < msg.size() && msg[i] >= '0' && msg[i] <= '9') digits += msg[i++];
    const auto head = msg.find("[enforce fail");
    const std::string context = head == std::string::npos ? msg.substr(0, a) : msg.substr(0, head);
    std::string lead = context;
    while (!lead.empty() && (lead.back() == ' ' || lead.back() == ':')) lead.pop_back();
    return (lead.empty() ? std::string() : lead + ": ") + "out of memory: could not allocate " +
           (digits.empty() ? std::string("a tensor") : digits + " bytes") +
           " (the memory available to this process is exhausted)";
  }
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

std::string errorText(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    return "out of memory (the memory available to this process is exhausted)";
  return errorText(std::string(e.what()));
}

}  // namespace e2e
