#include "net/NetworkSettings.h"

#include <QSettings>
#include <stdexcept>

namespace e2e::ui {

QString PacsPeer::label() const {
  return QStringLiteral("%1 (%2@%3:%4)").arg(name.isEmpty() ? aet : name, aet, host).arg(port);
}

NetworkSettings NetworkSettings::load() {
  NetworkSettings n;
  QSettings s;
  s.beginGroup(QStringLiteral("network"));
  n.aet = s.value(QStringLiteral("aet"), n.aet).toString();
  n.port = s.value(QStringLiteral("port"), n.port).toInt();
  n.acceptAny = s.value(QStringLiteral("acceptAny"), n.acceptAny).toBool();
  n.allowed = s.value(QStringLiteral("allowed")).toStringList();
  n.startReceiver = s.value(QStringLiteral("startReceiver"), n.startReceiver).toBool();
  const int count = s.beginReadArray(QStringLiteral("peers"));
  for (int i = 0; i < count; ++i) {
    s.setArrayIndex(i);
    PacsPeer p;
    p.name = s.value(QStringLiteral("name")).toString();
    p.aet = s.value(QStringLiteral("aet")).toString();
    p.host = s.value(QStringLiteral("host")).toString();
    p.port = s.value(QStringLiteral("port"), p.port).toInt();
    n.peers << p;
  }
  s.endArray();
  s.endGroup();
  return n;
}

void NetworkSettings::save() const {
  QSettings s;
  s.beginGroup(QStringLiteral("network"));
  s.setValue(QStringLiteral("aet"), aet);
  s.setValue(QStringLiteral("port"), port);
  s.setValue(QStringLiteral("acceptAny"), acceptAny);
  s.setValue(QStringLiteral("allowed"), allowed);
  s.setValue(QStringLiteral("startReceiver"), startReceiver);
  s.remove(QStringLiteral("peers"));
  s.beginWriteArray(QStringLiteral("peers"), static_cast<int>(peers.size()));
  for (int i = 0; i < peers.size(); ++i) {
    s.setArrayIndex(i);
    s.setValue(QStringLiteral("name"), peers[i].name);
    s.setValue(QStringLiteral("aet"), peers[i].aet);
    s.setValue(QStringLiteral("host"), peers[i].host);
    s.setValue(QStringLiteral("port"), peers[i].port);
  }
  s.endArray();
  s.endGroup();
  s.sync();
}

QString aeTitleProblem(const QString& aet, const QString& what) {
  if (aet.trimmed().isEmpty()) return QStringLiteral("%1 is empty: give 1 to 16 characters.").arg(what);
  if (aet.size() > 16) return QStringLiteral("%1 \"%2\" is %3 characters long: at most 16 are allowed.").arg(what, aet).arg(aet.size());
  if (aet.contains(QLatin1Char('\\'))) return QStringLiteral("%1 \"%2\" contains a backslash, which DICOM does not allow.").arg(what, aet);
  if (!net::validAeTitle(aet.toStdString()))
    return QStringLiteral("%1 \"%2\" may only contain printable ASCII characters.").arg(what, aet);
  return {};
}

QString peerProblem(const PacsPeer& p) {
  const QString who = p.name.isEmpty() ? QStringLiteral("PACS peer") : QStringLiteral("PACS peer \"%1\"").arg(p.name);
  if (QString e = aeTitleProblem(p.aet, who + QStringLiteral(": AE title")); !e.isEmpty()) return e;
  if (p.host.trimmed().isEmpty()) return who + QStringLiteral(": the host is empty.");
  if (p.port < 1 || p.port > 65535) return who + QStringLiteral(": port %1 is not in 1..65535.").arg(p.port);
  return {};
}

QStringList NetworkSettings::validate() const {
  QStringList out;
  if (QString e = aeTitleProblem(aet, QStringLiteral("Our AE title")); !e.isEmpty()) out << e;
  if (port < 1 || port > 65535) out << QStringLiteral("Port %1 is not in 1..65535.").arg(port);
  if (!acceptAny) {
    for (const QString& a : allowed) {
      try {
        net::parseAllowedPeer(a.trimmed().toStdString());
      } catch (const std::exception& e) {
        out << QStringLiteral("Allowed peer \"%1\": %2").arg(a, QString::fromStdString(e.what()));
      }
    }
    if (startReceiver && allowed.isEmpty())
      out << QStringLiteral("The receiver would refuse everyone: add allowed peers (AET@HOST) or tick \"Accept any\".");
  }
  for (const PacsPeer& p : peers)
    if (QString e = peerProblem(p); !e.isEmpty()) out << e;
  return out;
}

net::ScpOptions NetworkSettings::scpOptions(const QString& dbPath) const {
  const QStringList problems = validate();
  if (!problems.isEmpty()) throw std::invalid_argument(problems.front().toStdString());
  net::ScpOptions o;
  o.aet = aet.toStdString();
  o.port = port;
  o.allowAny = acceptAny;
  for (const QString& a : allowed) o.allow.push_back(net::parseAllowedPeer(a.trimmed().toStdString()));
  if (!acceptAny && o.allow.empty())
    throw std::invalid_argument("no peer may send to us: add allowed peers (AET@HOST) or tick \"Accept any\" in Settings > Network");
  o.dbPath = dbPath.toStdString();
  return o;
}

net::Association NetworkSettings::association(const PacsPeer& peer) const {
  if (QString e = aeTitleProblem(aet, QStringLiteral("Our AE title")); !e.isEmpty()) throw std::invalid_argument(e.toStdString());
  if (QString e = peerProblem(peer); !e.isEmpty()) throw std::invalid_argument(e.toStdString());
  net::Association a;
  a.ourAet = aet.toStdString();
  a.peer.aet = peer.aet.toStdString();
  a.peer.host = peer.host.trimmed().toStdString();
  a.peer.port = peer.port;
  return a;
}

}  // namespace e2e::ui
