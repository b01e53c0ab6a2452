// Glob semantics users rely on when writing rules.
#include "fnguard/common/glob.h"

#include <gtest/gtest.h>

namespace fnguard {
namespace {

TEST(Glob, StarStaysWithinOneSegment) {
  EXPECT_TRUE(glob_match("/proc/*/environ", "/proc/123/environ"));
  EXPECT_FALSE(glob_match("/proc/*/environ", "/proc/1/task/2/environ"));
  EXPECT_TRUE(glob_match("/tmp/*.txt", "/tmp/a.txt"));
  EXPECT_FALSE(glob_match("/tmp/*.txt", "/tmp/d/a.txt"));
}

TEST(Glob, DoubleStarCrossesSegmentsAndMatchesTheDirectoryItself) {
  EXPECT_TRUE(glob_match("/tmp/**", "/tmp"));
  EXPECT_TRUE(glob_match("/tmp/**", "/tmp/a/b/c"));
  EXPECT_FALSE(glob_match("/tmp/**", "/tmpx"));
  EXPECT_FALSE(glob_match("/tmp/**", "/tmpx/a"));
  EXPECT_TRUE(glob_match("/**/b/*.txt", "/x/b/y/b/z.txt"));
  EXPECT_TRUE(glob_match("/var/**/secret", "/var/task/a/secret"));
}

TEST(Glob, QuestionMarkAndClasses) {
  EXPECT_TRUE(glob_match("/dev/tty?", "/dev/tty1"));
  EXPECT_FALSE(glob_match("/a?b", "/a/b"));
  EXPECT_TRUE(glob_match("/x/[a-c]", "/x/b"));
  EXPECT_FALSE(glob_match("/x/[!a-c]", "/x/b"));
  EXPECT_TRUE(glob_match("/x/\\*", "/x/*"));
  EXPECT_FALSE(glob_match("/x/\\*", "/x/y"));
}

TEST(Glob, ValidationPointsAtTheProblem) {
  size_t at = 0;
  EXPECT_EQ(glob_validate("/a/**/b", &at), nullptr);
  EXPECT_NE(glob_validate("/a/[bc", &at), nullptr);
  EXPECT_EQ(at, 3u);
  EXPECT_NE(glob_validate("/a/***", &at), nullptr);
  EXPECT_NE(glob_validate("/a\\", &at), nullptr);
}

TEST(Glob, LiteralPrefix) {
  EXPECT_EQ(glob_literal_dir_prefix("/var/task/**"), 9u);
  EXPECT_TRUE(glob_is_literal("/etc/shadow"));
  EXPECT_FALSE(glob_is_literal("/etc/*"));
}

TEST(GlobPrefix, SaysWhetherAGlobCanMatchInsideADirectory) {
  EXPECT_TRUE(glob_match_prefix("/tmp/box/secret/**", "/tmp/box/"));
  EXPECT_TRUE(glob_match_prefix("/tmp/box/secret/**", "/tmp/"));
  EXPECT_TRUE(glob_match_prefix("/tmp/**/key", "/tmp/box/"));
  EXPECT_TRUE(glob_match_prefix("/tmp/*/key", "/tmp/box/"));
  EXPECT_TRUE(glob_match_prefix("/proc/**/environ", "/proc/1/task/"));
  EXPECT_TRUE(glob_match_prefix("/tmp/.aws/credentials", "/tmp/.aws/"));
  EXPECT_FALSE(glob_match_prefix("/tmp/box/secret/**", "/tmp/other/"));
  EXPECT_FALSE(glob_match_prefix("/tmp/*.key", "/tmp/box/"));  // '*' stays in /tmp
  EXPECT_FALSE(glob_match_prefix("/tmp/box", "/tmp/box/"));    // the directory itself
  EXPECT_FALSE(glob_match_prefix("/etc/shadow", "/tmp/"));
  // A full match is a prefix match too.
  EXPECT_TRUE(glob_match_prefix("/tmp/a?c", "/tmp/abc"));
}

}  // namespace
}  // namespace fnguard
