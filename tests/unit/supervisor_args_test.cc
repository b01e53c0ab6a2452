// `fnguard run` argument parsing, PATH resolution and the static-binary check.
#include <gtest/gtest.h>

#include <vector>

#include "fnguard/supervisor/executable.h"
#include "fnguard/supervisor/run_args.h"

namespace fnguard::supervisor {
namespace {

Result<RunArgs> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "run");
  return parse_run_args(static_cast<int>(args.size()), args.data());
}

TEST(SupervisorArgs, AllFlagsThenCommand) {
  auto r =
      parse({"--policy", "p.yaml", "--mode", "block", "--events", "-", "--", "python3", "-c", "x"});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r->policy_file, "p.yaml");
  EXPECT_EQ(*r->mode, image::Mode::kBlock);
  EXPECT_EQ(*r->events, "-");
  EXPECT_EQ(r->command, (std::vector<std::string>{"python3", "-c", "x"}));
}

TEST(SupervisorArgs, EqualsFormAndNoDoubleDash) {
  auto r = parse({"--mode=monitor", "node", "--inspect", "app.js"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->mode, image::Mode::kMonitor);
  EXPECT_FALSE(r->policy_file.has_value());
  // Flags after the command belong to the command.
  EXPECT_EQ(r->command, (std::vector<std::string>{"node", "--inspect", "app.js"}));
}

TEST(SupervisorArgs, CommandMayLookLikeAFlagAfterDoubleDash) {
  auto r = parse({"--", "--weird-name"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command, (std::vector<std::string>{"--weird-name"}));
}

TEST(SupervisorArgs, Errors) {
  EXPECT_FALSE(parse({}).ok());
  EXPECT_FALSE(parse({"--"}).ok());
  EXPECT_FALSE(parse({"--mode", "loud", "--", "true"}).ok());
  EXPECT_FALSE(parse({"--policy"}).ok());
  EXPECT_FALSE(parse({"--policy=", "--", "true"}).ok());
  EXPECT_FALSE(parse({"--frobnicate", "--", "true"}).ok());
  EXPECT_FALSE(parse({"-x", "true"}).ok());
  auto r = parse({"--mode", "loud", "--", "true"});
  EXPECT_NE(r.error().message.find("loud"), std::string::npos);
}

TEST(SupervisorArgs, Help) {
  auto r = parse({"--help"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->help);
}

TEST(SupervisorExecutable, ResolvesThroughPath) {
  auto r = resolve_command("sh", "/nonexistent:/bin");
  EXPECT_EQ(r.path, "/bin/sh");
  auto missing = resolve_command("no-such-command-fnguard", "/bin:/usr/bin");
  EXPECT_TRUE(missing.path.empty());
  EXPECT_EQ(missing.failure_status, kExitNotFound);
  auto not_exec = resolve_command("passwd", "/etc");
  EXPECT_TRUE(not_exec.path.empty());
  EXPECT_EQ(not_exec.failure_status, kExitNotExecutable);
  auto dir = resolve_command("/etc", nullptr);
  EXPECT_EQ(dir.failure_status, kExitNotExecutable);
}

TEST(SupervisorExecutable, DynamicAndStatic) {
  auto sh = inspect_executable("/bin/sh");
  ASSERT_TRUE(sh.ok());
  EXPECT_TRUE(sh->is_elf);
  EXPECT_FALSE(sh->is_static);
  if (access("/bin/busybox", X_OK) == 0) {
    auto bb = inspect_executable("/bin/busybox");
    ASSERT_TRUE(bb.ok());
    EXPECT_TRUE(bb->is_static);
  } else {
    GTEST_SKIP() << "busybox-static is not installed (scripts/install-deps.sh installs it)";
  }
}

TEST(SupervisorExecutable, FollowsShebang) {
  char path[] = "/tmp/fnguard-script-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const char script[] = "#!/bin/sh -e\necho hi\n";
  ASSERT_EQ(write(fd, script, sizeof script - 1), static_cast<ssize_t>(sizeof script - 1));
  close(fd);
  auto info = inspect_executable(path);
  unlink(path);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->final_path, "/bin/sh");
  EXPECT_FALSE(info->is_static);
}

}  // namespace
}  // namespace fnguard::supervisor
