// C-GET (objects come back on the same association, no inbound port) and C-MOVE.
#include <chrono>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>

#include "net/scu.h"
#include "net/scu_session.h"

namespace e2e::net {
namespace {

const std::vector<std::string> kUncompressed = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"};
const char* kStudyRootMove = "1.2.840.10008.5.1.4.1.2.2.2";
const char* kStudyRootGet = "1.2.840.10008.5.1.4.1.2.2.3";

void checkRequest(const RetrieveRequest& r) {
  if (r.level == QueryLevel::Patient) throw std::invalid_argument("retrieve works at study or series level");
  if (r.studyUid.empty()) throw std::invalid_argument("retrieve needs a Study Instance UID");
  if (r.level == QueryLevel::Series && r.seriesUid.empty())
    throw std::invalid_argument("retrieve at series level needs a Series Instance UID");
}

void buildKeys(const RetrieveRequest& r, DcmDataset& ds) {
  ds.putAndInsertString(DCM_QueryRetrieveLevel, r.level == QueryLevel::Series ? "SERIES" : "STUDY");
  ds.putAndInsertString(DCM_StudyInstanceUID, r.studyUid.c_str());
  if (r.level == QueryLevel::Series) ds.putAndInsertString(DCM_SeriesInstanceUID, r.seriesUid.c_str());
}

// Counts from each response; the final (non-pending) one fills the report.
void onResponse(const RetrieveResponse& r, RetrieveReport& rep, RetrieveProgress& prog,
                const std::function<void(const RetrieveProgress&)>& progress) {
  prog.remaining = r.m_numberOfRemainingSubops;
  prog.completed = r.m_numberOfCompletedSubops;
  prog.failed = r.m_numberOfFailedSubops;
  prog.warning = r.m_numberOfWarningSubops;
  if (!isDimsePending(r.m_status)) {
    rep.status = r.m_status;
    rep.completed = r.m_numberOfCompletedSubops;
    rep.failed = r.m_numberOfFailedSubops;
    rep.warning = r.m_numberOfWarningSubops;
    rep.remaining = r.m_numberOfRemainingSubops;
  }
  if (progress) progress(prog);
}

void tally(const StoreResult& s, RetrieveReport& rep) {
  ++rep.received;
  const ObjectIssue issue{s.sopInstanceUid, s.path, s.dimseStatus, s.message};
  switch (s.outcome) {
    case StoreOutcome::Added: ++rep.added; rep.files.push_back(s.path); break;
    case StoreOutcome::Stored: ++rep.stored; rep.files.push_back(s.path); break;
    case StoreOutcome::NotImported:
      ++rep.notImported;
      rep.files.push_back(s.path);
      rep.notImportedObjects.push_back(issue);
      break;
    case StoreOutcome::Skipped: ++rep.skipped; break;
    case StoreOutcome::Conflict: rep.conflicts.push_back(issue); break;
    default: rep.errors.push_back(issue); break;
  }
}

// Runs one C-GET or C-MOVE request on a connected session and fills the report.
void runRetrieve(ScuSession& scu, bool isGet, const RetrieveRequest& req, const job::CancelToken& cancel,
                 RetrieveReport& rep) {
  const char* model = isGet ? kStudyRootGet : kStudyRootMove;
  const T_ASC_PresentationContextID pc = scu.contextFor(model);
  DcmDataset keys;
  buildKeys(req, keys);
  OFList<RetrieveResponse*> responses;
  const OFCondition c = isGet ? scu.sendCGETRequest(pc, &keys, &responses)
                              : scu.sendMOVERequest(pc, req.destinationAet.c_str(), &keys, &responses);
  for (auto* r : responses) delete r;
  rep.cancelled = cancel.cancelled();
  if (c.bad() && !rep.cancelled) throw scu.failure(c, isGet ? "C-GET" : "C-MOVE");
  if (rep.cancelled && !isDimseCancel(rep.status) && c.bad()) rep.status = 0xFE00;
  rep.statusText = dimseStatusText(rep.status);
  if (c.bad()) scu.close(true);
}

}  // namespace

RetrieveReport get(const Association& assoc, const RetrieveRequest& req, const job::CancelToken& cancel,
                   const std::function<void(const RetrieveProgress&)>& progress) {
  auto reps = getMany(assoc, {req}, cancel, [&](std::size_t, const RetrieveProgress& p) {
    if (progress) progress(p);
  });
  return reps.front();
}

std::vector<RetrieveReport> getMany(const Association& assoc, const std::vector<RetrieveRequest>& reqs,
                                    const job::CancelToken& cancel,
                                    const std::function<void(std::size_t, const RetrieveProgress&)>& progress) {
  if (reqs.empty()) throw std::invalid_argument("nothing to retrieve");
  for (const auto& r : reqs) {
    checkRequest(r);
    if (r.folder != reqs.front().folder || r.dbPath != reqs.front().dbPath)
      throw std::invalid_argument("the retrieves of one association go to one folder and database");
  }
  if (reqs.front().folder.empty() && reqs.front().dbPath.empty())
    throw std::invalid_argument("C-GET needs a folder or a database");
  ReceivedStore store(reqs.front().dbPath, reqs.front().folder);
  ScuSession scu(assoc, cancel);
  scu.propose(kStudyRootGet, kUncompressed);
  scu.proposeStorageForGet();
  scu.connect();
  std::vector<RetrieveReport> reps;
  reps.reserve(reqs.size());
  RetrieveProgress prog;
  scu.store = &store;
  scu.onStored = [&](const StoreResult& s) {
    tally(s, reps.back());
    prog.received = reps.back().received;
    prog.lastUid = s.sopInstanceUid;
    if (progress) progress(reps.size() - 1, prog);
  };
  scu.onRetrieve = [&](RetrieveResponse& r) {
    onResponse(r, reps.back(), prog, [&](const RetrieveProgress& p) {
      if (progress) progress(reps.size() - 1, p);
    });
  };
  for (const auto& req : reqs) {
    if (cancel.cancelled()) break;
    const auto t0 = std::chrono::steady_clock::now();
    reps.emplace_back();
    prog = RetrieveProgress();
    runRetrieve(scu, true, req, cancel, reps.back());
    reps.back().seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  scu.close();
  return reps;
}

RetrieveReport move(const Association& assoc, const RetrieveRequest& req, const job::CancelToken& cancel,
                    const std::function<void(const RetrieveProgress&)>& progress) {
  checkRequest(req);
  if (!validAeTitle(req.destinationAet))
    throw std::invalid_argument("C-MOVE needs a destination AE title (1-16 printable characters)");
  const auto t0 = std::chrono::steady_clock::now();
  ScuSession scu(assoc, cancel);
  scu.propose(kStudyRootMove, kUncompressed);
  scu.connect();
  RetrieveReport rep;
  RetrieveProgress prog;
  scu.onRetrieve = [&](RetrieveResponse& r) { onResponse(r, rep, prog, progress); };
  runRetrieve(scu, false, req, cancel, rep);
  scu.close();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace e2e::net
