// `echo2ecg models ...` and `echo2ecg labels ...` on a temporary database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <tuple>

#include "cli_util.h"
#include "db/database.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {
auto& quote = test::shellQuote;
test::CliResult cli(const std::string& args) { return test::runCli(args, true); }

class TrainingCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("e2e-tcli-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "s.db").string();
    db::Database d(db_);
    for (auto [pid, uid, acc] : {std::tuple{"P1", "1.2.3.1", "A1"}, std::tuple{"P2", "1.2.3.2", "A2"}}) {
      Identity id;
      id.patientId = pid;
      id.studyUid = uid;
      id.accessionNumber = acc;
      d.findOrCreateStudy(d.findOrCreatePatient(id), id);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string db() const { return " --db " + quote(db_); }
  fs::path dir_;
  std::string db_;
};
}  // namespace

TEST_F(TrainingCli, ModelsRegisterListShowActivate) {
  EXPECT_EQ(cli("models --help").rc, 0);
  EXPECT_EQ(cli("models" + db()).rc, 2);
  EXPECT_EQ(cli("models frobnicate" + db()).rc, 2);
  EXPECT_EQ(cli("models activate m" + db()).rc, 2);
  EXPECT_EQ(cli("models list --db " + quote((dir_ / "none.db").string())).rc, 1);
  auto r = cli("models register --model-id echo2ecg-lvef --version 1 --weights-hash " + std::string(64, 'a') +
               " --card-json " + quote(R"({"metrics":{"auroc":0.81,"balanced_accuracy":0.7}})") + db());
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(cli("models register --model-id echo2ecg-lvef --version 2 --parent echo2ecg-pretrain:1 --card-json " +
                quote(R"({"metrics":{"auroc":0.85}})") + db())
                .rc,
            0);
  EXPECT_EQ(cli("models register --model-id x --version 1 --card-json " + quote("{not json") + db()).rc, 2);
  r = cli("models list" + db());
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("echo2ecg-lvef\t1\t-\taaaaaaaaaaaa\t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AUROC 0.810"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("echo2ecg-pretrain:1"), std::string::npos);
  r = cli("models activate echo2ecg-lvef 2" + db());
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(cli("models activate echo2ecg-lvef 9" + db()).rc, 1);
  {
    db::Database d(db_);
    int active = 0;
    for (const auto& m : d.listModels())
      if (m.active) {
        ++active;
        EXPECT_EQ(m.version, "2");
      }
    EXPECT_EQ(active, 1);
  }
  r = cli("models list" + db());
  EXPECT_NE(r.out.find("*\techo2ecg-lvef\t2"), std::string::npos) << r.out;
  r = cli("models show echo2ecg-lvef 1" + db());
  ASSERT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("\"auroc\": 0.81"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("active: no"), std::string::npos);
}

TEST_F(TrainingCli, LabelsImportListSet) {
  EXPECT_EQ(cli("labels --help").rc, 0);
  EXPECT_EQ(cli("labels import" + db()).rc, 2);
  EXPECT_EQ(cli("labels import x.csv --by mrn" + db()).rc, 2);
  const auto csv = (dir_ / "l.csv").string();
  std::ofstream(csv) << "accession,lvef_percent,lvef_class,shd\nA1,35,0,1\nA9,60,2,0\n";
  auto r = cli("labels import " + quote(csv) + " --by accession" + db());
  EXPECT_EQ(r.rc, 3) << r.out;  // an unmatched row
  EXPECT_NE(r.out.find("unmatched\tline 3\taccession=A9"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 row(s), 1 matched, 1 unmatched, 3 label value(s)"), std::string::npos) << r.out;
  std::ofstream(csv) << "study_uid,shd\n1.2.3.2,0\n";
  r = cli("labels import " + quote(csv) + db());
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(cli("labels set 1.2.3.2 lvef_class 2" + db()).rc, 0);
  EXPECT_EQ(cli("labels set 9.9 lvef_class 2" + db()).rc, 1);
  r = cli("labels list" + db());
  ASSERT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("1.2.3.1\tP1\tlvef_percent\t35\tcsv:l.csv"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1.2.3.2\tP2\tlvef_class\t2\tmanual"), std::string::npos) << r.out;
  r = cli("labels list --study 1.2.3.2" + db());
  EXPECT_EQ(r.out.find("1.2.3.1"), std::string::npos);
  EXPECT_NE(r.out.find("shd\t0"), std::string::npos);
}
