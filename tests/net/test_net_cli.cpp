// `echo2ecg pacs` and `echo2ecg serve` as a user runs them, against a real Orthanc: output,
// exit codes (0 ok, 2 usage, 4 network) and the database they fill.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "db/database.h"
#include "net_test_util.h"

using namespace e2e;
using namespace e2e::test;

namespace {

const std::string kCli = E2E_CLI_PATH;

TEST(NetCli, UsageAndNetworkErrors) {
  auto r = runTool(kCli + " pacs echo");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("--peer"), std::string::npos);
  r = runTool(kCli + " pacs frobnicate --peer A@h:1");
  EXPECT_EQ(r.rc, 2);
  r = runTool(kCli + " pacs echo --peer NOBODY@127.0.0.1:" + std::to_string(freeTcpPort()));
  EXPECT_EQ(r.rc, 4) << r.out;
  EXPECT_NE(r.out.find("unreachable"), std::string::npos) << r.out;
  r = runTool(kCli + " serve --db /nonexistent/x.db --aet X --port 11112");
  EXPECT_EQ(r.rc, 2) << r.out;  // no --allow / --allow-any
  EXPECT_NE(r.out.find("--allow"), std::string::npos);
}

TEST(NetCli, SendFindGetAgainstOrthanc) {
  if (!OrthancServer::available()) GTEST_SKIP() << OrthancServer::kBinary << " is not installed";
  OrthancServer orthanc;
  TempDir dir("cli");
  const std::string peer = " --peer " + orthanc.peer() + " --aet E2ECLI";
  auto r = runTool(kCli + " pacs echo" + peer);
  EXPECT_EQ(r.rc, 0) << r.out;
  r = runTool(kCli + " pacs send" + peer + " '" + dataFile(kEcgHemo) + "' '" + dataFile(kUsAloka) + "'");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("sent 2 of 2"), std::string::npos) << r.out;
  r = runTool(kCli + " pacs find" + peer + " --modality US --json");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("\"patientId\":\"98279\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("123-654"), std::string::npos) << r.out;
  const std::string db = dir.str("got.db");
  r = runTool(kCli + " pacs get" + peer + " --study-uid 1.3.6.1.4.1.6018.4.999 --db " + db);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("added 1"), std::string::npos) << r.out;
  EXPECT_TRUE(db::Database(db).instanceByUid("1.3.6.1.4.1.6018.3.999"));
  // Several studies in one invocation (one association): each reported, then the total.
  const std::string db2 = dir.str("got2.db");
  r = runTool(kCli + " pacs get" + peer + " --study-uid 1.3.6.1.4.1.6018.4.999 --study-uid " +
              "1.2.392.200039.102.3.1096.11.20020524.111958 --study-uid 9.8.7.6 --db " + db2);
  EXPECT_EQ(r.rc, 3) << r.out;  // the unknown study fails (Orthanc: 0xC000), the others come back
  EXPECT_NE(r.out.find("study 1.2.392.200039.102.3.1096.11.20020524.111958: C-GET finished: Success"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("study 9.8.7.6: C-GET finished: Error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 of 3 studies retrieved on one association: received 2, added 2"), std::string::npos)
      << r.out;
  EXPECT_TRUE(db::Database(db2).instanceByUid("1.3.6.1.4.1.6018.3.999"));
  EXPECT_TRUE(db::Database(db2).instanceByUid("1.2.392.200039.102.3.1096.10.20020524.114049.826"));
  r = runTool(kCli + " pacs get" + peer + " --study-uid 1.2.3 --study-uid 1.2.4 --series-uid 1.2.5 --db " + db2);
  EXPECT_EQ(r.rc, 2) << r.out;

  // send --study-uid: the files of a study stored in the database.
  const std::string src = dir.str("src.db");
  ASSERT_EQ(runTool(kCli + " import --quiet --db " + src + " '" + dataFile(kUs1Uncr) + "'").rc, 0);
  r = runTool(kCli + " pacs send" + peer + " --study-uid 1.3.6.1.4.1.5962.1.2.13.20040826185059.5457 --db " + src);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("sent 1 of 1"), std::string::npos) << r.out;
  r = runTool(kCli + " pacs find" + peer + " --level patient --patient-id 13US1");
  EXPECT_NE(r.out.find("CompressedSamples^US1"), std::string::npos) << r.out;
  r = runTool(kCli + " pacs send" + peer + " --study-uid 9.9.9 --db " + src);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("is not in"), std::string::npos) << r.out;
}

TEST(NetCli, ServeReceivesFromStorescuUntilInterrupted) {
  TempDir dir("serve");
  const int port = freeTcpPort();
  const std::string db = dir.str("s.db"), log = dir.str("serve.log");
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = kCli + " serve --db " + db + " --aet E2ESERVE --port " + std::to_string(port) +
                            " --allow SENDER@127.0.0.1 > " + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 100 && !portAnswers(port); ++i) usleep(100000);
  const auto s = runTool("storescu -R -aet SENDER -aec E2ESERVE 127.0.0.1 " + std::to_string(port) + " '" +
                         dataFile(kEcgHemo) + "'");
  EXPECT_EQ(s.rc, 0) << s.out;
  kill(pid, SIGINT);
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  const std::string out = runTool("cat " + log).out;
  EXPECT_NE(out.find("1.3.6.1.4.1.6018.3.999: added"), std::string::npos) << out;
  EXPECT_NE(out.find("received 1: added 1"), std::string::npos) << out;
  EXPECT_EQ(db::Database(db).counts().instances, 1);
}

// serve acknowledges an object once it is in the receive folder and imports in batches: killed
// (SIGKILL) right after the sender got its acknowledgements, it loses nothing; the next serve on
// the same database imports what the first one had not.
TEST(NetCli, ServeKilledAfterAcknowledgingLosesNothing) {
  TempDir dir("serve_kill");
  const int port = freeTcpPort();
  const std::string db = dir.str("k.db");
  const auto startServe = [&](const std::string& log) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string cmd = kCli + " serve --db " + db + " --aet E2ESERVE --port " + std::to_string(port) +
                              " --allow-any > " + log + " 2>&1";
      execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !portAnswers(port); ++i) usleep(100000);
    return pid;
  };
  const std::vector<std::string> files = {kEcgHemo, kEcg12, kUsAloka, kUs1Uncr};
  pid_t pid = startServe(dir.str("first.log"));
  ASSERT_GT(pid, 0);
  std::string cmd = "storescu -aet SENDER -aec E2ESERVE 127.0.0.1 " + std::to_string(port);
  for (const auto& f : files) cmd += " '" + dataFile(f) + "'";
  const auto s = runTool(cmd);
  kill(pid, SIGKILL);  // whatever the importer had not done yet
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_EQ(s.rc, 0) << s.out;
  EXPECT_EQ(s.out.find("Store Failed"), std::string::npos) << s.out;

  pid = startServe(dir.str("second.log"));
  ASSERT_GT(pid, 0);
  kill(pid, SIGINT);  // serve imports what the journal lists before it stops
  waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << runTool("cat " + dir.str("second.log")).out;
  db::Database d(db);
  EXPECT_EQ(d.counts().instances, static_cast<std::int64_t>(files.size()))
      << runTool("cat " + dir.str("first.log") + " " + dir.str("second.log")).out;
  EXPECT_TRUE(d.instanceByUid("1.3.6.1.4.1.6018.3.999"));
  EXPECT_FALSE(std::filesystem::exists(db + ".received/.incoming/pending.journal"));
}

}  // namespace
