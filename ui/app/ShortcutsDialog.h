// Help > Keyboard shortcuts: a table of every shortcut the window defines, read from its QActions
// (menus, toolbars, the viewers' own actions), never a hand-written list.
#pragma once

#include <QDialog>
#include <QString>
#include <vector>

class QTableWidget;

namespace e2e::ui {

struct ShortcutEntry {
  QString command;   // the action's text without '&' and '…' ("Print ECG")
  QString keys;      // its shortcuts in the platform's notation, ", " between them ("Ctrl+P")
  QString where;     // the menu path ("File") or the widget the action belongs to ("ECG view")
};

// Every action under `root` (its children, recursively) that has a shortcut, sorted by place then
// command; an action listed in several menus appears once.
std::vector<ShortcutEntry> collectShortcuts(const QWidget& root);

class ShortcutsDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ShortcutsDialog(const QWidget& root, QWidget* parent = nullptr);
  QTableWidget* table() const { return table_; }

 private:
  QTableWidget* table_ = nullptr;
};

}  // namespace e2e::ui
