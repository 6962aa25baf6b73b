// The workstation shell: menus/toolbar, tabs (ECG viewer, echo grid), study browser dock,
// status bar, persisted settings (window, recent files; the ECG view persists its own).
#pragma once

#include <QMainWindow>
#include <QStringList>

class QLabel;
class QMenu;
class QTabWidget;

namespace e2e::ui {

class EcgView;
class EchoGrid;
class StudyBrowser;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  EcgView* ecgView() const { return ecg_; }
  EchoGrid* echoGrid() const { return echo_; }
  QTabWidget* tabs() const { return tabs_; }
  QStringList recentFiles() const { return recent_; }

  // Opens a DICOM ECG, a WFDB .hea or a DICOM echo (decided by probing the file). Returns
  // false and shows the reason in the status bar (and a message box if interactive) on error.
  bool openPath(const QString& path, bool interactive = true);
  // Saves ecg.png (paper at 10 px/mm), ecg_view.png, echo_grid.png and main_window.png.
  QStringList saveScreenshots(const QString& dir);

 public Q_SLOTS:
  void openEcgDialog();
  void openWfdbDialog();
  void openEchoDialog();

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildMenus();
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  bool openEcg(const QString& path, bool wfdb);
  bool openEcho(const QString& path);

  QTabWidget* tabs_ = nullptr;
  EcgView* ecg_ = nullptr;
  EchoGrid* echo_ = nullptr;
  StudyBrowser* browser_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QLabel* readout_ = nullptr;
  QStringList recent_;
};

}  // namespace e2e::ui
