// Landlock from the policy: the plan says what it restricts and names every
// rule it widened or could not express; applied in a process, writes outside
// the allowed directories, execution from writable locations and TCP connects
// to unlisted ports fail, while the allowed ones work.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <string>

#include "fnguard/kernel/landlock.h"
#include "fnguard/kernel/probe.h"
#include "kernel_test_util.h"

namespace fnguard::kernel {
namespace {

using image::Control;
using image::Mode;
using image::Verdict;

bool has_note(const LandlockPlan& plan, const std::string& needle) {
  for (const auto& n : plan.notes) {
    if (n.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(LandlockPlan, WriteAllowGlobsBecomeDirectoriesAndDenyRulesAreNamed) {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kFilesWrite, Mode::kBlock, Verdict::kDeny);
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kDeny, "/tmp/secret/**", 0));
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kAllow, "/tmp/**", 1));
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kAllow, "/dev/null", 2));
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kAllow, "/var/log/*.log", 3));
  auto bytes = b.finish();
  LandlockPlan plan = plan_landlock(image::View(bytes.data(), bytes.size()), 6, {});
  EXPECT_TRUE(plan.restrict_write);
  EXPECT_FALSE(plan.restrict_exec);
  std::vector<std::string> paths;
  for (const auto& p : plan.paths) paths.push_back(p.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"/tmp", "/dev/null", "/var/log"}));
  EXPECT_TRUE(has_note(plan, "files.write.rules[0]: a deny rule cannot be expressed"));
  EXPECT_TRUE(has_note(plan, "files.write.rules[3]: /var/log/*.log widened"));
  EXPECT_EQ(plan.summary(), "write,signals");
}

TEST(LandlockPlan, DenyListsAndMonitorModeAreNotExpressed) {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kFilesWrite, Mode::kBlock, Verdict::kAllow);
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kDeny, "/etc/**", 0));
  b.set_control(Control::kNetOutbound, Mode::kMonitor, Verdict::kDeny);
  auto bytes = b.finish();
  LandlockPlan plan = plan_landlock(image::View(bytes.data(), bytes.size()), 6, {});
  EXPECT_FALSE(plan.restrict_write);
  EXPECT_FALSE(plan.restrict_connect);
  EXPECT_TRUE(has_note(plan, "files.write: default allow"));
  EXPECT_EQ(plan.summary(), "signals");
  // Without Landlock nothing is planned.
  EXPECT_FALSE(plan_landlock(image::View(bytes.data(), bytes.size()), 0, {}).active());
}

TEST(LandlockPlan, PortsOnlyWhenEveryAllowNamesAPort) {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kNetOutbound, Mode::kBlock, Verdict::kDeny);
  b.add_rule(Control::kNetOutbound, testing::port_rule(443, 0));
  auto host = testing::port_rule(5432, 1);
  host.net.kind = image::NetKind::kIpv4;
  host.net.prefix_len = 32;
  host.net.addr[0] = 10;
  b.add_rule(Control::kNetOutbound, host);
  auto bytes = b.finish();
  LandlockPlan plan = plan_landlock(image::View(bytes.data(), bytes.size()), 4, {});
  EXPECT_TRUE(plan.restrict_connect);
  EXPECT_EQ(plan.connect_ports, (std::vector<uint16_t>{443, 5432}));
  EXPECT_TRUE(has_note(plan, "network.outbound.rules[1] widened to any host on port 5432"));
  // ABI 3 has no network rules.
  EXPECT_FALSE(plan_landlock(image::View(bytes.data(), bytes.size()), 3, {}).restrict_connect);

  b.add_rule(Control::kNetOutbound, testing::port_rule(0, 2));  // any port
  bytes = b.finish();
  EXPECT_FALSE(plan_landlock(image::View(bytes.data(), bytes.size()), 4, {}).restrict_connect);
}

class LandlockApply : public ::testing::Test {
 protected:
  void SetUp() override {
    abi_ = probe_kernel().landlock_abi;
    if (abi_ < 1) GTEST_SKIP() << "this kernel has no Landlock";
    char tmpl[] = "/tmp/fnguard-ll-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_EQ(mkdir((root_ + "/allowed").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/denied").c_str(), 0755), 0);
  }
  void TearDown() override {
    if (!root_.empty()) {
      std::string cmd = "rm -rf '" + root_ + "'";
      (void)!system(cmd.c_str());
    }
  }

  // Applies the plan in a forked child and runs `body` there.
  template <typename Body>
  std::string in_sandbox(const LandlockPlan& plan, Body body) {
    auto fd = create_landlock_ruleset(plan);
    EXPECT_TRUE(fd) << (fd ? "" : fd.error().to_string());
    if (!fd) return "<no ruleset>";
    std::string out = testing::run_in_child([&] {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::string("nnp failed");
      if (apply_landlock_ruleset(fd.value()) != 0) return std::string("restrict failed");
      return body();
    });
    close(fd.value());
    return out;
  }

  int abi_ = 0;
  std::string root_;
};

int try_create(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

TEST_F(LandlockApply, WritesOnlyBeneathAllowedDirectories) {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kFilesWrite, Mode::kBlock, Verdict::kDeny);
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kAllow, root_ + "/allowed/**", 0));
  auto bytes = b.finish();
  LandlockPlan plan = plan_landlock(image::View(bytes.data(), bytes.size()), abi_, {});
  std::string allowed = root_ + "/allowed/f", denied = root_ + "/denied/f";
  std::string out = in_sandbox(plan, [&] {
    std::string r = "allowed=" + std::to_string(try_create(allowed));
    r += ",denied=" + std::to_string(try_create(denied));
    // Moving an allowed file into the denied directory creates a file there: refused.
    r += ",rename=" +
         std::to_string(rename(allowed.c_str(), (root_ + "/denied/g").c_str()) == 0 ? 0 : errno);
    return r;
  });
  EXPECT_EQ(out, "allowed=0,denied=13,rename=13");
  struct stat st;
  EXPECT_NE(stat(denied.c_str(), &st), 0) << "the denied file was created";
}

TEST_F(LandlockApply, AnAllowedPathThatIsAPipeIsLeftOutNotFatal) {
  // /dev/stdout when stdout is a pipe: the rule names an object Landlock
  // cannot name. The ruleset must still restrict writes elsewhere.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  std::string via_proc = "/proc/self/fd/" + std::to_string(p[1]);
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kFilesWrite, Mode::kBlock, Verdict::kDeny);
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kAllow, via_proc, 0));
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kAllow, root_ + "/allowed/**", 1));
  auto bytes = b.finish();
  LandlockPlan plan = plan_landlock(image::View(bytes.data(), bytes.size()), abi_, {});
  EXPECT_TRUE(plan.restrict_write);
  EXPECT_TRUE(std::any_of(plan.notes.begin(), plan.notes.end(), [](const std::string& n) {
    return n.find("is a pipe or socket") != std::string::npos;
  }));
  std::string out = in_sandbox(plan, [&] {
    std::string r = "allowed=" + std::to_string(try_create(root_ + "/allowed/f"));
    r += ",denied=" + std::to_string(try_create(root_ + "/denied/f"));
    int fd = open(via_proc.c_str(), O_WRONLY);  // the pipe itself stays writable
    r += ",pipe=" + std::to_string(fd >= 0 ? 0 : errno);
    if (fd >= 0) close(fd);
    return r;
  });
  close(p[0]);
  close(p[1]);
  EXPECT_EQ(out, "allowed=0,denied=13,pipe=0");
}

// A regular file the command inherits open for writing (a shell's
// `> out.log` outside the allowed directories) may be reopened for writing,
// as freopen(NULL, "wb", stdout) does through /proc/self/fd/1: the
// descriptor writes it already. Nothing else there, and not a file
// inherited read-only or close-on-exec.
TEST_F(LandlockApply, AFileInheritedOpenForWritingMayBeReopened) {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kFilesWrite, Mode::kBlock, Verdict::kDeny);
  b.add_rule(Control::kFilesWrite, testing::path_rule(Verdict::kAllow, root_ + "/allowed/**", 0));
  auto bytes = b.finish();
  LandlockPlan plan = plan_landlock(image::View(bytes.data(), bytes.size()), abi_, {});
  for (const char* name : {"/denied/out", "/denied/in", "/denied/private"}) {
    ASSERT_EQ(try_create(root_ + name), 0);
  }
  int out = open((root_ + "/denied/out").c_str(), O_WRONLY);
  int in = open((root_ + "/denied/in").c_str(), O_RDONLY);
  int priv = open((root_ + "/denied/private").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(out, 0);
  ASSERT_GE(in, 0);
  ASSERT_GE(priv, 0);
  size_t before = plan.paths.size();
  plan_inherited_files({out, in, priv}, &plan);
  EXPECT_EQ(plan.paths.size(), before + 1);
  EXPECT_TRUE(has_note(plan, "descriptor " + std::to_string(out) + " is open for writing on " +
                                 root_ + "/denied/out"));
  auto reopen = [](int fd) {
    int again = open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY | O_TRUNC);
    if (again < 0) return errno;
    close(again);
    return 0;
  };
  std::string result = in_sandbox(plan, [&] {
    std::string r = "reopen=" + std::to_string(reopen(out));
    r += ",readonly=" + std::to_string(reopen(in));
    r += ",cloexec=" + std::to_string(reopen(priv));
    r += ",sibling=" + std::to_string(try_create(root_ + "/denied/other"));
    return r;
  });
  close(out);
  close(in);
  close(priv);
  EXPECT_EQ(result, "reopen=0,readonly=13,cloexec=13,sibling=13");
  // Writes not restricted: nothing to add.
  LandlockPlan open_plan;
  plan_inherited_files({out}, &open_plan);
  EXPECT_TRUE(open_plan.paths.empty());
}

TEST_F(LandlockApply, NoExecutionFromWritableLocations) {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kExecFromWritable, Mode::kBlock, Verdict::kDeny);
  auto bytes = b.finish();
  LandlockPlan plan = plan_landlock(image::View(bytes.data(), bytes.size()), abi_, {});
  ASSERT_TRUE(plan.restrict_exec);
  std::string copy = root_ + "/allowed/env";
  std::string cmd = "cp /usr/bin/env '" + copy + "'";
  ASSERT_EQ(system(cmd.c_str()), 0);
  std::string out = in_sandbox(plan, [&] {
    auto run = [](const char* path) {
      pid_t pid = fork();
      if (pid == 0) {
        char* const argv[] = {const_cast<char*>(path), const_cast<char*>("true"), nullptr};
        execv(path, argv);
        _exit(100 + errno);
      }
      int status = 0;
      waitpid(pid, &status, 0);
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    return "system=" + std::to_string(run("/usr/bin/env")) +
           ",tmp=" + std::to_string(run(copy.c_str()));
  });
  EXPECT_EQ(out, "system=0,tmp=113");
}

TEST_F(LandlockApply, TcpConnectOnlyToListedPorts) {
  if (abi_ < 4) GTEST_SKIP() << "Landlock ABI " << abi_ << " has no network rules";
  // Two loopback listeners; the policy allows only the first one's port.
  auto listener = [](uint16_t* port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(s, 4);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    *port = ntohs(a.sin_port);
    return s;
  };
  uint16_t ok_port = 0, bad_port = 0;
  int s1 = listener(&ok_port), s2 = listener(&bad_port);
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kNetOutbound, Mode::kBlock, Verdict::kDeny);
  b.add_rule(Control::kNetOutbound, testing::port_rule(ok_port, 0));
  auto bytes = b.finish();
  LandlockPlan plan = plan_landlock(image::View(bytes.data(), bytes.size()), abi_, {});
  std::string out = in_sandbox(plan, [&] {
    auto conn = [](uint16_t port) {
      int s = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port);
      int rc = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
      close(s);
      return rc;
    };
    return "ok=" + std::to_string(conn(ok_port)) + ",bad=" + std::to_string(conn(bad_port));
  });
  EXPECT_EQ(out, "ok=0,bad=13");
  close(s1);
  close(s2);
}

}  // namespace
}  // namespace fnguard::kernel
