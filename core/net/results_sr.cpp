// Predictions as a DICOM Comprehensive SR (see results_sr.h for the content tree).
#include "net/results_sr.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrui.h>
#include <dcmtk/dcmsr/codes/dcm.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "net/dicom_object.h"

namespace e2e::net {

namespace {

using DT = DSRTypes;

void bad(const std::string& what) { throw std::invalid_argument("prediction SR: " + what); }

// A DCMTK call that must succeed; a failure names what was being set and DCMTK's reason.
void must(const OFCondition& cond, const std::string& what) {
  if (cond.bad()) throw std::invalid_argument("prediction SR: invalid " + what + " (" + cond.text() + ")");
}

void checkAdded(const OFCondition& cond, const std::string& what) {
  if (cond.bad()) throw std::runtime_error("prediction SR: cannot add " + what + " (" + cond.text() + ")");
}

// 8 hex digits of the 32-bit FNV-1a hash: stable private code values (SH, at most 16 characters).
std::string codeValue(char prefix, const std::string& text) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%08X", prefix, static_cast<unsigned>(h));
  return buf;
}

// Code meanings are LO: at most 64 characters.
std::string meaning(const std::string& text) { return text.size() <= 64 ? text : text.substr(0, 61) + "..."; }

DSRCodedEntryValue privateCode(const std::string& value, const std::string& meaningText) {
  return DSRCodedEntryValue(value, kSrPrivateScheme, meaning(meaningText));
}

void validate(const PredictionSrRequest& req) {
  const SrSourceStudy& s = req.source;
  if (!validDicomUid(s.studyUid)) bad("the source Study Instance UID '" + s.studyUid + "' is missing or not a UID");
  const bool anyRef = !s.seriesUid.empty() || !s.sopClassUid.empty() || !s.sopInstanceUid.empty();
  if (anyRef && !(validDicomUid(s.seriesUid) && validDicomUid(s.sopClassUid) && validDicomUid(s.sopInstanceUid)))
    bad("the source ECG reference needs a valid series, SOP class and SOP instance UID (got '" + s.seriesUid +
        "', '" + s.sopClassUid + "', '" + s.sopInstanceUid + "')");
  if (req.model.id.empty()) bad("the model id is empty");
  if (req.model.version.empty()) bad("the model version is empty");
  if (req.model.weightsHash.empty()) bad("the model weights hash is empty");
  if (req.predictions.empty()) bad("there are no predictions");
  std::set<std::string> tasks;
  for (const auto& t : req.predictions) {
    if (t.task.empty()) bad("a prediction task has no name");
    if (!tasks.insert(t.task).second) bad("the task '" + t.task + "' is given twice");
    const bool declined = t.trust && !t.trust->qualityUsable;
    if (t.classes.empty() && !declined) bad("the task '" + t.task + "' has no class probabilities");
    if (declined && !t.classes.empty()) bad("the task '" + t.task + "' was declined but has class probabilities");
    if (t.trust && t.trust->ood != "in" && t.trust->ood != "out" && t.trust->ood != "unknown")
      bad("the OOD flag of '" + t.task + "' is '" + t.trust->ood + "', not in, out or unknown");
    std::set<std::string> labels;
    for (const auto& c : t.classes) {
      if (c.label.empty()) bad("a class of the task '" + t.task + "' has no label");
      if (!labels.insert(c.label).second) bad("the class '" + c.label + "' of '" + t.task + "' is given twice");
      if (!std::isfinite(c.probability) || c.probability < 0.0 || c.probability > 1.0)
        bad("the probability of '" + c.label + "' (" + t.task + ") is " + std::to_string(c.probability) +
            ", not in [0, 1]");
    }
  }
}

bool requestIsAscii(const PredictionSrRequest& req) {
  const SrSourceStudy& s = req.source;
  bool ascii = isAsciiText(s.patientId) && isAsciiText(s.patientName) && isAsciiText(s.accessionNumber) &&
               isAsciiText(s.studyDescription) && isAsciiText(req.model.id) && isAsciiText(req.model.version) &&
               isAsciiText(req.model.weightsHash) && isAsciiText(req.seriesDescription);
  for (const auto& t : req.predictions) {
    ascii = ascii && isAsciiText(t.task);
    for (const auto& c : t.classes) ascii = ascii && isAsciiText(c.label);
    if (t.trust) ascii = ascii && isAsciiText(t.trust->qualityReason);
  }
  return ascii;
}

void setIfGiven(const std::string& value, OFCondition (DSRDocument::*setter)(const OFString&, const OFBool),
                DSRDocument& doc, const std::string& what) {
  if (!value.empty()) must((doc.*setter)(value.c_str(), OFTrue), what + " '" + value + "'");
}

// Patient, study and series: the source's patient and study, a new series and SOP instance.
void setHeader(DSRDocument& doc, const PredictionSrRequest& req) {
  const SrSourceStudy& s = req.source;
  if (!requestIsAscii(req)) must(doc.setSpecificCharacterSetType(DSRTypes::CS_UTF8), "character set");
  setIfGiven(s.patientId, &DSRDocument::setPatientID, doc, "patient ID");
  setIfGiven(s.patientName, &DSRDocument::setPatientName, doc, "patient name");
  setIfGiven(s.birthDate, &DSRDocument::setPatientBirthDate, doc, "patient birth date");
  setIfGiven(s.sex, &DSRDocument::setPatientSex, doc, "patient sex");
  must(doc.createNewSeriesInStudy(s.studyUid.c_str(), OFTrue), "Study Instance UID '" + s.studyUid + "'");
  setIfGiven(s.accessionNumber, &DSRDocument::setAccessionNumber, doc, "accession number");
  setIfGiven(s.studyDate, &DSRDocument::setStudyDate, doc, "study date");
  setIfGiven(s.studyTime, &DSRDocument::setStudyTime, doc, "study time");
  setIfGiven(s.studyDescription, &DSRDocument::setStudyDescription, doc, "study description");
  setIfGiven(s.studyId, &DSRDocument::setStudyID, doc, "study ID");
  setIfGiven(s.referringPhysician, &DSRDocument::setReferringPhysicianName, doc, "referring physician");
  setIfGiven(req.seriesDescription, &DSRDocument::setSeriesDescription, doc, "series description");
  must(doc.setManufacturer(kSrManufacturer), "manufacturer");
  must(doc.setSeriesNumber("9001"), "series number");
  must(doc.setInstanceNumber("1"), "instance number");
  // Declares the private coding scheme (Coding Scheme Identification Sequence).
  DSRCodingSchemeIdentificationList& schemes = doc.getCodingSchemeIdentification();
  checkAdded(schemes.addItem(kSrPrivateScheme), "the private coding scheme");
  must(schemes.setCodingSchemeName("Echo2ECG Workstation private codes"), "coding scheme name");
  must(schemes.setCodingSchemeResponsibleOrganization(kSrManufacturer), "coding scheme organization");
  if (!s.sopInstanceUid.empty())
    checkAdded(doc.getCurrentRequestedProcedureEvidence().addItem(s.studyUid.c_str(), s.seriesUid.c_str(),
                                                                  s.sopClassUid.c_str(), s.sopInstanceUid.c_str()),
               "the source ECG to the evidence sequence");
}

// Adds a TEXT item after the current one (or below it when BELOW).
void addText(DSRDocumentTree& tree, const DSRCodedEntryValue& concept, const std::string& text, bool below = false) {
  const size_t id = tree.addContentItem(DT::RT_contains, DT::VT_Text, below ? DT::AM_belowCurrent : DT::AM_afterCurrent);
  if (id == 0) throw std::runtime_error("prediction SR: cannot add the TEXT item " + concept.getCodeMeaning());
  must(tree.getCurrentContentItem().setConceptName(concept), "concept " + concept.getCodeMeaning());
  must(tree.getCurrentContentItem().setStringValue(text.c_str()), concept.getCodeMeaning() + " '" + text + "'");
}

void addSourceReference(DSRDocumentTree& tree, const SrSourceStudy& s) {
  if (s.sopInstanceUid.empty()) return;
  // Every waveform storage SOP class (ECG, hemodynamic, EP, audio, ...) is 1.2.840.10008.5.1.4.1.1.9.x.
  const bool waveform = s.sopClassUid.rfind("1.2.840.10008.5.1.4.1.1.9.", 0) == 0;
  const DT::E_ValueType type = waveform ? DT::VT_Waveform : DT::VT_Composite;
  if (tree.addContentItem(DT::RT_contains, type, DT::AM_afterCurrent) == 0)
    throw std::runtime_error("prediction SR: cannot add the reference to the source ECG");
  DSRContentItem& item = tree.getCurrentContentItem();
  must(item.setConceptName(DSRCodedEntryValue(CODE_DCM_SourceOfMeasurement)), "source reference concept");
  if (waveform)
    must(item.setWaveformReference(DSRWaveformReferenceValue(s.sopClassUid.c_str(), s.sopInstanceUid.c_str())),
         "source ECG reference");
  else
    must(item.setCompositeReference(DSRCompositeReferenceValue(s.sopClassUid.c_str(), s.sopInstanceUid.c_str())),
         "source ECG reference");
}

std::string percentText(double probability) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", probability * 100.0);
  return buf;
}

// A NUM item (UCUM "1", no unit) after the current one.
void addUnitless(DSRDocumentTree& tree, const DSRCodedEntryValue& concept, double v) {
  if (tree.addContentItem(DT::RT_contains, DT::VT_Num, DT::AM_afterCurrent) == 0)
    throw std::runtime_error("prediction SR: cannot add the NUM item " + concept.getCodeMeaning());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  DSRNumericMeasurementValue value(buf, DSRCodedEntryValue("1", "UCUM", "no units"));
  must(value.setFloatingPointRepresentation(v), concept.getCodeMeaning());
  must(tree.getCurrentContentItem().setConceptName(concept), "concept " + concept.getCodeMeaning());
  must(tree.getCurrentContentItem().setNumericValue(value), concept.getCodeMeaning());
}

// Issue 23: the ECG's signal quality and the OOD flag of a task, after its probabilities.
void addTrust(DSRDocumentTree& tree, const SrTrust& tr) {
  addUnitless(tree, privateCode("E2E-QSCORE", "Signal quality score"), tr.qualityScore);
  addText(tree, privateCode("E2E-QUALITY", "Signal quality"),
          tr.qualityUsable ? std::string("usable") : "not usable: " + tr.qualityReason);
  if (!tr.qualityUsable) addText(tree, privateCode("E2E-DECLINED", "Prediction declined"), tr.qualityReason);
  if (std::isfinite(tr.oodScore)) addUnitless(tree, privateCode("E2E-OODSCORE", "Out-of-distribution score"), tr.oodScore);
  if (std::isfinite(tr.oodThreshold))
    addUnitless(tree, privateCode("E2E-OODTHR", "Out-of-distribution threshold"), tr.oodThreshold);
  if (std::isfinite(tr.oodInputScore)) {
    addUnitless(tree, privateCode("E2E-OODIN", "Out-of-distribution input score"), tr.oodInputScore);
    addUnitless(tree, privateCode("E2E-OODINTHR", "Out-of-distribution input threshold"), tr.oodInputThreshold);
  }
  std::string flag = tr.ood;
  if (tr.ood == "out") flag += ": the ECG lies outside the model's training data";
  else if (tr.ood == "unknown") flag += tr.qualityUsable ? ": the model has no out-of-distribution statistics"
                                                          : ": not scored (declined)";
  addText(tree, privateCode("E2E-OOD", "Out-of-distribution flag"), flag);
}

// A CONTAINER for the task, its probabilities as NUM items and the most probable class.
void addTask(DSRDocumentTree& tree, const SrTaskPrediction& t) {
  if (t.classes.empty()) {  // declined (checked by the request validation)
    if (tree.addContentItem(DT::RT_contains, DT::VT_Container, DT::AM_afterCurrent) == 0)
      throw std::runtime_error("prediction SR: cannot add the container of task " + t.task);
    must(tree.getCurrentContentItem().setConceptName(privateCode(codeValue('T', t.task), t.task)), "task " + t.task);
    addText(tree, privateCode("E2E-DECLINED", "Prediction declined"), t.trust->qualityReason, true);
    addUnitless(tree, privateCode("E2E-QSCORE", "Signal quality score"), t.trust->qualityScore);
    tree.goUp();
    return;
  }
  if (tree.addContentItem(DT::RT_contains, DT::VT_Container, DT::AM_afterCurrent) == 0)
    throw std::runtime_error("prediction SR: cannot add the container of task " + t.task);
  must(tree.getCurrentContentItem().setConceptName(privateCode(codeValue('T', t.task), t.task)), "task " + t.task);
  const DSRCodedEntryValue percent("%", "UCUM", "percent");
  const SrClassProbability* best = &t.classes.front();
  bool first = true;
  for (const auto& c : t.classes) {
    if (c.probability > best->probability) best = &c;
    const size_t id = tree.addContentItem(DT::RT_contains, DT::VT_Num, first ? DT::AM_belowCurrent : DT::AM_afterCurrent);
    if (id == 0) throw std::runtime_error("prediction SR: cannot add the probability of " + c.label);
    first = false;
    DSRContentItem& item = tree.getCurrentContentItem();
    must(item.setConceptName(privateCode(codeValue('P', t.task + "\n" + c.label), "Probability: " + c.label)),
         "class " + c.label);
    DSRNumericMeasurementValue value(percentText(c.probability).c_str(), percent);
    must(value.setFloatingPointRepresentation(c.probability * 100.0), "probability of " + c.label);
    must(item.setNumericValue(value), "probability of " + c.label);
  }
  if (t.classes.size() > 1) addText(tree, privateCode("E2E-PREDCLASS", "Predicted class"), best->label);
  if (t.trust) addTrust(tree, *t.trust);
  tree.goUp();
}

void buildTree(DSRDocumentTree& tree, const PredictionSrRequest& req) {
  if (tree.addContentItem(DT::RT_isRoot, DT::VT_Container) == 0)
    throw std::runtime_error("prediction SR: cannot add the root container");
  must(tree.getCurrentContentItem().setConceptName(privateCode("E2E-SR-TITLE", "ECG AI prediction report")),
       "document title");
  addText(tree, DSRCodedEntryValue(CODE_DCM_AlgorithmName), req.model.id, true);
  addText(tree, DSRCodedEntryValue(CODE_DCM_AlgorithmVersion), req.model.version);
  addText(tree, privateCode("E2E-WEIGHTS", "Model weights hash"), req.model.weightsHash);
  addText(tree, privateCode("E2E-TRAINDATA", "Model training data"), req.model.trainedOnSynthetic ? "synthetic" : "real");
  addSourceReference(tree, req.source);
  for (const auto& t : req.predictions) addTask(tree, t);
  addText(tree, privateCode("E2E-RUO", "Intended use"), kSrResearchUseOnly);
  if (req.model.trainedOnSynthetic) addText(tree, privateCode("E2E-NFCU", "Clinical use warning"), kSrNotForClinicalUse);
}

// Instance creation, content and series date/time: the request's creation time (local).
void setCreationTime(DcmDataset& ds, std::time_t when) {
  if (when == 0) when = std::time(nullptr);
  std::tm tm{};
  localtime_r(&when, &tm);
  char date[16], time[16];
  std::strftime(date, sizeof date, "%Y%m%d", &tm);
  std::strftime(time, sizeof time, "%H%M%S", &tm);
  for (const DcmTagKey& k : {DCM_InstanceCreationDate, DCM_ContentDate, DCM_SeriesDate})
    must(ds.putAndInsertString(k, date), "creation date");
  for (const DcmTagKey& k : {DCM_InstanceCreationTime, DCM_ContentTime, DCM_SeriesTime})
    must(ds.putAndInsertString(k, time), "creation time");
}

}  // namespace

SrSourceStudy SrSourceStudy::fromIdentity(const Identity& id) {
  SrSourceStudy s;
  s.patientId = id.patientId;
  s.patientName = id.patientName;
  s.birthDate = id.birthDate;
  s.sex = id.sex;
  s.studyUid = id.studyUid;
  s.accessionNumber = id.accessionNumber;
  s.studyDate = id.studyDate;
  s.studyTime = id.studyTime;
  s.studyDescription = id.studyDescription;
  s.seriesUid = id.seriesUid;
  s.sopClassUid = id.sopClassUid;
  s.sopInstanceUid = id.sopInstanceUid;
  return s;
}

SrSourceStudy SrSourceStudy::fromDicomFile(const std::string& path) {
  DcmFileFormat file;
  // Values over 4 KiB (waveform and pixel data) are left on disk: only the identity is needed.
  const OFCondition cond = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096);
  if (cond.bad()) throw ReadError(path, std::string("cannot read as DICOM: ") + cond.text());
  DcmDataset& ds = *file.getDataset();
  auto str = [&ds](const DcmTagKey& tag) {
    OFString v;
    return ds.findAndGetOFStringArray(tag, v).good() ? std::string(v.c_str()) : std::string();
  };
  SrSourceStudy s;
  s.patientId = str(DCM_PatientID);
  s.patientName = str(DCM_PatientName);
  s.birthDate = str(DCM_PatientBirthDate);
  s.sex = str(DCM_PatientSex);
  s.studyUid = str(DCM_StudyInstanceUID);
  s.accessionNumber = str(DCM_AccessionNumber);
  s.studyDate = str(DCM_StudyDate);
  s.studyTime = str(DCM_StudyTime);
  s.studyDescription = str(DCM_StudyDescription);
  s.studyId = str(DCM_StudyID);
  s.referringPhysician = str(DCM_ReferringPhysicianName);
  s.seriesUid = str(DCM_SeriesInstanceUID);
  s.sopClassUid = str(DCM_SOPClassUID);
  s.sopInstanceUid = str(DCM_SOPInstanceUID);
  if (s.studyUid.empty()) throw ReadError(path, "no Study Instance UID");
  return s;
}

PredictionSrInfo writePredictionSr(const PredictionSrRequest& req, const std::string& outPath) {
  if (outPath.empty()) bad("no output path");
  validate(req);
  DSRDocument doc(DT::DT_ComprehensiveSR);
  setHeader(doc, req);
  buildTree(doc.getTree(), req);
  if (req.complete) must(doc.completeDocument(), "completion flag");
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  const OFCondition cond = doc.write(*ds);
  if (cond.bad()) throw std::runtime_error(std::string("prediction SR: cannot build the document: ") + cond.text());
  setCreationTime(*ds, req.createdAt);
  saveDicomAtomic(file, outPath);
  PredictionSrInfo info;
  OFString v;
  info.studyUid = doc.getStudyInstanceUID(v).good() ? v.c_str() : "";
  info.seriesUid = doc.getSeriesInstanceUID(v).good() ? v.c_str() : "";
  info.sopInstanceUid = doc.getSOPInstanceUID(v).good() ? v.c_str() : "";
  return info;
}

}  // namespace e2e::net
