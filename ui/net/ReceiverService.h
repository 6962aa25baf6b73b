// The background DICOM receiver: core net::StorageScp::run on its own QThread with a
// job::CancelToken. start() / stop() from the GUI thread; every ScpEvent reaches the GUI thread
// as the event() signal, and state changes (listening, stopped, error) as stateChanged().
#pragma once

#include <QObject>
#include <QString>
#include <memory>

#include "jobs/job.h"
#include "net/storage_scp.h"

class QThread;

namespace e2e::ui {

class ReceiverService : public QObject {
  Q_OBJECT
 public:
  enum class State { Off, Starting, Listening, Error };
  explicit ReceiverService(QObject* parent = nullptr);
  ~ReceiverService() override;  // stops (cancel + join)

  // Starts serving with these options (stops a running receiver first). Errors (bad options, the
  // database cannot be opened, the port is in use) end in State::Error with errorText().
  void start(const net::ScpOptions& opts);
  // Cancels and waits for the thread: about a second at most (an open association is aborted),
  // plus the import of objects already acknowledged.
  void stop();
  // Stops and shows `text` as the error (options that cannot be used, a read-only database).
  void fail(const QString& text);
  bool running() const { return thread_ != nullptr; }
  State state() const { return state_; }
  QString errorText() const { return error_; }
  const net::ScpOptions& options() const { return opts_; }
  // "Receiving as AET:PORT", "Receiver off", "Receiver error: ..." (the status bar text).
  QString statusText() const;
  net::ScpStats lastStats() const { return stats_; }

 Q_SIGNALS:
  void scpEvent(const e2e::net::ScpEvent& event);
  void stateChanged(e2e::ui::ReceiverService::State state, const QString& text);

 private:
  void onEvent(int generation, const net::ScpEvent& e);
  void onFinished(int generation, const net::ScpStats& stats, const QString& error);
  void setState(State s, const QString& error = {});

  net::ScpOptions opts_;
  QThread* thread_ = nullptr;
  job::CancelToken cancel_;
  int generation_ = 0;  // which start() the thread's queued calls belong to
  State state_ = State::Off;
  QString error_;
  net::ScpStats stats_;
};

// "Receiver: object STORESCU@127.0.0.1: 1.2.3 added (message)" for the log.
QString describeScpEvent(const net::ScpEvent& e);

}  // namespace e2e::ui
