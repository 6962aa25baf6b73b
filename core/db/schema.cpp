#include "db/schema.h"

namespace e2e::db {

namespace {

// 1: the initial schema: who, what study, which series, which files, and their decoded facts.
const char* kMigration1 = R"SQL(
CREATE TABLE patients (
  id          INTEGER PRIMARY KEY,
  patient_id  TEXT NOT NULL DEFAULT '',
  name        TEXT NOT NULL DEFAULT '',
  name_norm   TEXT NOT NULL DEFAULT '',
  birth_date  TEXT NOT NULL DEFAULT '',
  sex         TEXT NOT NULL DEFAULT '',
  UNIQUE (patient_id, name_norm)
);
CREATE TABLE studies (
  id          INTEGER PRIMARY KEY,
  patient_id  INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
  study_uid   TEXT NOT NULL UNIQUE,
  study_date  TEXT NOT NULL DEFAULT '',
  study_time  TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  accession   TEXT NOT NULL DEFAULT '',
  synthetic   INTEGER NOT NULL DEFAULT 0 CHECK (synthetic IN (0, 1))
);
CREATE INDEX studies_patient ON studies(patient_id);
CREATE TABLE series (
  id          INTEGER PRIMARY KEY,
  study_id    INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  series_uid  TEXT NOT NULL UNIQUE,
  modality    TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  number      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX series_study ON series(study_id);
CREATE TABLE instances (
  id               INTEGER PRIMARY KEY,
  series_id        INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  sop_instance_uid TEXT NOT NULL UNIQUE,
  sop_class_uid    TEXT NOT NULL DEFAULT '',
  path             TEXT NOT NULL,
  file_size        INTEGER NOT NULL DEFAULT 0,
  sha256           TEXT NOT NULL,
  format           TEXT NOT NULL,
  manufacturer     TEXT NOT NULL DEFAULT '',
  model_name       TEXT NOT NULL DEFAULT '',
  imported_at      TEXT NOT NULL
);
CREATE INDEX instances_series ON instances(series_id);
CREATE TABLE ecg_records (
  instance_id    INTEGER PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
  sampling_hz    REAL NOT NULL,
  num_samples    INTEGER NOT NULL,
  num_leads      INTEGER NOT NULL,
  leads          TEXT NOT NULL DEFAULT '',
  heart_rate_bpm REAL, rr_ms REAL, pr_ms REAL, qrs_ms REAL, qt_ms REAL, qtc_ms REAL,
  qtc_formula    TEXT NOT NULL DEFAULT '',
  p_axis_deg REAL, qrs_axis_deg REAL, t_axis_deg REAL,
  statements     TEXT NOT NULL DEFAULT '',
  diagnoses      TEXT NOT NULL DEFAULT '',
  has_median     INTEGER NOT NULL DEFAULT 0,
  num_groups     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE echo_loops (
  id                  INTEGER PRIMARY KEY,
  instance_id         INTEGER NOT NULL UNIQUE REFERENCES instances(id) ON DELETE CASCADE,
  rows                INTEGER NOT NULL,
  cols                INTEGER NOT NULL,
  frames              INTEGER NOT NULL,
  samples_per_pixel   INTEGER NOT NULL DEFAULT 1,
  bits_allocated      INTEGER NOT NULL DEFAULT 8,
  bits_stored         INTEGER NOT NULL DEFAULT 8,
  fps                 REAL,
  fps_source          TEXT NOT NULL DEFAULT '',
  photometric         TEXT NOT NULL DEFAULT '',
  transfer_syntax_uid TEXT NOT NULL DEFAULT '',
  view_label          TEXT NOT NULL DEFAULT '',
  view_source         TEXT NOT NULL DEFAULT '',
  view_code           TEXT NOT NULL DEFAULT '',
  duration_s          REAL
);
CREATE TABLE us_regions (
  id             INTEGER PRIMARY KEY,
  loop_id        INTEGER NOT NULL REFERENCES echo_loops(id) ON DELETE CASCADE,
  idx            INTEGER NOT NULL,
  x0 INTEGER NOT NULL, y0 INTEGER NOT NULL, x1 INTEGER NOT NULL, y1 INTEGER NOT NULL,
  spatial_format INTEGER NOT NULL DEFAULT 0,
  data_type      INTEGER NOT NULL DEFAULT 0,
  flags          INTEGER NOT NULL DEFAULT 0,
  units_x        INTEGER NOT NULL DEFAULT 0,
  units_y        INTEGER NOT NULL DEFAULT 0,
  delta_x        REAL, delta_y REAL, ref_pixel_x0 REAL, ref_pixel_y0 REAL,
  UNIQUE (loop_id, idx)
);
)SQL";

// 2: labels, models, embeddings and predictions (added for the training / inference work).
const char* kMigration2 = R"SQL(
CREATE TABLE labels (
  id          INTEGER PRIMARY KEY,
  patient_id  INTEGER REFERENCES patients(id) ON DELETE CASCADE,
  study_id    INTEGER REFERENCES studies(id) ON DELETE CASCADE,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  source      TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL,
  CHECK ((patient_id IS NULL) <> (study_id IS NULL))
);
CREATE UNIQUE INDEX labels_study_key ON labels(study_id, key, source) WHERE study_id IS NOT NULL;
CREATE UNIQUE INDEX labels_patient_key ON labels(patient_id, key, source) WHERE patient_id IS NOT NULL;
CREATE INDEX labels_key_value ON labels(key, value);
CREATE TABLE models (
  id           INTEGER PRIMARY KEY,
  model_id     TEXT NOT NULL,
  version      TEXT NOT NULL,
  parent       TEXT NOT NULL DEFAULT '',
  weights_hash TEXT NOT NULL DEFAULT '',
  card_json    TEXT NOT NULL DEFAULT '{}',
  active       INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
  created_at   TEXT NOT NULL,
  UNIQUE (model_id, version)
);
CREATE UNIQUE INDEX models_one_active ON models(model_id) WHERE active = 1;
CREATE TABLE embeddings (
  id              INTEGER PRIMARY KEY,
  instance_id     INTEGER REFERENCES instances(id) ON DELETE CASCADE,
  study_id        INTEGER REFERENCES studies(id) ON DELETE CASCADE,
  model_id        TEXT NOT NULL,
  weights_hash    TEXT NOT NULL DEFAULT '',
  preproc_version TEXT NOT NULL DEFAULT '',
  dim             INTEGER NOT NULL CHECK (dim >= 0),
  vec             BLOB NOT NULL,
  created_at      TEXT NOT NULL,
  CHECK ((instance_id IS NULL) <> (study_id IS NULL)),
  CHECK (length(vec) = 4 * dim)
);
CREATE UNIQUE INDEX embeddings_instance_key ON embeddings(instance_id, model_id, weights_hash, preproc_version)
  WHERE instance_id IS NOT NULL;
CREATE UNIQUE INDEX embeddings_study_key ON embeddings(study_id, model_id, weights_hash, preproc_version)
  WHERE study_id IS NOT NULL;
CREATE TABLE predictions (
  id            INTEGER PRIMARY KEY,
  instance_id   INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  model_id      TEXT NOT NULL,
  model_version TEXT NOT NULL DEFAULT '',
  weights_hash  TEXT NOT NULL DEFAULT '',
  task          TEXT NOT NULL,
  probabilities TEXT NOT NULL DEFAULT '{}',
  created_at    TEXT NOT NULL
);
CREATE INDEX predictions_instance ON predictions(instance_id);
)SQL";

// 3: indexes for the browser's queries and the importer's duplicate check.
const char* kMigration3 = R"SQL(
CREATE INDEX patients_name_norm ON patients(name_norm);
CREATE INDEX studies_date ON studies(study_date);
CREATE INDEX series_modality ON series(modality);
CREATE INDEX instances_sha256 ON instances(sha256);
)SQL";

// 4: what a vector was made from, where that can change under the same key. A study's echo vector
// is made from its loops, and loops can be imported into (or deleted from) a study after it was
// embedded: "12,13!,14" lists the study's loop instance ids at that time, '!' marking one that could
// not be decoded. '' = not recorded (rows written before version 4, and instance vectors).
const char* kMigration4 = R"SQL(
ALTER TABLE embeddings ADD COLUMN inputs TEXT NOT NULL DEFAULT '';
)SQL";

// 5: why a loop could not be decoded the last time its frames were read for an embedding ('' = it
// decoded, or was never read), so that a study none of whose loops decodes is told apart from one
// that is merely not embedded yet.
const char* kMigration5 = R"SQL(
ALTER TABLE echo_loops ADD COLUMN decode_error TEXT NOT NULL DEFAULT '';
)SQL";

// 6: how far each prediction can be trusted (issue 23): the temperature-scaled probabilities, the
// ECG's signal quality (score 0..1, usable, the reason it was declined), its out-of-distribution
// score against the model's training embeddings with the flag ('in' / 'out' / 'unknown': the model
// has no statistics) and whether the model's training data was synthetic (-1 = not recorded). A
// declined prediction (quality not usable) has no probabilities. Rows written before version 6 keep
// their probabilities and read as quality / OOD unknown.
const char* kMigration6 = R"SQL(
ALTER TABLE predictions ADD COLUMN calibrated_probabilities TEXT NOT NULL DEFAULT '{}';
ALTER TABLE predictions ADD COLUMN quality_score REAL;
ALTER TABLE predictions ADD COLUMN quality_usable INTEGER CHECK (quality_usable IN (0, 1));
ALTER TABLE predictions ADD COLUMN quality_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE predictions ADD COLUMN ood_score REAL;
ALTER TABLE predictions ADD COLUMN ood TEXT NOT NULL DEFAULT 'unknown' CHECK (ood IN ('in', 'out', 'unknown'));
ALTER TABLE predictions ADD COLUMN synthetic_training INTEGER NOT NULL DEFAULT -1 CHECK (synthetic_training IN (-1, 0, 1));
)SQL";

// 7: the precision an embedding was computed in (issue 21): 'fp32', or 'bf16' (bfloat16 autocast,
// the default where the CPU has native bfloat16 or on CUDA). Part of the key: vectors of different
// precisions of the same object and model are separate rows and are never mixed in one index. Rows
// written before version 7 were all computed in fp32.
const char* kMigration7 = R"SQL(
ALTER TABLE embeddings ADD COLUMN precision TEXT NOT NULL DEFAULT 'fp32' CHECK (precision IN ('fp32', 'bf16'));
DROP INDEX embeddings_instance_key;
DROP INDEX embeddings_study_key;
CREATE UNIQUE INDEX embeddings_instance_key ON embeddings(instance_id, model_id, weights_hash, preproc_version, precision)
  WHERE instance_id IS NOT NULL;
CREATE UNIQUE INDEX embeddings_study_key ON embeddings(study_id, model_id, weights_hash, preproc_version, precision)
  WHERE study_id IS NOT NULL;
)SQL";

// 8: the precision the prediction's ECG embedding was computed in ('fp32' or 'bf16', issue 21), so a
// stored probability can be traced to the numbers it came from. Rows written before version 8 were
// all computed from fp32 embeddings.
const char* kMigration8 = R"SQL(
ALTER TABLE predictions ADD COLUMN precision TEXT NOT NULL DEFAULT 'fp32' CHECK (precision IN ('fp32', 'bf16'));
)SQL";

}  // namespace

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> steps = {kMigration1, kMigration2, kMigration3, kMigration4, kMigration5,
                                                  kMigration6, kMigration7, kMigration8};
  return steps;
}

}  // namespace e2e::db
