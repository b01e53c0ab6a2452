// The network hooks under a real supervisor channel: python3 connects,
// sends datagrams and listens; a server in this test process tells whether
// a connection or datagram really arrived. Each case asserts the effect
// (refused with EPERM/EACCES and nothing arrived, or it worked) and the
// event, in block and monitor mode, including domain rules matched through
// the names the program looked up.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "enforcer_harness.h"

namespace fnguard::testing {
namespace {

const char* kPython = "/usr/bin/python3";
const char* kBlocked = "\"action\":\"blocked\"";
const char* kAllowed = "\"action\":\"allowed\"";

// A loopback server socket owned by the test (TCP listening or UDP bound).
class Server {
 public:
  Server(int type, int family = AF_INET) {
    fd_ = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&ss);
      in->sin_family = AF_INET;
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *in;
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_loopback;
      len = sizeof *in6;
    }
    if (bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    if (type == SOCK_STREAM) listen(fd_, 16);
    len = sizeof ss;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  }
  ~Server() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  uint16_t port() const { return port_; }
  std::string port_text() const { return std::to_string(port_); }
  // Whether a client connected (TCP) or a datagram arrived (UDP).
  bool something_arrived() const {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) {
      close(c);
      return true;
    }
    char buf[64];
    return recv(fd_, buf, sizeof buf, MSG_DONTWAIT) >= 0;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

uint16_t free_port() {
  Server s(SOCK_STREAM);
  return s.port();
}

image::RuleSpec ipv4_rule(Verdict verdict, const char* addr, uint16_t port) {
  image::RuleSpec spec;
  spec.verdict = verdict;
  spec.kind = image::MatchKind::kNetTarget;
  spec.net.kind = image::NetKind::kIpv4;
  spec.net.prefix_len = 32;
  spec.net.port = port;
  inet_pton(AF_INET, addr, spec.net.addr);
  return spec;
}

image::RuleSpec domain_rule(Verdict verdict, const std::string& domain, uint16_t port) {
  image::RuleSpec spec;
  spec.verdict = verdict;
  spec.kind = image::MatchKind::kNetTarget;
  spec.net.kind = image::NetKind::kDomain;
  spec.net.port = port;
  spec.pattern = domain;
  return spec;
}

RunResult run_python(const PolicyImage& policy, const std::string& code) {
  return run_protected(policy.build(), {kPython, "-c", "import socket\n" + code});
}

std::string connect_code(const std::string& host, uint16_t port, int family = AF_INET) {
  return std::string("s = socket.socket(") +
         (family == AF_INET ? "socket.AF_INET" : "socket.AF_INET6") + ")\ntry:\n  s.connect(('" +
         host + "', " + std::to_string(port) +
         "))\n  print('connect ok')\nexcept OSError as e:\n  print('connect err', e.errno)\n";
}

TEST(EnforcerNet, ConnectToDeniedPortIsRefusedAndNothingArrives) {
  Server server(SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock)
      .rule(ipv4_rule(Verdict::kDeny, "127.0.0.1", server.port()));
  RunResult r = run_python(policy, connect_code("127.0.0.1", server.port()));
  EXPECT_EQ(r.line("connect"), "connect err 1") << r.dump();
  EXPECT_FALSE(server.something_arrived());
  EXPECT_TRUE(r.has_event(
      {"\"control\":\"network.outbound\"", kBlocked, "\"rule\":\"network.outbound.rules[0]\"",
       "\"target\":\"127.0.0.1:" + server.port_text() + "\"", "\"protocol\":\"tcp\""}))
      << r.dump();
}

TEST(EnforcerNet, ConnectToDeniedPortProceedsInMonitor) {
  Server server(SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kMonitor)
      .rule(ipv4_rule(Verdict::kDeny, "127.0.0.1", server.port()));
  RunResult r = run_python(policy, connect_code("127.0.0.1", server.port()));
  EXPECT_EQ(r.line("connect"), "connect ok") << r.dump();
  EXPECT_TRUE(server.something_arrived());
  EXPECT_TRUE(r.has_event({"\"control\":\"network.outbound\"", kAllowed, "\"mode\":\"monitor\""}))
      << r.dump();
}

TEST(EnforcerNet, AllowedLoopbackConnectWorksUnderDefaultDeny) {
  Server server(SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock, Verdict::kDeny)
      .rule(ipv4_rule(Verdict::kAllow, "127.0.0.1", server.port()));
  RunResult r = run_python(policy, connect_code("127.0.0.1", server.port()));
  EXPECT_EQ(r.line("connect"), "connect ok") << r.dump();
  EXPECT_TRUE(server.something_arrived());
  EXPECT_TRUE(r.events.empty()) << r.dump();
}

TEST(EnforcerNet, Ipv6ConnectIsDecidedAndNamedInBrackets) {
  Server server(SOCK_STREAM, AF_INET6);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock, Verdict::kDeny);
  RunResult r = run_python(policy, connect_code("::1", server.port(), AF_INET6));
  EXPECT_EQ(r.line("connect"), "connect err 1") << r.dump();
  EXPECT_FALSE(server.something_arrived());
  EXPECT_TRUE(
      r.has_event({kBlocked, "\"rule\":\"network.outbound.default\"",
                   "\"target\":\"[::1]:" + server.port_text() + "\"", "\"family\":\"inet6\""}))
      << r.dump();
}

TEST(EnforcerNet, UdpSendtoToDeniedDestinationIsRefused) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Server server(SOCK_DGRAM);
    ASSERT_TRUE(server.ok());
    PolicyImage policy;
    policy.control(Control::kNetOutbound, mode)
        .rule(ipv4_rule(Verdict::kDeny, "127.0.0.1", server.port()));
    RunResult r = run_python(policy,
                             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ntry:\n"
                             "  s.sendto(b'x', ('127.0.0.1', " +
                                 server.port_text() +
                                 "))\n  print('sendto ok')\n"
                                 "except OSError as e:\n  print('sendto err', e.errno)\n");
    if (mode == Mode::kBlock) {
      EXPECT_EQ(r.line("sendto"), "sendto err 1") << r.dump();
      EXPECT_FALSE(server.something_arrived());
      EXPECT_TRUE(r.has_event({kBlocked, "\"op\":\"sendto\"", "\"protocol\":\"udp\""})) << r.dump();
    } else {
      EXPECT_EQ(r.line("sendto"), "sendto ok") << r.dump();
      EXPECT_TRUE(server.something_arrived());
      EXPECT_TRUE(r.has_event({kAllowed, "\"op\":\"sendto\""})) << r.dump();
    }
  }
}

TEST(EnforcerNet, InboundDenyRefusesPublicBindAndListenButNotLoopback) {
  uint16_t port = free_port();
  PolicyImage policy;
  policy.control(Control::kNetInbound, Mode::kBlock, Verdict::kDeny);
  RunResult r = run_python(policy,
                           "def attempt(tag, addr):\n"
                           "  s = socket.socket()\n"
                           "  try:\n    s.bind(addr)\n    s.listen()\n    print(tag, 'ok')\n"
                           "  except OSError as e:\n    print(tag, 'err', e.errno)\n"
                           "attempt('public', ('0.0.0.0', " +
                               std::to_string(port) +
                               "))\n"
                               "attempt('anyport', ('0.0.0.0', 0))\n"
                               "attempt('loopback', ('127.0.0.1', 0))\n");
  EXPECT_EQ(r.line("public"), "public err 13") << r.dump();
  EXPECT_EQ(r.line("anyport"), "anyport err 13") << r.dump();
  EXPECT_EQ(r.line("loopback"), "loopback ok") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"network.inbound\"", kBlocked, "\"op\":\"bind\"",
                           "\"target\":\"0.0.0.0:" + std::to_string(port) + "\""}))
      << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"network.inbound\"", kBlocked, "\"op\":\"listen\""}))
      << r.dump();
}

TEST(EnforcerNet, InboundDenyInMonitorListensAndReports) {
  uint16_t port = free_port();
  PolicyImage policy;
  policy.control(Control::kNetInbound, Mode::kMonitor, Verdict::kDeny);
  RunResult r =
      run_python(policy, "s = socket.socket()\ns.bind(('0.0.0.0', " + std::to_string(port) +
                             "))\ns.listen()\nprint('listen ok')\n");
  EXPECT_EQ(r.line("listen"), "listen ok") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"network.inbound\"", kAllowed, "\"op\":\"bind\""}))
      << r.dump();
}

TEST(EnforcerNet, DomainRuleMatchesAfterTheProgramLookedTheNameUp) {
  Server server(SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock, Verdict::kDeny)
      .rule(domain_rule(Verdict::kAllow, "localhost", server.port()));
  std::string port = server.port_text();
  RunResult r = run_python(policy,
                           "def attempt(tag):\n  s = socket.socket()\n"
                           "  try:\n    s.connect(('127.0.0.1', " +
                               port +
                               "))\n    print(tag, 'ok')\n"
                               "  except OSError as e:\n    print(tag, 'err', e.errno)\n"
                               "attempt('before')\n"
                               "socket.getaddrinfo('LocalHost', " +
                               port +
                               ", socket.AF_INET)\n"
                               "attempt('after')\n");
  EXPECT_EQ(r.line("before"), "before err 1") << r.dump();
  EXPECT_EQ(r.line("after"), "after ok") << r.dump();
  EXPECT_TRUE(server.something_arrived());
  EXPECT_EQ(r.find_events({kBlocked}).size(), 1u) << r.dump();
}

TEST(EnforcerNet, DomainNamesAppearInTheEvent) {
  Server server(SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock)
      .rule(domain_rule(Verdict::kDeny, "localhost", 0));
  RunResult r = run_python(
      policy, "socket.gethostbyname('localhost')\n" + connect_code("127.0.0.1", server.port()));
  EXPECT_EQ(r.line("connect"), "connect err 1") << r.dump();
  EXPECT_FALSE(server.something_arrived());
  EXPECT_TRUE(r.has_event({kBlocked, "\"names\":[\"localhost\"]"})) << r.dump();
}

TEST(EnforcerNet, UnixSocketsPassThrough) {
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock, Verdict::kDeny);
  policy.control(Control::kNetInbound, Mode::kBlock, Verdict::kDeny);
  RunResult r = run_python(
      policy, "a, b = socket.socketpair()\na.sendall(b'hi')\nprint('pair', b.recv(2).decode())\n");
  EXPECT_EQ(r.line("pair"), "pair hi") << r.dump();
  EXPECT_TRUE(r.events.empty()) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

TEST(EnforcerNetNode, NetConnectToDeniedPortFails) {
  if (access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "node is not installed";
  Server server(SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock)
      .rule(ipv4_rule(Verdict::kDeny, "127.0.0.1", server.port()));
  RunResult r = run_protected(
      policy.build(), {"/usr/bin/node", "-e",
                       "const s = require('net').connect(" + server.port_text() +
                           ", '127.0.0.1');\n"
                           "s.on('connect', () => { console.log('connect ok'); s.destroy(); });\n"
                           "s.on('error', (e) => console.log('connect ' + e.code));\n"});
  EXPECT_EQ(r.line("connect"), "connect EPERM") << r.dump();
  EXPECT_FALSE(server.something_arrived());
  EXPECT_TRUE(r.has_event({"\"control\":\"network.outbound\"", kBlocked,
                           "\"target\":\"127.0.0.1:" + server.port_text() + "\""}))
      << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

// sendmmsg(): the messages before the first denied one are sent and counted;
// a denied first message fails the call.
TEST(EnforcerNet, SendmmsgSendsOnlyTheAllowedPrefix) {
  Server allowed(SOCK_DGRAM);
  Server denied(SOCK_DGRAM);
  ASSERT_TRUE(allowed.ok() && denied.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock)
      .rule(ipv4_rule(Verdict::kDeny, "127.0.0.1", denied.port()));
  RunResult r = run_python(
      policy,
      "import ctypes, struct\nlibc = ctypes.CDLL(None, use_errno=True)\n"
      "class Iov(ctypes.Structure):\n  _fields_ = [('base', ctypes.c_void_p), ('len', "
      "ctypes.c_size_t)]\n"
      "class Msg(ctypes.Structure):\n  _fields_ = [('name', ctypes.c_void_p), ('namelen', "
      "ctypes.c_uint32),\n"
      "    ('iov', ctypes.POINTER(Iov)), ('iovlen', ctypes.c_size_t), ('control', "
      "ctypes.c_void_p),\n"
      "    ('controllen', ctypes.c_size_t), ('flags', ctypes.c_int)]\n"
      "class MMsg(ctypes.Structure):\n  _fields_ = [('hdr', Msg), ('len', ctypes.c_uint)]\n"
      "keep = []\n"
      "def msg(port):\n"
      "  addr = ctypes.create_string_buffer(struct.pack('=H', 2) + struct.pack('!H', port) + "
      "socket.inet_aton('127.0.0.1') + bytes(8), 16)\n"
      "  data = ctypes.create_string_buffer(b'x', 1)\n"
      "  iov = Iov(ctypes.cast(data, ctypes.c_void_p), 1)\n"
      "  keep.extend([addr, data, iov])\n"
      "  m = MMsg()\n  m.hdr.name = ctypes.cast(addr, ctypes.c_void_p)\n  m.hdr.namelen = 16\n"
      "  m.hdr.iov = ctypes.pointer(iov)\n  m.hdr.iovlen = 1\n  return m\n"
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
      "vec = (MMsg * 2)(msg(" +
          allowed.port_text() + "), msg(" + denied.port_text() +
          "))\n"
          "print('mixed', libc.sendmmsg(s.fileno(), vec, 2, 0))\n"
          "vec2 = (MMsg * 1)(msg(" +
          denied.port_text() +
          "))\n"
          "print('first', libc.sendmmsg(s.fileno(), vec2, 1, 0), ctypes.get_errno())\n");
  EXPECT_EQ(r.line("mixed"), "mixed 1") << r.dump();
  EXPECT_EQ(r.line("first"), "first -1 1") << r.dump();
  EXPECT_TRUE(allowed.something_arrived());
  EXPECT_FALSE(denied.something_arrived());
  EXPECT_TRUE(r.has_event(
      {kBlocked, "\"op\":\"sendmmsg\"", "\"target\":\"127.0.0.1:" + denied.port_text() + "\""}))
      << r.dump();
}

}  // namespace
}  // namespace fnguard::testing
