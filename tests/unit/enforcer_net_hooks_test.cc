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

image::RuleSpec ip_rule(Verdict verdict, int family, const char* addr, unsigned prefix,
                        uint16_t port = 0) {
  image::RuleSpec spec;
  spec.verdict = verdict;
  spec.kind = image::MatchKind::kNetTarget;
  spec.net.kind = family == AF_INET ? image::NetKind::kIpv4 : image::NetKind::kIpv6;
  spec.net.prefix_len = static_cast<uint8_t>(prefix);
  spec.net.port = port;
  inet_pton(family, addr, spec.net.addr);
  return spec;
}

// Python helpers that hand the kernel a raw sockaddr of a chosen length
// through libc (the socket module always passes full-size addresses).
const char* kRawAddressCode =
    "import ctypes, struct\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def v4(family, host, port):\n"
    "  return struct.pack('=H', family) + struct.pack('!H', port) + socket.inet_aton(host) + "
    "bytes(8)\n"
    "def v6(host, port):\n"
    "  return struct.pack('=H', socket.AF_INET6) + struct.pack('!H', port) + bytes(4) + "
    "socket.inet_pton(socket.AF_INET6, host) + bytes(4)\n"
    "def call(tag, fn, s, addr, length):\n"
    "  buf = ctypes.create_string_buffer(addr, len(addr))\n"
    "  if fn == 'sendto':\n"
    "    r = libc.sendto(s.fileno(), b'x', 1, 0, buf, length)\n"
    "  else:\n"
    "    r = getattr(libc, fn)(s.fileno(), buf, length)\n"
    "  print(tag, 'ok' if r >= 0 else 'err %d' % ctypes.get_errno())\n";

// The kernel takes IPv6 addresses from 24 bytes (SIN6_LEN_RFC2133, no scope
// id): they are decided like full-size ones, IPv4-mapped ones as IPv4.
TEST(EnforcerNet, ShortIpv6AddressesAreDecided) {
  Server tcp4(SOCK_STREAM);
  Server udp4(SOCK_DGRAM);
  ASSERT_TRUE(tcp4.ok() && udp4.ok());
  Server tcp6(SOCK_STREAM, AF_INET6);
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock)
      .rule(ip_rule(Verdict::kDeny, AF_INET, "127.0.0.0", 8))
      .rule(ip_rule(Verdict::kDeny, AF_INET6, "::1", 128));
  std::string code = std::string(kRawAddressCode) +
                     "call('mapped24', 'connect', socket.socket(socket.AF_INET6), "
                     "v6('::ffff:127.0.0.1', " +
                     tcp4.port_text() +
                     "), 24)\n"
                     "call('udp24', 'sendto', socket.socket(socket.AF_INET6, socket.SOCK_DGRAM), "
                     "v6('::ffff:127.0.0.1', " +
                     udp4.port_text() + "), 24)\n";
  if (tcp6.ok()) {
    code += "call('loop24', 'connect', socket.socket(socket.AF_INET6), v6('::1', " +
            tcp6.port_text() + "), 24)\n";
  }
  RunResult r = run_python(policy, code);
  EXPECT_EQ(r.line("mapped24"), "mapped24 err 1") << r.dump();
  EXPECT_EQ(r.line("udp24"), "udp24 err 1") << r.dump();
  EXPECT_FALSE(tcp4.something_arrived());
  EXPECT_FALSE(udp4.something_arrived());
  EXPECT_TRUE(r.has_event({kBlocked, "\"op\":\"connect\"", "\"family\":\"inet6\"",
                           "\"target\":\"[::ffff:127.0.0.1]:" + tcp4.port_text() + "\""}))
      << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"op\":\"sendto\"", "\"protocol\":\"udp\""})) << r.dump();
  if (tcp6.ok()) {
    EXPECT_EQ(r.line("loop24"), "loop24 err 1") << r.dump();
    EXPECT_FALSE(tcp6.something_arrived());
  }
}

// AF_UNSPEC: a datagram sent on an IPv4 socket goes to the address in it
// (udp_sendmsg), a bind on an IPv4 socket with INADDR_ANY binds 0.0.0.0,
// and a connect disconnects (which must keep working).
TEST(EnforcerNet, UnspecifiedFamilyIsReadAsTheKernelReadsIt) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Server denied(SOCK_DGRAM);
    Server allowed(SOCK_DGRAM);
    ASSERT_TRUE(denied.ok() && allowed.ok());
    PolicyImage policy;
    policy.control(Control::kNetOutbound, mode)
        .rule(ip_rule(Verdict::kDeny, AF_INET, "127.0.0.1", 32, denied.port()));
    RunResult r = run_python(
        policy, std::string(kRawAddressCode) +
                    "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    "call('unspec', 'sendto', u, v4(socket.AF_UNSPEC, '127.0.0.1', " +
                    denied.port_text() +
                    "), 16)\n"
                    "c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    "c.connect(('127.0.0.1', " +
                    allowed.port_text() +
                    "))\n"
                    "call('disconnect', 'connect', c, v4(socket.AF_UNSPEC, '0.0.0.0', 0), 16)\n"
                    "try:\n  c.send(b'x')\n  print('send ok')\n"
                    "except OSError as e:\n  print('send err', e.errno)\n");
    EXPECT_EQ(r.line("disconnect"), "disconnect ok") << r.dump();
    EXPECT_EQ(r.line("send"), "send err 89") << r.dump();  // EDESTADDRREQ: it was disconnected
    if (mode == Mode::kBlock) {
      EXPECT_EQ(r.line("unspec"), "unspec err 1") << r.dump();
      EXPECT_FALSE(denied.something_arrived());
      EXPECT_TRUE(r.has_event(
          {kBlocked, "\"op\":\"sendto\"", "\"target\":\"127.0.0.1:" + denied.port_text() + "\""}))
          << r.dump();
    } else {
      EXPECT_EQ(r.line("unspec"), "unspec ok") << r.dump();
      EXPECT_TRUE(denied.something_arrived());
      EXPECT_TRUE(r.has_event({kAllowed, "\"op\":\"sendto\""})) << r.dump();
    }
  }
}

TEST(EnforcerNet, UnspecifiedFamilyAndShortIpv6BindsAreDecidedAsInbound) {
  uint16_t port = free_port();
  std::string p = std::to_string(port);
  PolicyImage policy;
  policy.control(Control::kNetInbound, Mode::kBlock, Verdict::kDeny);
  RunResult r = run_python(
      policy, std::string(kRawAddressCode) +
                  "call('unspec', 'bind', socket.socket(socket.AF_INET, socket.SOCK_DGRAM), "
                  "v4(socket.AF_UNSPEC, '0.0.0.0', " +
                  p +
                  "), 16)\n"
                  "call('short6', 'bind', socket.socket(socket.AF_INET6, socket.SOCK_DGRAM), "
                  "v6('::', " +
                  p +
                  "), 24)\n"
                  // The kernel refuses AF_UNSPEC with any other address (EAFNOSUPPORT).
                  "call('unspec_host', 'bind', socket.socket(socket.AF_INET, socket.SOCK_DGRAM), "
                  "v4(socket.AF_UNSPEC, '127.0.0.1', " +
                  p + "), 16)\n");
  EXPECT_EQ(r.line("unspec"), "unspec err 13") << r.dump();
  EXPECT_EQ(r.line("short6"), "short6 err 13") << r.dump();
  EXPECT_EQ(r.line("unspec_host"), "unspec_host err 97") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"network.inbound\"", kBlocked, "\"op\":\"bind\"",
                           "\"target\":\"0.0.0.0:" + p + "\""}))
      << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"network.inbound\"", kBlocked, "\"op\":\"bind\"",
                           "\"target\":\"[::]:" + p + "\""}))
      << r.dump();
}

// An address on an inet socket that the enforcer does not read (too short,
// another family) is refused in block mode with the errno the kernel gives
// such an address, without reaching the kernel; monitor leaves it to the
// kernel, which refuses it too.
TEST(EnforcerNet, UnreadableInetAddressesFailAsTheKernelFailsThem) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    PolicyImage policy;
    policy.control(Control::kNetOutbound, mode);
    RunResult r = run_python(
        policy, std::string(kRawAddressCode) +
                    "call('short4', 'connect', socket.socket(), v4(socket.AF_INET, "
                    "'127.0.0.1', 9), 8)\n"
                    "call('short6', 'connect', socket.socket(socket.AF_INET6), v6('::1', 9), 20)\n"
                    "call('family', 'sendto', socket.socket(socket.AF_INET, socket.SOCK_DGRAM), "
                    "struct.pack('=H', 0x1234) + bytes(14), 16)\n");
    EXPECT_EQ(r.line("short4"), "short4 err 22") << r.dump();  // EINVAL
    EXPECT_EQ(r.line("short6"), "short6 err 22") << r.dump();
    EXPECT_EQ(r.line("family"), "family err 97") << r.dump();  // EAFNOSUPPORT
    EXPECT_TRUE(r.events.empty()) << r.dump();
  }
}

// Linux routes a connect to 0.0.0.0 (or ::) to the local host: it is decided
// as the loopback address it reaches, and the event says what was asked.
TEST(EnforcerNet, TheUnspecifiedAddressIsDecidedAsTheLoopbackItReaches) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Server tcp(SOCK_STREAM);
    Server udp(SOCK_DGRAM);
    ASSERT_TRUE(tcp.ok() && udp.ok());
    Server tcp6(SOCK_STREAM, AF_INET6);
    PolicyImage policy;
    policy.control(Control::kNetOutbound, mode)
        .rule(ip_rule(Verdict::kDeny, AF_INET, "127.0.0.0", 8))
        .rule(ip_rule(Verdict::kDeny, AF_INET6, "::1", 128));
    std::string code = connect_code("0.0.0.0", tcp.port()) +
                       "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ntry:\n"
                       "  u.sendto(b'x', ('0.0.0.0', " +
                       udp.port_text() +
                       "))\n  print('sendto ok')\n"
                       "except OSError as e:\n  print('sendto err', e.errno)\n";
    if (tcp6.ok()) {
      code += "s6 = socket.socket(socket.AF_INET6)\ntry:\n  s6.connect(('::', " + tcp6.port_text() +
              "))\n  print('connect6 ok')\nexcept OSError as e:\n  print('connect6 err', "
              "e.errno)\n";
    }
    RunResult r = run_python(policy, code);
    std::string target = "\"target\":\"127.0.0.1:" + tcp.port_text() + "\"";
    std::string requested = "\"requested\":\"0.0.0.0:" + tcp.port_text() + "\"";
    if (mode == Mode::kBlock) {
      EXPECT_EQ(r.line("connect"), "connect err 1") << r.dump();
      EXPECT_EQ(r.line("sendto"), "sendto err 1") << r.dump();
      EXPECT_FALSE(tcp.something_arrived());
      EXPECT_FALSE(udp.something_arrived());
      EXPECT_TRUE(r.has_event({kBlocked, "\"op\":\"connect\"", target, requested})) << r.dump();
      EXPECT_TRUE(r.has_event(
          {kBlocked, "\"op\":\"sendto\"", "\"requested\":\"0.0.0.0:" + udp.port_text() + "\""}))
          << r.dump();
      if (tcp6.ok()) {
        EXPECT_EQ(r.line("connect6"), "connect6 err 1") << r.dump();
        EXPECT_FALSE(tcp6.something_arrived());
        EXPECT_TRUE(r.has_event({kBlocked, "\"target\":\"[::1]:" + tcp6.port_text() + "\"",
                                 "\"requested\":\"[::]:" + tcp6.port_text() + "\""}))
            << r.dump();
      }
    } else {
      EXPECT_EQ(r.line("connect"), "connect ok") << r.dump();
      EXPECT_TRUE(tcp.something_arrived());
      EXPECT_TRUE(r.has_event({kAllowed, "\"op\":\"connect\"", target, requested})) << r.dump();
    }
  }
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

// glibc's resolver sends through its own internal socket calls: a query to a
// name server the code wrote into a res_state (or into _res) is decided at
// res_nquery/res_query, before anything is sent. struct __res_state on
// LP64: retrans@0, retry@4, options@8, nscount@16, nsaddr_list@20.
const char* kResolverCode = R"PY(
import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
libc.__res_state.restype = ctypes.c_void_p
def point_at(state, port):
  struct.pack_into('=ii', state, 0, 1, 1)
  struct.pack_into('=i', state, 16, 1)
  struct.pack_into('=H', state, 20, socket.AF_INET)
  struct.pack_into('!H', state, 22, port)
  state[24:28] = socket.inet_aton('127.0.0.1')
def run(tag, port):
  ans = ctypes.create_string_buffer(512)
  st = ctypes.create_string_buffer(1024)
  libc.__res_ninit(st)
  point_at(st, port)
  ctypes.set_errno(0)
  rc = libc.res_nquery(st, b'example.com', 1, 1, ans, 512)
  print(tag + '_nquery', rc, ctypes.get_errno())
  libc.__res_init()
  glob = (ctypes.c_char * 1024).from_address(libc.__res_state())
  point_at(glob, port)
  ctypes.set_errno(0)
  rc = libc.res_query(b'example.com', 1, 1, ans, 512)
  print(tag + '_query', rc, ctypes.get_errno())
)PY";

TEST(EnforcerNet, ResolverQueriesToServersTheCodeSetAreDecided) {
  Server server(SOCK_DGRAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock)
      .rule(ipv4_rule(Verdict::kDeny, "127.0.0.1", server.port()));
  RunResult r =
      run_python(policy, std::string(kResolverCode) + "run('res', " + server.port_text() + ")\n");
  EXPECT_EQ(r.line("res_nquery"), "res_nquery -1 1") << r.dump();
  EXPECT_EQ(r.line("res_query"), "res_query -1 1") << r.dump();
  EXPECT_FALSE(server.something_arrived());
  for (const char* op : {"res_nquery", "res_query"}) {
    EXPECT_TRUE(r.has_event({kBlocked, std::string("\"op\":\"") + op + "\"",
                             "\"target\":\"127.0.0.1:" + server.port_text() + "\""}))
        << op << "\n"
        << r.dump();
  }
}

// In monitor mode the query goes out (the server never answers: retrans 1 s,
// one try) and is reported.
TEST(EnforcerNet, ResolverQueriesAreReportedInMonitor) {
  Server server(SOCK_DGRAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kMonitor)
      .rule(ipv4_rule(Verdict::kDeny, "127.0.0.1", server.port()));
  RunResult r = run_python(
      policy, std::string(kResolverCode) +
                  "ans = ctypes.create_string_buffer(512)\n"
                  "st = ctypes.create_string_buffer(1024)\nlibc.__res_ninit(st)\n"
                  "point_at(st, " +
                  server.port_text() +
                  ")\nprint('sent', libc.res_nquery(st, b'example.com', 1, 1, ans, 512))\n");
  EXPECT_EQ(r.line("sent"), "sent -1") << r.dump();  // no answer
  EXPECT_TRUE(server.something_arrived());
  EXPECT_TRUE(r.has_event({kAllowed, "\"op\":\"res_nquery\""})) << r.dump();
}

// rexec connects through glibc's internal connect: decided at rexec, for
// each address the host resolves to.
TEST(EnforcerNet, RexecToADeniedHostIsRefusedBeforeItConnects) {
  Server server(SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock)
      .rule(ipv4_rule(Verdict::kDeny, "127.0.0.1", server.port()));
  RunResult r = run_python(policy,
                           "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                           "host = ctypes.c_char_p(b'127.0.0.1')\n"
                           "rc = libc.rexec(ctypes.byref(host), socket.htons(" +
                               server.port_text() +
                               "), b'user', b'pass', b'id', None)\n"
                               "print('rexec', rc, ctypes.get_errno())\n");
  EXPECT_EQ(r.line("rexec"), "rexec -1 1") << r.dump();
  EXPECT_FALSE(server.something_arrived());
  EXPECT_TRUE(r.has_event(
      {kBlocked, "\"op\":\"rexec\"", "\"target\":\"127.0.0.1:" + server.port_text() + "\""}))
      << r.dump();
}

// Names resolved by getaddrinfo_a are learnt like getaddrinfo's: when a
// GAI_WAIT call returns, and for GAI_NOWAIT once gai_suspend() or
// gai_error() says the request is done (EAI_INPROGRESS is -100;
// gai_suspend returns EAI_ALLDONE when the request finished before it was
// called, as it often has).
TEST(EnforcerNet, GetaddrinfoANamesMatchDomainRules) {
  Server server(SOCK_STREAM);
  ASSERT_TRUE(server.ok());
  PolicyImage policy;
  policy.control(Control::kNetOutbound, Mode::kBlock, Verdict::kDeny)
      .rule(domain_rule(Verdict::kAllow, "localhost", server.port()));
  for (std::string how : {"wait", "suspend", "poll"}) {
    RunResult r = run_python(policy, "how = '" + how + "'\nport = " + server.port_text() + R"PY(
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
class Gaicb(ctypes.Structure):
  _fields_ = [('name', ctypes.c_char_p), ('service', ctypes.c_char_p),
              ('request', ctypes.c_void_p), ('result', ctypes.c_void_p),
              ('ret', ctypes.c_int), ('reserved', ctypes.c_int * 5)]
def attempt(tag):
  s = socket.socket()
  try:
    s.connect(('127.0.0.1', port))
    print(tag, 'ok')
  except OSError as e:
    print(tag, 'err', e.errno)
attempt('before')
req = Gaicb(b'localhost')
reqs = (ctypes.POINTER(Gaicb) * 1)(ctypes.pointer(req))
if how == 'wait':
  print('gai', libc.getaddrinfo_a(0, reqs, 1, None))
else:
  print('gai', libc.getaddrinfo_a(1, reqs, 1, None))
  if how == 'suspend':
    while libc.gai_suspend(reqs, 1, None) not in (0, -103): pass  # -103: EAI_ALLDONE
  else:
    while libc.gai_error(ctypes.byref(req)) == -100: pass
attempt('after')
)PY");
    EXPECT_EQ(r.line("gai"), "gai 0") << how << "\n" << r.dump();
    EXPECT_EQ(r.line("before"), "before err 1") << how << "\n" << r.dump();
    EXPECT_EQ(r.line("after"), "after ok") << how << "\n" << r.dump();
  }
  EXPECT_TRUE(server.something_arrived());
}

}  // namespace
}  // namespace fnguard::testing
