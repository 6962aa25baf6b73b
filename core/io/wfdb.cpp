// PhysioNet WFDB reader: header (.hea) parsing, binary signal formats 16, 61, 80, 24, 32 and
// 212 (signals interleaved frame by frame in one file), and the MAT v4 '.mat' signal files of
// the PhysioNet/CinC Challenge 2021 (a single int16 matrix nsig x nsamples, column-major, i.e.
// the same frame-interleaved layout as format 16 after a small MAT header).
//
// Header reference: PhysioNet "header(5)" man page (WFDB Software Package).
#include "io/wfdb.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/hash.h"

namespace e2e {
namespace {

namespace fs = std::filesystem;

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string> splitWs(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream is(s);
  std::string t;
  while (is >> t) out.push_back(t);
  return out;
}

bool parseDouble(const std::string& s, double& v) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size() && std::isfinite(v);
}

bool parseLong(const std::string& s, long long& v) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end == s.c_str() + s.size();
}

std::string readWholeFile(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ReadError(path, std::string("cannot open ") + what);
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw ReadError(path, std::string("error while reading ") + what);
  return ss.str();
}

struct SignalSpec {
  std::string file;
  int format = 0;
  int samplesPerFrame = 1;
  long long byteOffset = 0;
  bool hasOffset = false;
  double gain = 200.0;
  bool gainDefaulted = false;
  double baseline = 0.0;
  std::string units = "mV";
  int adcRes = 0;
  long long adcZero = 0;
  bool hasInit = false;
  long long initValue = 0;
  bool hasChecksum = false;
  long long checksum = 0;
  long long blockSize = 0;
  std::string description;
};

struct Header {
  std::string recordName;
  int nsig = 0;
  double fs = 250.0;
  long long nsamples = -1;  // -1: not given
  std::string baseTime, baseDate;
  std::vector<SignalSpec> signals;
  std::vector<std::string> comments;
};

// Unit -> factor to mV, or 0 when the unit is not a voltage.
double unitToMv(const std::string& unitRaw) {
  std::string u = lower(unitRaw);
  if (u == "mv") return 1.0;
  if (u == "uv" || u == "\xc2\xb5v" || u == "microv") return 1e-3;
  if (u == "nv") return 1e-6;
  if (u == "v") return 1e3;
  return 0.0;
}

// Throws a ReadError naming the header line being parsed.
struct LineError {
  const std::string& path;
  int lineNo = 0;
  [[noreturn]] void operator()(const std::string& why) const {
    throw ReadError(path, "bad header line " + std::to_string(lineNo) + ": " + why);
  }
};

// record name[/nseg] nsig [fs[/counter][(base)] [nsamples [basetime [basedate]]]]
void parseRecordLine(const std::vector<std::string>& f, Header& h, const LineError& bad) {
  h.recordName = f[0];
  if (h.recordName.find('/') != std::string::npos)
    throw ReadError(bad.path, "multi-segment WFDB records are not supported");
  if (f.size() < 2) bad("record line needs at least a name and the number of signals");
  long long n = 0;
  if (!parseLong(f[1], n) || n < 0 || n > 4096) bad("invalid number of signals '" + f[1] + "'");
  h.nsig = static_cast<int>(n);
  if (f.size() > 2) {
    std::string fsStr = f[2];
    std::size_t cut = fsStr.find_first_of("/(");
    if (cut != std::string::npos) fsStr = fsStr.substr(0, cut);
    double fsv = 0;
    if (!parseDouble(fsStr, fsv) || fsv <= 0) bad("invalid sampling frequency '" + f[2] + "'");
    h.fs = fsv;
  }
  if (f.size() > 3) {
    long long ns = 0;
    if (!parseLong(f[3], ns) || ns < 0) bad("invalid number of samples '" + f[3] + "'");
    h.nsamples = ns;
  }
  if (f.size() > 4) h.baseTime = f[4];
  if (f.size() > 5) h.baseDate = f[5];
}

// format[xsamp][:skew][+offset]
void parseFormatField(const std::string& field, SignalSpec& s, const LineError& bad) {
  std::string fm = field;
  std::size_t plus = fm.find('+');
  if (plus != std::string::npos) {
    long long off = 0;
    if (!parseLong(fm.substr(plus + 1), off) || off < 0) bad("invalid byte offset in '" + field + "'");
    s.byteOffset = off;
    s.hasOffset = true;
    fm = fm.substr(0, plus);
  }
  std::size_t colon = fm.find(':');
  if (colon != std::string::npos) fm = fm.substr(0, colon);  // skew ignored
  std::size_t x = fm.find('x');
  if (x != std::string::npos) {
    long long spf = 0;
    if (!parseLong(fm.substr(x + 1), spf) || spf < 1) bad("invalid samples per frame in '" + field + "'");
    s.samplesPerFrame = static_cast<int>(spf);
    fm = fm.substr(0, x);
  }
  long long fmt = 0;
  if (!parseLong(fm, fmt)) bad("invalid signal format '" + field + "'");
  s.format = static_cast<int>(fmt);
}

// gain[(baseline)][/units]. Returns whether a baseline was given.
bool parseGainField(const std::string& field, SignalSpec& s, const LineError& bad) {
  bool baselineGiven = false;
  std::string g = field;
  std::size_t slash = g.find('/');
  if (slash != std::string::npos) {
    s.units = g.substr(slash + 1);
    g = g.substr(0, slash);
  }
  std::size_t paren = g.find('(');
  if (paren != std::string::npos) {
    std::size_t close = g.find(')', paren);
    if (close == std::string::npos) bad("unbalanced baseline parenthesis in '" + field + "'");
    double b = 0;
    if (!parseDouble(g.substr(paren + 1, close - paren - 1), b)) bad("invalid baseline in '" + field + "'");
    s.baseline = b;
    baselineGiven = true;
    g = g.substr(0, paren);
  }
  double gain = 0;
  if (!parseDouble(g, gain)) bad("invalid ADC gain '" + field + "'");
  if (gain == 0) {
    s.gain = 200.0;  // WFDB: a gain of 0 means "uncalibrated", default 200 adu/unit
    s.gainDefaulted = true;
  } else {
    s.gain = gain;
  }
  return baselineGiven;
}

// file format gain adcres adczero initval checksum blocksize description; `t` is the whole line.
SignalSpec parseSignalLine(const std::vector<std::string>& f, const std::string& t, const LineError& bad) {
  if (f.size() < 2) bad("signal line needs at least a file name and a format");
  SignalSpec s;
  s.file = f[0];
  parseFormatField(f[1], s, bad);
  bool baselineGiven = false;
  if (f.size() > 2) baselineGiven = parseGainField(f[2], s, bad);
  else s.gainDefaulted = true;
  long long v = 0;
  if (f.size() > 3) {
    if (!parseLong(f[3], v)) bad("invalid ADC resolution '" + f[3] + "'");
    s.adcRes = static_cast<int>(v);
  }
  if (f.size() > 4) {
    if (!parseLong(f[4], v)) bad("invalid ADC zero '" + f[4] + "'");
    s.adcZero = v;
  }
  if (!baselineGiven) s.baseline = static_cast<double>(s.adcZero);
  if (f.size() > 5) {
    if (!parseLong(f[5], v)) bad("invalid initial value '" + f[5] + "'");
    s.initValue = v;
    s.hasInit = true;
  }
  if (f.size() > 6) {
    if (!parseLong(f[6], v)) bad("invalid checksum '" + f[6] + "'");
    s.checksum = v;
    s.hasChecksum = true;
  }
  if (f.size() > 7) {
    if (!parseLong(f[7], v)) bad("invalid block size '" + f[7] + "'");
    s.blockSize = v;
  }
  if (f.size() > 8) {
    // The description is the rest of the line (it may contain spaces).
    std::size_t pos = 0;
    for (int k = 0; k < 8; ++k) {
      pos = t.find_first_not_of(" \t", pos);
      pos = t.find_first_of(" \t", pos);
    }
    s.description = trim(t.substr(pos));
  }
  return s;
}

Header parseHeader(const std::string& path, const std::string& text) {
  Header h;
  std::istringstream is(text);
  std::string line;
  LineError bad{path};
  bool haveRecord = false;
  while (std::getline(is, line)) {
    ++bad.lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string t = trim(line);
    if (t.empty()) continue;
    if (t[0] == '#') {
      h.comments.push_back(trim(t.substr(1)));
      continue;
    }
    // Non-printable bytes mean this is not a text header.
    for (unsigned char c : t)
      if (c < 0x20 && c != '\t') bad("non-text characters");
    auto f = splitWs(t);
    if (!haveRecord) {
      haveRecord = true;
      parseRecordLine(f, h, bad);
      continue;
    }
    if (static_cast<int>(h.signals.size()) >= h.nsig)
      bad("more signal lines than the " + std::to_string(h.nsig) + " signals declared on the record line");
    h.signals.push_back(parseSignalLine(f, t, bad));
  }
  if (!haveRecord) throw ReadError(path, "no record line found: not a WFDB header");
  if (static_cast<int>(h.signals.size()) != h.nsig)
    throw ReadError(path, "record line declares " + std::to_string(h.nsig) + " signals but the header has " +
                              std::to_string(h.signals.size()) + " signal lines");
  if (h.nsig == 0) throw ReadError(path, "record has no signals");
  return h;
}

int bitsPerSample(int format) {
  switch (format) {
    case 16: case 61: return 16;
    case 80: return 8;
    case 24: return 24;
    case 32: return 32;
    case 212: return 12;
    default: return 0;
  }
}

constexpr std::int32_t kInvalid = std::numeric_limits<std::int32_t>::min();

// Decodes sample k of a frame-interleaved stream (k counts samples over all signals).
struct Decoder {
  int format;
  bool bigEndian16 = false;  // MAT v4 files written big-endian
  const unsigned char* p;
  std::int32_t decode(std::size_t k) const {
    switch (format) {
      case 16: {
        const unsigned char* q = p + 2 * k;
        auto v = bigEndian16 ? static_cast<std::int16_t>((q[0] << 8) | q[1])
                             : static_cast<std::int16_t>(q[0] | (q[1] << 8));
        return v == -32768 ? kInvalid : v;
      }
      case 61: {
        const unsigned char* q = p + 2 * k;
        auto v = static_cast<std::int16_t>((q[0] << 8) | q[1]);
        return v == -32768 ? kInvalid : v;
      }
      case 80: {
        int v = static_cast<int>(p[k]) - 128;
        return v == -128 ? kInvalid : v;
      }
      case 24: {
        const unsigned char* q = p + 3 * k;
        std::int32_t v = q[0] | (q[1] << 8) | (q[2] << 16);
        if (v & 0x800000) v -= 0x1000000;
        return v == -8388608 ? kInvalid : v;
      }
      case 32: {
        const unsigned char* q = p + 4 * k;
        std::uint32_t u = q[0] | (q[1] << 8) | (q[2] << 16) | (static_cast<std::uint32_t>(q[3]) << 24);
        auto v = static_cast<std::int32_t>(u);
        return v;  // INT32_MIN is the invalid-sample code and equals kInvalid
      }
      case 212: {
        const unsigned char* q = p + 3 * (k / 2);
        int v = (k % 2 == 0) ? (q[0] | ((q[1] & 0x0F) << 8)) : (q[2] | ((q[1] & 0xF0) << 4));
        if (v & 0x800) v -= 0x1000;
        return v == -2048 ? kInvalid : v;
      }
    }
    return kInvalid;
  }
};

std::int32_t rdI32(const unsigned char* q, bool be) {
  std::uint32_t u = be ? (static_cast<std::uint32_t>(q[0]) << 24) | (q[1] << 16) | (q[2] << 8) | q[3]
                       : q[0] | (q[1] << 8) | (q[2] << 16) | (static_cast<std::uint32_t>(q[3]) << 24);
  return static_cast<std::int32_t>(u);
}

// Validates the MAT v4 header of a CinC-2021 style signal file and returns the data offset.
// The matrix must be int16 (or int32 for format 32), real, nsigInFile rows and >= nsamples columns.
long long checkMatV4(const std::string& path, const std::string& data, int format, int nsigInFile,
                     long long& nsamples, bool& bigEndian) {
  if (data.size() < 20) throw ReadError(path, "truncated MAT v4 file: no complete header");
  auto q = reinterpret_cast<const unsigned char*>(data.data());
  // MOPT type: M = byte order (0 little, 1 big endian), O = 0, P = precision, T = 0 (numeric)
  std::int32_t type = rdI32(q, false);
  bigEndian = false;
  if (type < 0 || type > 9999 || (type / 1000) != 0) {
    std::int32_t tb = rdI32(q, true);
    if (tb >= 1000 && tb < 2000) {
      type = tb;
      bigEndian = true;
    } else {
      throw ReadError(path, "not a MAT v4 file (invalid matrix type " + std::to_string(type) + ")");
    }
  }
  int M = type / 1000, O = (type / 100) % 10, P = (type / 10) % 10, T = type % 10;
  if (M > 1 || O != 0 || T != 0) throw ReadError(path, "unsupported MAT v4 matrix type " + std::to_string(type));
  std::int32_t mrows = rdI32(q + 4, bigEndian), ncols = rdI32(q + 8, bigEndian);
  std::int32_t imagf = rdI32(q + 12, bigEndian), namelen = rdI32(q + 16, bigEndian);
  if (imagf != 0) throw ReadError(path, "complex MAT v4 matrices are not supported");
  if (namelen < 1 || namelen > 256 || mrows < 0 || ncols < 0)
    throw ReadError(path, "corrupt MAT v4 header (rows " + std::to_string(mrows) + ", cols " +
                              std::to_string(ncols) + ", name length " + std::to_string(namelen) + ")");
  int expectP = format == 16 ? 3 : format == 32 ? 2 : -1;
  if (expectP < 0)
    throw ReadError(path, "WFDB format " + std::to_string(format) + " is not supported in a .mat signal file");
  if (P != expectP)
    throw ReadError(path, "MAT v4 precision code " + std::to_string(P) + " does not match WFDB format " +
                              std::to_string(format));
  if (bigEndian && format != 16) throw ReadError(path, "big-endian MAT v4 int32 data is not supported");
  if (mrows != nsigInFile)
    throw ReadError(path, "MAT v4 matrix has " + std::to_string(mrows) + " rows but the header lists " +
                              std::to_string(nsigInFile) + " signals in this file");
  if (nsamples < 0) nsamples = ncols;
  if (ncols < nsamples)
    throw ReadError(path, "MAT v4 matrix has " + std::to_string(ncols) + " columns but the header declares " +
                              std::to_string(nsamples) + " samples");
  return 20 + static_cast<long long>(namelen);
}

std::string uidFromHash(const std::string& hex) {
  // "2.25." followed by the decimal value of the first 15 hex digits (60 bits).
  unsigned long long v = std::stoull(hex.substr(0, 15), nullptr, 16);
  return "2.25." + std::to_string(v);
}

std::string datasetDescription(const std::string& rec, bool matFiles) {
  auto starts = [&](const char* p) { return rec.rfind(p, 0) == 0; };
  if (matFiles) {
    std::string src;
    if (starts("HR")) src = "PTB-XL";
    else if (starts("JS")) src = "Chapman-Shaoxing/Ningbo";
    else if (starts("E")) src = "Georgia 12-lead ECG Challenge";
    else if (starts("Q")) src = "CPSC 2018 extra";
    else if (starts("A")) src = "CPSC 2018";
    else if (starts("I")) src = "St Petersburg INCART";
    else if (starts("S")) src = "PTB";
    return "PhysioNet/CinC Challenge 2021" + (src.empty() ? std::string() : " (" + src + ")") + " record " + rec;
  }
  if (rec.size() == 8 && rec[0] == 's' && rec.substr(5) == "_re")
    return "PhysioNet PTB Diagnostic ECG Database record " + rec;
  return "PhysioNet WFDB record " + rec;
}

// dd/mm/yyyy -> YYYYMMDD, or "" if not a date.
std::string wfdbDate(const std::string& d) {
  int dd = 0, mm = 0, yy = 0;
  char c1 = 0, c2 = 0;
  std::istringstream is(d);
  if (!(is >> dd >> c1 >> mm >> c2 >> yy) || c1 != '/' || c2 != '/') return "";
  if (dd < 1 || dd > 31 || mm < 1 || mm > 12 || yy < 1800 || yy > 2200) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", yy, mm, dd);
  return buf;
}

// HH:MM:SS(.fff) -> HHMMSS(.fff), or "".
std::string wfdbTime(const std::string& t) {
  int h = 0, m = 0;
  double s = 0;
  char c1 = 0, c2 = 0;
  std::istringstream is(t);
  if (!(is >> h >> c1 >> m >> c2 >> s) || c1 != ':' || c2 != ':') return "";
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s >= 60) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d", h, m, static_cast<int>(s));
  std::string out = buf;
  double frac = s - std::floor(s);
  if (frac > 0) {
    std::snprintf(buf, sizeof buf, "%.3f", frac);
    out += std::string(buf).substr(1);
  }
  return out;
}

std::string dicomAge(const std::string& a) {
  double v = 0;
  if (!parseDouble(trim(a), v) || v < 0 || v > 150) return "";
  char buf[8];
  if (v >= 1) {
    std::snprintf(buf, sizeof buf, "%03dY", static_cast<int>(v));
  } else {
    int months = static_cast<int>(std::lround(v * 12));
    if (months >= 1) std::snprintf(buf, sizeof buf, "%03dM", months);
    else std::snprintf(buf, sizeof buf, "%03dW", static_cast<int>(std::lround(v * 52)));
  }
  return buf;
}
// The .hea file of a record given as its header, its record path, or a signal file.
fs::path resolveHeaderPath(const std::string& pathIn) {
  fs::path p(pathIn);
  std::error_code ec;
  if (lower(p.extension().string()) == ".hea") return p;
  if (fs::exists(fs::path(pathIn + ".hea"), ec)) return pathIn + ".hea";
  fs::path hea = p;
  hea.replace_extension(".hea");
  return hea;
}

// A header names its signal files relative to its own folder; an absolute name or one that climbs
// out with '..' (e.g. /etc/passwd, ../../secret) would make the reader open files elsewhere.
void requireInsideRecordFolder(const std::string& name, const std::string& heaPath) {
  const fs::path p(name);
  bool climbs = p.is_absolute() || p.has_root_name() || p.has_root_directory() || name.empty();
  for (const auto& part : p) climbs = climbs || part == "..";
  if (climbs)
    throw ReadError(heaPath, "signal file '" + name +
                                 "' is outside the record's folder (a header may only name files beside it)");
}

// After symbolic links are followed, `sigPath` must still lie in `dir`.
void requireResolvedInside(const fs::path& sigPath, const fs::path& dir, const std::string& heaPath) {
  std::error_code ec1, ec2;
  const fs::path real = fs::weakly_canonical(sigPath, ec1);
  const fs::path base = fs::weakly_canonical(dir.empty() ? fs::path(".") : dir, ec2);
  if (ec1 || ec2) return;  // not resolvable: the not-found check reports it
  auto b = base.begin();
  auto r = real.begin();
  for (; b != base.end(); ++b, ++r)
    if (r == real.end() || *r != *b)
      throw ReadError(heaPath, "signal file '" + sigPath.filename().string() + "' links to " + real.string() +
                                   ", outside the record's folder");
}

// Signal file names, in order of first appearance, with the signals stored in each.
struct SignalFiles {
  std::vector<std::string> names;
  std::vector<std::vector<int>> signals;
};

// Groups the signals by file and rejects what is not supported (stdin, multi-frequency
// records, unknown formats, mixed formats in one file).
SignalFiles groupSignalsByFile(const Header& h, const std::string& heaPath) {
  SignalFiles files;
  for (int i = 0; i < h.nsig; ++i) {
    const auto& s = h.signals[i];
    if (s.file == "-") throw ReadError(heaPath, "signals on standard input ('-') are not supported");
    requireInsideRecordFolder(s.file, heaPath);
    if (s.samplesPerFrame != 1)
      throw ReadError(heaPath, "signal " + std::to_string(i + 1) + ": multi-frequency records (" +
                                   std::to_string(s.samplesPerFrame) + " samples per frame) are not supported");
    if (bitsPerSample(s.format) == 0)
      throw ReadError(heaPath, "signal " + std::to_string(i + 1) + ": unsupported WFDB format " +
                                   std::to_string(s.format) + " (supported: 16, 61, 80, 24, 32, 212)");
    auto it = std::find(files.names.begin(), files.names.end(), s.file);
    if (it == files.names.end()) {
      files.names.push_back(s.file);
      files.signals.push_back({i});
    } else {
      auto& v = files.signals[it - files.names.begin()];
      const auto& first = h.signals[v.front()];
      if (first.format != s.format)
        throw ReadError(heaPath, "signals in file " + s.file + " use different formats (" +
                                     std::to_string(first.format) + " and " + std::to_string(s.format) + ")");
      v.push_back(i);
    }
  }
  return files;
}

// Decodes the raw samples of the signals `sigs` stored in one signal file (`data`, at path
// `sp`, named `name` in the header) into `raw`. `nsamples` is the record's sample count so
// far (-1: not known yet); returns it, as the header or this file gives it.
long long decodeSignalFile(const std::string& sp, const std::string& name, const std::string& data, bool isMat,
                           const Header& h, const std::vector<int>& sigs, long long nsamples,
                           std::vector<std::vector<std::int32_t>>& raw, std::vector<std::string>& warnings) {
  const auto& sig0 = h.signals[sigs.front()];
  const int nsf = static_cast<int>(sigs.size());
  const int format = sig0.format;
  bool bigEndian = false;
  long long offset = sig0.byteOffset;
  long long fileSamples = nsamples;
  if (isMat) {
    long long dataOffset = checkMatV4(sp, data, format, nsf, fileSamples, bigEndian);
    if (sig0.hasOffset && sig0.byteOffset != dataOffset)
      throw ReadError(sp, "header gives byte offset " + std::to_string(sig0.byteOffset) +
                              " but the MAT v4 data starts at byte " + std::to_string(dataOffset));
    offset = dataOffset;
  }
  if (static_cast<long long>(data.size()) < offset)
    throw ReadError(sp, "truncated signal file: shorter than its byte offset " + std::to_string(offset));
  const long long bits = bitsPerSample(format);
  const long long avail = static_cast<long long>(data.size()) - offset;
  if (fileSamples < 0) fileSamples = (avail * 8) / (bits * nsf);  // header did not say
  const long long maxSamples = (avail * 8) / (bits * nsf);
  const long long needBytes =
      fileSamples <= maxSamples ? (fileSamples * nsf * bits + 7) / 8 : std::numeric_limits<long long>::max();
  if (avail < needBytes)
    throw ReadError(sp, "truncated signal file: " + std::to_string(fileSamples) + " samples of " +
                            std::to_string(nsf) + " signals in format " + std::to_string(format) +
                            " do not fit in the " + std::to_string(avail) + " bytes after offset " +
                            std::to_string(offset) + " (room for " + std::to_string(maxSamples) + ")");
  if (nsamples < 0) nsamples = fileSamples;
  if (fileSamples != nsamples) throw ReadError(sp, "signal files of this record hold different numbers of samples");
  if (avail > needBytes && !isMat && format != 212)
    warnings.push_back(name + ": " + std::to_string(avail - needBytes) + " bytes after the declared samples ignored");
  Decoder dec{format, bigEndian, reinterpret_cast<const unsigned char*>(data.data()) + offset};
  for (int j = 0; j < nsf; ++j) raw[sigs[j]].resize(static_cast<std::size_t>(nsamples));
  for (long long t = 0; t < nsamples; ++t)
    for (int j = 0; j < nsf; ++j) raw[sigs[j]][t] = dec.decode(static_cast<std::size_t>(t * nsf + j));
  return nsamples;
}

// The raw invalid-sample code of a format (WFDB checksums include it).
long long invalidSampleCode(int format) {
  return format == 212 ? -2048 : format == 80 ? -128 : format == 24 ? -8388608
       : format == 32 ? static_cast<long long>(std::numeric_limits<std::int32_t>::min()) : -32768;
}

// Channel `i` in physical units, with warnings for a defaulted gain, invalid samples, a
// checksum mismatch or an initial value that differs from the header.
EcgChannel makeChannel(const SignalSpec& s, int i, const std::vector<std::int32_t>& r,
                       std::vector<std::string>& warnings) {
  EcgChannel c;
  const std::string desc = s.description.empty() ? "signal " + std::to_string(i + 1) : s.description;
  std::string canon = canonicalLeadName(desc);
  c.label = canon.empty() ? desc : canon;
  c.codeMeaning = s.description;
  double toMv = unitToMv(s.units);
  double scale = 1.0;
  if (toMv > 0) {
    c.unit = "mV";
    scale = toMv;
  } else {
    c.unit = s.units;
  }
  c.sensitivity = scale / s.gain;  // physical units per ADC count
  c.correction = 1.0;
  c.baseline = -s.baseline * c.sensitivity;  // physical = raw * sensitivity + baseline
  if (s.gainDefaulted) warnings.push_back(c.label + ": no ADC gain in header, WFDB default 200/unit used");
  c.samples.resize(r.size());
  long long sum = 0;
  std::size_t invalid = 0;
  for (std::size_t t = 0; t < r.size(); ++t) {
    if (r[t] == kInvalid) {
      c.samples[t] = std::numeric_limits<float>::quiet_NaN();
      ++invalid;
      sum += invalidSampleCode(s.format);
    } else {
      c.samples[t] = static_cast<float>((static_cast<double>(r[t]) - s.baseline) / s.gain * scale);
      sum += r[t];
    }
  }
  if (invalid) warnings.push_back(c.label + ": " + std::to_string(invalid) + " invalid samples set to NaN");
  if (s.hasChecksum) {
    auto cs = static_cast<std::int16_t>(static_cast<std::uint16_t>(sum & 0xFFFF));
    auto expect = static_cast<std::int16_t>(static_cast<std::uint16_t>(s.checksum & 0xFFFF));
    if (cs != expect)
      warnings.push_back(c.label + ": checksum mismatch (header " + std::to_string(s.checksum) + ", computed " +
                         std::to_string(cs) + ")");
  }
  if (s.hasInit && !r.empty() && r[0] != kInvalid && r[0] != s.initValue)
    warnings.push_back(c.label + ": first sample " + std::to_string(r[0]) +
                       " differs from the header initial value " + std::to_string(s.initValue));
  return c;
}

// A comment key as used in rec.extra: lower case, LUDB's angle brackets dropped ("<age>" -> "age").
std::string commentKey(const std::string& raw) {
  std::string key = lower(trim(raw));
  if (key.size() >= 2 && key.front() == '<' && key.back() == '>') key = trim(key.substr(1, key.size() - 2));
  return key;
}

// One diagnosis statement: surrounding spaces and trailing full stops removed.
std::string diagnosisStatement(const std::string& line) {
  std::string s = trim(line);
  while (!s.empty() && (s.back() == '.' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

// Header comments "key: value" into rec.extra (repeated keys joined with "; "; LUDB's "<age>",
// "<sex>" as "age", "sex"); the comma-separated CinC "Dx" codes into rec.diagnoses; after an LUDB
// "<diagnoses>:" line, each comment (up to the next "<key>:" line) is one statement of rec.diagnoses.
void readComments(const Header& h, EcgRecord& rec) {
  bool inDiagnoses = false;
  std::vector<std::string> statements;
  for (const auto& cm : h.comments) {
    std::size_t colon = cm.find(':');
    const bool bracketed = colon != std::string::npos && trim(cm.substr(0, colon)).rfind('<', 0) == 0;
    if (inDiagnoses && !bracketed) {
      if (std::string d = diagnosisStatement(cm); !d.empty()) statements.push_back(d);
      continue;
    }
    if (colon == std::string::npos) continue;
    std::string key = commentKey(cm.substr(0, colon));
    std::string value = trim(cm.substr(colon + 1));
    inDiagnoses = bracketed && key == "diagnoses";
    if (inDiagnoses) {
      if (std::string d = diagnosisStatement(value); !d.empty()) statements.push_back(d);
      continue;
    }
    if (key.empty() || value.empty()) continue;
    auto it = rec.extra.find(key);
    if (it == rec.extra.end()) rec.extra[key] = value;
    else if (it->second != value) it->second += "; " + value;
  }
  if (auto it = rec.extra.find("dx"); it != rec.extra.end()) {
    std::string code;
    std::istringstream is(it->second);
    while (std::getline(is, code, ',')) {
      code = trim(code);
      if (!code.empty()) rec.diagnoses.push_back(code);
    }
  }
  rec.diagnoses.insert(rec.diagnoses.end(), statements.begin(), statements.end());
}

// Identity from the header and its comments; UIDs derived from the content hash.
void fillIdentity(const Header& h, const std::string& contentHash, bool anyMat, EcgRecord& rec) {
  Identity& id = rec.identity;
  id.patientId = h.recordName;
  if (auto it = rec.extra.find("sex"); it != rec.extra.end()) {
    std::string s = lower(it->second);
    if (s == "m" || s == "male") id.sex = "M";
    else if (s == "f" || s == "female") id.sex = "F";
  }
  if (auto it = rec.extra.find("age"); it != rec.extra.end()) id.age = dicomAge(it->second);
  id.studyDate = wfdbDate(h.baseDate);
  id.studyTime = wfdbTime(h.baseTime);
  if (id.studyDate.empty())
    if (auto it = rec.extra.find("ecg date"); it != rec.extra.end()) id.studyDate = wfdbDate(it->second);
  id.studyUid = uidFromHash(sha256Hex(contentHash + "/study"));
  id.seriesUid = uidFromHash(sha256Hex(contentHash + "/series"));
  id.sopInstanceUid = uidFromHash(contentHash);
  id.modality = "ECG";
  id.studyDescription = datasetDescription(h.recordName, anyMat);
  std::ostringstream sd;
  sd << "WFDB " << h.nsig << " signals, " << h.fs << " Hz";
  id.seriesDescription = sd.str();
  id.seriesNumber = 1;
}

}  // namespace

EcgRecord readWfdb(const std::string& pathIn) {
  const fs::path hea = resolveHeaderPath(pathIn);
  const std::string heaPath = hea.string();
  std::error_code ec;
  if (!fs::is_regular_file(hea, ec)) throw ReadError(heaPath, "WFDB header file not found");
  const std::string headerText = readWholeFile(heaPath, "WFDB header");
  if (headerText.empty()) throw ReadError(heaPath, "empty WFDB header");
  const Header h = parseHeader(heaPath, headerText);

  EcgRecord rec;
  rec.format = SourceFormat::Wfdb;
  rec.sourcePath = heaPath;
  const fs::path dir = hea.parent_path();
  const SignalFiles files = groupSignalsByFile(h, heaPath);

  std::vector<std::vector<std::int32_t>> raw(h.nsig);
  Sha256 content;
  content.update(headerText.data(), headerText.size());
  long long nsamples = h.nsamples;
  bool anyMat = false;
  for (std::size_t fi = 0; fi < files.names.size(); ++fi) {
    const fs::path sigPath = dir / files.names[fi];
    const std::string sp = sigPath.string();
    requireResolvedInside(sigPath, dir, heaPath);
    if (!fs::is_regular_file(sigPath, ec))
      throw ReadError(sp, "signal file referenced by " + hea.filename().string() + " not found");
    const std::string data = readWholeFile(sp, "WFDB signal file");
    content.update(data.data(), data.size());
    const bool isMat = lower(sigPath.extension().string()) == ".mat";
    anyMat = anyMat || isMat;
    nsamples = decodeSignalFile(sp, files.names[fi], data, isMat, h, files.signals[fi], nsamples, raw, rec.warnings);
  }

  // Convert to physical units and check initial values and checksums.
  EcgGroup g;
  g.label = "RHYTHM";
  g.originality = "ORIGINAL";
  g.samplingHz = h.fs;
  g.numSamples = static_cast<std::size_t>(nsamples);
  for (int i = 0; i < h.nsig; ++i) g.channels.push_back(makeChannel(h.signals[i], i, raw[i], rec.warnings));
  rec.groups.push_back(std::move(g));

  readComments(h, rec);
  fillIdentity(h, content.hexDigest(), anyMat, rec);
  return rec;
}

}  // namespace e2e
