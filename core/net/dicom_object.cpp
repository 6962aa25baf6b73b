#include "net/dicom_object.h"

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcvrui.h>

#include <filesystem>
#include <stdexcept>

namespace e2e::net {

bool validDicomUid(const std::string& uid) {
  return !uid.empty() && DcmUniqueIdentifier::checkStringValue(uid.c_str(), "1").good();
}

bool isAsciiText(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

void saveDicomAtomic(DcmFileFormat& file, const std::string& outPath) {
  namespace fs = std::filesystem;
  const fs::path out(outPath);
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("cannot write " + outPath + ": no folder " + dir.string());
  const std::string tmp = outPath + ".part";
  const OFCondition cond = file.saveFile(tmp.c_str(), EXS_LittleEndianExplicit);
  if (cond.bad()) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + tmp + ": " + cond.text());
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error("cannot rename " + tmp + " to " + outPath + ": " + ec.message());
  }
}

}  // namespace e2e::net
