// Import of published weights as registered model versions: an official Echo2ECG run directory
// (checkpoints/ + config.yaml), an OTiS pre-training checkpoint (optionally with EchoPrime's video
// encoder), EchoPrime's encoder alone, or a bundle directory. The checkpoint files are pickled
// PyTorch objects (with OmegaConf configs): tools/convert_checkpoint.py reads them into a bundle in a
// child process; this job checks the bundle (every tensor, every shape), gives it the next version
// of its model id, stores it beside the database and registers it with a card naming every source
// file and its SHA-256. Importing the same files again changes nothing. Needs torch.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "jobs/job.h"

namespace e2e::jobs {

struct ModelImportRequest {
  std::string dbPath;         // the study database whose registry gets the version
  std::string path;           // run directory, OTiS .pth, EchoPrime .pt or a bundle directory
  std::string echoprimePath;  // optional: EchoPrime's echo_prime_encoder.pt for the echo side
  bool activate = false;      // make the version the active one of its model id
  std::string storeDir;       // where imported bundles are kept: "" = <dbPath>.models
  std::string python;         // "" = /usr/bin/python3 (Debian's, with python3-torch)
  std::string converter;      // "" = tools/convert_checkpoint.py found by findConverter()
};

struct ModelImportSource {
  std::string file, sha256;
};

struct ModelImportReport {
  std::string kind;            // echo2ecg-run | otis | otis+echoprime | echoprime | bundle
  std::string modelId, version, role, bundleDir, weightsHash, cardJson;
  std::vector<ModelImportSource> sources;
  bool alreadyImported = false;  // a registered version has exactly these source files: nothing changed
  bool activated = false;
};

// The converter script: $E2E_TOOLS_DIR, share/echo2ecg/tools beside the executable, or the source
// tree's tools/; "" when none is found.
std::string findConverter();

// Throws std::runtime_error with a message naming the file and the cause for every bad input
// (missing file or component, truncated checkpoint, wrong width, converter failure); on any error
// nothing is registered and no partial bundle is left behind.
ModelImportReport importModel(const ModelImportRequest& req, const job::CancelToken& cancel = {},
                              const std::function<void(const std::string&)>& status = {});

}  // namespace e2e::jobs
