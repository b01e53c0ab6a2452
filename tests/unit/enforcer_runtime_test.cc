// The enforcer's start-up and its hold on its own descriptors: fail-closed
// start with a bad policy image, the start gate not reaching children, and
// programs that close, replace or mark close-on-exec the descriptors that
// carry protection into children.
#include <gtest/gtest.h>

#include <cstdio>

#include "fnguard/enforcer/protocol.h"
#include "tests/unit/enforcer_harness.h"

namespace fnguard::testing {
namespace {

std::vector<uint8_t> deny_read(const std::string& path) {
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kBlock).deny(path);
  return policy.build();
}

TEST(EnforcerRuntime, CorruptImageIsRefusedAndTheProgramNeverRuns) {
  TempDir dir;
  auto image = deny_read(dir / "secret");
  image[0] ^= 0xff;  // wrong magic
  RunOptions options;
  options.hello_timeout_ms = 1500;
  RunResult r = run_protected(image, {probe_path(), "write", dir / "ran", "x"}, options);
  EXPECT_FALSE(r.hello) << r.dump();
  EXPECT_FALSE(dir.exists("ran")) << r.dump();
  EXPECT_TRUE(r.has_event({"\"kind\":\"lifecycle\"", "\"action\":\"error\""})) << r.dump();
}

TEST(EnforcerRuntime, TruncatedImageIsRefused) {
  TempDir dir;
  auto image = deny_read(dir / "secret");
  image.resize(image.size() / 2);
  RunOptions options;
  options.hello_timeout_ms = 1500;
  RunResult r = run_protected(image, {probe_path(), "write", dir / "ran", "x"}, options);
  EXPECT_FALSE(r.hello) << r.dump();
  EXPECT_FALSE(dir.exists("ran"));
}

TEST(EnforcerRuntime, AnActiveEnforcerDoesNotWaitForTheGateAndClosesIt) {
  // The supervisor never opens the gate here: a started enforcer must go on
  // (it is already enforcing), and must not leave the gate pipe open in the
  // program.
  TempDir dir;
  dir.write("secret", "s");
  RunOptions options;
  options.open_gate = false;
  options.timeout_ms = 20000;
  const std::string gate_fd = std::to_string(enforcer::kFirstFd + 3);
  RunResult r = run_protected(deny_read(dir / "secret"),
                              {"/usr/bin/python3", "-c",
                               "import os, sys\n"
                               "try:\n"
                               "    os.fstat(int(sys.argv[1])); print('gate open')\n"
                               "except OSError:\n"
                               "    print('gate closed')\n"
                               "try:\n"
                               "    open(sys.argv[2]).read(); print('read ok')\n"
                               "except OSError as e:\n"
                               "    print('read err', e.errno)\n",
                               gate_fd, dir / "secret"},
                              options);
  EXPECT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.line("gate"), "gate closed") << r.dump();
  EXPECT_EQ(r.line("read"), "read err 13") << r.dump();
  EXPECT_EQ(r.exit_code, 0) << r.dump();
}

TEST(EnforcerRuntime, ChildrenDoNotInheritTheStartGate) {
  TempDir dir;
  dir.write("secret", "s");
  RunResult r = run_protected(deny_read(dir / "secret"),
                              {"/usr/bin/python3", "-c",
                               "import os, subprocess, sys\n"
                               "print('env', os.environ['FNGUARD_ENFORCER'])\n"
                               "subprocess.run([sys.argv[1], 'read', sys.argv[2]])\n",
                               probe_path(), dir / "secret"});
  std::string env = r.line("env");
  EXPECT_NE(env.find("events="), std::string::npos) << r.dump();
  EXPECT_EQ(env.find("gate="), std::string::npos) << r.dump();
  EXPECT_EQ(r.line("read"), "read err 13")
      << r.dump();  // the child ran, protected, without waiting
}

TEST(EnforcerRuntime, OwnDescriptorsSurviveCloseDupAndCloexec) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  const std::string image_fd = std::to_string(enforcer::kFirstFd);
  const std::string events_fd = std::to_string(enforcer::kFirstFd + 2);
  RunResult r =
      run_protected(deny_read(dir / "secret"),
                    {probe_path(), "close", image_fd, "dup2", events_fd, "cloexec", events_fd,
                     "cloexec", image_fd, "exec", probe_path(), "read", dir / "secret"});
  EXPECT_EQ(r.line("close"), "close ok") << r.dump();
  EXPECT_EQ(r.line("dup2"), "dup2 err 9")
      << r.dump();  // EBADF: refused, documented in hooks_fds.cc
  EXPECT_EQ(r.line("read"), "read err 13") << r.dump();
  EXPECT_TRUE(r.has_event({"\"action\":\"blocked\"", "\"target\":\"" + dir / "secret" + "\""}))
      << r.dump();
}

TEST(EnforcerRuntime, EventsThatDidNotFitAreCountedInTheNextOne) {
  TempDir dir;
  dir.write("secret", "s");
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kMonitor).deny(dir / "secret");
  RunOptions options;
  options.pause_events_until = "flood ok";
  // Enough events to fill any socket buffer (8 MB at most): the program
  // must not block or fail, and the next event says how many were lost.
  RunResult r = run_protected(
      policy.build(), {probe_path(), "flood", "40000", dir / "secret", "read", dir / "secret"},
      options);
  EXPECT_EQ(r.line("read"), "read ok s") << r.out;
  ASSERT_FALSE(r.events.empty());
  const std::string& last = r.events.back();
  size_t pos = last.find("\"dropped\":");
  ASSERT_NE(pos, std::string::npos) << last;
  long dropped = std::atol(last.c_str() + pos + 10);
  EXPECT_EQ(static_cast<long>(r.events.size()) - 1 + dropped, 40000) << last;
}

TEST(EnforcerRuntime, WithoutASupervisorTheLibraryPassesThrough) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  std::string cmd = "env -u FNGUARD_ENFORCER LD_PRELOAD=" + library_path() + " " + probe_path() +
                    " read " + dir / "secret";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  int status = pclose(p);
  EXPECT_EQ(std::string(buf, n), "read ok TOPSECRET\n");
  EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace fnguard::testing
