#include "net/ReceiverService.h"

#include <QPointer>
#include <QThread>

namespace e2e::ui {

ReceiverService::ReceiverService(QObject* parent) : QObject(parent) {}

ReceiverService::~ReceiverService() { stop(); }

void ReceiverService::start(const net::ScpOptions& opts) {
  stop();
  opts_ = opts;
  cancel_ = job::CancelToken();  // a fresh token: the old thread's one stays cancelled
  setState(State::Starting);
  const job::CancelToken cancel = cancel_;
  const int gen = ++generation_;
  QPointer<ReceiverService> self(this);  // the destructor joins the thread: `this` outlives it
  thread_ = QThread::create([self, gen, opts, cancel] {
    net::ScpStats stats;
    QString error;
    try {
      net::StorageScp scp(opts, [self, gen](const net::ScpEvent& e) {
        // Delivered on the GUI thread; dropped if the service is gone.
        QMetaObject::invokeMethod(self.data(), [self, gen, e] {
          if (self) self->onEvent(gen, e);
        }, Qt::QueuedConnection);
      });
      stats = scp.run(cancel);
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(self.data(), [self, gen, stats, error] {
      if (self) self->onFinished(gen, stats, error);
    }, Qt::QueuedConnection);
  });
  thread_->setObjectName(QStringLiteral("DICOM receiver"));
  thread_->start();
}

void ReceiverService::stop() {
  if (!thread_) return;
  cancel_.cancel();
  ++generation_;  // what the old thread still has queued changes no state
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  // The thread's last queued events are still delivered (they only log).
  setState(State::Off);
}

void ReceiverService::fail(const QString& text) {
  stop();
  setState(State::Error, text);
}

void ReceiverService::onEvent(int generation, const net::ScpEvent& e) {
  if (generation == generation_ && e.type == net::ScpEvent::Type::Listening && state_ == State::Starting) setState(State::Listening);
  Q_EMIT scpEvent(e);
}

void ReceiverService::onFinished(int generation, const net::ScpStats& stats, const QString& error) {
  stats_ = stats;
  if (generation != generation_) return;  // a receiver stopped before a restart
  if (!error.isEmpty()) {
    setState(State::Error, error);
  } else if (!cancel_.cancelled()) {
    setState(State::Error, QStringLiteral("the receiver stopped unexpectedly"));
  }
}

void ReceiverService::setState(State s, const QString& error) {
  state_ = s;
  error_ = error;
  Q_EMIT stateChanged(s, statusText());
}

QString ReceiverService::statusText() const {
  switch (state_) {
    case State::Off: return QStringLiteral("Receiver off");
    case State::Starting:
      return QStringLiteral("Receiver starting (%1:%2)…").arg(QString::fromStdString(opts_.aet)).arg(opts_.port);
    case State::Listening:
      return QStringLiteral("Receiving as %1:%2").arg(QString::fromStdString(opts_.aet)).arg(opts_.port);
    case State::Error: return QStringLiteral("Receiver error: %1").arg(error_);
  }
  return {};
}

QString describeScpEvent(const net::ScpEvent& e) {
  // The log adds the time.
  QString line = QStringLiteral("Receiver: %1").arg(QString::fromLatin1(net::toString(e.type)));
  if (!e.callingAet.empty())
    line += QStringLiteral(" %1@%2").arg(QString::fromStdString(e.callingAet), QString::fromStdString(e.peerHost));
  if (e.type == net::ScpEvent::Type::ObjectStored || e.type == net::ScpEvent::Type::ObjectAborted)
    line += QStringLiteral(": %1 %2").arg(QString::fromStdString(e.object.sopInstanceUid),
                                         QString::fromLatin1(net::toString(e.object.outcome)));
  if (!e.message.empty()) line += QStringLiteral(" (%1)").arg(QString::fromStdString(e.message));
  return line;
}

}  // namespace e2e::ui
