// C-STORE SCU: send files to a peer on one association.
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include "net/scu.h"
#include "net/scu_session.h"

namespace e2e::net {
namespace {

struct FileHead {
  std::string path, sopClass, sopInstance, ts;
  std::string error;
};

FileHead readHead(const std::string& path) {
  FileHead h;
  h.path = path;
  DcmFileFormat ff;
  const OFCondition c = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_fileOnly);
  if (c.bad()) {
    h.error = std::string("not a DICOM file with a meta header (") + c.text() + ")";
    return h;
  }
  OFString v;
  if (ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, v).good()) h.sopClass = v.c_str();
  if (ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, v).good()) h.sopInstance = v.c_str();
  if (ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, v).good()) h.ts = v.c_str();
  if (h.sopClass.empty() || h.sopInstance.empty() || h.ts.empty())
    h.error = "the meta header lacks the SOP class, SOP instance or transfer syntax UID";
  return h;
}

bool uncompressed(const std::string& ts) {
  return ts == "1.2.840.10008.1.2.1" || ts == "1.2.840.10008.1.2";
}

}  // namespace

SendReport send(const Association& assoc, const SendRequest& req, const job::CancelToken& cancel,
                const std::function<void(const SendProgress&)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  SendReport rep;
  std::vector<FileHead> heads;
  for (const auto& f : req.files) {
    FileHead h = readHead(f);
    if (!h.error.empty()) rep.failures.push_back({"", f, 0, h.error});
    else heads.push_back(std::move(h));
  }
  if (heads.empty()) return rep;
  // One context per (SOP class, stored transfer syntax), and an uncompressed fallback per class.
  ScuSession scu(assoc, cancel);
  std::set<std::pair<std::string, std::string>> proposed;
  for (const auto& h : heads) {
    if (proposed.size() >= 120) break;
    if (!uncompressed(h.ts) && proposed.insert({h.sopClass, h.ts}).second) scu.propose(h.sopClass, {h.ts});
    if (proposed.insert({h.sopClass, ""}).second)
      scu.propose(h.sopClass, {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2"});
  }
  scu.connect();
  SendProgress prog;
  prog.total = static_cast<int>(heads.size());
  bool broken = false;
  for (const auto& h : heads) {
    if (cancel.cancelled()) {
      rep.cancelled = true;
      break;
    }
    prog.currentFile = h.path;
    if (progress) progress(prog);
    if (broken) {
      rep.failures.push_back({h.sopInstance, h.path, 0, "not sent: the association was lost"});
      continue;
    }
    T_ASC_PresentationContextID pc = scu.findPresentationContextID(h.sopClass.c_str(), h.ts.c_str());
    if (pc == 0) pc = scu.findAnyPresentationContextID(h.sopClass.c_str(), "");
    if (pc == 0) {
      rep.failures.push_back({h.sopInstance, h.path, 0, assoc.peer.str() + " does not accept SOP class " +
                                                            h.sopClass + " (" + h.ts + ")"});
      continue;
    }
    Uint16 status = 0;
    const OFCondition c = scu.sendSTORERequest(pc, h.path.c_str(), nullptr, status);
    if (c.bad()) {
      rep.failures.push_back({h.sopInstance, h.path, 0, scu.failure(c, "C-STORE").what()});
      broken = !scu.isConnected() || c == DIMSE_NODATAAVAILABLE || c == DUL_PEERABORTEDASSOCIATION;
    } else if (isDimseSuccess(status) || isDimseWarning(status)) {
      ++rep.sent;
      if (isDimseWarning(status)) ++rep.warnings;
      std::error_code ec;
      rep.bytes += std::filesystem::file_size(h.path, ec);
    } else {
      rep.failures.push_back({h.sopInstance, h.path, status, dimseStatusText(status)});
    }
    ++prog.done;
  }
  prog.currentFile.clear();
  if (progress) progress(prog);
  scu.close(broken);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace e2e::net
