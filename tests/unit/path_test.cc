// Lexical normalisation: "..", ".", "//" and relative paths cannot slip past a rule.
#include "fnguard/common/path.h"

#include <gtest/gtest.h>

#include <string>

namespace fnguard {
namespace {

std::string norm(const char* base, const char* path) {
  char out[256];
  long n = normalize_path(base, path, out, sizeof out);
  return n < 0 ? std::string("<error>") : std::string(out, static_cast<size_t>(n));
}

TEST(Path, RemovesDotsAndDoubledSlashes) {
  EXPECT_EQ(norm(nullptr, "/tmp/../etc//shadow"), "/etc/shadow");
  EXPECT_EQ(norm(nullptr, "/./etc/./passwd/"), "/etc/passwd");
  EXPECT_EQ(norm(nullptr, "/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(norm(nullptr, "//"), "/");
}

TEST(Path, RelativeAgainstBase) {
  EXPECT_EQ(norm("/var/task", "../../etc/shadow"), "/etc/shadow");
  EXPECT_EQ(norm("/var/task", "index.py"), "/var/task/index.py");
  EXPECT_EQ(norm("/", "a/./b/.."), "/a");
}

TEST(Path, RefusesWhatDoesNotFit) {
  char out[8];
  EXPECT_EQ(normalize_path(nullptr, "/a/very/long/path", out, sizeof out), -1);
  EXPECT_EQ(normalize_path(nullptr, "", out, sizeof out), -1);
  EXPECT_EQ(normalize_path(nullptr, "relative", out, sizeof out), -1);
}

TEST(Path, Basename) {
  EXPECT_STREQ(path_basename("/usr/bin/nc"), "nc");
  EXPECT_STREQ(path_basename("/"), "/");
}

}  // namespace
}  // namespace fnguard
