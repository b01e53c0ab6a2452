// glibc exports some hooked functions under a second public name as well
// (`nm -D libc.so.6`: __open, __open64, _IO_fopen, __connect, _IO_popen,
// __close, __dup2, __fcntl, on x86_64 and arm64 alike), and opens a FILE or
// makes a node through public functions freopen and mknod are built on
// (_IO_file_fopen, _IO_file_open, _IO_proc_open, __xmknod). A program that
// calls those names must meet the same checks as one that calls the usual
// ones: each test calls them by name (the probe links them directly, python
// through ctypes) and asserts the effect and the event.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "fnguard/enforcer/protocol.h"
#include "tests/unit/enforcer_harness.h"

namespace fnguard::testing {
namespace {

constexpr const char* kBlocked = "\"action\":\"blocked\"";

TEST(EnforcerAliases, OpenAndFopenAliasesAreDecidedLikeOpen) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    TempDir dir;
    dir.write("secret", "TOPSECRET");
    PolicyImage policy;
    policy.control(Control::kFilesRead, mode).deny(dir / "secret");
    RunResult r = run_protected(
        policy.build(),
        {probe_path(), "alias_open", dir / "secret", "alias_open64", dir / "secret", "alias_fopen",
         dir / "secret", "alias_file_fopen", dir / "secret", "alias_file_open", dir / "secret"});
    const char* ops[] = {"alias_open", "alias_open64", "alias_fopen", "alias_file_fopen",
                         "alias_file_open"};
    for (const char* op : ops) {
      std::string expected = std::string(op) + (mode == Mode::kBlock ? " err 13" : " ok TOPSECRET");
      EXPECT_EQ(r.line(op), expected) << r.dump();
    }
    const char* event_ops[] = {"__open", "__open64", "fopen", "_IO_file_fopen", "_IO_file_open"};
    for (const char* op : event_ops) {
      EXPECT_TRUE(r.has_event(
          {"\"control\":\"files.read\"", mode == Mode::kBlock ? kBlocked : "\"action\":\"allowed\"",
           std::string("\"op\":\"") + op + "\"", "\"target\":\"" + dir / "secret" + "\""}))
          << op << "\n"
          << r.dump();
    }
  }
}

TEST(EnforcerAliases, WritesAndNodesThroughAliasesAreDecided) {
  TempDir dir;
  dir.write("data", "keep");
  mkdir((dir / "locked").c_str(), 0755);
  PolicyImage policy;
  policy.control(Control::kFilesWrite, Mode::kBlock).deny(dir / "data").deny(dir / "locked/**");
  RunResult r = run_protected(policy.build(), {probe_path(), "alias_write", dir / "data", "PWNED",
                                               "alias_mknod", dir / "locked/fifo"});
  EXPECT_EQ(r.line("alias_write"), "alias_write err 13") << r.dump();
  EXPECT_EQ(r.line("alias_mknod"), "alias_mknod err 13") << r.dump();
  EXPECT_EQ(dir.read("data"), "keep");
  EXPECT_FALSE(dir.exists("locked/fifo"));
  EXPECT_TRUE(r.has_event({kBlocked, "\"op\":\"__open\"", "\"target\":\"" + dir / "data" + "\""}))
      << r.dump();
  EXPECT_TRUE(
      r.has_event({kBlocked, "\"op\":\"__xmknod\"", "\"target\":\"" + dir / "locked/fifo" + "\""}))
      << r.dump();
}

TEST(EnforcerAliases, ConnectAliasIsDecidedLikeConnect) {
  int server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(server, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof in;
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&in), len), 0);
  ASSERT_EQ(listen(server, 4), 0);
  ASSERT_EQ(getsockname(server, reinterpret_cast<sockaddr*>(&in), &len), 0);
  std::string port = std::to_string(ntohs(in.sin_port));
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock, Verdict::kDeny);
  RunResult r = run_protected(
      policy.build(),
      {"/usr/bin/python3", "-c",
       "import ctypes, socket, struct\nlibc = ctypes.CDLL(None, use_errno=True)\n"
       "addr = struct.pack('=H', socket.AF_INET) + struct.pack('!H', " +
           port +
           ") + socket.inet_aton('127.0.0.1') + bytes(8)\n"
           "s = socket.socket()\n"
           "r = libc['__connect'](s.fileno(), addr, 16)\n"
           "print('__connect', 'ok' if r == 0 else 'err %d' % ctypes.get_errno())\n"});
  EXPECT_EQ(r.line("__connect"), "__connect err 1") << r.dump();
  int client = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_LT(client, 0) << "the connection arrived";
  if (client >= 0) close(client);
  close(server);
  EXPECT_TRUE(r.has_event({"\"control\":\"network.outbound\"", kBlocked, "\"op\":\"__connect\"",
                           "\"target\":\"127.0.0.1:" + port + "\""}))
      << r.dump();
}

TEST(EnforcerAliases, PopenAliasesOfADeniedShellDoNotRun) {
  TempDir dir;
  image::RuleSpec dash;
  dash.verdict = Verdict::kDeny;
  dash.kind = image::MatchKind::kExecName;
  dash.pattern = "dash";
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock).rule(dash);
  RunResult r = run_protected(policy.build(),
                              {"/usr/bin/python3", "-c",
                               "import ctypes, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                               "f = libc['_IO_popen']\nf.restype = ctypes.c_void_p\n"
                               "p = f(('touch ' + sys.argv[1] + '/popen.ran').encode(), b'r')\n"
                               "print('_IO_popen', p is None, ctypes.get_errno())\n",
                               dir.path()});
  EXPECT_EQ(r.line("_IO_popen"), "_IO_popen True 13") << r.dump();
  EXPECT_FALSE(dir.exists("popen.ran"));
  EXPECT_TRUE(r.has_event({kBlocked, "\"via\":\"_IO_popen\""})) << r.dump();

  RunResult proc = run_protected(
      policy.build(), {probe_path(), "alias_proc_open", "touch " + dir / "proc.ran; echo ran"});
  EXPECT_EQ(proc.line("alias_proc_open"), "alias_proc_open err 13") << proc.dump();
  EXPECT_FALSE(dir.exists("proc.ran"));
  EXPECT_TRUE(proc.has_event({kBlocked, "\"via\":\"_IO_proc_open\""})) << proc.dump();
}

TEST(EnforcerAliases, DescriptorAliasesKeepTheEnforcersDescriptors) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kBlock).deny(dir / "secret");
  const std::string image_fd = std::to_string(enforcer::kFirstFd);
  const std::string events_fd = std::to_string(enforcer::kFirstFd + 2);
  RunResult r =
      run_protected(policy.build(), {probe_path(), "alias_close", image_fd, "alias_dup2", events_fd,
                                     "alias_cloexec", events_fd, "alias_cloexec", image_fd, "exec",
                                     probe_path(), "read", dir / "secret"});
  EXPECT_EQ(r.line("alias_close"), "alias_close ok") << r.dump();
  EXPECT_EQ(r.line("alias_dup2"), "alias_dup2 err 9") << r.dump();  // EBADF, as dup2
  EXPECT_EQ(r.line("read"), "read err 13") << r.dump();             // the child is protected
  EXPECT_TRUE(r.has_event({kBlocked, "\"target\":\"" + dir / "secret" + "\""})) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing
