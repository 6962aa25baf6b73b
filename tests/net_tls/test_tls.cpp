// DICOM TLS (net/net_common.h TlsOptions): certificates from a temporary CA made with the openssl
// CLI; C-ECHO and C-STORE of real files to our StorageScp over TLS land in the database; a client
// certificate from another CA, a plain client and a TLS client against a plain port are refused
// with errors that name TLS and store nothing; bad key / certificate files are clear errors; and
// C-FIND / C-GET against Orthanc with DicomTlsEnabled.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "db/database.h"
#include "net/net_test_util.h"
#include "net/scu.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::test;
using Type = net::ScpEvent::Type;

namespace {

const char* kOurAet = "E2ETLS";

// A CA and leaf certificates signed by it, made with the openssl command-line tool.
class Pki {
 public:
  Pki(const TempDir& dir, const std::string& name) : dir_(dir.path() / name) {
    fs::create_directories(dir_);
    run("openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj '/CN=E2E test CA " + name + "'" +
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign" +
        " -keyout " + key("ca") + " -out " + cert("ca"));
    std::ofstream(dir_ / "leaf.ext") << "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                                        "extendedKeyUsage=serverAuth,clientAuth\n"
                                        "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  }
  // A leaf certificate NAME.pem with key NAME.key signed by this CA.
  void leaf(const std::string& name) {
    const std::string csr = (dir_ / (name + ".csr")).string();
    run("openssl req -new -newkey rsa:2048 -nodes -sha256 -subj '/CN=" + name + "' -keyout " + key(name) + " -out " + csr);
    run("openssl x509 -req -sha256 -days 2 -in " + csr + " -CA " + cert("ca") + " -CAkey " + key("ca") +
        " -CAcreateserial -extfile " + (dir_ / "leaf.ext").string() + " -out " + cert(name));
  }
  std::string key(const std::string& n) const { return (dir_ / (n + ".key")).string(); }
  std::string cert(const std::string& n) const { return (dir_ / (n + ".pem")).string(); }
  net::TlsOptions options(const std::string& leafName, const std::string& trustedCa) const {
    net::TlsOptions t;
    t.enabled = true;
    t.keyFile = key(leafName);
    t.certFile = cert(leafName);
    t.caFiles = {trustedCa};
    return t;
  }

 private:
  void run(const std::string& cmd) {
    const ToolResult r = runTool(cmd);
    if (r.rc != 0) throw std::runtime_error(cmd + " failed:\n" + r.out);
  }
  fs::path dir_;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "the openssl CLI (Debian package openssl) is missing";
    ca_ = std::make_unique<Pki>(dir_, "ca1");
    ca_->leaf("server");
    ca_->leaf("client");
    other_ = std::make_unique<Pki>(dir_, "ca2");
    other_->leaf("client");
    port_ = freeTcpPort();
    opts_.aet = kOurAet;
    opts_.port = port_;
    opts_.dbPath = dir_.str("studies.db");
    opts_.allowAny = true;
    opts_.tls = ca_->options("server", ca_->cert("ca"));
  }
  net::Association assoc(const net::TlsOptions& tls) const {
    net::Association a;
    a.ourAet = "SENDER";
    a.peer = net::parsePeer(std::string(kOurAet) + "@127.0.0.1:" + std::to_string(port_));
    a.tls = tls;
    a.acseTimeoutS = a.dimseTimeoutS = 20;
    return a;
  }
  net::TlsOptions goodClient() const { return ca_->options("client", ca_->cert("ca")); }
  std::int64_t instances() { return db::Database(opts_.dbPath).counts().instances; }
  std::vector<std::string> keptFiles() { return filesUnder(fs::path(opts_.dbPath + ".received")); }
  static bool tlsRefusal(const net::ScpEvent& e) {
    return e.type == Type::AssociationRefused && e.message.find("TLS handshake failed") != std::string::npos;
  }

  TempDir dir_{"tls"};
  std::unique_ptr<Pki> ca_, other_;
  int port_ = 0;
  net::ScpOptions opts_;
};

TEST_F(TlsTest, EchoAndStoreOverTlsLandInTheDatabase) {
  ScpRunner scp(opts_);
  ASSERT_EQ(scp.error(), "");
  const auto echo = net::echo(assoc(goodClient()));
  EXPECT_EQ(echo.status, 0);
  net::SendRequest req;
  req.files = {dataFile(kEcg12), dataFile(kEcgHemo), dataFile(kUsAloka)};
  const auto rep = net::send(assoc(goodClient()), req);
  EXPECT_TRUE(rep.ok()) << (rep.failures.empty() ? "" : rep.failures.front().message);
  EXPECT_EQ(rep.sent, 3);
  ASSERT_TRUE(scp.waitFor([](const net::ScpEvent& e) { return e.type == Type::ObjectStored; }, 20, 3));
  const auto stats = scp.stop();
  EXPECT_EQ(stats.echoes, 1);
  EXPECT_EQ(stats.added, 3);
  EXPECT_EQ(stats.refusedAssociations, 0);
  EXPECT_EQ(instances(), 3);
  EXPECT_EQ(keptFiles().size(), 3u);
  EXPECT_EQ(db::Database(opts_.dbPath).counts().ecgRecords, 2);
}

// verifyPeer off: a client that trusts no CA still connects (the server checks the client), and a
// server that does not ask for client certificates accepts a client without one.
TEST_F(TlsTest, WithoutPeerVerification) {
  {
    ScpRunner scp(opts_);
    net::TlsOptions c = goodClient();
    c.caFiles.clear();
    c.verifyPeer = false;
    EXPECT_EQ(net::echo(assoc(c)).status, 0);
    c.verifyPeer = true;
    EXPECT_THROW(net::echo(assoc(c)), net::NetError);  // verifying needs a CA
  }
  opts_.tls.verifyPeer = false;
  opts_.tls.caFiles.clear();
  ScpRunner scp(opts_);
  net::TlsOptions anonymous;
  anonymous.enabled = true;
  anonymous.caFiles = {ca_->cert("ca")};
  EXPECT_EQ(net::echo(assoc(anonymous)).status, 0);
}

// DCMTK's own storescu with +tls is a second, independent TLS client of our SCP.
TEST_F(TlsTest, DcmtkStorescuOverTls) {
  ScpRunner scp(opts_);
  const ToolResult r = runTool("storescu +tls " + ca_->key("client") + " " + ca_->cert("client") + " +cf " +
                               ca_->cert("ca") + " -aet SENDER -aec " + kOurAet + " 127.0.0.1 " +
                               std::to_string(port_) + " '" + dataFile(kEcgHemo) + "'");
  EXPECT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(scp.waitFor([](const net::ScpEvent& e) { return e.type == Type::ObjectStored; }, 20));
  scp.stop();
  EXPECT_EQ(instances(), 1);
}

TEST_F(TlsTest, ClientCertificateFromAnotherCaIsRefusedAndNothingStored) {
  ScpRunner scp(opts_);
  net::SendRequest req;
  req.files = {dataFile(kEcg12)};
  // The client trusts our server's CA, but its own certificate comes from another CA.
  try {
    net::send(assoc(other_->options("client", ca_->cert("ca"))), req);
    ADD_FAILURE() << "a client certificate from an unknown CA was accepted";
  } catch (const net::NetError& e) {
    EXPECT_EQ(e.kind(), net::NetError::Kind::Tls) << e.what();
    EXPECT_NE(std::string(e.what()).find("TLS"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(scp.waitFor(tlsRefusal, 10)) << "no refusal event naming TLS";
  EXPECT_EQ(scp.count([](const net::ScpEvent& e) {
              return tlsRefusal(e) && e.message.find("not signed by a trusted CA") != std::string::npos;
            }),
            1);
  const auto stats = scp.stop();
  EXPECT_EQ(stats.associations, 0);
  EXPECT_EQ(stats.received, 0);
  EXPECT_EQ(instances(), 0);
  EXPECT_TRUE(keptFiles().empty());
}

TEST_F(TlsTest, ServerCertificateFromAnUntrustedCaIsRefusedByTheClient) {
  ScpRunner scp(opts_);
  // Our client's certificate is fine for the server, but the client trusts only the other CA.
  EXPECT_THROW(
      {
        try {
          net::echo(assoc(ca_->options("client", other_->cert("ca"))));
        } catch (const net::NetError& e) {
          EXPECT_EQ(e.kind(), net::NetError::Kind::Tls) << e.what();
          EXPECT_NE(std::string(e.what()).find("not signed by a CA we trust"), std::string::npos) << e.what();
          throw;
        }
      },
      net::NetError);
  scp.stop();
  EXPECT_EQ(instances(), 0);
}

TEST_F(TlsTest, PlainClientAgainstTlsGetsAClearError) {
  ScpRunner scp(opts_);
  net::SendRequest req;
  req.files = {dataFile(kEcg12)};
  try {
    net::send(assoc(net::TlsOptions{}), req);
    ADD_FAILURE() << "a plain client reached the TLS SCP";
  } catch (const net::NetError& e) {
    EXPECT_NE(std::string(e.what()).find("does the peer require DICOM TLS?"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(scp.waitFor(
      [](const net::ScpEvent& e) { return tlsRefusal(e) && e.message.find("does not speak TLS") != std::string::npos; },
      10))
      << "no refusal event naming TLS";
  scp.stop();
  EXPECT_EQ(instances(), 0);
  EXPECT_TRUE(keptFiles().empty());
  // DCMTK's plain storescu fails too.
  ScpRunner again(opts_);
  const ToolResult r = runTool("storescu -aet SENDER -aec " + std::string(kOurAet) + " 127.0.0.1 " +
                               std::to_string(port_) + " '" + dataFile(kEcgHemo) + "'");
  EXPECT_NE(r.rc, 0) << r.out;
  again.stop();
  EXPECT_EQ(instances(), 0);
}

TEST_F(TlsTest, TlsClientAgainstAPlainPortFailsNamingTls) {
  net::ScpOptions plain = opts_;
  plain.tls = {};
  ScpRunner scp(plain);
  try {
    net::echo(assoc(goodClient()));
    ADD_FAILURE() << "a TLS client associated with a plain SCP";
  } catch (const net::NetError& e) {
    EXPECT_EQ(e.kind(), net::NetError::Kind::Tls) << e.what();
    EXPECT_NE(std::string(e.what()).find("does it speak DICOM TLS"), std::string::npos) << e.what();
  }
}

// Every bad file is named in a NetError(Tls) before any connection is made.
TEST_F(TlsTest, MissingOrWrongKeyAndCertificateFilesAreClearErrors) {
  auto scpError = [&](const net::TlsOptions& t) -> std::string {
    net::ScpOptions o = opts_;
    o.tls = t;
    try {
      net::StorageScp scp(o);
    } catch (const net::NetError& e) {
      EXPECT_EQ(e.kind(), net::NetError::Kind::Tls);
      return e.what();
    }
    return "";
  };
  net::TlsOptions t = opts_.tls;
  t.keyFile = dir_.str("missing.key");
  EXPECT_NE(scpError(t).find("missing.key' does not exist"), std::string::npos) << scpError(t);
  t = opts_.tls;
  t.certFile = dir_.str("missing.pem");
  EXPECT_NE(scpError(t).find("missing.pem' does not exist"), std::string::npos) << scpError(t);
  t = opts_.tls;
  t.keyFile = ca_->key("client");  // another certificate's key
  EXPECT_NE(scpError(t).find("does not belong to the certificate"), std::string::npos) << scpError(t);
  t = opts_.tls;
  std::ofstream(dir_.str("garbage.pem")) << "not a certificate\n";
  t.certFile = dir_.str("garbage.pem");
  EXPECT_NE(scpError(t).find("cannot load the certificate"), std::string::npos) << scpError(t);
  t = opts_.tls;
  t.caFiles = {dir_.str("garbage.pem")};
  EXPECT_NE(scpError(t).find("CA certificate"), std::string::npos) << scpError(t);
  t = opts_.tls;
  t.keyFile.clear();
  t.certFile.clear();
  EXPECT_NE(scpError(t).find("needs a certificate"), std::string::npos) << scpError(t);
  t = opts_.tls;
  t.caFiles.clear();
  EXPECT_NE(scpError(t).find("trusted CA"), std::string::npos) << scpError(t);
  if (geteuid() != 0) {  // root reads any file
    fs::copy_file(ca_->key("server"), dir_.str("locked.key"));
    fs::permissions(dir_.str("locked.key"), fs::perms::none);
    t = opts_.tls;
    t.keyFile = dir_.str("locked.key");
    EXPECT_NE(scpError(t).find("cannot be read"), std::string::npos) << scpError(t);
  }
  // The SCU side: the same checks, before connecting.
  net::TlsOptions c = goodClient();
  c.certFile = dir_.str("missing.pem");
  try {
    net::echo(assoc(c));
    ADD_FAILURE() << "a missing client certificate was not reported";
  } catch (const net::NetError& e) {
    EXPECT_EQ(e.kind(), net::NetError::Kind::Tls);
    EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos) << e.what();
  }
}

#ifdef E2E_CLI_PATH
TEST_F(TlsTest, CliPacsEchoAndServeTakeTlsOptions) {
  ScpRunner scp(opts_);
  const std::string peer = std::string(kOurAet) + "@127.0.0.1:" + std::to_string(port_);
  const std::string tls = " --tls-key " + ca_->key("client") + " --tls-cert " + ca_->cert("client") + " --tls-ca " +
                          ca_->cert("ca");
  ToolResult r = runTool(std::string(E2E_CLI_PATH) + " pacs echo --peer " + peer + tls);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Success"), std::string::npos) << r.out;
  r = runTool(std::string(E2E_CLI_PATH) + " pacs echo --peer " + peer);
  EXPECT_EQ(r.rc, 4) << r.out;
  EXPECT_NE(r.out.find("TLS"), std::string::npos) << r.out;
  r = runTool(std::string(E2E_CLI_PATH) + " pacs echo --peer " + peer + " --tls-key " + dir_.str("nokey.pem") +
              " --tls-cert " + ca_->cert("client") + " --tls-ca " + ca_->cert("ca"));
  EXPECT_EQ(r.rc, 4) << r.out;
  EXPECT_NE(r.out.find("nokey.pem' does not exist"), std::string::npos) << r.out;
  scp.stop();
  r = runTool(std::string(E2E_CLI_PATH) + " serve --db " + dir_.str("cli.db") + " --aet X --port " +
              std::to_string(port_) + " --allow-any --tls-key " + dir_.str("nokey.pem") + " --tls-cert " +
              ca_->cert("server") + " --tls-ca " + ca_->cert("ca"));
  EXPECT_EQ(r.rc, 4) << r.out;
  EXPECT_NE(r.out.find("TLS set-up: private key"), std::string::npos) << r.out;
  r = runTool(std::string(E2E_CLI_PATH) + " pacs echo --peer " + peer + " --tls-profile nonsense");
  EXPECT_EQ(r.rc, 2) << r.out;
}
#endif

// Orthanc 1.10 (Debian) with DicomTlsEnabled: our TLS SCU sends, finds and gets back.
TEST_F(TlsTest, FindAndGetAgainstTlsOrthanc) {
  if (!OrthancServer::available()) GTEST_SKIP() << "Orthanc (Debian package orthanc) is not installed";
  ca_->leaf("orthanc");
  const std::string cfg = "\"DicomTlsEnabled\": true, \"DicomTlsCertificate\": \"" + ca_->cert("orthanc") +
                          "\", \"DicomTlsPrivateKey\": \"" + ca_->key("orthanc") +
                          "\", \"DicomTlsTrustedCertificates\": \"" + ca_->cert("ca") +
                          "\", \"DicomTlsRemoteCertificateRequired\": true";
  OrthancServer orthanc({}, "ORTHANC", cfg);
  net::Association a;
  a.peer = net::parsePeer(orthanc.peer());
  a.tls = goodClient();
  EXPECT_EQ(net::echo(a).status, 0);
  net::SendRequest send;
  send.files = {dataFile(kEcg12), dataFile(kEcgHemo)};
  const auto sent = net::send(a, send);
  ASSERT_TRUE(sent.ok()) << orthanc.logTail();
  EXPECT_EQ(sent.sent, 2);
  net::FindRequest f;
  f.patientId = "642341";
  const auto found = net::find(a, f);
  ASSERT_EQ(found.rows.size(), 1u);
  net::RetrieveRequest g;
  g.studyUid = found.rows.front().studyUid;
  g.dbPath = dir_.str("got.db");
  const auto got = net::get(a, g);
  EXPECT_TRUE(got.ok()) << got.statusText;
  EXPECT_EQ(got.added, 1);
  EXPECT_EQ(db::Database(g.dbPath).counts().instances, 1);
  // A plain association to Orthanc's TLS port fails.
  net::Association plain = a;
  plain.tls = {};
  EXPECT_THROW(net::echo(plain), net::NetError);
  // A client certificate from another CA is refused by Orthanc.
  net::Association foreign = a;
  foreign.tls = other_->options("client", ca_->cert("ca"));
  EXPECT_THROW(net::find(foreign, f), net::NetError);
}

}  // namespace
