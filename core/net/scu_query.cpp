// C-ECHO and C-FIND.
#include <chrono>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "net/scu.h"
#include "net/scu_session.h"

namespace e2e::net {
namespace {

const std::vector<std::string> kUncompressed = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"};
const char* kPatientRootFind = "1.2.840.10008.5.1.4.1.2.1.1";
const char* kStudyRootFind = "1.2.840.10008.5.1.4.1.2.2.1";

bool validDate(const std::string& d) {
  if (d.empty()) return true;
  if (d.size() != 8) return false;
  for (char c : d)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string str(DcmDataset* ds, const DcmTagKey& tag) {
  OFString v;
  if (ds && ds->findAndGetOFStringArray(tag, v).good()) return v.c_str();
  return "";
}

int num(DcmDataset* ds, const DcmTagKey& tag) {
  const std::string s = str(ds, tag);
  if (s.empty()) return -1;
  try {
    return std::stoi(s);
  } catch (...) {
    return -1;
  }
}

void put(DcmDataset& ds, const DcmTagKey& tag, const std::string& v) { ds.putAndInsertString(tag, v.c_str()); }

void buildKeys(const FindRequest& r, DcmDataset& ds) {
  const char* level = r.level == QueryLevel::Patient ? "PATIENT" : r.level == QueryLevel::Study ? "STUDY" : "SERIES";
  put(ds, DCM_QueryRetrieveLevel, level);
  put(ds, DCM_PatientID, r.patientId);
  put(ds, DCM_PatientName, r.patientName);
  if (r.level == QueryLevel::Patient) {
    put(ds, DCM_PatientBirthDate, "");
    put(ds, DCM_PatientSex, "");
    put(ds, DCM_NumberOfPatientRelatedStudies, "");
    return;
  }
  put(ds, DCM_StudyInstanceUID, r.studyUid);
  if (r.level == QueryLevel::Study) {
    std::string range;
    if (!r.dateFrom.empty() || !r.dateTo.empty())
      range = r.dateFrom == r.dateTo ? r.dateFrom : r.dateFrom + "-" + r.dateTo;
    put(ds, DCM_StudyDate, range);
    put(ds, DCM_StudyTime, "");
    put(ds, DCM_AccessionNumber, r.accession);
    put(ds, DCM_StudyDescription, "");
    put(ds, DCM_ModalitiesInStudy, r.modality);
    put(ds, DCM_PatientBirthDate, "");
    put(ds, DCM_PatientSex, "");
    put(ds, DCM_NumberOfStudyRelatedSeries, "");
    put(ds, DCM_NumberOfStudyRelatedInstances, "");
    return;
  }
  put(ds, DCM_SeriesInstanceUID, "");
  put(ds, DCM_Modality, r.modality);
  put(ds, DCM_SeriesNumber, "");
  put(ds, DCM_SeriesDescription, "");
  put(ds, DCM_NumberOfSeriesRelatedInstances, "");
}

FindRow toRow(QueryLevel level, DcmDataset* ds) {
  FindRow row;
  row.level = level;
  row.patientId = str(ds, DCM_PatientID);
  row.patientName = str(ds, DCM_PatientName);
  row.birthDate = str(ds, DCM_PatientBirthDate);
  row.sex = str(ds, DCM_PatientSex);
  row.studyUid = str(ds, DCM_StudyInstanceUID);
  row.studyDate = str(ds, DCM_StudyDate);
  row.studyTime = str(ds, DCM_StudyTime);
  row.accession = str(ds, DCM_AccessionNumber);
  row.studyDescription = str(ds, DCM_StudyDescription);
  row.modalitiesInStudy = str(ds, DCM_ModalitiesInStudy);
  row.seriesUid = str(ds, DCM_SeriesInstanceUID);
  row.modality = str(ds, DCM_Modality);
  row.seriesDescription = str(ds, DCM_SeriesDescription);
  row.seriesNumber = num(ds, DCM_SeriesNumber);
  row.numStudies = num(ds, DCM_NumberOfPatientRelatedStudies);
  row.numSeries = num(ds, DCM_NumberOfStudyRelatedSeries);
  row.numInstances = num(ds, level == QueryLevel::Series ? DCM_NumberOfSeriesRelatedInstances
                                                         : DCM_NumberOfStudyRelatedInstances);
  return row;
}

}  // namespace

const char* toString(QueryLevel l) {
  switch (l) {
    case QueryLevel::Patient: return "patient";
    case QueryLevel::Study: return "study";
    default: return "series";
  }
}

QueryLevel parseQueryLevel(const std::string& s) {
  if (s == "patient" || s == "PATIENT") return QueryLevel::Patient;
  if (s == "study" || s == "STUDY") return QueryLevel::Study;
  if (s == "series" || s == "SERIES") return QueryLevel::Series;
  throw std::invalid_argument("query level '" + s + "' is not patient, study or series");
}

EchoReport echo(const Association& assoc) {
  job::CancelToken none;
  ScuSession scu(assoc, none);
  scu.propose(UID_VerificationSOPClass, kUncompressed);
  const auto t0 = std::chrono::steady_clock::now();
  scu.connect();
  const OFCondition c = scu.sendECHORequest(scu.contextFor(UID_VerificationSOPClass));
  if (c.bad()) throw scu.failure(c, "C-ECHO");
  EchoReport r;
  r.roundTripMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  scu.close();
  return r;
}

FindReport find(const Association& assoc, const FindRequest& req, const job::CancelToken& cancel,
                const std::function<void(const FindRow&)>& onRow) {
  if (!validDate(req.dateFrom) || !validDate(req.dateTo))
    throw std::invalid_argument("dates must be YYYYMMDD (got '" + req.dateFrom + "'-'" + req.dateTo + "')");
  if (req.maxResults < 0) throw std::invalid_argument("maxResults must be >= 0");
  const char* model = req.level == QueryLevel::Patient ? kPatientRootFind : kStudyRootFind;
  ScuSession scu(assoc, cancel);
  scu.propose(model, kUncompressed);
  scu.connect();
  const T_ASC_PresentationContextID pc = scu.contextFor(model);
  FindReport rep;
  scu.maxRows = req.maxResults;
  scu.onFind = [&](QRResponse& r) {
    rep.rows.push_back(toRow(req.level, r.m_dataset));
    if (onRow) onRow(rep.rows.back());
  };
  DcmDataset keys;
  buildKeys(req, keys);
  OFList<QRResponse*> responses;
  const OFCondition c = scu.sendFINDRequest(pc, &keys, &responses);
  for (auto* r : responses) {
    if (!isDimsePending(r->m_status)) rep.status = r->m_status;
    delete r;
  }
  if (c.bad()) throw scu.failure(c, "C-FIND");
  rep.cancelled = scu.cancelSent() && cancel.cancelled();
  if (isDimseCancel(rep.status) && !cancel.cancelled()) rep.status = 0;  // stopped at maxResults
  rep.statusText = dimseStatusText(rep.status);
  scu.close();
  return rep;
}

}  // namespace e2e::net
