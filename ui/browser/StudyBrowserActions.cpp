// StudyBrowser: the tree's context menu (Export anonymised…) and next/previous study.
#include <QMenu>
#include <QTreeView>

#include "browser/AnonymizeDialog.h"
#include "browser/StudyBrowser.h"
#include "browser/StudyTreeModel.h"

namespace e2e::ui {

namespace {
StudyTreeModel::Kind kindOf(const QModelIndex& i) {
  return static_cast<StudyTreeModel::Kind>(i.sibling(i.row(), 0).data(StudyTreeModel::KindRole).toInt());
}
}  // namespace

QStringList StudyBrowser::pathsUnder(const QModelIndex& index) const {
  QStringList out;
  const QModelIndex first = index.sibling(index.row(), 0);
  if (!first.isValid()) return out;
  if (kindOf(first) == StudyTreeModel::Kind::Instance) {
    out << first.data(StudyTreeModel::PathRole).toString();
    return out;
  }
  for (int r = 0; r < treeModel_->rowCount(first); ++r) out << pathsUnder(treeModel_->index(r, 0, first));
  return out;
}

bool StudyBrowser::selectAdjacentStudy(int delta) {
  QModelIndex cur = tree_->currentIndex();
  cur = cur.sibling(cur.row(), 0);
  while (cur.isValid() && kindOf(cur) != StudyTreeModel::Kind::Study && kindOf(cur) != StudyTreeModel::Kind::Patient)
    cur = cur.parent();
  std::vector<QModelIndex> studies;  // in the order the tree shows them
  int at = -1;
  for (int p = 0; p < treeModel_->rowCount(); ++p) {
    const QModelIndex patient = treeModel_->index(p, 0);
    for (int s = 0; s < treeModel_->rowCount(patient); ++s) {
      const QModelIndex study = treeModel_->index(s, 0, patient);
      if (study == cur || (at < 0 && patient == cur)) at = static_cast<int>(studies.size());
      studies.push_back(study);
    }
  }
  if (studies.empty()) return false;
  const int target = at < 0 ? (delta > 0 ? 0 : static_cast<int>(studies.size()) - 1) : at + delta;
  if (target < 0 || target >= static_cast<int>(studies.size())) return false;
  QModelIndex leaf = studies[static_cast<std::size_t>(target)];
  while (treeModel_->rowCount(leaf) > 0) leaf = treeModel_->index(0, 0, leaf);
  for (QModelIndex up = leaf.parent(); up.isValid(); up = up.parent()) tree_->expand(up);
  tree_->setCurrentIndex(leaf);
  tree_->scrollTo(leaf);
  const QString path = leaf.data(StudyTreeModel::PathRole).toString();
  if (!path.isEmpty()) Q_EMIT openRequested(path);
  return true;
}

QMenu* StudyBrowser::contextMenuFor(const QModelIndex& index) {
  auto* menu = new QMenu(this);
  const QStringList paths = pathsUnder(index);
  QAction* anon = menu->addAction(QStringLiteral("Export anonymised…"), this, [this, paths] {
    AnonymizeDialog dlg(paths, this);
    dlg.exec();
  });
  anon->setObjectName(QStringLiteral("exportAnonymised"));
  anon->setEnabled(!paths.isEmpty());
  anon->setToolTip(QStringLiteral("%1 object(s) of this node, as DICOM with the patient removed").arg(paths.size()));
  return menu;
}

void StudyBrowser::setupContextMenu() {
  tree_->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(tree_, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    const QModelIndex index = tree_->indexAt(pos);
    if (!index.isValid()) return;
    QMenu* menu = contextMenuFor(index);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->popup(tree_->viewport()->mapToGlobal(pos));
  });
}

}  // namespace e2e::ui
