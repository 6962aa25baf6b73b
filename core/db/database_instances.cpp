#include "db/database.h"

#include "db/db_internal.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace e2e::db {

using internal::join;
using internal::splitNonEmpty;

// -------------------------------------------------------------- writes ----

std::int64_t Database::findOrCreatePatient(const Identity& id) {
  const std::string norm = normalizePersonName(id.patientName);
  auto& q = stmt("SELECT id, birth_date, sex FROM patients WHERE patient_id = ?1 AND name_norm = ?2");
  q.bind(1, id.patientId).bind(2, norm);
  if (q.step()) {
    const std::int64_t rowId = q.i64(0);
    const bool fillBirth = q.str(1).empty() && !id.birthDate.empty();
    const bool fillSex = q.str(2).empty() && !id.sex.empty();
    q.reset();
    if (fillBirth || fillSex) {
      stmt("UPDATE patients SET birth_date = CASE WHEN birth_date = '' THEN ?2 ELSE birth_date END, "
           "sex = CASE WHEN sex = '' THEN ?3 ELSE sex END WHERE id = ?1")
          .bind(1, rowId).bind(2, id.birthDate).bind(3, id.sex).run();
    }
    return rowId;
  }
  q.reset();
  stmt("INSERT INTO patients(patient_id, name, name_norm, birth_date, sex) VALUES(?1, ?2, ?3, ?4, ?5)")
      .bind(1, id.patientId).bind(2, id.patientName).bind(3, norm).bind(4, id.birthDate).bind(5, id.sex).run();
  return sqlite3_last_insert_rowid(db_);
}

namespace {
// Old ACR-NEMA style "1994.01.30" / "11:25:01" -> DICOM DA/TM "19940130" / "112501".
std::string normalizeDicomDateTime(const std::string& s, std::size_t digitsWanted) {
  std::string digits, frac;
  const auto dot = digitsWanted == 6 ? s.find('.', s.find(':') == std::string::npos ? 0 : s.rfind(':')) : std::string::npos;
  const std::string head = dot == std::string::npos ? s : s.substr(0, dot);
  for (char c : head) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    else if (c != '.' && c != ':' && c != '-' && c != ' ') return s;  // unknown form: keep as stored
  }
  if (digits.size() != digitsWanted && !(digitsWanted == 6 && (digits.size() == 2 || digits.size() == 4))) return s;
  return digits + (dot == std::string::npos ? "" : s.substr(dot));
}
}  // namespace

std::int64_t Database::findOrCreateStudy(std::int64_t patientRowId, const Identity& id) {
  auto& q = stmt("SELECT id FROM studies WHERE study_uid = ?1");
  q.bind(1, id.studyUid);
  if (q.step()) {
    const auto rowId = q.i64(0);
    q.reset();
    return rowId;
  }
  q.reset();
  stmt("INSERT INTO studies(patient_id, study_uid, study_date, study_time, description, accession, synthetic) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind(1, patientRowId).bind(2, id.studyUid).bind(3, normalizeDicomDateTime(id.studyDate, 8))
      .bind(4, normalizeDicomDateTime(id.studyTime, 6))
      .bind(5, id.studyDescription).bind(6, id.accessionNumber).bind(7, id.synthetic).run();
  return sqlite3_last_insert_rowid(db_);
}

std::int64_t Database::findOrCreateSeries(std::int64_t studyRowId, const Identity& id) {
  auto& q = stmt("SELECT id FROM series WHERE series_uid = ?1");
  q.bind(1, id.seriesUid);
  if (q.step()) {
    const auto rowId = q.i64(0);
    q.reset();
    return rowId;
  }
  q.reset();
  stmt("INSERT INTO series(study_id, series_uid, modality, description, number) VALUES(?1, ?2, ?3, ?4, ?5)")
      .bind(1, studyRowId).bind(2, id.seriesUid).bind(3, id.modality).bind(4, id.seriesDescription)
      .bind(5, id.seriesNumber).run();
  return sqlite3_last_insert_rowid(db_);
}

namespace {
void completeIdentity(Identity& id, const FileFacts& file, const char* defaultModality) {
  if (id.modality.empty()) id.modality = defaultModality;
  if (id.sopInstanceUid.empty()) {
    if (file.sha256.empty()) throw DbError(file.path + ": no SOP Instance UID and no content hash");
    id.sopInstanceUid = derivedUid("instance:" + file.sha256);
  }
  if (id.studyUid.empty()) id.studyUid = derivedUid("study:" + id.sopInstanceUid);
  if (id.seriesUid.empty()) id.seriesUid = derivedUid("series:" + id.studyUid + ":" + id.modality);
}
}  // namespace

InsertResult Database::beginInsert(Identity& id, const FileFacts& file, std::int64_t& seriesRowId) {
  InsertResult r;
  r.sopInstanceUid = id.sopInstanceUid;
  auto& q = stmt("SELECT id, sha256, path FROM instances WHERE sop_instance_uid = ?1");
  q.bind(1, id.sopInstanceUid);
  if (q.step()) {
    r.instanceId = q.i64(0);
    r.existingSha256 = q.str(1);
    r.existingPath = q.str(2);
    q.reset();
    r.status = r.existingSha256 == file.sha256 ? InsertStatus::Skipped : InsertStatus::Conflict;
    return r;
  }
  q.reset();
  const auto patient = findOrCreatePatient(id);
  const auto study = findOrCreateStudy(patient, id);
  seriesRowId = findOrCreateSeries(study, id);
  r.status = InsertStatus::Added;
  return r;
}

std::int64_t Database::insertInstanceRow(std::int64_t seriesRowId, const Identity& id, const FileFacts& file,
                                         SourceFormat fmt) {
  stmt("INSERT INTO instances(series_id, sop_instance_uid, sop_class_uid, path, file_size, sha256, format, "
       "manufacturer, model_name, imported_at) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, strftime('%Y-%m-%dT%H:%M:%SZ','now'))")
      .bind(1, seriesRowId).bind(2, id.sopInstanceUid).bind(3, id.sopClassUid).bind(4, file.path)
      .bind(5, file.size).bind(6, file.sha256).bind(7, toString(fmt)).bind(8, id.manufacturer)
      .bind(9, id.modelName).run();
  return sqlite3_last_insert_rowid(db_);
}

InsertResult Database::insertEcg(const EcgRecord& rec, const FileFacts& file) {
  Identity id = rec.identity;
  completeIdentity(id, file, "ECG");
  Transaction tx(*this);
  std::int64_t seriesRowId = 0;
  InsertResult r = beginInsert(id, file, seriesRowId);
  if (r.status != InsertStatus::Added) return r;  // tx rolls back (nothing written)
  const SourceFormat fmt = rec.format == SourceFormat::Unknown ? SourceFormat::DicomEcg : rec.format;
  r.instanceId = insertInstanceRow(seriesRowId, id, file, fmt);
  const EcgGroup* g = rec.rhythm();
  if (!g && !rec.groups.empty()) g = &rec.groups.front();
  std::vector<std::string> leads;
  if (g)
    for (const auto& c : g->channels) leads.push_back(c.label);
  const auto& m = rec.measurements;
  stmt("INSERT INTO ecg_records(instance_id, sampling_hz, num_samples, num_leads, leads, heart_rate_bpm, rr_ms, "
       "pr_ms, qrs_ms, qt_ms, qtc_ms, qtc_formula, p_axis_deg, qrs_axis_deg, t_axis_deg, statements, diagnoses, "
       "has_median, num_groups) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)")
      .bind(1, r.instanceId).bind(2, g ? g->samplingHz : 0.0)
      .bind(3, static_cast<std::int64_t>(g ? g->numSamples : 0)).bind(4, static_cast<int>(leads.size()))
      .bind(5, join(leads, ',')).bind(6, m.heartRateBpm).bind(7, m.rrMs).bind(8, m.prMs).bind(9, m.qrsMs)
      .bind(10, m.qtMs).bind(11, m.qtcMs).bind(12, m.qtcFormula).bind(13, m.pAxisDeg).bind(14, m.qrsAxisDeg)
      .bind(15, m.tAxisDeg).bind(16, join(rec.statements, '\n'))
      .bind(17, rec.diagnoses.empty() ? std::string() : join(rec.diagnoses, '\n') + '\n')
      .bind(18, rec.median() != nullptr).bind(19, static_cast<int>(rec.groups.size())).run();
  tx.commit();
  return r;
}

InsertResult Database::insertEcho(const EchoInfo& info, const FileFacts& file) {
  Identity id = info.identity;
  completeIdentity(id, file, "US");
  Transaction tx(*this);
  std::int64_t seriesRowId = 0;
  InsertResult r = beginInsert(id, file, seriesRowId);
  if (r.status != InsertStatus::Added) return r;
  const SourceFormat fmt = info.format == SourceFormat::Unknown ? SourceFormat::DicomEcho : info.format;
  r.instanceId = insertInstanceRow(seriesRowId, id, file, fmt);
  stmt("INSERT INTO echo_loops(instance_id, rows, cols, frames, samples_per_pixel, bits_allocated, bits_stored, "
       "fps, fps_source, photometric, transfer_syntax_uid, view_label, view_source, view_code, duration_s) "
       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)")
      .bind(1, r.instanceId).bind(2, info.rows).bind(3, info.cols).bind(4, info.frames)
      .bind(5, info.samplesPerPixel).bind(6, info.bitsAllocated).bind(7, info.bitsStored).bind(8, info.fps)
      .bind(9, toString(info.fpsSource)).bind(10, info.photometric).bind(11, info.transferSyntaxUid)
      .bind(12, info.viewLabel).bind(13, toString(info.viewSource)).bind(14, info.viewCode)
      .bind(15, info.durationSeconds()).run();
  const std::int64_t loopId = sqlite3_last_insert_rowid(db_);
  int idx = 0;
  for (const auto& rg : info.regions) {
    stmt("INSERT INTO us_regions(loop_id, idx, x0, y0, x1, y1, spatial_format, data_type, flags, units_x, "
         "units_y, delta_x, delta_y, ref_pixel_x0, ref_pixel_y0) "
         "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)")
        .bind(1, loopId).bind(2, idx++).bind(3, rg.x0).bind(4, rg.y0).bind(5, rg.x1).bind(6, rg.y1)
        .bind(7, rg.spatialFormat).bind(8, rg.dataType).bind(9, rg.flags).bind(10, rg.unitsX).bind(11, rg.unitsY)
        .bind(12, rg.deltaX).bind(13, rg.deltaY).bind(14, rg.refPixelX0).bind(15, rg.refPixelY0).run();
  }
  tx.commit();
  return r;
}

bool Database::deleteInstance(std::int64_t instanceRowId) {
  Transaction tx(*this);
  stmt("DELETE FROM instances WHERE id = ?1").bind(1, instanceRowId).run();
  const bool changed = sqlite3_changes(db_) > 0;
  tx.commit();
  return changed;
}

// --------------------------------------------------------------- reads ----

namespace {
std::string likePattern(const std::string& text) {
  if (text.empty()) return "";
  std::string p = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') p += '\\';
    p += c;
  }
  return p + "%";
}
}  // namespace

// Shared WHERE clause on p (patients), st (studies); parameters ?1..?8 (NULL/'' = no filter).
#define E2E_STUDY_FILTER                                                                                     \
  " (?1 = '' OR p.patient_id LIKE ?1 ESCAPE '\\' OR p.name LIKE ?1 ESCAPE '\\' OR p.name_norm LIKE ?1 ESCAPE " \
  "'\\') AND (?2 = '' OR st.study_date >= ?2) AND (?3 = '' OR st.study_date <= ?3) "                            \
  " AND (?4 = '' OR EXISTS (SELECT 1 FROM series sx WHERE sx.study_id = st.id AND sx.modality = ?4 COLLATE "    \
  "NOCASE)) AND (?5 = '' OR EXISTS (SELECT 1 FROM labels l WHERE (l.study_id = st.id OR l.patient_id = p.id) " \
  "AND l.key = ?5 AND (?6 = '' OR l.value = ?6))) AND (?7 IS NULL OR p.id = ?7) AND (?8 IS NULL OR st.id = ?8) "

namespace {
template <class S>
void bindStudyFilter(S& q, const Filter& f) {
  q.bind(1, likePattern(f.text)).bind(2, normalizeFilterDate(f.dateFrom)).bind(3, normalizeFilterDate(f.dateTo))
      .bind(4, f.modality).bind(5, f.labelKey).bind(6, f.labelValue).bindOpt(7, f.patientRowId)
      .bindOpt(8, f.studyRowId).bind(9, std::int64_t(f.limit));
}
}  // namespace

std::vector<PatientRow> Database::listPatients(const Filter& f) {
  std::vector<PatientRow> out;
  auto& q = stmt(
      "SELECT p.id, p.patient_id, p.name, p.name_norm, p.birth_date, p.sex, "
      "(SELECT COUNT(*) FROM studies s2 WHERE s2.patient_id = p.id) FROM patients p WHERE "
      "(?1 = '' OR p.patient_id LIKE ?1 ESCAPE '\\' OR p.name LIKE ?1 ESCAPE '\\' OR p.name_norm LIKE ?1 ESCAPE '\\') "
      "AND (?7 IS NULL OR p.id = ?7) AND (?2 = '' AND ?3 = '' AND ?4 = '' AND ?5 = '' AND ?8 IS NULL OR EXISTS "
      "(SELECT 1 FROM studies st WHERE st.patient_id = p.id AND " E2E_STUDY_FILTER ")) "
      "ORDER BY p.name_norm, p.patient_id, p.id LIMIT ?9");
  bindStudyFilter(q, f);
  while (q.step()) out.push_back({q.i64(0), q.str(1), q.str(2), q.str(3), q.str(4), q.str(5), q.i32(6)});
  q.reset();
  return out;
}

std::vector<StudyRow> Database::listStudies(const Filter& f) {
  std::vector<StudyRow> out;
  auto& q = stmt(
      "SELECT st.id, st.patient_id, st.study_uid, st.study_date, st.study_time, st.description, st.accession, "
      "st.synthetic, p.patient_id, p.name, "
      "(SELECT group_concat(m, ',') FROM (SELECT DISTINCT sx.modality AS m FROM series sx WHERE sx.study_id = st.id "
      "ORDER BY 1)), "
      "(SELECT COUNT(*) FROM instances i JOIN series s3 ON i.series_id = s3.id WHERE s3.study_id = st.id) "
      "FROM studies st JOIN patients p ON st.patient_id = p.id WHERE " E2E_STUDY_FILTER
      "ORDER BY st.study_date, st.study_time, st.id LIMIT ?9");
  bindStudyFilter(q, f);
  while (q.step()) {
    StudyRow r;
    r.id = q.i64(0);
    r.patientRowId = q.i64(1);
    r.studyUid = q.str(2);
    r.date = q.str(3);
    r.time = q.str(4);
    r.description = q.str(5);
    r.accession = q.str(6);
    r.synthetic = q.i64(7) != 0;
    r.patientId = q.str(8);
    r.patientName = q.str(9);
    r.modalities = q.str(10);
    r.instanceCount = q.i32(11);
    out.push_back(std::move(r));
  }
  q.reset();
  return out;
}

std::vector<SeriesRow> Database::listSeries(const Filter& f) {
  std::vector<SeriesRow> out;
  auto& q = stmt(
      "SELECT se.id, se.study_id, se.series_uid, se.modality, se.description, se.number, st.study_uid, "
      "(SELECT COUNT(*) FROM instances i WHERE i.series_id = se.id) "
      "FROM series se JOIN studies st ON se.study_id = st.id JOIN patients p ON st.patient_id = p.id WHERE "
      E2E_STUDY_FILTER " AND (?4 = '' OR se.modality = ?4 COLLATE NOCASE) AND (?10 IS NULL OR se.id = ?10) "
      "ORDER BY st.study_date, st.id, se.number, se.id LIMIT ?9");
  bindStudyFilter(q, f);
  q.bindOpt(10, f.seriesRowId);
  while (q.step())
    out.push_back({q.i64(0), q.i64(1), q.str(2), q.str(3), q.str(4), q.i32(5), q.str(6), q.i32(7)});
  q.reset();
  return out;
}

#define E2E_INSTANCE_COLUMNS                                                                               \
  "SELECT i.id, i.series_id, i.sop_instance_uid, i.sop_class_uid, i.path, i.sha256, i.format, i.imported_at, " \
  "i.file_size, se.modality, se.series_uid, st.study_uid, p.patient_id, p.name, st.study_date "               \
  "FROM instances i JOIN series se ON i.series_id = se.id JOIN studies st ON se.study_id = st.id "            \
  "JOIN patients p ON st.patient_id = p.id "

namespace {
template <class S>
InstanceRow readInstance(const S& q) {
  InstanceRow r;
  r.id = q.i64(0);
  r.seriesRowId = q.i64(1);
  r.sopInstanceUid = q.str(2);
  r.sopClassUid = q.str(3);
  r.path = q.str(4);
  r.sha256 = q.str(5);
  r.format = q.str(6);
  r.importedAt = q.str(7);
  r.fileSize = static_cast<std::uint64_t>(q.i64(8));
  r.modality = q.str(9);
  r.seriesUid = q.str(10);
  r.studyUid = q.str(11);
  r.patientId = q.str(12);
  r.patientName = q.str(13);
  r.studyDate = q.str(14);
  return r;
}
}  // namespace

std::vector<InstanceRow> Database::listInstances(const Filter& f) {
  std::vector<InstanceRow> out;
  auto& q = stmt(E2E_INSTANCE_COLUMNS
                 "WHERE (?1 = '' OR p.patient_id LIKE ?1 ESCAPE '\\' OR p.name LIKE ?1 ESCAPE '\\' OR "
                 "p.name_norm LIKE ?1 ESCAPE '\\' OR i.path LIKE ?1 ESCAPE '\\' OR i.sop_instance_uid LIKE ?1 "
                 "ESCAPE '\\') AND (?2 = '' OR st.study_date >= ?2) AND (?3 = '' OR st.study_date <= ?3) "
                 "AND (?4 = '' OR se.modality = ?4 COLLATE NOCASE) AND (?5 = '' OR EXISTS (SELECT 1 FROM labels "
                 "l WHERE (l.study_id = st.id OR l.patient_id = p.id) AND l.key = ?5 AND (?6 = '' OR l.value = ?6)))"
                 " AND (?7 IS NULL OR p.id = ?7) AND (?8 IS NULL OR st.id = ?8) AND (?10 IS NULL OR se.id = ?10) "
                 "ORDER BY i.id LIMIT ?9");
  bindStudyFilter(q, f);
  q.bindOpt(10, f.seriesRowId);
  while (q.step()) out.push_back(readInstance(q));
  q.reset();
  return out;
}

std::optional<InstanceRow> Database::instanceById(std::int64_t id) {
  auto& q = stmt(E2E_INSTANCE_COLUMNS "WHERE i.id = ?1");
  q.bind(1, id);
  std::optional<InstanceRow> r;
  if (q.step()) r = readInstance(q);
  q.reset();
  return r;
}

std::int64_t Database::maxInstanceRowId() {
  auto& q = stmt("SELECT COALESCE(MAX(id), 0) FROM instances");
  const std::int64_t v = q.step() ? q.i64(0) : 0;
  q.reset();
  return v;
}

std::vector<InstanceRow> Database::instancesAfter(std::int64_t rowId, std::size_t limit) {
  std::vector<InstanceRow> out;
  if (limit == 0) return out;
  auto& q = stmt(E2E_INSTANCE_COLUMNS "WHERE i.id > ?1 ORDER BY i.id LIMIT ?2");
  q.bind(1, rowId).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  while (q.step()) out.push_back(readInstance(q));
  q.reset();
  return out;
}

std::optional<InstanceRow> Database::instanceByUid(const std::string& uid) {
  auto& q = stmt(E2E_INSTANCE_COLUMNS "WHERE i.sop_instance_uid = ?1");
  q.bind(1, uid);
  std::optional<InstanceRow> r;
  if (q.step()) r = readInstance(q);
  q.reset();
  return r;
}

std::optional<std::int64_t> Database::studyRowIdByUid(const std::string& studyUid) {
  auto& q = stmt("SELECT id FROM studies WHERE study_uid = ?1");
  q.bind(1, studyUid);
  std::optional<std::int64_t> r;
  if (q.step()) r = q.i64(0);
  q.reset();
  return r;
}

namespace {
// The first row of v, or a default row when there is none.
template <class T>
T firstOrDefault(std::vector<T> v) {
  return v.empty() ? T{} : std::move(v.front());
}

Filter seriesFilter(std::int64_t seriesRowId) {
  Filter f;
  f.seriesRowId = seriesRowId;
  return f;
}

Filter studyFilter(std::int64_t studyRowId) {
  Filter f;
  f.studyRowId = studyRowId;
  return f;
}

Filter patientFilter(std::int64_t patientRowId) {
  Filter f;
  f.patientRowId = patientRowId;
  return f;
}

constexpr const char* kEcgDetailsSql =
    "SELECT e.sampling_hz, e.num_samples, e.num_leads, e.leads, e.heart_rate_bpm, e.rr_ms, e.pr_ms, "
    "e.qrs_ms, e.qt_ms, e.qtc_ms, e.qtc_formula, e.p_axis_deg, e.qrs_axis_deg, e.t_axis_deg, "
    "e.statements, e.diagnoses, e.has_median, i.manufacturer, i.model_name FROM ecg_records e "
    "JOIN instances i ON i.id = e.instance_id WHERE e.instance_id = ?1";

// One row of kEcgDetailsSql.
template <class S>
EcgRow readEcgRow(const S& q) {
  EcgRow e;
  e.samplingHz = q.dbl(0);
  e.numSamples = q.i64(1);
  e.numLeads = q.i32(2);
  e.leads = splitNonEmpty(q.str(3), ',');
  auto& m = e.measurements;
  m.heartRateBpm = q.dbl(4);
  m.rrMs = q.dbl(5);
  m.prMs = q.dbl(6);
  m.qrsMs = q.dbl(7);
  m.qtMs = q.dbl(8);
  m.qtcMs = q.dbl(9);
  m.qtcFormula = q.str(10);
  m.pAxisDeg = q.dbl(11);
  m.qrsAxisDeg = q.dbl(12);
  m.tAxisDeg = q.dbl(13);
  e.statements = splitNonEmpty(q.str(14), '\n');
  // One diagnosis per line, each line ended (statements such as LUDB's "Atrial extrasystole, type:
  // bigemini" hold commas); rows written before that keep comma-separated codes and no newline.
  const std::string dx = q.str(15);
  e.diagnoses = splitNonEmpty(dx, dx.find('\n') != std::string::npos ? '\n' : ',');
  e.hasMedian = q.i64(16) != 0;
  e.manufacturer = q.str(17);
  e.modelName = q.str(18);
  return e;
}

constexpr const char* kEchoDetailsSql =
    "SELECT l.id, l.rows, l.cols, l.frames, l.samples_per_pixel, l.bits_allocated, l.bits_stored, "
    "l.fps, l.fps_source, l.photometric, l.transfer_syntax_uid, l.view_label, l.view_source, "
    "l.view_code, i.manufacturer, i.model_name FROM echo_loops l JOIN instances i ON "
    "i.id = l.instance_id WHERE l.instance_id = ?1";

// One row of kEchoDetailsSql (without its regions).
template <class S>
EchoRow readEchoRow(const S& q) {
  EchoRow e;
  e.loopId = q.i64(0);
  e.rows = q.i32(1);
  e.cols = q.i32(2);
  e.frames = q.i32(3);
  e.samplesPerPixel = q.i32(4);
  e.bitsAllocated = q.i32(5);
  e.bitsStored = q.i32(6);
  e.fps = q.dbl(7);
  e.fpsSource = q.str(8);
  e.photometric = q.str(9);
  e.transferSyntaxUid = q.str(10);
  e.viewLabel = q.str(11);
  e.viewSource = q.str(12);
  e.viewCode = q.str(13);
  e.manufacturer = q.str(14);
  e.modelName = q.str(15);
  return e;
}

constexpr const char* kRegionsSql =
    "SELECT x0, y0, x1, y1, spatial_format, data_type, flags, units_x, units_y, delta_x, delta_y, "
    "ref_pixel_x0, ref_pixel_y0 FROM us_regions WHERE loop_id = ?1 ORDER BY idx";

// One row of kRegionsSql.
template <class S>
UltrasoundRegion readRegion(const S& r) {
  UltrasoundRegion g;
  g.x0 = r.i32(0);
  g.y0 = r.i32(1);
  g.x1 = r.i32(2);
  g.y1 = r.i32(3);
  g.spatialFormat = r.i32(4);
  g.dataType = r.i32(5);
  g.flags = r.i32(6);
  g.unitsX = r.i32(7);
  g.unitsY = r.i32(8);
  g.deltaX = r.dbl(9);
  g.deltaY = r.dbl(10);
  g.refPixelX0 = r.dbl(11);
  g.refPixelY0 = r.dbl(12);
  return g;
}
}  // namespace

std::optional<InstanceDetails> Database::details(std::int64_t instanceRowId) {
  auto inst = instanceById(instanceRowId);
  if (!inst) return std::nullopt;
  InstanceDetails d;
  d.instance = *inst;
  d.series = firstOrDefault(listSeries(seriesFilter(inst->seriesRowId)));
  d.study = firstOrDefault(listStudies(studyFilter(d.series.studyRowId)));
  d.patient = firstOrDefault(listPatients(patientFilter(d.study.patientRowId)));

  auto& ecg = stmt(kEcgDetailsSql);
  ecg.bind(1, instanceRowId);
  if (ecg.step()) d.ecg = readEcgRow(ecg);
  ecg.reset();

  auto& echo = stmt(kEchoDetailsSql);
  echo.bind(1, instanceRowId);
  if (echo.step()) d.echo = readEchoRow(echo);
  echo.reset();
  if (d.echo) {
    auto& r = stmt(kRegionsSql);
    r.bind(1, d.echo->loopId);
    while (r.step()) d.echo->regions.push_back(readRegion(r));
    r.reset();
  }

  d.labels = labelsForStudy(d.study.id);
  for (auto& l : labelsForPatient(d.patient.id)) d.labels.push_back(std::move(l));
  return d;
}

std::vector<std::string> Database::allContentHashes() {
  std::vector<std::string> out;
  auto& q = stmt("SELECT sha256 FROM instances");
  while (q.step()) out.push_back(q.str(0));
  q.reset();
  return out;
}

Counts Database::counts() {
  Counts c;
  auto& q = stmt(
      "SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM studies), (SELECT COUNT(*) FROM series), "
      "(SELECT COUNT(*) FROM instances), (SELECT COUNT(*) FROM ecg_records), (SELECT COUNT(*) FROM echo_loops), "
      "(SELECT COUNT(*) FROM us_regions), (SELECT COUNT(*) FROM labels), (SELECT COUNT(*) FROM embeddings), "
      "(SELECT COUNT(*) FROM predictions), (SELECT COUNT(*) FROM models)");
  if (q.step()) {
    c.patients = q.i64(0);
    c.studies = q.i64(1);
    c.series = q.i64(2);
    c.instances = q.i64(3);
    c.ecgRecords = q.i64(4);
    c.echoLoops = q.i64(5);
    c.usRegions = q.i64(6);
    c.labels = q.i64(7);
    c.embeddings = q.i64(8);
    c.predictions = q.i64(9);
    c.models = q.i64(10);
  }
  q.reset();
  return c;
}

}  // namespace e2e::db
