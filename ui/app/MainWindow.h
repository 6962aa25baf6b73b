// The workstation shell: menus/toolbar, tabs (ECG viewer, echo grid), study browser dock,
// status bar, persisted settings (window, recent files; the ECG view persists its own).
#pragma once

#include <QMainWindow>
#include <QStringList>

class QAction;
class QLabel;
class QMenu;
class QPlainTextEdit;
class QTabWidget;

namespace e2e::ui {

class EcgView;
class EchoGrid;
class StudyBrowser;
class PredictionPanel;
class RetrievalPanel;
class ImportDialog;
class DatabaseObserver;
class NetworkUi;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  EcgView* ecgView() const { return ecg_; }
  EchoGrid* echoGrid() const { return echo_; }
  QTabWidget* tabs() const { return tabs_; }
  QStringList recentFiles() const { return recent_; }
  StudyBrowser* studyBrowser() const { return browser_; }
  // DICOM networking: receiver, Settings > Network…, File > Query PACS… (ui/net/NetworkUi.h).
  NetworkUi* network() const { return network_; }

  // ---- Study database, import, prediction and retrieval panels ----
  // The current database (also exported as $E2E_DB for the browser and the tools); shown in
  // the title, remembered in "recentDatabases" (QSettings, at most 10) when `remember`.
  // At start: $E2E_DB (echo2ecg-gui --db sets it) for this run only, never remembered; else the
  // most recent database; else the default. A database this user may not write is opened
  // read-only for viewing (databaseReadOnly(); import and training say why they cannot run).
  QString databasePath() const { return dbPath_; }
  void setDatabase(const QString& path, bool remember = true);
  bool databaseReadOnly() const { return dbReadOnly_; }
  QStringList recentDatabases() const;
  PredictionPanel* predictionPanel() const { return predictions_; }
  RetrievalPanel* retrievalPanel() const { return retrieval_; }
  // Starts importing files/folders into the current database (non-modal dialog with progress
  // and report; the study browser refreshes at the end).
  ImportDialog* importPaths(const QStringList& paths);
  void logMessage(const QString& text, bool error = false);

  // Opens a DICOM ECG, a WFDB .hea or a DICOM echo (decided by probing the file). Returns
  // false and shows the reason in the status bar (and a message box if interactive) on error.
  // remember: add it to the recent files (false for files given on the command line).
  bool openPath(const QString& path, bool interactive = true, bool remember = true);
  // Saves ecg.png (paper at 10 px/mm), ecg_view.png, echo_grid.png and main_window.png.
  QStringList saveScreenshots(const QString& dir);

 public Q_SLOTS:
  void openEcgDialog();
  void openWfdbDialog();
  void openEchoDialog();
  void importFolderDialog();
  void openDatabaseDialog();

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildMenus();                    // File, View, Tools, Models, Labels, Help and the toolbar
  struct ToolBarActions {                // File menu actions the toolbar shows too
    QAction *openEcg, *openWfdb, *openEcho, *exportPdf;
  };
  ToolBarActions buildFileMenu();
  void buildViewMenu();
  // Gain, speed, ECG page, next/previous study, echo play/pause (MainWindowActions.cpp).
  void buildReadingActions(QMenu* view);
  void buildToolsMenu();
  void buildModelsMenu();
  void buildLabelsMenu();
  void buildHelpMenu();
  void buildToolBar(const ToolBarActions& actions);
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  bool openEcg(const QString& path);
  bool openEcho(const QString& path);
  void buildDatabaseUi();               // File menu entries, log/prediction/retrieval docks
  void buildDocks();                    // log, predictions and similar-studies docks
  void watchDatabase();                 // database changes -> browser/panel refreshes
  void addDatabaseFileActions();        // Import folder…, Open database…, Recent databases
  void connectBrowserSelection();       // an ECG selected in the browser -> the panels
  void openInitialDatabase();           // $E2E_DB, else the last used, else the default
  void rebuildRecentDatabasesMenu();
  void ecgOpened(const QString& path);  // selects the ECG in the prediction/retrieval panels

  QTabWidget* tabs_ = nullptr;
  EcgView* ecg_ = nullptr;
  EchoGrid* echo_ = nullptr;
  StudyBrowser* browser_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QLabel* readout_ = nullptr;
  QStringList recent_;
  QString dbPath_;
  bool dbReadOnly_ = false;
  QMenu* recentDbMenu_ = nullptr;
  PredictionPanel* predictions_ = nullptr;
  RetrievalPanel* retrieval_ = nullptr;
  DatabaseObserver* observer_ = nullptr;  // the one path by which database changes reach the views
  QPlainTextEdit* log_ = nullptr;
  NetworkUi* network_ = nullptr;
};

}  // namespace e2e::ui
