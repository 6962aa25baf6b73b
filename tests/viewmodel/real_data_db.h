// A study database imported from real files of E2E_DATA_DIR, shared by the study tree tests
// (tests/viewmodel) and the study browser GUI test (tests/gui_browser).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "db/database.h"
#include "jobs/import/importer.h"
#include "test_util.h"

namespace e2e::test {

// The DICOM ECGs, the ultrasound DICOMs and the LUDB WFDB records (one patient each).
inline std::vector<std::string> browserDataFolders() {
  return {dataFile("ecg_dicom").string(), dataFile("us_dicom").string(), dataFile("ecg_wfdb/ludb/data").string()};
}

// Imports browserDataFolders() into a new database at dbPath; returns the import report.
inline importer::ImportReport importBrowserData(const std::string& dbPath) {
  db::Database database(dbPath);
  importer::ImportOptions o;
  o.paths = browserDataFolders();
  return importer::runImport(database, o);
}

}  // namespace e2e::test
