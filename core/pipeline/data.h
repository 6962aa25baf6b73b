// The data side of the model jobs (torch-free): ECG input tensors, hand-crafted ECG features,
// the samples of the study database (ECG + its study's echo loops + labels) and the patient split.
//
// ECG input contract (preprocessing version kPreprocVersion = "ecg-100Hz-1008-als-v1"; the same with
// the official code's Fourier resampler, floor(n * 100 / fs) samples, is kPreprocFourierVersion):
//   rhythm group -> 12 standard leads in mV -> resampled to 100 Hz (10 s = 1000 samples; the
//   OTiS/Echo2ECG encoder was trained on 10 s ECGs at 100 Hz) -> zero-padded / cropped AT THE END
//   to 1008 samples (1008 = 42 patches of 24, the encoder's input length) -> NaN->0, clip +-4 SD of
//   the whole array, ALS baseline removal per lead, group-wise z-normalisation {I-III, aVR-aVF, V1-V6}.
//   Zero-padding happens before preprocessing, as in the reference (which pads the raw array).
#pragma once
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/types.h"
#include "db/database.h"
#include "pipeline/embedding_model.h"  // kPreprocVersion, embedding keys, the embedding-model resolver

namespace e2e::pipeline {

inline constexpr double kEcgHz = 100.0;
inline constexpr std::size_t kEcgLeads = 12;
inline constexpr std::size_t kEcgSamples = 1008;

// 12 x 1008 row-major preprocessed ECG. Throws (ReadError / invalid_argument) on unusable input.
// preprocVersion: kPreprocVersion (windowed-sinc resampling) or kPreprocFourierVersion (the official
// code's Fourier resampling); any other throws std::invalid_argument.
std::vector<float> ecgInputFromRecord(const EcgRecord& rec, const std::string& preprocVersion = kPreprocVersion);
std::vector<float> ecgInputFromFile(const std::string& path, const std::string& preprocVersion = kPreprocVersion);

// ECG-only baseline features (no deep model): device measurements (HR, PR, QRS, QT, QTc, QRS axis;
// 0 when absent) and, per standard lead at 100 Hz before normalisation, the peak-to-peak amplitude and
// standard deviation in mV (QRS voltage proxies): 6 + 24 values.
std::vector<float> handcraftedEcgFeatures(const std::string& path);

// A file that no longer has the content it had when it was imported (replaced, swapped, edited):
// "file changed since import: PATH (SHA-256 differs)". Decoding it would attach another
// recording's results to this instance, so it is never decoded.
class FileChangedError : public std::runtime_error {
 public:
  explicit FileChangedError(const std::string& path)
      : std::runtime_error("file changed since import: " + path + " (SHA-256 differs)") {}
};

// The content hash the importer stores for an instance file (a WFDB header: its whole record).
// Throws ReadError when a file cannot be read.
std::string instanceContentHash(const std::string& path);
// Throws FileChangedError unless `path` still hashes to `sha256` (ReadError when unreadable).
void requireUnchanged(const std::string& path, const std::string& sha256);

// One ECG instance with its study/patient context and labels.
struct Sample {
  std::int64_t ecgInstanceId = 0, studyRowId = 0, patientRowId = 0;
  std::string patientId, studyUid, ecgPath;
  std::string ecgSha256;                      // stored at import; checked before every decode
  std::vector<std::int64_t> echoInstanceIds;  // US loops of the same study
  std::vector<std::string> echoPaths;
  std::vector<std::string> echoSha256s;       // one per loop
  double lvefPercent = kNaN;
  int lvefClass = -1;  // 0: <40, 1: 40-49, 2: >=50
  int shd = -1;        // 0/1
};

// Every ECG instance (optionally filtered by patient text), with the echo loops of its study and
// its labels (study labels override patient labels). `requireEcho` keeps paired studies only.
std::vector<Sample> loadSamples(db::Database& db, const std::string& filterText = "", bool requireEcho = false);

// The ECG input / baseline features of a sample, after checking that its file is the one imported
// (FileChangedError otherwise).
std::vector<float> ecgInputFromSample(const Sample& s, const std::string& preprocVersion = kPreprocVersion);
std::vector<float> handcraftedEcgFeatures(const Sample& s);

// The samples whose ECG file is unchanged since import; each one that `willRead` says is about to
// be decoded is checked, a changed or unreadable one is dropped with an error line in `errors`.
std::vector<Sample> withUnchangedEcgFiles(const std::vector<Sample>& samples,
                                          const std::function<bool(std::int64_t ecgInstanceId)>& willRead,
                                          std::vector<std::string>& errors);

// Deterministic 70/15/15 split by patient from the seed: 0 train, 1 val, 2 test per sample.
std::vector<int> splitByPatient(const std::vector<Sample>& samples, std::uint64_t seed);

// Class id of a sample for a task ("lvef" 3 classes, "shd" 2), -1 when unlabelled.
int labelFor(const Sample& s, const std::string& task);
std::vector<std::string> classNames(const std::string& task);

}  // namespace e2e::pipeline
