#include "app/ShortcutsDialog.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QSet>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace e2e::ui {

namespace {
QString plain(QString s) {
  s.remove(QLatin1Char('&'));
  if (s.endsWith(QChar(0x2026))) s.chop(1);
  return s.trimmed();
}

// "View > ECG layout" for an action in a submenu; the owning widget's name otherwise.
QString placeOf(const QAction& a) {
  for (QObject* o : a.associatedObjects())
    if (auto* menu = qobject_cast<QMenu*>(o)) {
      QStringList path{plain(menu->title())};
      for (QAction* up = menu->menuAction(); up;) {
        QMenu* parent = nullptr;
        for (QObject* po : up->associatedObjects())
          if ((parent = qobject_cast<QMenu*>(po))) break;
        if (!parent || parent->title().isEmpty()) break;  // e.g. the menu bar's overflow menu
        path.prepend(plain(parent->title()));
        up = parent->menuAction();
      }
      return path.join(QStringLiteral(" > "));
    }
  const QString where = a.property("shortcutPlace").toString();
  if (!where.isEmpty()) return where;
  if (auto* w = qobject_cast<QWidget*>(a.parent()); w && !w->accessibleName().isEmpty()) return w->accessibleName();
  return QStringLiteral("Main window");
}
}  // namespace

std::vector<ShortcutEntry> collectShortcuts(const QWidget& root) {
  std::vector<ShortcutEntry> out;
  QSet<QAction*> seen;
  for (QAction* a : root.findChildren<QAction*>()) {
    if (a->shortcuts().isEmpty() || a->isSeparator() || seen.contains(a)) continue;
    seen.insert(a);
    QStringList keys;
    for (const QKeySequence& k : a->shortcuts()) keys << k.toString(QKeySequence::NativeText);
    out.push_back({plain(a->text()), keys.join(QStringLiteral(", ")), placeOf(*a)});
  }
  std::sort(out.begin(), out.end(), [](const ShortcutEntry& x, const ShortcutEntry& y) {
    return x.where != y.where ? x.where < y.where : x.command < y.command;
  });
  return out;
}

ShortcutsDialog::ShortcutsDialog(const QWidget& root, QWidget* parent) : QDialog(parent) {
  setObjectName(QStringLiteral("shortcutsDialog"));
  setWindowTitle(QStringLiteral("Keyboard shortcuts"));
  const auto entries = collectShortcuts(root);
  table_ = new QTableWidget(static_cast<int>(entries.size()), 3, this);
  table_->setObjectName(QStringLiteral("shortcutsTable"));
  table_->setHorizontalHeaderLabels({QStringLiteral("Keys"), QStringLiteral("Command"), QStringLiteral("Where")});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  for (int r = 0; r < static_cast<int>(entries.size()); ++r) {
    const auto& e = entries[static_cast<std::size_t>(r)];
    table_->setItem(r, 0, new QTableWidgetItem(e.keys));
    table_->setItem(r, 1, new QTableWidgetItem(e.command));
    table_->setItem(r, 2, new QTableWidgetItem(e.where));
  }
  table_->resizeColumnsToContents();
  table_->horizontalHeader()->setStretchLastSection(true);
  auto* bb = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(bb, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* lay = new QVBoxLayout(this);
  lay->addWidget(new QLabel(QStringLiteral("Shortcuts of this window (%1), read from its menus and viewers.").arg(entries.size()), this));
  lay->addWidget(table_);
  lay->addWidget(bb);
  resize(620, 520);
}

}  // namespace e2e::ui
