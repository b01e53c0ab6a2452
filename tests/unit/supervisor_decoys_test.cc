// Honeypot decoys (fnguard/supervisor/decoys.h): what is planted, what is
// left alone, and what teardown removes.
#include "fnguard/supervisor/decoys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fnguard::supervisor {
namespace {

class DecoysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fnguard-decoys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static policy::HoneypotPolicy files(std::vector<std::string> paths) {
    policy::HoneypotPolicy hp;
    hp.files = std::move(paths);
    return hp;
  }
  static bool exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
  }

  std::string dir_;
};

TEST_F(DecoysTest, PlantsAFakeCredentialsFileAndRemovesItAndItsNewDirectories) {
  std::string path = dir_ + "/home/.aws/credentials";
  {
    Decoys d;
    d.plant(files({path}), nullptr);
    EXPECT_TRUE(d.problems().empty());
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(stat((dir_ + "/home").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::string text = read(path);
    EXPECT_TRUE(
        std::regex_match(text, std::regex("\\[default\\]\naws_access_key_id = AKIA[A-Z2-7]{16}\n"
                                          "aws_secret_access_key = [A-Za-z0-9+/]{40}\n")))
        << text;
    EXPECT_NE(text.find(d.key_id()), std::string::npos);
    EXPECT_NE(text.find(d.secret()), std::string::npos);
  }
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(dir_ + "/home"));  // created for the decoy, so removed with it
  EXPECT_TRUE(exists(dir_));             // was there before
}

TEST_F(DecoysTest, AnExistingFileIsNeitherReplacedNorRemoved) {
  std::string path = dir_ + "/credentials";
  std::ofstream(path) << "the user's own\n";
  {
    Decoys d;
    d.plant(files({path}), nullptr);
    EXPECT_TRUE(d.problems().empty());
    EXPECT_EQ(read(path), "the user's own\n");
  }
  EXPECT_EQ(read(path), "the user's own\n");
}

TEST_F(DecoysTest, AnExistingDirectoryIsNamedAsAProblem) {
  Decoys d;
  d.plant(files({dir_}), nullptr);
  ASSERT_EQ(d.problems().size(), 1u);
  EXPECT_NE(d.problems()[0].find("is an existing directory"), std::string::npos);
  EXPECT_TRUE(exists(dir_));
}

TEST_F(DecoysTest, AFileTheProgramReplacedIsLeftAlone) {
  std::string path = dir_ + "/credentials";
  {
    Decoys d;
    d.plant(files({path}), nullptr);
    ASSERT_EQ(unlink(path.c_str()), 0);
    std::ofstream(path) << "written by the program\n";
  }
  EXPECT_EQ(read(path), "written by the program\n");
}

TEST_F(DecoysTest, ADecoyThatCannotBePlantedIsAProblemNotAFailure) {
  std::string file = dir_ + "/plain";
  std::ofstream(file) << "x";
  Decoys d;
  d.plant(files({file + "/under/a/file", dir_ + "/ok"}), nullptr);
  ASSERT_EQ(d.problems().size(), 1u);
  EXPECT_NE(d.problems()[0].find(file + "/under/a/file not planted"), std::string::npos)
      << d.problems()[0];
  EXPECT_NE(d.problems()[0].find("Not a directory"), std::string::npos) << d.problems()[0];
  EXPECT_TRUE(exists(dir_ + "/ok"));  // the others are planted all the same
}

TEST_F(DecoysTest, EnvDecoysAreAddedUnlessAlreadySetAndNeverTouchTheRealCredentials) {
  policy::HoneypotPolicy hp;
  hp.env = true;
  std::vector<std::string> env = {"AWS_ACCESS_KEY_ID=ASIAREAL", "PATH=/usr/bin"};
  Decoys d;
  d.plant(hp, &env);
  EXPECT_EQ(env.size(), 4u);
  EXPECT_EQ(env[0], "AWS_ACCESS_KEY_ID=ASIAREAL");
  EXPECT_EQ(env[2], std::string(kDecoyKeyIdVar) + "=" + d.key_id());
  EXPECT_EQ(env[3], std::string(kDecoySecretVar) + "=" + d.secret());
  EXPECT_EQ(d.key_id().rfind("AKIA", 0), 0u);

  std::vector<std::string> set_by_user = {std::string(kDecoyKeyIdVar) + "=mine"};
  Decoys e;
  e.plant(hp, &set_by_user);
  ASSERT_EQ(set_by_user.size(), 2u);
  EXPECT_EQ(set_by_user[0], std::string(kDecoyKeyIdVar) + "=mine");
  EXPECT_EQ(set_by_user[1].rfind(std::string(kDecoySecretVar) + "=", 0), 0u);
  // Random per start.
  EXPECT_NE(d.key_id(), e.key_id());
}

TEST_F(DecoysTest, NothingHappensWithoutHoneypots) {
  std::vector<std::string> env = {"PATH=/usr/bin"};
  Decoys d;
  d.plant(policy::HoneypotPolicy{}, &env);
  EXPECT_EQ(env.size(), 1u);
  EXPECT_TRUE(d.key_id().empty());
}

}  // namespace
}  // namespace fnguard::supervisor
