// The workstation's DICOM network settings (QSettings group "network"): our AE title and port,
// who may send to us, whether the receiver starts with the app, and the PACS peers we query.
// Thin over core/net: validation uses net::validAeTitle / net::parseAllowedPeer.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include "net/net_common.h"
#include "net/storage_scp.h"

namespace e2e::ui {

struct PacsPeer {
  QString name, aet, host;
  int port = 104;
  QString label() const;  // "NAME (AET@HOST:PORT)"
};

struct NetworkSettings {
  QString aet = QStringLiteral("ECHO2ECG");
  int port = 11112;
  bool acceptAny = false;
  QStringList allowed;  // "AET@HOST" (HOST may be *)
  bool startReceiver = false;
  QList<PacsPeer> peers;

  static NetworkSettings load();  // from QSettings (defaults where unset)
  void save() const;
  // Every problem, one clear sentence each (empty: valid).
  QStringList validate() const;
  // Throw std::invalid_argument when invalid.
  net::ScpOptions scpOptions(const QString& dbPath) const;
  net::Association association(const PacsPeer& peer) const;
};

// Problems with one AE title / peer, for the dialogs' field checks ("" when fine).
QString aeTitleProblem(const QString& aet, const QString& what);
QString peerProblem(const PacsPeer& p);

}  // namespace e2e::ui
