// Helpers of the printout tests: poppler's command-line tools (pdfinfo, pdftotext, pdftoppm) on
// a written PDF, and grid/pulse measurements on the rasterised page.
#pragma once

#include <QImage>
#include <QString>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <string>
#include <unistd.h>
#include <vector>

#include "common/process.h"

namespace e2e::test {

inline bool havePoppler() {
  return ::access("/usr/bin/pdfinfo", X_OK) == 0 && ::access("/usr/bin/pdftotext", X_OK) == 0 &&
         ::access("/usr/bin/pdftoppm", X_OK) == 0;
}

inline std::string run(const std::vector<std::string>& argv) {
  const ProcessResult r = runProcess(argv);
  return r.ok() ? r.out : std::string("FAILED: ") + r.err + r.startError;
}

inline std::string pdfInfo(const QString& pdf) { return run({"pdfinfo", pdf.toStdString()}); }
inline std::string pdfText(const QString& pdf) { return run({"pdftotext", "-layout", pdf.toStdString(), "-"}); }
// pdftotext's text with the typographic ligatures the font draws (U+FB00-FB04: "ﬂat", "ﬁlters")
// spelled out, so that words can be searched.
inline std::string pdfWords(const QString& pdf) {
  std::string t = pdfText(pdf);
  const std::pair<const char*, const char*> lig[] = {
      {"\xEF\xAC\x80", "ff"}, {"\xEF\xAC\x81", "fi"}, {"\xEF\xAC\x82", "fl"}, {"\xEF\xAC\x83", "ffi"}, {"\xEF\xAC\x84", "ffl"}};
  for (const auto& [from, to] : lig)
    for (auto at = t.find(from); at != std::string::npos; at = t.find(from, at)) t.replace(at, 3, to);
  return t;
}

// "Page size:      841.89 x 595.276 pts (A4)" -> {595.276, 841.89} (short side first).
inline std::pair<double, double> pdfPageSizePt(const std::string& info) {
  const auto at = info.find("Page size:");
  if (at == std::string::npos) return {0, 0};
  double w = 0, h = 0;
  if (std::sscanf(info.c_str() + at, "Page size: %lf x %lf", &w, &h) != 2) return {0, 0};
  return {std::min(w, h), std::max(w, h)};
}

inline int pdfPages(const std::string& info) {
  const auto at = info.find("Pages:");
  int n = 0;
  if (at == std::string::npos || std::sscanf(info.c_str() + at, "Pages: %d", &n) != 1) return -1;
  return n;
}

// A region of the page (millimetres from its top-left) rasterised at `pxPerMm` by pdftoppm.
inline QImage rasterMm(const QString& pdf, double pxPerMm, double xMm, double yMm, double wMm, double hMm,
                       const QTemporaryDir& tmp) {
  const std::string dpi = std::to_string(static_cast<int>(std::lround(pxPerMm * 25.4)));
  const std::string base = tmp.filePath(QStringLiteral("raster")).toStdString();
  const ProcessResult r = runProcess({"pdftoppm", "-r", dpi, "-png", "-singlefile", "-x",
                                      std::to_string(std::lround(xMm * pxPerMm)), "-y",
                                      std::to_string(std::lround(yMm * pxPerMm)), "-W",
                                      std::to_string(std::lround(wMm * pxPerMm)), "-H",
                                      std::to_string(std::lround(hMm * pxPerMm)), pdf.toStdString(), base});
  if (!r.ok()) return {};
  return QImage(QString::fromStdString(base + ".png"));
}

// The major (5 mm) grid line red, not the pink minor lines and not black traces.
inline bool isMajorRed(const QColor& c) { return c.red() > 190 && c.green() < 150 && c.blue() < 165; }

// Centres (pixels) of the lines of major red along x (vertical lines: columns where most pixels
// are major red) or along y (rows).
inline std::vector<double> majorLineCentres(const QImage& img, bool vertical) {
  const int n = vertical ? img.width() : img.height(), m = vertical ? img.height() : img.width();
  std::vector<bool> line(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    int hits = 0;
    for (int j = 0; j < m; ++j) hits += isMajorRed(img.pixelColor(vertical ? i : j, vertical ? j : i));
    line[static_cast<std::size_t>(i)] = hits > m * 0.6;
  }
  std::vector<double> centres;
  for (int i = 0; i < n;) {
    if (!line[static_cast<std::size_t>(i)]) { ++i; continue; }
    int j = i;
    while (j < n && line[static_cast<std::size_t>(j)]) ++j;
    centres.push_back((i + j - 1) / 2.0);
    i = j;
  }
  return centres;
}

inline std::vector<double> spacings(const std::vector<double>& c) {
  std::vector<double> s;
  for (std::size_t i = 1; i < c.size(); ++i) s.push_back(c[i] - c[i - 1]);
  return s;
}

// The longest vertical run of dark pixels in the image (the calibration pulse's rising edge).
inline int longestDarkColumnRun(const QImage& img) {
  int best = 0;
  for (int x = 0; x < img.width(); ++x) {
    int run = 0;
    for (int y = 0; y < img.height(); ++y) {
      const QColor c = img.pixelColor(x, y);
      run = (c.red() < 110 && c.green() < 110 && c.blue() < 110) ? run + 1 : 0;
      best = std::max(best, run);
    }
  }
  return best;
}

// Pixels of the printout's caliper blue.
inline int caliperBluePixels(const QImage& img) {
  int n = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor c = img.pixelColor(x, y);
      n += c.blue() > 150 && c.red() < 90 && c.green() < 130;
    }
  return n;
}

}  // namespace e2e::test
