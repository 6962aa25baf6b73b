// Database::browseRows: the instance hierarchy in one query, for the study browser's tree.
#include "db/db_internal.h"

namespace e2e::db {

namespace {
// "%text%" with LIKE's wildcards escaped; "" for no text.
std::string containsPattern(const std::string& text) {
  if (text.empty()) return "";
  std::string p = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') p += '\\';
    p += c;
  }
  return p + "%";
}
}  // namespace

std::vector<BrowseRow> Database::browseRows(const Filter& f) {
  auto& q = stmt(
      "SELECT p.id, st.id, se.id, i.id, p.patient_id, p.name, p.birth_date, p.sex, st.study_uid, st.study_date, "
      "st.study_time, st.description, st.accession, st.synthetic, se.series_uid, se.modality, se.description, "
      "se.number, i.sop_instance_uid, i.path, i.format "
      "FROM instances i JOIN series se ON i.series_id = se.id JOIN studies st ON se.study_id = st.id "
      "JOIN patients p ON st.patient_id = p.id "
      "WHERE (?1 = '' OR p.patient_id LIKE ?1 ESCAPE '\\' OR p.name LIKE ?1 ESCAPE '\\' OR p.name_norm LIKE ?1 "
      "ESCAPE '\\') AND (?2 = '' OR st.study_date >= ?2) AND (?3 = '' OR st.study_date <= ?3) "
      "AND (?4 = '' OR se.modality = ?4 COLLATE NOCASE) AND (?5 = '' OR EXISTS (SELECT 1 FROM labels l WHERE "
      "(l.study_id = st.id OR l.patient_id = p.id) AND l.key = ?5 AND (?6 = '' OR l.value = ?6))) "
      "AND (?7 IS NULL OR p.id = ?7) AND (?8 IS NULL OR st.id = ?8) AND (?10 IS NULL OR se.id = ?10) "
      "ORDER BY p.id, st.study_date, st.study_time, st.id, se.number, se.id, i.id LIMIT ?9");
  q.bind(1, containsPattern(f.text))
      .bind(2, normalizeFilterDate(f.dateFrom))
      .bind(3, normalizeFilterDate(f.dateTo))
      .bind(4, f.modality)
      .bind(5, f.labelKey)
      .bind(6, f.labelValue).bindOpt(7, f.patientRowId).bindOpt(8, f.studyRowId).bind(9, std::int64_t(f.limit))
      .bindOpt(10, f.seriesRowId);
  std::vector<BrowseRow> out;
  while (q.step()) {
    BrowseRow r;
    r.patientRowId = q.i64(0);
    r.studyRowId = q.i64(1);
    r.seriesRowId = q.i64(2);
    r.instanceRowId = q.i64(3);
    r.patientId = q.str(4);
    r.patientName = q.str(5);
    r.birthDate = q.str(6);
    r.sex = q.str(7);
    r.studyUid = q.str(8);
    r.studyDate = q.str(9);
    r.studyTime = q.str(10);
    r.studyDescription = q.str(11);
    r.accession = q.str(12);
    r.synthetic = q.i64(13) != 0;
    r.seriesUid = q.str(14);
    r.modality = q.str(15);
    r.seriesDescription = q.str(16);
    r.seriesNumber = q.i32(17);
    r.sopInstanceUid = q.str(18);
    r.path = q.str(19);
    r.format = q.str(20);
    out.push_back(std::move(r));
  }
  q.reset();
  return out;
}

}  // namespace e2e::db
