// Network hooks: outbound destinations (connect, sendto, sendmsg, sendmmsg,
// and glibc's public alias __connect) are decided against network.outbound;
// local addresses that accept connections from outside (bind, listen on a
// non-loopback address) against network.inbound. Name look-ups
// (getaddrinfo, gethostbyname, gethostbyname2 and their _r forms, and
// getaddrinfo_a's requests once gai_error() or a GAI_WAIT call says they are
// done) feed the name cache so that domain rules can match the address a
// connect() goes to (name_cache.h). Connections glibc makes through its own
// internal calls, which no hook sees, are decided at the public entry point
// instead: the resolver's res_* functions (each name server in the
// res_state, as a datagram to it) and rcmd/rexec (each address of the host,
// as a connect to it).
//
// Decisions, stated plainly:
// - Addresses are read as the kernel reads them (classify() below cites the
//   kernel functions): AF_INET from 16 bytes, AF_INET6 from 24
//   (SIN6_LEN_RFC2133, no scope id), AF_UNSPEC as AF_INET where the kernel
//   takes it so (a datagram sent on an IPv4 socket; bind() of INADDR_ANY on
//   an IPv4 socket) and as "no address" where it means that (connect()
//   disconnects; a datagram on a UDPv6 socket goes to the peer).
//   IPv4-mapped IPv6 addresses are matched as IPv4.
// - Fail closed: an address on an inet socket that is none of these (too
//   short, another family) is refused in block mode with the errno the
//   kernel gives it (EINVAL, EAFNOSUPPORT) without reaching the kernel, and
//   reported by no event (the kernel refuses such a call too); monitor mode
//   leaves it to the kernel.
// - connect()/sendto() to the unspecified address (0.0.0.0, ::ffff:0.0.0.0,
//   ::), which Linux routes to this host, is decided as the address it
//   reaches: the socket's bound IPv4 address or 127.0.0.1, and ::1 (or
//   ::ffff:127.0.0.1 on a socket bound to an IPv4-mapped address). The
//   event's target is that address; "requested" in its detail is what the
//   caller wrote.
// - AF_UNIX: a pathname socket is a file. bind() is decided as files.write
//   of the socket file it creates, connect() and a datagram sent to a path
//   as files.write of the socket file (the kernel wants write permission on
//   it), through the file hooks' path checks (file_checks.h). Abstract
//   (sun_path[0] == 0) and unnamed sockets, netlink and the other families
//   pass through.
// - connect(): every call with an address (TCP and UDP). sendto()/sendmsg():
//   only when an address is given and the socket is datagram or raw (a
//   stream socket ignores the address) or MSG_FASTOPEN asks for a connect;
//   a connected socket's send without an address passes through, it was
//   decided at connect().
// - sendmmsg(): each message's address is decided; the messages before the
//   first blocked one are sent and their count returned, as the kernel does
//   when a message in the middle fails; a blocked first message fails the
//   call.
// - bind(): decided as network.inbound when the address is not loopback
//   and the port is not 0 (a client binding port 0 accepts nothing by
//   itself). listen(): decided when getsockname() shows a non-loopback
//   address (also catches bind to port 0 then listen).
// - errno when blocked: EPERM for outbound (what connect() and sendto()
//   return when a local firewall rule, iptables or a seccomp filter,
//   refuses a packet; ECONNREFUSED would claim the peer answered), EACCES
//   for bind() and listen() (what the kernel returns for a local address the
//   process may not use, like a privileged port), EACCES for an AF_UNIX
//   socket file (what the kernel returns without write permission on it).
//
// Limits (closed by seccomp/Landlock in issue 3, not here): raw syscalls and
// io_uring connect bypass these hooks; names resolved without libc (own DNS
// client) are unknown, so domain rules do not match those connections.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "fnguard/enforcer/exec_syscalls.h"
#include "fnguard/enforcer/file_checks.h"
#include "fnguard/enforcer/name_cache.h"
#include "fnguard/enforcer/runtime.h"
#include "fnguard/events/json_writer.h"

namespace fnguard::enforcer {
namespace {

constexpr size_t kNamesShown = 8;

struct Endpoint {
  int family = 0;
  uint8_t addr[16] = {};
  uint16_t port = 0;
};

// The shortest addresses the kernel takes: a sockaddr_in (16 bytes), and
// for IPv6 SIN6_LEN_RFC2133 (24 bytes: a sockaddr_in6 without the scope id,
// which tcp_v6_connect, udpv6_sendmsg and inet6_bind all accept).
constexpr socklen_t kInetLen = sizeof(sockaddr_in);
constexpr socklen_t kInet6Len = 24;
static_assert(offsetof(sockaddr_in6, sin6_scope_id) == kInet6Len);

// Reads the bytes of an AF_INET address; the family field itself
// is not looked at (AF_UNSPEC is read as AF_INET where the kernel does).
void read_inet(const sockaddr* sa, Endpoint* out) {
  sockaddr_in in;
  std::memcpy(&in, sa, sizeof in);
  out->family = AF_INET;
  std::memcpy(out->addr, &in.sin_addr, 4);
  out->port = ntohs(in.sin_port);
}

// Reads an IPv6 address of at least kInet6Len bytes (scope id not needed).
void read_inet6(const sockaddr* sa, Endpoint* out) {
  sockaddr_in6 in6{};
  std::memcpy(&in6, sa, kInet6Len);
  out->family = AF_INET6;
  std::memcpy(out->addr, &in6.sin6_addr, 16);
  out->port = ntohs(in6.sin6_port);
}

// The common forms, which need no knowledge of the socket: AF_INET from 16
// bytes, AF_INET6 from 24. listen() reads what getsockname() gives back.
bool parse_sockaddr(const sockaddr* sa, socklen_t len, Endpoint* out) {
  if (unmapped_pointer(sa) || len < static_cast<socklen_t>(sizeof(sa_family_t))) return false;
  if (sa->sa_family == AF_INET && len >= kInetLen) {
    read_inet(sa, out);
    return true;
  }
  if (sa->sa_family == AF_INET6 && len >= kInet6Len) {
    read_inet6(sa, out);
    return true;
  }
  return false;
}

bool is_mapped_v4(const uint8_t* a) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kMapped, 12) == 0;
}

bool is_loopback(const Endpoint& e) {
  if (e.family == AF_INET) return e.addr[0] == 127;
  if (is_mapped_v4(e.addr)) return e.addr[12] == 127;
  static const uint8_t kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(e.addr, kLoop6, 16) == 0;
}

// "1.2.3.4:80" or "[2001:db8::1]:443".
void format_endpoint(const Endpoint& e, char* out, size_t cap) {
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(e.family, e.addr, text, sizeof text) == nullptr) {
    std::strncpy(text, "?", sizeof text);
  }
  char port[8];
  int n = 0;
  char digits[6];
  unsigned v = e.port;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = 0; i < n; ++i) port[i] = digits[n - 1 - i];
  port[n] = '\0';
  size_t len = 0;
  auto put = [&](const char* s) {
    while (*s != '\0' && len + 1 < cap) out[len++] = *s++;
  };
  if (e.family == AF_INET6) put("[");
  put(text);
  if (e.family == AF_INET6) put("]");
  put(":");
  put(port);
  out[len] = '\0';
}

int socket_type(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  long r = sys::call(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, reinterpret_cast<long>(&type),
                     reinterpret_cast<long>(&len));
  return r == 0 ? type : -1;
}

int socket_domain(int fd) {
  int domain = 0;
  socklen_t len = sizeof domain;
  long r = sys::call(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, reinterpret_cast<long>(&domain),
                     reinterpret_cast<long>(&len));
  return r == 0 ? domain : -1;
}

const char* protocol_name(int type) {
  switch (type) {
    case SOCK_STREAM:
      return "tcp";
    case SOCK_DGRAM:
      return "udp";
    case SOCK_RAW:
      return "raw";
    case SOCK_SEQPACKET:
      return "sctp";
    default:
      return nullptr;
  }
}

// Names are only needed when some rule of the control names a domain; the
// rule list is short, so scanning it is cheaper than the name table.
bool has_domain_rules(const image::View& view, image::Control control) {
  const image::ControlEntry& entry = view.control(control);
  for (uint32_t i = 0; i < entry.rule_count; ++i) {
    const image::Rule& rule = view.rule(entry.first_rule + i);
    if (rule.kind == image::MatchKind::kNetTarget &&
        (rule.net.kind == image::NetKind::kDomain ||
         rule.net.kind == image::NetKind::kDomainSuffix)) {
      return true;
    }
  }
  return false;
}

// Taint for a destination: a value from the event (typically a URL) names
// the address or one of the names this process resolved to it.
image::Decision net_taint(const image::Decision& d, image::Control control, const Endpoint& e,
                          const Endpoint* requested, char (*names)[kNameMax], size_t* name_count,
                          bool* looked_up) {
  if (!*looked_up) {
    *name_count = name_cache_lookup(e.family, e.addr, names, kNamesShown);
    *looked_up = true;
  }
  char host[INET6_ADDRSTRLEN];
  host[0] = '\0';
  inet_ntop(e.family, e.addr, host, sizeof host);
  char requested_host[INET6_ADDRSTRLEN];
  requested_host[0] = '\0';
  if (requested != nullptr) {
    inet_ntop(requested->family, requested->addr, requested_host, sizeof requested_host);
  }
  const char* subjects[kNamesShown + 3];
  size_t n = 0;
  subjects[n++] = host;
  if (requested_host[0] != '\0') subjects[n++] = requested_host;
  for (size_t i = 0; i < *name_count; ++i) subjects[n++] = names[i];
  subjects[n] = nullptr;
  return apply_taint(d, control, subjects, /*value_contains_subject=*/true);
}

// Decides one destination or local address. Returns 0 to proceed or the
// errno to fail with; reports violations. `requested`: the address as the
// caller wrote it, when `e` is where the kernel sends it instead (0.0.0.0);
// the event then names both.
int check_endpoint(image::Control control, int fd, const Endpoint& e, const Endpoint* requested,
                   const char* op, const void* caller) {
  if (!active()) return 0;
  const image::View& view = policy();
  if (!control_enabled(control)) return 0;
  Guard guard;
  if (!guard.entered()) return 0;
  ErrnoSaver errno_saver;

  char names[kNamesShown][kNameMax];
  const char* name_ptrs[kNamesShown];
  size_t name_count = 0;
  // The allow path looks names up only when a domain rule needs them; an
  // event always names them.
  bool looked_up = false;
  if (control == image::Control::kNetOutbound && has_domain_rules(view, control)) {
    name_count = name_cache_lookup(e.family, e.addr, names, kNamesShown);
    looked_up = true;
  }
  for (size_t i = 0; i < name_count; ++i) name_ptrs[i] = names[i];

  image::NetSubject subject;
  subject.family = e.family;
  subject.addr = e.addr;
  subject.port = e.port;
  subject.names = name_ptrs;
  subject.name_count = name_count;
  image::Decision d = image::decide_net(view, control, subject, current_phase());
  if (taint_enabled(control)) {
    d = net_taint(d, control, e, requested, names, &name_count, &looked_up);
  }
  if (!d.reports()) return 0;
  if (control == image::Control::kNetOutbound && !looked_up) {
    name_count = name_cache_lookup(e.family, e.addr, names, kNamesShown);
  }

  char target[INET6_ADDRSTRLEN + 16];
  format_endpoint(e, target, sizeof target);
  char detail[1024];
  events::JsonWriter w(detail, sizeof detail);
  w.begin_object();
  w.field("op", op);
  w.field("family", e.family == AF_INET6 ? "inet6" : "inet");
  if (requested != nullptr) {
    char text[INET6_ADDRSTRLEN + 16];
    format_endpoint(*requested, text, sizeof text);
    w.field("requested", text);
  }
  const char* protocol = protocol_name(socket_type(fd));
  if (protocol != nullptr) w.field("protocol", protocol);
  if (name_count > 0) {
    w.begin_array("names");
    for (size_t i = 0; i < name_count; ++i) w.element(names[i]);
    w.end_array();
  }
  w.end_object();
  char host[INET6_ADDRSTRLEN];
  if (inet_ntop(e.family, e.addr, host, sizeof host) == nullptr) host[0] = '\0';
  Report r;
  r.decision = d;
  r.target = target;
  r.taint_subject = host[0] != '\0' ? host : nullptr;
  r.detail = w.ok() ? detail : nullptr;
  report_at(r, caller);
  if (!d.blocks()) return 0;
  return control == image::Control::kNetOutbound ? EPERM : EACCES;
}

// sendto/sendmsg: an address counts only where the kernel uses it.
bool address_used(int fd, int flags) {
  if ((flags & MSG_FASTOPEN) != 0) return true;
  int type = socket_type(fd);
  return type != SOCK_STREAM;
}

// ---- What an address argument means to the kernel ----------------------------

enum class NetOp { kConnect, kSend, kBind };

enum class AddressKind {
  kNone,       // nothing to decide: no address is used (connect(AF_UNSPEC)
               // disconnects; UDPv6 sendto with AF_UNSPEC uses the peer), an
               // abstract or unnamed AF_UNIX address, or another family's
               // socket (netlink, packet, ...)
  kEndpoint,   // an IPv4/IPv6 address: network.outbound / network.inbound
  kUnixPath,   // a pathname AF_UNIX socket: files.write
  kMalformed,  // an inet socket given an address the kernel refuses: `error`
};

struct Address {
  AddressKind kind = AddressKind::kNone;
  Endpoint endpoint;
  char path[sizeof(sockaddr_un::sun_path) + 1] = {};
  int error = 0;
};

bool all_zero(const uint8_t* a, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != 0) return false;
  }
  return true;
}

// A pathname AF_UNIX address: the path up to its first NUL (the kernel
// reads at most `len` bytes). False for an abstract (sun_path[0] == 0) or
// unnamed one, and for lengths the kernel refuses.
bool unix_path(const sockaddr* sa, socklen_t len, char* out) {
  constexpr socklen_t kPathOffset = offsetof(sockaddr_un, sun_path);
  if (len <= kPathOffset || len > static_cast<socklen_t>(sizeof(sockaddr_un))) return false;
  const char* p = reinterpret_cast<const sockaddr_un*>(sa)->sun_path;
  size_t n = len - kPathOffset;
  size_t i = 0;
  while (i < n && p[i] != '\0') {
    out[i] = p[i];
    ++i;
  }
  out[i] = '\0';
  return i > 0;
}

// Reads an address as the kernel does for this call. The usual forms
// (AF_INET from 16 bytes, AF_INET6 from 24, AF_UNIX) need no system call;
// anything else asks the socket's family (SO_DOMAIN) and follows the
// kernel's rules for inet sockets:
// - AF_UNSPEC: connect() disconnects (tcp, udp: __inet_stream_connect,
//   inet_dgram_connect); sendto() on an IPv4 socket is IPv4 (udp_sendmsg,
//   raw_sendmsg), on an IPv6 datagram socket it means "no address"
//   (udpv6_sendmsg) and on an IPv6 raw socket it is IPv6 (rawv6_sendmsg);
//   bind() on an IPv4 socket is 0.0.0.0 when the address is INADDR_ANY
//   (inet_bind) and refused otherwise.
// - anything else on an inet socket (too short, another family) is refused
//   by the kernel with EINVAL (too short for the socket's family) or
//   EAFNOSUPPORT: kMalformed, so that the caller can refuse it in block
//   mode without relying on that.
void classify(int fd, const sockaddr* sa, socklen_t len, NetOp op, Address* out) {
  if (unmapped_pointer(sa)) return;  // the kernel: EFAULT, or no address
  bool has_family = len >= static_cast<socklen_t>(sizeof(sa_family_t));
  int family = has_family ? sa->sa_family : -1;
  if (family == AF_INET && len >= kInetLen) {
    read_inet(sa, &out->endpoint);
    out->kind = AddressKind::kEndpoint;
    return;
  }
  if (family == AF_INET6 && len >= kInet6Len) {
    read_inet6(sa, &out->endpoint);
    out->kind = AddressKind::kEndpoint;
    return;
  }
  if (family == AF_UNIX) {
    if (unix_path(sa, len, out->path)) out->kind = AddressKind::kUnixPath;
    return;
  }
  int domain = socket_domain(fd);
  if (domain != AF_INET && domain != AF_INET6) return;  // not an inet socket (or no socket)
  socklen_t needed = domain == AF_INET ? kInetLen : kInet6Len;
  if (family == AF_UNSPEC) {
    if (op == NetOp::kConnect) return;  // a disconnect
    if (op == NetOp::kSend && domain == AF_INET && len >= kInetLen) {
      read_inet(sa, &out->endpoint);
      out->kind = AddressKind::kEndpoint;
      return;
    }
    if (op == NetOp::kSend && domain == AF_INET6) {
      if (socket_type(fd) != SOCK_RAW) return;  // UDPv6: no address, the peer's
      if (len >= kInet6Len) {
        read_inet6(sa, &out->endpoint);
        out->kind = AddressKind::kEndpoint;
        return;
      }
    }
    if (op == NetOp::kBind && domain == AF_INET && len >= kInetLen) {
      read_inet(sa, &out->endpoint);
      if (all_zero(out->endpoint.addr, 4)) {
        out->kind = AddressKind::kEndpoint;
        return;
      }
    }
  }
  out->kind = AddressKind::kMalformed;
  out->error = len < needed ? EINVAL : EAFNOSUPPORT;
}

// Where a connect/sendto to an unspecified address goes. Linux routes
// 0.0.0.0 (also as ::ffff:0.0.0.0) to the socket's bound IPv4 address, or
// 127.0.0.1 when it has none (ip_route_output_key_hash_rcu), and :: to ::1,
// or ::ffff:127.0.0.1 on a socket bound to an IPv4-mapped address
// (tcp_v6_connect, udpv6_sendmsg). False when `e` is not unspecified.
bool reached_address(int fd, const Endpoint& e, Endpoint* out) {
  bool mapped = e.family == AF_INET6 && is_mapped_v4(e.addr);
  bool zero4 = (e.family == AF_INET && all_zero(e.addr, 4)) || (mapped && all_zero(e.addr + 12, 4));
  bool zero6 = e.family == AF_INET6 && all_zero(e.addr, 16);
  if (!zero4 && !zero6) return false;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  long r =
      sys::call(SYS_getsockname, fd, reinterpret_cast<long>(&local), reinterpret_cast<long>(&len));
  Endpoint bound;
  bool have_bound =
      r == 0 && parse_sockaddr(reinterpret_cast<const sockaddr*>(&local), len, &bound);
  bool bound_mapped = have_bound && bound.family == AF_INET6 && is_mapped_v4(bound.addr);
  *out = e;
  static const uint8_t kLoop4[4] = {127, 0, 0, 1};
  if (zero4) {
    const uint8_t* source = kLoop4;
    if (have_bound && bound.family == AF_INET && !all_zero(bound.addr, 4)) source = bound.addr;
    if (bound_mapped && !all_zero(bound.addr + 12, 4)) source = bound.addr + 12;
    std::memcpy(mapped ? out->addr + 12 : out->addr, source, 4);
    return true;
  }
  if (bound_mapped) {
    static const uint8_t kMappedLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
    std::memcpy(out->addr, kMappedLoop, 16);
  } else {
    out->addr[15] = 1;  // ::1
  }
  return true;
}

// Decides the address argument of connect/sendto/sendmsg/bind. Returns 0 to
// proceed or the errno to fail with.
int check_address(int fd, const sockaddr* sa, socklen_t len, NetOp op, const char* op_name,
                  const void* caller) {
  if (!active()) return 0;
  image::Control control =
      op == NetOp::kBind ? image::Control::kNetInbound : image::Control::kNetOutbound;
  bool net = control_enabled(control);
  bool files = control_enabled(image::Control::kFilesWrite);
  if (!net && !files) return 0;
  Address a;
  classify(fd, sa, len, op, &a);
  switch (a.kind) {
    case AddressKind::kNone:
      return 0;
    case AddressKind::kUnixPath:
      return files ? check_unix_socket_path(a.path, op == NetOp::kBind, op_name, caller) : 0;
    case AddressKind::kMalformed:
      // Fail closed: an address the enforcer cannot read must not reach the
      // kernel in block mode, whatever the kernel would make of it.
      return net && policy().control(control).mode == image::Mode::kBlock ? a.error : 0;
    case AddressKind::kEndpoint:
      break;
  }
  if (!net) return 0;
  const Endpoint& e = a.endpoint;
  if (op == NetOp::kBind) {
    // A client binding port 0 accepts nothing by itself (listen() decides).
    if (e.port == 0 || is_loopback(e)) return 0;
    return check_endpoint(control, fd, e, nullptr, op_name, caller);
  }
  Endpoint reached;
  if (reached_address(fd, e, &reached)) {
    return check_endpoint(control, fd, reached, &e, op_name, caller);
  }
  return check_endpoint(control, fd, e, nullptr, op_name, caller);
}

int check_outbound_message(int fd, const sockaddr* addr, socklen_t len, int flags, const char* op,
                           const void* caller) {
  if (!active() || unmapped_pointer(addr)) return 0;  // the kernel: EFAULT
  // Without network.outbound only a datagram to a unix socket file is
  // decided: other sends cost nothing then (no SO_TYPE look-up).
  bool to_unix = len >= static_cast<socklen_t>(sizeof(sa_family_t)) && addr->sa_family == AF_UNIX;
  if (!control_enabled(image::Control::kNetOutbound) &&
      !(to_unix && control_enabled(image::Control::kFilesWrite))) {
    return 0;
  }
  if (!address_used(fd, flags)) return 0;
  return check_address(fd, addr, len, NetOp::kSend, op, caller);
}

void record_addrinfo(const char* node, const addrinfo* res) {
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addr == nullptr) continue;
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(sockaddr_in)) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      name_cache_record(node, AF_INET, &in->sin_addr);
    } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(sockaddr_in6)) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      name_cache_record(node, AF_INET6, &in6->sin6_addr);
    }
  }
}

void record_hostent(const char* name, const hostent* h) {
  if (name == nullptr || h == nullptr || h->h_addr_list == nullptr) return;
  if (!((h->h_addrtype == AF_INET && h->h_length == 4) ||
        (h->h_addrtype == AF_INET6 && h->h_length == 16))) {
    return;
  }
  for (char** a = h->h_addr_list; *a != nullptr; ++a) name_cache_record(name, h->h_addrtype, *a);
}

// An address glibc sends to or connects to through its own internal calls:
// decided as an outbound connect/datagram from a fresh, unbound socket (the
// unspecified address then reaches the loopback one).
int check_libc_endpoint(const Endpoint& e, const char* op, const void* caller) {
  Endpoint reached;
  if (reached_address(-1, e, &reached)) {
    return check_endpoint(image::Control::kNetOutbound, -1, reached, &e, op, caller);
  }
  return check_endpoint(image::Control::kNetOutbound, -1, e, nullptr, op, caller);
}

// The name servers a res_* call is about to query. Without RES_INIT the call
// loads them from /etc/resolv.conf, whose servers the built-in `nameserver`
// rule allows (the servers getaddrinfo uses, undecided too), so only an
// initialised state is read. glibc sends to the IPv4 address in
// nsaddr_list[i] when its family is set (copying it over _ext.nsaddrs[i]),
// else to _ext.nsaddrs[i]; both are decided when present. A family glibc
// would still send to but that is neither AF_INET nor AF_INET6 cannot be
// read: refused in block mode, as a malformed connect() address is.
// Returns 0 or the errno to fail with.
int check_name_servers(res_state statp, const char* op, const void* caller) {
  if (!active() || statp == nullptr || !control_enabled(image::Control::kNetOutbound)) return 0;
  if ((statp->options & RES_INIT) == 0) return 0;
  const bool blocking = policy().control(image::Control::kNetOutbound).mode == image::Mode::kBlock;
  int count = statp->nscount;
  if (count > MAXNS) count = MAXNS;
  for (int i = 0; i < count; ++i) {
    const sockaddr_in& v4 = statp->nsaddr_list[i];
    const sockaddr_in6* v6 = statp->_u._ext.nsaddrs[i];
    Endpoint e;
    if (v4.sin_family == AF_INET) {
      read_inet(reinterpret_cast<const sockaddr*>(&v4), &e);
      if (int err = check_libc_endpoint(e, op, caller); err != 0) return err;
    } else if (v4.sin_family != 0 && blocking) {
      return EPERM;
    }
    if (v6 != nullptr) {
      if (v6->sin6_family == AF_INET6) {
        read_inet6(reinterpret_cast<const sockaddr*>(v6), &e);
        if (int err = check_libc_endpoint(e, op, caller); err != 0) return err;
      } else if (v6->sin6_family != 0 && v6->sin6_family != AF_INET && blocking) {
        return EPERM;
      }
    }
  }
  return 0;
}

// rcmd/rexec: every address `host` resolves to for `family`, at `port`
// (host byte order). They resolve the name again themselves, so a name
// whose answers change in between is decided by the first answer; a name
// that does not resolve here fails there too.
int check_remote_host(const char* host, int family, uint16_t port, const char* op,
                      const void* caller) {
  if (!active() || host == nullptr || !control_enabled(image::Control::kNetOutbound)) return 0;
  static auto real_getaddrinfo = FNGUARD_NEXT(getaddrinfo);
  ErrnoSaver errno_saver;  // the look-up's own errno is not the caller's
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (real_getaddrinfo(host, nullptr, &hints, &res) != 0) return 0;
  record_addrinfo(host, res);
  int err = 0;
  for (const addrinfo* ai = res; ai != nullptr && err == 0; ai = ai->ai_next) {
    Endpoint e;
    if (!parse_sockaddr(ai->ai_addr, ai->ai_addrlen, &e)) continue;
    e.port = port;
    err = check_libc_endpoint(e, op, caller);
  }
  freeaddrinfo(res);
  return err;
}

// What a blocked res_* call reports: -1, errno, and h_errno (in the state
// too, where res_n* callers read it) NETDB_INTERNAL, "see errno".
int refuse_query(res_state statp, int err) {
  statp->res_h_errno = NETDB_INTERNAL;
  h_errno = NETDB_INTERNAL;
  errno = err;
  return -1;
}

// getaddrinfo_a's request once finished: its answers feed the name cache.
void record_request(const gaicb* req) {
  if (req != nullptr && req->ar_name != nullptr && req->ar_result != nullptr) {
    record_addrinfo(req->ar_name, req->ar_result);
  }
}

}  // namespace
}  // namespace fnguard::enforcer

using namespace fnguard::enforcer;  // NOLINT: the hooks are C symbols
using fnguard::image::Control;

namespace {

int checked_connect(int fd, const sockaddr* addr, socklen_t len, const char* op,
                    const void* caller) {
  static auto real = FNGUARD_NEXT(connect);
  int err = check_address(fd, addr, len, NetOp::kConnect, op, caller);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return real(fd, addr, len);
}

}  // namespace

FNGUARD_EXPORT int connect(int fd, const sockaddr* addr, socklen_t len) {
  return checked_connect(fd, addr, len, "connect", __builtin_return_address(0));
}

// glibc's public alias of connect (the same function under another name).
FNGUARD_EXPORT int __connect(int fd, const sockaddr* addr, socklen_t len) {
  return checked_connect(fd, addr, len, "__connect", __builtin_return_address(0));
}

FNGUARD_EXPORT ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* addr,
                              socklen_t len) {
  static auto real = FNGUARD_NEXT(sendto);
  if (addr != nullptr) {
    int err = check_outbound_message(fd, addr, len, flags, "sendto", __builtin_return_address(0));
    if (err != 0) {
      errno = err;
      return -1;
    }
  }
  return real(fd, buf, n, flags, addr, len);
}

FNGUARD_EXPORT ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  static auto real = FNGUARD_NEXT(sendmsg);
  // The kernel ignores msg_name when msg_namelen is 0 (no address).
  if (!unmapped_pointer(msg) && msg->msg_name != nullptr && msg->msg_namelen != 0) {
    int err =
        check_outbound_message(fd, static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen,
                               flags, "sendmsg", __builtin_return_address(0));
    if (err != 0) {
      errno = err;
      return -1;
    }
  }
  return real(fd, msg, flags);
}

FNGUARD_EXPORT int sendmmsg(int fd, mmsghdr* vec, unsigned int vlen, int flags) {
  static auto real = FNGUARD_NEXT(sendmmsg);
  if (!unmapped_pointer(vec)) {
    for (unsigned int i = 0; i < vlen; ++i) {
      const msghdr& m = vec[i].msg_hdr;
      if (m.msg_name == nullptr || m.msg_namelen == 0) continue;
      int err = check_outbound_message(fd, static_cast<const sockaddr*>(m.msg_name), m.msg_namelen,
                                       flags, "sendmmsg", __builtin_return_address(0));
      if (err != 0) {
        if (i == 0) {
          errno = err;
          return -1;
        }
        vlen = i;  // send the allowed prefix only
        break;
      }
    }
  }
  return real(fd, vec, vlen, flags);
}

FNGUARD_EXPORT int bind(int fd, const sockaddr* addr, socklen_t len) {
  static auto real = FNGUARD_NEXT(bind);
  int err = check_address(fd, addr, len, NetOp::kBind, "bind", __builtin_return_address(0));
  if (err != 0) {
    errno = err;
    return -1;
  }
  return real(fd, addr, len);
}

FNGUARD_EXPORT int listen(int fd, int backlog) {
  static auto real = FNGUARD_NEXT(listen);
  if (active() && policy().control(Control::kNetInbound).mode != fnguard::image::Mode::kOff) {
    sockaddr_storage local;
    socklen_t len = sizeof local;
    long r = sys::call(SYS_getsockname, fd, reinterpret_cast<long>(&local),
                       reinterpret_cast<long>(&len));
    Endpoint e;
    if (r == 0 && parse_sockaddr(reinterpret_cast<const sockaddr*>(&local), len, &e) &&
        !is_loopback(e)) {
      int err = check_endpoint(Control::kNetInbound, fd, e, nullptr, "listen",
                               __builtin_return_address(0));
      if (err != 0) {
        errno = err;
        return -1;
      }
    }
  }
  return real(fd, backlog);
}

FNGUARD_EXPORT int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                               addrinfo** res) {
  static auto real = FNGUARD_NEXT(getaddrinfo);
  int rc = real(node, service, hints, res);
  if (rc == 0 && node != nullptr && res != nullptr) {
    ErrnoSaver errno_saver;
    record_addrinfo(node, *res);
  }
  return rc;
}

FNGUARD_EXPORT hostent* gethostbyname(const char* name) {
  static auto real = FNGUARD_NEXT(gethostbyname);
  hostent* h = real(name);
  if (h != nullptr) {
    ErrnoSaver errno_saver;
    record_hostent(name, h);
  }
  return h;
}

FNGUARD_EXPORT hostent* gethostbyname2(const char* name, int af) {
  static auto real = FNGUARD_NEXT(gethostbyname2);
  hostent* h = real(name, af);
  if (h != nullptr) {
    ErrnoSaver errno_saver;
    record_hostent(name, h);
  }
  return h;
}

FNGUARD_EXPORT int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen,
                                   hostent** result, int* h_errnop) {
  static auto real = FNGUARD_NEXT(gethostbyname_r);
  int rc = real(name, ret, buf, buflen, result, h_errnop);
  if (rc == 0 && result != nullptr && *result != nullptr) {
    ErrnoSaver errno_saver;
    record_hostent(name, *result);
  }
  return rc;
}

FNGUARD_EXPORT int gethostbyname2_r(const char* name, int af, hostent* ret, char* buf,
                                    size_t buflen, hostent** result, int* h_errnop) {
  static auto real = FNGUARD_NEXT(gethostbyname2_r);
  int rc = real(name, af, ret, buf, buflen, result, h_errnop);
  if (rc == 0 && result != nullptr && *result != nullptr) {
    ErrnoSaver errno_saver;
    record_hostent(name, *result);
  }
  return rc;
}

// ---- Name servers and remote hosts glibc reaches by itself --------------------
//
// Each res_* entry point is exported under its name and its glibc 2.2.5 name
// (`__res_*`, what programs linked before glibc 2.34 call): the same
// function twice. The real one is looked up by the current name.

namespace {

template <typename Call>
int query_checked(res_state statp, const char* op, const void* caller, Call call) {
  if (int err = check_name_servers(statp, op, caller); err != 0) return refuse_query(statp, err);
  return call();
}

int checked_nquery(res_state statp, const char* dname, int cls, int type, unsigned char* answer,
                   int anslen, const char* op, const void* caller) {
  static auto real = FNGUARD_NEXT(res_nquery);
  return query_checked(statp, op, caller,
                       [&] { return real(statp, dname, cls, type, answer, anslen); });
}

int checked_nsearch(res_state statp, const char* dname, int cls, int type, unsigned char* answer,
                    int anslen, const char* op, const void* caller) {
  static auto real = FNGUARD_NEXT(res_nsearch);
  return query_checked(statp, op, caller,
                       [&] { return real(statp, dname, cls, type, answer, anslen); });
}

int checked_nquerydomain(res_state statp, const char* name, const char* domain, int cls, int type,
                         unsigned char* answer, int anslen, const char* op, const void* caller) {
  static auto real = FNGUARD_NEXT(res_nquerydomain);
  return query_checked(statp, op, caller,
                       [&] { return real(statp, name, domain, cls, type, answer, anslen); });
}

int checked_nsend(res_state statp, const unsigned char* msg, int msglen, unsigned char* answer,
                  int anslen, const char* op, const void* caller) {
  static auto real = FNGUARD_NEXT(res_nsend);
  return query_checked(statp, op, caller, [&] { return real(statp, msg, msglen, answer, anslen); });
}

// rcmd/rexec with the address family asked for; `port` in network byte order.
int remote_checked(const char* const* host, int family, unsigned short port, const char* op,
                   const void* caller) {
  int err = check_remote_host(host != nullptr ? *host : nullptr, family, ntohs(port), op, caller);
  if (err != 0) errno = err;
  return err;
}

}  // namespace

#define FNGUARD_CALLER __builtin_return_address(0)

FNGUARD_EXPORT int res_nquery(res_state statp, const char* dname, int cls, int type,
                              unsigned char* answer, int anslen) {
  return checked_nquery(statp, dname, cls, type, answer, anslen, "res_nquery", FNGUARD_CALLER);
}
FNGUARD_EXPORT int __res_nquery(res_state statp, const char* dname, int cls, int type,
                                unsigned char* answer, int anslen) {
  return checked_nquery(statp, dname, cls, type, answer, anslen, "res_nquery", FNGUARD_CALLER);
}
FNGUARD_EXPORT int res_query(const char* dname, int cls, int type, unsigned char* answer,
                             int anslen) {
  return checked_nquery(&_res, dname, cls, type, answer, anslen, "res_query", FNGUARD_CALLER);
}
FNGUARD_EXPORT int __res_query(const char* dname, int cls, int type, unsigned char* answer,
                               int anslen) {
  return checked_nquery(&_res, dname, cls, type, answer, anslen, "res_query", FNGUARD_CALLER);
}

FNGUARD_EXPORT int res_nsearch(res_state statp, const char* dname, int cls, int type,
                               unsigned char* answer, int anslen) {
  return checked_nsearch(statp, dname, cls, type, answer, anslen, "res_nsearch", FNGUARD_CALLER);
}
FNGUARD_EXPORT int __res_nsearch(res_state statp, const char* dname, int cls, int type,
                                 unsigned char* answer, int anslen) {
  return checked_nsearch(statp, dname, cls, type, answer, anslen, "res_nsearch", FNGUARD_CALLER);
}
FNGUARD_EXPORT int res_search(const char* dname, int cls, int type, unsigned char* answer,
                              int anslen) {
  return checked_nsearch(&_res, dname, cls, type, answer, anslen, "res_search", FNGUARD_CALLER);
}
FNGUARD_EXPORT int __res_search(const char* dname, int cls, int type, unsigned char* answer,
                                int anslen) {
  return checked_nsearch(&_res, dname, cls, type, answer, anslen, "res_search", FNGUARD_CALLER);
}

FNGUARD_EXPORT int res_nquerydomain(res_state statp, const char* name, const char* domain, int cls,
                                    int type, unsigned char* answer, int anslen) {
  return checked_nquerydomain(statp, name, domain, cls, type, answer, anslen, "res_nquerydomain",
                              FNGUARD_CALLER);
}
FNGUARD_EXPORT int __res_nquerydomain(res_state statp, const char* name, const char* domain,
                                      int cls, int type, unsigned char* answer, int anslen) {
  return checked_nquerydomain(statp, name, domain, cls, type, answer, anslen, "res_nquerydomain",
                              FNGUARD_CALLER);
}
FNGUARD_EXPORT int res_querydomain(const char* name, const char* domain, int cls, int type,
                                   unsigned char* answer, int anslen) {
  return checked_nquerydomain(&_res, name, domain, cls, type, answer, anslen, "res_querydomain",
                              FNGUARD_CALLER);
}
FNGUARD_EXPORT int __res_querydomain(const char* name, const char* domain, int cls, int type,
                                     unsigned char* answer, int anslen) {
  return checked_nquerydomain(&_res, name, domain, cls, type, answer, anslen, "res_querydomain",
                              FNGUARD_CALLER);
}

FNGUARD_EXPORT int res_nsend(res_state statp, const unsigned char* msg, int msglen,
                             unsigned char* answer, int anslen) {
  return checked_nsend(statp, msg, msglen, answer, anslen, "res_nsend", FNGUARD_CALLER);
}
FNGUARD_EXPORT int __res_nsend(res_state statp, const unsigned char* msg, int msglen,
                               unsigned char* answer, int anslen) {
  return checked_nsend(statp, msg, msglen, answer, anslen, "res_nsend", FNGUARD_CALLER);
}
FNGUARD_EXPORT int res_send(const unsigned char* msg, int msglen, unsigned char* answer,
                            int anslen) {
  return checked_nsend(&_res, msg, msglen, answer, anslen, "res_send", FNGUARD_CALLER);
}
FNGUARD_EXPORT int __res_send(const unsigned char* msg, int msglen, unsigned char* answer,
                              int anslen) {
  return checked_nsend(&_res, msg, msglen, answer, anslen, "res_send", FNGUARD_CALLER);
}

FNGUARD_EXPORT int rcmd(char** ahost, unsigned short inport, const char* locuser,
                        const char* remuser, const char* cmd, int* fd2p) {
  static auto real = FNGUARD_NEXT(rcmd);
  if (remote_checked(ahost, AF_INET, inport, "rcmd", FNGUARD_CALLER) != 0) return -1;
  return real(ahost, inport, locuser, remuser, cmd, fd2p);
}
FNGUARD_EXPORT int rcmd_af(char** ahost, unsigned short inport, const char* locuser,
                           const char* remuser, const char* cmd, int* fd2p, sa_family_t af) {
  static auto real = FNGUARD_NEXT(rcmd_af);
  if (remote_checked(ahost, af, inport, "rcmd_af", FNGUARD_CALLER) != 0) return -1;
  return real(ahost, inport, locuser, remuser, cmd, fd2p, af);
}
FNGUARD_EXPORT int rexec(char** ahost, int rport, const char* name, const char* pass,
                         const char* cmd, int* fd2p) {
  static auto real = FNGUARD_NEXT(rexec);
  if (remote_checked(ahost, AF_INET, static_cast<unsigned short>(rport), "rexec", FNGUARD_CALLER) !=
      0) {
    return -1;
  }
  return real(ahost, rport, name, pass, cmd, fd2p);
}
FNGUARD_EXPORT int rexec_af(char** ahost, int rport, const char* name, const char* pass,
                            const char* cmd, int* fd2p, sa_family_t af) {
  static auto real = FNGUARD_NEXT(rexec_af);
  if (remote_checked(ahost, af, static_cast<unsigned short>(rport), "rexec_af", FNGUARD_CALLER) !=
      0) {
    return -1;
  }
  return real(ahost, rport, name, pass, cmd, fd2p, af);
}

FNGUARD_EXPORT int getaddrinfo_a(int mode, gaicb* list[], int nitems, sigevent* sevp) {
  static auto real = FNGUARD_NEXT(getaddrinfo_a);
  int rc = real(mode, list, nitems, sevp);
  if (rc == 0 && mode == GAI_WAIT && list != nullptr) {
    ErrnoSaver errno_saver;
    for (int i = 0; i < nitems; ++i) record_request(list[i]);
  }
  return rc;
}

FNGUARD_EXPORT int gai_error(gaicb* req) {
  static auto real = FNGUARD_NEXT(gai_error);
  int rc = real(req);
  if (rc == 0) {
    ErrnoSaver errno_saver;
    record_request(req);
  }
  return rc;
}

FNGUARD_EXPORT int gai_suspend(const gaicb* const list[], int nitems, const timespec* timeout) {
  static auto real_suspend = FNGUARD_NEXT(gai_suspend);
  static auto real_error = FNGUARD_NEXT(gai_error);
  int rc = real_suspend(list, nitems, timeout);
  // EAI_ALLDONE: nothing left to wait for, every request had finished.
  if ((rc == 0 || rc == EAI_ALLDONE) && list != nullptr) {
    ErrnoSaver errno_saver;
    for (int i = 0; i < nitems; ++i) {
      if (list[i] != nullptr && real_error(const_cast<gaicb*>(list[i])) == 0) {
        record_request(list[i]);
      }
    }
  }
  return rc;
}
