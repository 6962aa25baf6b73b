// Shared, Qt-free data types of the Echo2ECG workstation core.
// Every reader fills these; the database, viewers and models consume them.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace e2e {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A clear, user-facing error from any reader: names the file and the cause.
class ReadError : public std::runtime_error {
 public:
  ReadError(const std::string& path, const std::string& cause)
      : std::runtime_error(path + ": " + cause), path_(path), cause_(cause) {}
  const std::string& path() const { return path_; }
  const std::string& cause() const { return cause_; }

 private:
  std::string path_;
  std::string cause_;
};

// The DICOM patient/study/series/instance identity of an object. Non-DICOM
// sources (WFDB, AVI) fill what they can and synthesise stable UIDs from the
// content hash so that the database can key everything the same way.
struct Identity {
  std::string patientId;
  std::string patientName;   // DICOM PN as stored (components separated by '^')
  std::string birthDate;     // YYYYMMDD or empty
  std::string sex;           // M, F, O or empty
  std::string age;           // DICOM AS (e.g. "078Y") or empty
  std::string studyUid;
  std::string studyDate;     // YYYYMMDD
  std::string studyTime;     // HHMMSS(.frac)
  std::string studyDescription;
  std::string accessionNumber;
  std::string seriesUid;
  std::string seriesDescription;
  int seriesNumber = 0;
  std::string modality;      // ECG, US, HD, ...
  std::string sopClassUid;
  std::string sopInstanceUid;
  std::string manufacturer;
  std::string modelName;
  bool synthetic = false;    // true for data made by the synthetic cohort generator
};

// DICOM and WFDB, echo video, and the vendor ECG exports (core/io/vendor/).
enum class SourceFormat {
  DicomEcg, DicomEcho, Wfdb, Video,
  MuseXml,        // GE MUSE XML (RestingECG)
  Hl7Aecg,        // HL7 v3 annotated ECG (urn:hl7-org:v3 AnnotatedECG)
  ScpEcg,         // SCP-ECG (EN 1064 / ISO 11073-91064), versions 1.x-3.x
  PhilipsXml,     // Philips PageWriter / TraceMaster / IntelliSpace XML (restingecgdata)
  CardioSoftXml,  // GE CardioSoft XML (CardiologyXML)
  Unknown
};
const char* toString(SourceFormat f);

// ------------------------------------------------------------------ ECG ----

// One channel of one waveform multiplex group, already in physical units.
struct EcgChannel {
  std::string label;          // canonical lead name: I, II, III, aVR, aVL, aVF, V1..V6, or the source label
  std::string codeValue;      // ChannelSourceSequence code value (e.g. 2:1 or 5.6.3-9-1)
  std::string codingScheme;   // e.g. MDC, SCPECG
  std::string codeMeaning;    // as written in the file (informative only)
  std::string unit;           // physical unit of the samples (normally "mV")
  double sensitivity = 1.0;   // ChannelSensitivity (units per raw count)
  double correction = 1.0;    // ChannelSensitivityCorrectionFactor
  double baseline = 0.0;      // ChannelBaseline (in sensitivity units)
  double lowFreqHz = kNaN;    // FilterLowFrequency (device high-pass), NaN if absent
  double highFreqHz = kNaN;   // FilterHighFrequency (device low-pass), NaN if absent
  double notchHz = kNaN;      // NotchFilterFrequency, NaN if absent
  std::vector<float> samples; // physical values in `unit`
};

// A waveform multiplex group (rhythm, median beat, ...).
struct EcgGroup {
  std::string label;           // MultiplexGroupLabel, or "RHYTHM" / "MEDIAN" when absent
  std::string originality;     // ORIGINAL or DERIVED
  double samplingHz = 0.0;
  std::size_t numSamples = 0;
  std::vector<EcgChannel> channels;
  bool isMedian() const;
  const EcgChannel* channel(const std::string& lead) const;  // by canonical label
};

// A WaveformAnnotationSequence item, or a device measurement from another source.
struct EcgAnnotation {
  enum class Kind { Statement, Measurement, Fiducial };
  Kind kind = Kind::Statement;
  std::string conceptCode;     // ConceptNameCodeSequence code value
  std::string conceptScheme;
  std::string conceptMeaning;
  std::string text;            // UnformattedTextValue for statements
  double value = kNaN;         // NumericValue for measurements
  std::string unit;            // MeasurementUnitsCodeSequence code value (e.g. ms, deg, bpm)
  int groupIndex = -1;         // ReferencedWaveformChannels group (0-based), -1 if none
  int channelIndex = -1;       // 0-based channel, -1 if the whole group
  std::vector<double> samplePositions;  // fiducials: ReferencedSamplePositions (1-based, as in the file)
  std::vector<double> timeOffsetsMs;    // ReferencedTimeOffsets if given
};

// Global device measurements, in the units named (NaN when not reported).
struct EcgMeasurements {
  double heartRateBpm = kNaN;
  double rrMs = kNaN;
  double prMs = kNaN;
  double qrsMs = kNaN;
  double qtMs = kNaN;
  double qtcMs = kNaN;
  std::string qtcFormula;      // "Bazett", "Fridericia", ... or empty if the device did not say
  double pAxisDeg = kNaN;
  double qrsAxisDeg = kNaN;
  double tAxisDeg = kNaN;
};

struct EcgRecord {
  Identity identity;
  SourceFormat format = SourceFormat::Unknown;
  std::string sourcePath;
  std::vector<EcgGroup> groups;             // rhythm first where present
  std::vector<EcgAnnotation> annotations;
  EcgMeasurements measurements;
  std::vector<std::string> statements;      // device interpretation statements, in order
  std::vector<std::string> diagnoses;       // e.g. WFDB "# Dx:" codes
  std::map<std::string, std::string> extra; // other header facts (WFDB comments, ...)
  std::vector<std::string> warnings;        // non-fatal issues found while reading

  const EcgGroup* rhythm() const;  // first non-median group, or nullptr
  const EcgGroup* median() const;  // first median-beat group, or nullptr
};

// Canonical 12-lead order used by the models: I, II, III, aVR, aVL, aVF, V1..V6.
const std::vector<std::string>& standardLeads();
// Normalise a free-text lead label (case, "avr", "Lead II", "V1 ") to the canonical name, or "" if not a lead.
std::string canonicalLeadName(const std::string& label);

// ----------------------------------------------------------------- ECHO ----

// One SequenceOfUltrasoundRegions item.
struct UltrasoundRegion {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // RegionLocationMin/Max (pixels, inclusive)
  int spatialFormat = 0;               // RegionSpatialFormat (1 = 2D, 2 = M-mode, 3 = spectral, ...)
  int dataType = 0;                    // RegionDataType
  int flags = 0;                       // RegionFlags
  int unitsX = 0, unitsY = 0;          // PhysicalUnitsX/YDirection (3 = cm, 4 = s, 7 = cm/s ...)
  double deltaX = 0.0, deltaY = 0.0;   // PhysicalDeltaX/Y (units per pixel)
  double refPixelX0 = kNaN, refPixelY0 = kNaN;
  bool contains(double x, double y) const { return x >= x0 && x <= x1 && y >= y0 && y <= y1; }
};
// Name of a PhysicalUnits code (e.g. 3 -> "cm").
std::string ultrasoundUnitName(int code);

enum class FrameRateSource { FrameTimeVector, FrameTime, CineRate, RecommendedDisplayFrameRate, Container, Default };
const char* toString(FrameRateSource s);

enum class ViewLabelSource { ViewCodeSequence, SeriesDescription, Filename, Synthetic, None };
const char* toString(ViewLabelSource s);

// Metadata of an echo loop: cheap to read (no pixel decoding).
struct EchoInfo {
  Identity identity;
  SourceFormat format = SourceFormat::Unknown;
  std::string sourcePath;
  std::string transferSyntaxUid;
  std::string photometric;         // as stored: MONOCHROME2, RGB, PALETTE COLOR, YBR_FULL_422, ...
  int rows = 0, cols = 0, frames = 0;
  int samplesPerPixel = 1;
  int bitsAllocated = 8, bitsStored = 8;
  double fps = 0.0;                // acquired frame rate
  FrameRateSource fpsSource = FrameRateSource::Default;
  std::vector<double> frameTimesMs;  // per-frame durations when a FrameTimeVector is present
  std::vector<UltrasoundRegion> regions;
  std::string viewLabel;           // A4C, A2C, PLAX, PSAX, ... or free text
  ViewLabelSource viewSource = ViewLabelSource::None;
  std::string viewCode;            // ViewCodeSequence code value if present
  std::vector<std::string> warnings;
  double durationSeconds() const { return fps > 0 ? frames / fps : 0.0; }
};

// Decoded frames: 8-bit, either 1 channel (grey) or 3 channels (RGB), row-major, frame-major.
struct EchoFrames {
  int rows = 0, cols = 0, frames = 0, channels = 1;
  std::vector<std::uint8_t> pixels;   // frames * rows * cols * channels
  const std::uint8_t* frame(int i) const { return pixels.data() + static_cast<std::size_t>(i) * rows * cols * channels; }
};

}  // namespace e2e
