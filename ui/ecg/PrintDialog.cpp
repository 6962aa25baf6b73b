#include "ecg/PrintDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QLabel>
#include <QMessageBox>
#include <QHBoxLayout>
#include <QPrintDialog>
#include <QPrintPreviewWidget>
#include <QPrinter>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

#include "ecg/EcgView.h"

namespace e2e::ui {

namespace {
const vm::EcgLayoutKind kLayouts[] = {vm::EcgLayoutKind::Grid3x4Rhythm, vm::EcgLayoutKind::Grid3x4,
                                      vm::EcgLayoutKind::Grid6x2, vm::EcgLayoutKind::Grid12x1};

QString layoutTitle(vm::EcgLayoutKind k) {
  switch (k) {
    case vm::EcgLayoutKind::Grid3x4Rhythm: return QStringLiteral("3x4 + rhythm strip (II)");
    case vm::EcgLayoutKind::Grid3x4: return QStringLiteral("3x4");
    case vm::EcgLayoutKind::Grid6x2: return QStringLiteral("6x2");
    case vm::EcgLayoutKind::Grid12x1: return QStringLiteral("12x1");
  }
  return QString();
}

void selectData(QComboBox* box, const QVariant& v) {
  const int i = box->findData(v);
  if (i >= 0) box->setCurrentIndex(i);
}

// The preview pane: one page, fitted to the pane.
QPrintPreviewWidget* makePreview(QPrinter* printer, QWidget* parent) {
  auto* w = new QPrintPreviewWidget(printer, parent);
  w->setObjectName(QStringLiteral("printPreview"));
  w->setViewMode(QPrintPreviewWidget::SinglePageView);
  w->setZoomMode(QPrintPreviewWidget::FitInView);
  w->setMinimumSize(520, 380);
  w->setToolTip(QStringLiteral("The page exactly as it will print (the same painting at exact scale)"));
  return w;
}
}  // namespace

std::vector<EcgCaliperMark> viewCalipers(const EcgView& view) {
  std::vector<EcgCaliperMark> out;
  const EcgCanvas* c = view.canvas();
  const auto mm = c ? c->caliperMm() : std::nullopt;
  if (!mm || c->caliperMode() == CaliperMode::None || mm->first == mm->second) return out;
  if (auto m = caliperMarkFromGrid(c->spec(), mm->first, mm->second, c->caliperMode() == CaliperMode::Amplitude,
                                   c->caliperText()))
    out.push_back(*m);
  return out;
}

EcgPrintDialog::EcgPrintDialog(Purpose purpose, const EcgView& view, QWidget* parent) : QDialog(parent), view_(view) {
  setObjectName(QStringLiteral("ecgPrintDialog"));
  setWindowTitle(purpose == Purpose::Print ? QStringLiteral("Print ECG") : QStringLiteral("Export ECG as PDF"));
  paper_ = new QComboBox(this);
  paper_->setObjectName(QStringLiteral("printPaper"));
  paper_->addItem(QStringLiteral("A4 (297 x 210 mm)"), static_cast<int>(EcgPaper::A4));
  paper_->addItem(QStringLiteral("Letter (11 x 8.5 in)"), static_cast<int>(EcgPaper::Letter));
  layout_ = new QComboBox(this);
  layout_->setObjectName(QStringLiteral("printLayout"));
  for (auto k : kLayouts) layout_->addItem(layoutTitle(k), static_cast<int>(k));
  gain_ = new QComboBox(this);
  gain_->setObjectName(QStringLiteral("printGain"));
  for (double g : {10.0, 5.0, 20.0}) gain_->addItem(QStringLiteral("%1 mm/mV").arg(g), g);
  const std::size_t nCal = viewCalipers(view).size();
  calipers_ = new QCheckBox(nCal ? QStringLiteral("Include the caliper and its measurement")
                                 : QStringLiteral("Include calipers and measurements (none placed)"),
                            this);
  calipers_->setObjectName(QStringLiteral("printCalipers"));
  summary_ = new QLabel(this);
  summary_->setObjectName(QStringLiteral("printSummary"));
  summary_->setWordWrap(true);
  auto* form = new QFormLayout;
  form->addRow(QStringLiteral("Paper"), paper_);
  form->addRow(QStringLiteral("Layout"), layout_);
  form->addRow(QStringLiteral("Gain"), gain_);
  form->addRow(QStringLiteral("Speed"), new QLabel(QStringLiteral("25 mm/s (exact scale on paper)"), this));
  form->addRow(calipers_);
  auto* bb = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  ok_ = bb->button(QDialogButtonBox::Ok);
  ok_->setText(purpose == Purpose::Print ? QStringLiteral("Print…") : QStringLiteral("Export PDF…"));
  connect(bb, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(bb, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* options = new QVBoxLayout;
  options->addLayout(form);
  options->addWidget(summary_);
  options->addStretch(1);
  options->addWidget(bb);
  previewPrinter_ = std::make_unique<QPrinter>(QPrinter::HighResolution);
  preview_ = makePreview(previewPrinter_.get(), this);
  connect(preview_, &QPrintPreviewWidget::paintRequested, this, &EcgPrintDialog::paintPreview);
  auto* previewBox = new QVBoxLayout;
  previewBox->addWidget(new QLabel(QStringLiteral("<b>Preview</b> (as it will print)"), this));
  previewBox->addWidget(preview_, 1);
  auto* lay = new QHBoxLayout(this);
  lay->addLayout(options);
  lay->addLayout(previewBox, 1);
  setOptions(savedOptions(view));
  for (QComboBox* b : {paper_, layout_, gain_})
    connect(b, qOverload<int>(&QComboBox::currentIndexChanged), this, &EcgPrintDialog::updateSummary);
  connect(calipers_, &QCheckBox::toggled, this, &EcgPrintDialog::updateSummary);
  updateSummary();
}

EcgPrintDialog::~EcgPrintDialog() {
  // The preview widget paints on previewPrinter_: it goes first.
  delete preview_;
  preview_ = nullptr;
}

void EcgPrintDialog::paintPreview(QPrinter* printer) {
  ++previewRenders_;
  if (!view_.hasRecord()) return;  // no page
  const EcgPrintout po = printout();
  if (!ecgPageGeometry(po.spec).fitsPaper) return;  // nothing would print: an empty preview, the summary says why
  printEcgPrintout(*printer, po);
}

int EcgPrintDialog::previewPageCount() const { return preview_ ? preview_->pageCount() : 0; }

EcgPrintOptions EcgPrintDialog::options() const {
  EcgPrintOptions o;
  o.paper = static_cast<EcgPaper>(paper_->currentData().toInt());
  o.layout = static_cast<vm::EcgLayoutKind>(layout_->currentData().toInt());
  o.gainMmPerMv = gain_->currentData().toDouble();
  o.includeCalipers = calipers_->isChecked();
  return o;
}

void EcgPrintDialog::setOptions(const EcgPrintOptions& o) {
  selectData(paper_, static_cast<int>(o.paper == EcgPaper::Letter ? EcgPaper::Letter : EcgPaper::A4));
  selectData(layout_, static_cast<int>(o.layout));
  selectData(gain_, o.gainMmPerMv);
  calipers_->setChecked(o.includeCalipers);
  updateSummary();
}

EcgPrintout EcgPrintDialog::printout() const {
  return makeEcgPrintout(view_.spec(), options(), viewCalipers(view_));
}

QString EcgPrintDialog::summary() const { return summary_->text(); }

void EcgPrintDialog::updateSummary() {
  if (!summary_) return;
  const EcgPrintout po = printout();
  const bool fits = ecgPageGeometry(po.spec).fitsPaper;
  QString s = ecgPrintoutDescription(po);
  if (!view_.hasRecord()) s = QStringLiteral("No ECG is open.");
  else if (!fits) s += QStringLiteral(" — does not fit this paper at exact scale");
  if (view_.hasRecord()) {
    // What the page says about the signal (issue 23), also said here.
    const QString banner = ecgPrintoutQualityBanner(po);
    const QStringList marks = ecgPrintoutQualityMarks(po);
    if (!banner.isEmpty()) s += QStringLiteral("\n") + banner;
    if (!marks.isEmpty()) s += QStringLiteral("\nLead marks: ") + marks.join(QStringLiteral("; "));
  }
  const QStringList cal = ecgCaliperLines(po);
  if (!cal.isEmpty()) s += QStringLiteral("\n") + cal.join(QStringLiteral("\n"));
  summary_->setText(s);
  ok_->setEnabled(view_.hasRecord() && fits);
  if (preview_) preview_->updatePreview();
}

EcgPrintOptions EcgPrintDialog::savedOptions(const EcgView& view) {
  QSettings s;
  EcgPrintOptions o;
  EcgPaper paper = defaultPrintPaper();
  paperFromString(s.value(QStringLiteral("print/paper")).toString(), paper);
  o.paper = paper;
  o.layout = view.layoutKind();
  if (auto k = vm::layoutFromString(s.value(QStringLiteral("print/layout")).toString().toStdString())) o.layout = *k;
  o.gainMmPerMv = s.value(QStringLiteral("print/gain"), 10.0).toDouble();
  o.includeCalipers = s.value(QStringLiteral("print/calipers"), true).toBool();
  return o;
}

void EcgPrintDialog::saveOptions(const EcgPrintOptions& o) {
  QSettings s;
  s.setValue(QStringLiteral("print/paper"), o.paper == EcgPaper::Letter ? QStringLiteral("Letter") : QStringLiteral("A4"));
  s.setValue(QStringLiteral("print/layout"), QString::fromLatin1(vm::toString(o.layout)));
  s.setValue(QStringLiteral("print/gain"), o.gainMmPerMv);
  s.setValue(QStringLiteral("print/calipers"), o.includeCalipers);
}

void printEcgInteractive(const EcgView& view, QWidget* parent) {
  if (!view.hasRecord()) {
    QMessageBox::information(parent, QStringLiteral("Print ECG"), QStringLiteral("Open an ECG first."));
    return;
  }
  EcgPrintDialog dlg(EcgPrintDialog::Purpose::Print, view, parent);
  if (dlg.exec() != QDialog::Accepted) return;
  EcgPrintDialog::saveOptions(dlg.options());
  const EcgPrintout po = dlg.printout();
  QPrinter printer(QPrinter::HighResolution);
  printer.setFullPage(true);
  printer.setPageLayout(ecgPrintoutPageLayout(po));
  QPrintDialog pd(&printer, parent);
  pd.setWindowTitle(QStringLiteral("Print ECG (%1)").arg(ecgPrintoutDescription(po)));
  if (pd.exec() != QDialog::Accepted) return;
  QString err;
  // The paper and orientation are set again: the page must be the one laid out at exact scale.
  if (!printEcgPrintout(printer, po, &err)) QMessageBox::warning(parent, QStringLiteral("Print failed"), err);
}

void exportEcgPdfInteractive(const EcgView& view, QWidget* parent) {
  if (!view.hasRecord()) {
    QMessageBox::information(parent, QStringLiteral("Export ECG as PDF"), QStringLiteral("Open an ECG first."));
    return;
  }
  EcgPrintDialog dlg(EcgPrintDialog::Purpose::ExportPdf, view, parent);
  if (dlg.exec() != QDialog::Accepted) return;
  EcgPrintDialog::saveOptions(dlg.options());
  const QString path =
      QFileDialog::getSaveFileName(parent, QStringLiteral("Export ECG as PDF"), QString(), QStringLiteral("PDF (*.pdf)"));
  if (path.isEmpty()) return;
  QString err;
  if (!writeEcgPrintoutPdf(dlg.printout(), path, &err)) QMessageBox::warning(parent, QStringLiteral("Export failed"), err);
}

}  // namespace e2e::ui
