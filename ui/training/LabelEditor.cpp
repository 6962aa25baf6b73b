#include "training/LabelEditor.h"

#include <QComboBox>
#include <QDoubleValidator>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <map>

#include "db/database.h"

namespace e2e::ui {

namespace {
QString q(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

LabelEditor::LabelEditor(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("LabelEditor"));
  auto* l = new QVBoxLayout(this);

  auto* impBox = new QGroupBox(tr("Import labels (CSV)"));
  auto* il = new QHBoxLayout(impBox);
  by_ = new QComboBox;
  by_->addItem(tr("Match by: auto"), QStringLiteral("auto"));
  by_->addItem(tr("study_uid"), QStringLiteral("study_uid"));
  by_->addItem(tr("accession"), QStringLiteral("accession"));
  by_->addItem(tr("patient_id"), QStringLiteral("patient_id"));
  import_ = new QPushButton(tr("Import CSV..."));
  il->addWidget(by_);
  il->addWidget(import_);
  il->addStretch(1);
  l->addWidget(impBox);

  auto* edBox = new QGroupBox(tr("Study labels"));
  auto* ef = new QFormLayout(edBox);
  study_ = new QComboBox;
  study_->setMinimumContentsLength(30);
  lvefPercent_ = new QLineEdit;
  auto* v = new QDoubleValidator(0, 100, 1, lvefPercent_);
  v->setNotation(QDoubleValidator::StandardNotation);
  v->setLocale(QLocale::c());
  lvefPercent_->setValidator(v);
  lvefPercent_->setPlaceholderText(tr("e.g. 55.0"));
  lvefClass_ = new QComboBox;
  lvefClass_->addItem(QString(), QString());
  lvefClass_->addItem(tr("0: < 40 %"), QStringLiteral("0"));
  lvefClass_->addItem(tr("1: 40\u201349 %"), QStringLiteral("1"));
  lvefClass_->addItem(tr("2: \u2265 50 %"), QStringLiteral("2"));
  shd_ = new QComboBox;
  shd_->addItem(QString(), QString());
  shd_->addItem(tr("0: no structural heart disease"), QStringLiteral("0"));
  shd_->addItem(tr("1: structural heart disease"), QStringLiteral("1"));
  save_ = new QPushButton(tr("Save"));
  ef->addRow(tr("Study"), study_);
  ef->addRow(tr("LVEF (%)"), lvefPercent_);
  ef->addRow(tr("LVEF class"), lvefClass_);
  ef->addRow(tr("SHD"), shd_);
  ef->addRow(save_);
  l->addWidget(edBox);

  table_ = new QTableWidget(0, 4);
  table_->setHorizontalHeaderLabels({tr("Key"), tr("Value"), tr("Level"), tr("Source")});
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  l->addWidget(table_, 1);
  report_ = new QPlainTextEdit;
  report_->setReadOnly(true);
  report_->setPlaceholderText(tr("Import report"));
  report_->setMaximumHeight(120);
  info_ = new QLabel;
  l->addWidget(report_);
  l->addWidget(info_);

  connect(import_, &QPushButton::clicked, this, &LabelEditor::importCsvInteractive);
  connect(save_, &QPushButton::clicked, this, &LabelEditor::save);
  connect(study_, &QComboBox::currentIndexChanged, this, [this] { loadStudy(); });
}

void LabelEditor::setDatabasePath(const QString& path) {
  dbPath_ = path;
  reloadStudies();
}

void LabelEditor::reloadStudies() {
  const QString keep = currentStudy();
  QSignalBlocker block(study_);
  study_->clear();
  if (!dbPath_.isEmpty() && QFileInfo::exists(dbPath_)) {
    try {
      e2e::db::Database db(dbPath_.toStdString(), e2e::db::Database::Mode::Auto);  // viewing: read-only is fine
      for (const auto& s : db.listStudies())
        study_->addItem(QStringLiteral("%1  %2  %3").arg(q(s.patientId), q(s.date), q(s.studyUid)), q(s.studyUid));
      info_->setText(tr("%1 stud(ies)").arg(study_->count()));
    } catch (const std::exception& e) {
      info_->setText(tr("database error: %1").arg(QString::fromUtf8(e.what())));
    }
  }
  if (int i = study_->findData(keep); i >= 0) study_->setCurrentIndex(i);
  block.unblock();
  loadStudy();
}

bool LabelEditor::setStudy(const QString& studyUid) {
  const int i = study_->findData(studyUid);
  if (i < 0) return false;
  study_->setCurrentIndex(i);
  loadStudy();
  return true;
}

QString LabelEditor::currentStudy() const { return study_->currentData().toString(); }

void LabelEditor::loadStudy() {
  table_->setRowCount(0);
  lvefPercent_->clear();
  lvefClass_->setCurrentIndex(0);
  shd_->setCurrentIndex(0);
  const QString uid = currentStudy();
  save_->setEnabled(!uid.isEmpty());
  if (uid.isEmpty() || dbPath_.isEmpty()) return;
  try {
    e2e::db::Database db(dbPath_.toStdString(), e2e::db::Database::Mode::Auto);  // viewing: read-only is fine
    const auto sid = db.studyRowIdByUid(uid.toStdString());
    if (!sid) return;
    std::vector<std::pair<QString, e2e::db::LabelRow>> rows;
    for (auto& r : db.labelsForStudy(*sid)) rows.emplace_back(tr("study"), r);
    e2e::db::Filter f;
    f.studyRowId = *sid;
    const auto st = db.listStudies(f);
    if (!st.empty())
      for (auto& r : db.labelsForPatient(st.front().patientRowId)) rows.emplace_back(tr("patient"), r);
    table_->setRowCount(static_cast<int>(rows.size()));
    int i = 0;
    for (const auto& [level, r] : rows) {
      table_->setItem(i, 0, new QTableWidgetItem(q(r.key)));
      table_->setItem(i, 1, new QTableWidgetItem(q(r.value)));
      table_->setItem(i, 2, new QTableWidgetItem(level));
      table_->setItem(i, 3, new QTableWidgetItem(q(r.source)));
      ++i;
    }
    // The value the editor shows per key: study labels before patient labels; among several
    // sources, the "manual" one, else the most recent.
    std::map<QString, std::pair<int, const e2e::db::LabelRow*>> best;  // key -> (rank, row)
    for (const auto& [level, r] : rows) {
      const int rank = (level == tr("study") ? 2 : 0) + (r.source == "manual" ? 1 : 0);
      auto& b = best[q(r.key)];
      if (!b.second || rank > b.first || (rank == b.first && r.id > b.second->id)) b = {rank, &r};
    }
    for (const auto& [key, b] : best) {
      const QString val = q(b.second->value);
      if (key == QLatin1String("lvef_percent")) lvefPercent_->setText(val);
      if (key == QLatin1String("lvef_class")) {
        int k = lvefClass_->findData(val);
        if (k < 0) lvefClass_->addItem(val, val), k = lvefClass_->count() - 1;
        lvefClass_->setCurrentIndex(k);
      }
      if (key == QLatin1String("shd")) {
        int k = shd_->findData(val);
        if (k < 0) shd_->addItem(val, val), k = shd_->count() - 1;
        shd_->setCurrentIndex(k);
      }
    }
    table_->resizeColumnsToContents();
  } catch (const std::exception& e) {
    info_->setText(tr("database error: %1").arg(QString::fromUtf8(e.what())));
  }
}

bool LabelEditor::save() {
  const QString uid = currentStudy();
  if (uid.isEmpty() || dbPath_.isEmpty()) return false;
  try {
    e2e::db::Database db(dbPath_.toStdString());
    const auto sid = db.studyRowIdByUid(uid.toStdString());
    if (!sid) return false;
    std::map<std::string, std::string> cur;  // the manual values already stored
    for (const auto& r : db.labelsForStudy(*sid))
      if (r.source == "manual") cur[r.key] = r.value;
    const std::pair<const char*, QString> vals[] = {{"lvef_percent", lvefPercent_->text().trimmed()},
                                                    {"lvef_class", lvefClass_->currentData().toString()},
                                                    {"shd", shd_->currentData().toString()}};
    e2e::db::Database::Transaction tx(db);
    int n = 0;
    for (const auto& [key, v] : vals) {
      if (v.isEmpty()) continue;  // empty: leave as is (no label deletion in the database API)
      auto it = cur.find(key);
      if (it != cur.end() && it->second == v.toStdString()) continue;
      db.setStudyLabel(*sid, key, v.toStdString(), "manual");
      ++n;
    }
    tx.commit();
    info_->setText(tr("%1 label(s) saved").arg(n));
  } catch (const std::exception& e) {
    info_->setText(tr("cannot save: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
  loadStudy();
  Q_EMIT labelsChanged(uid);
  return true;
}

e2e::labels::ImportResult LabelEditor::importCsv(const QString& path, e2e::labels::KeyColumn by) {
  e2e::labels::ImportResult r;
  report_->clear();
  if (dbPath_.isEmpty()) {
    report_->setPlainText(tr("No database."));
    return r;
  }
  try {
    e2e::db::Database db(dbPath_.toStdString());
    r = e2e::labels::importLabelsCsv(db, path.toStdString(), by);
  } catch (const std::exception& e) {
    report_->setPlainText(tr("Import failed: %1").arg(QString::fromUtf8(e.what())));
    return r;
  }
  QStringList lines;
  lines << tr("%1: %2 row(s), %3 matched, %4 unmatched, %5 label value(s) stored (key: %6)")
               .arg(QFileInfo(path).fileName())
               .arg(r.rows)
               .arg(r.matchedRows)
               .arg(r.unmatched.size())
               .arg(r.labelsStored)
               .arg(QString::fromLatin1(e2e::labels::toString(r.keyColumn)));
  for (const auto& u : r.unmatched) lines << tr("unmatched: line %1: %2").arg(u.line).arg(q(u.key));
  for (const auto& w : r.warnings) lines << tr("warning: %1").arg(q(w));
  report_->setPlainText(lines.join(QLatin1Char('\n')));
  reloadStudies();
  Q_EMIT labelsChanged(QString());
  return r;
}

void LabelEditor::importCsvInteractive() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Import labels"), QString(), tr("CSV files (*.csv)"));
  if (path.isEmpty()) return;
  e2e::labels::KeyColumn by = e2e::labels::KeyColumn::Auto;
  e2e::labels::parseKeyColumn(by_->currentData().toString().toStdString(), by);
  importCsv(path, by);
}

}  // namespace e2e::ui
