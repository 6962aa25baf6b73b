// Test helper: associates with an SCP, starts a C-STORE of FILE and exits the process (the kernel
// closes the socket) once BYTES bytes of the data set have gone out: an association killed
// mid-transfer. Usage: e2e_abort_sender CALLING CALLED HOST PORT FILE BYTES
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmnet/scu.h>

namespace {

class DyingScu : public DcmSCU {
 public:
  explicit DyingScu(unsigned long limit) : limit_(limit) {}

 protected:
  void notifySENDProgress(const unsigned long byteCount) override {
    if (byteCount >= limit_) _exit(0);
  }

 private:
  unsigned long limit_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) return 2;
  DcmFileFormat ff;
  if (ff.loadFile(argv[5]).bad()) return 3;
  OFString sop, ts;
  ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sop);
  ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
  DyingScu scu(std::strtoul(argv[6], nullptr, 10));
  scu.setAETitle(argv[1]);
  scu.setPeerAETitle(argv[2]);
  scu.setPeerHostName(argv[3]);
  scu.setPeerPort(static_cast<Uint16>(std::atoi(argv[4])));
  scu.setProgressNotificationMode(OFTrue);
  OFList<OFString> syntaxes;
  syntaxes.push_back(ts);
  scu.addPresentationContext(sop, syntaxes);
  if (scu.initNetwork().bad() || scu.negotiateAssociation().bad()) return 4;
  Uint16 status = 0;
  scu.sendSTORERequest(scu.findAnyPresentationContextID(sop, ts), argv[5], nullptr, status);
  return 5;  // the whole object went out: the test's limit was too high
}
