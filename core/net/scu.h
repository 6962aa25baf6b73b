// DICOM SCU operations against a peer (a PACS such as Orthanc, a modality): C-ECHO, C-FIND at
// patient / study / series level, C-GET into a folder (optionally imported into the database),
// C-MOVE to a destination AE, and C-STORE of files. Each takes a typed request and returns a
// typed report; long operations take a job::CancelToken (C-CANCEL is sent on cancel) and report
// progress through a callback. Network failures throw NetError (net/net_common.h); bad requests
// throw std::invalid_argument. Qt-free, never prints.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "net/net_common.h"
#include "net/received_store.h"

namespace e2e::net {

// ---- C-ECHO
struct EchoReport {
  std::uint16_t status = 0;
  double roundTripMs = 0;
};
EchoReport echo(const Association& assoc);

// ---- C-FIND (Study Root, or Patient Root at patient level)
enum class QueryLevel { Patient, Study, Series };
const char* toString(QueryLevel l);
QueryLevel parseQueryLevel(const std::string& s);  // "patient" / "study" / "series"; throws invalid_argument

struct FindRequest {
  QueryLevel level = QueryLevel::Study;
  std::string patientId, patientName;  // DICOM wildcards * and ? allowed
  std::string dateFrom, dateTo;        // YYYYMMDD (either may be empty)
  std::string modality;                // e.g. ECG, US (study: ModalitiesInStudy; series: Modality)
  std::string accession;
  std::string studyUid;                // required at series level
  int maxResults = 0;                  // 0: all; else C-CANCEL after this many
};

struct FindRow {
  QueryLevel level = QueryLevel::Study;
  std::string patientId, patientName, birthDate, sex;
  std::string studyUid, studyDate, studyTime, accession, studyDescription, modalitiesInStudy;
  std::string seriesUid, modality, seriesDescription;
  int seriesNumber = -1;
  int numStudies = -1, numSeries = -1, numInstances = -1;  // -1: not returned by the peer
};

struct FindReport {
  std::vector<FindRow> rows;
  std::uint16_t status = 0;  // final DIMSE status
  std::string statusText;
  bool cancelled = false;
  bool ok() const { return status == 0 && !cancelled; }
};
FindReport find(const Association& assoc, const FindRequest& req, const job::CancelToken& cancel = {},
                const std::function<void(const FindRow&)>& onRow = {});

// ---- C-GET / C-MOVE
struct RetrieveRequest {
  QueryLevel level = QueryLevel::Study;  // Study or Series
  std::string studyUid, seriesUid;       // seriesUid required at series level
  // C-GET: where objects go (folder; empty = <db>.received) and the database they are imported into
  // (empty = folder only).
  std::string folder, dbPath;
  std::string destinationAet;  // C-MOVE: the AE the peer sends to (must be known to the peer)
};

struct RetrieveProgress {
  int remaining = -1, completed = 0, failed = 0, warning = 0;  // the peer's sub-operation counts
  int received = 0;                                            // C-GET: objects that reached us
  std::string lastUid;
};

struct ObjectIssue {
  std::string sopInstanceUid, path;
  std::uint16_t status = 0;
  std::string message;
};

struct RetrieveReport {
  int completed = 0, failed = 0, warning = 0, remaining = 0;  // from the peer's final response
  std::uint16_t status = 0;
  std::string statusText;
  bool cancelled = false;
  // C-GET only: what became of each object received.
  int received = 0, added = 0, stored = 0, notImported = 0, skipped = 0;
  std::vector<ObjectIssue> conflicts, errors, notImportedObjects;
  std::vector<std::string> files;  // files kept (Added / Stored / NotImported)
  double seconds = 0;
  bool ok() const { return status == 0 && failed == 0 && !cancelled && conflicts.empty() && errors.empty(); }
};
RetrieveReport get(const Association& assoc, const RetrieveRequest& req, const job::CancelToken& cancel = {},
                   const std::function<void(const RetrieveProgress&)>& progress = {});
// Several C-GETs one after another on one association (e.g. a list of studies), all into the
// same folder / database: one report per request, in order. Stops sending on cancel (the reports
// end with the cancelled one); a network failure throws NetError.
std::vector<RetrieveReport> getMany(const Association& assoc, const std::vector<RetrieveRequest>& reqs,
                                    const job::CancelToken& cancel = {},
                                    const std::function<void(std::size_t index, const RetrieveProgress&)>& progress = {});
RetrieveReport move(const Association& assoc, const RetrieveRequest& req, const job::CancelToken& cancel = {},
                    const std::function<void(const RetrieveProgress&)>& progress = {});

// ---- C-STORE (send)
struct SendRequest {
  std::vector<std::string> files;
};
struct SendProgress {
  int done = 0, total = 0;
  std::string currentFile;
};
struct SendReport {
  int sent = 0, warnings = 0;
  std::vector<ObjectIssue> failures;  // file not readable, SOP class not accepted, DIMSE failure
  bool cancelled = false;
  std::uint64_t bytes = 0;
  double seconds = 0;
  bool ok() const { return failures.empty() && !cancelled; }
};
SendReport send(const Association& assoc, const SendRequest& req, const job::CancelToken& cancel = {},
                const std::function<void(const SendProgress&)>& progress = {});

}  // namespace e2e::net
