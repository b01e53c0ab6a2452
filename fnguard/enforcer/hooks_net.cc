// Network hooks: outbound destinations (connect, sendto, sendmsg, sendmmsg)
// are decided against network.outbound; local addresses that accept
// connections from outside (bind, listen on a non-loopback address) against
// network.inbound. Name look-ups (getaddrinfo, gethostbyname, gethostbyname2
// and their _r forms) feed the name cache so that domain rules can match
// the address a connect() goes to (name_cache.h).
//
// Decisions, stated plainly:
// - Only AF_INET and AF_INET6 are decided; AF_UNIX, netlink and the rest
//   pass through. IPv4-mapped IPv6 addresses are matched as IPv4.
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
//   process may not use, like a privileged port).
//
// Limits (closed by seccomp/Landlock in issue 3, not here): raw syscalls and
// io_uring connect bypass these hooks; names resolved without libc (own DNS
// client) are unknown, so domain rules do not match those connections.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "fnguard/enforcer/exec_syscalls.h"
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

bool parse_sockaddr(const sockaddr* sa, socklen_t len, Endpoint* out) {
  if (sa == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return false;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof in);
    out->family = AF_INET;
    std::memcpy(out->addr, &in.sin_addr, 4);
    out->port = ntohs(in.sin_port);
    return true;
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    out->family = AF_INET6;
    std::memcpy(out->addr, &in6.sin6_addr, 16);
    out->port = ntohs(in6.sin6_port);
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
                          char (*names)[kNameMax], size_t* name_count, bool* looked_up) {
  if (!*looked_up) {
    *name_count = name_cache_lookup(e.family, e.addr, names, kNamesShown);
    *looked_up = true;
  }
  char host[INET6_ADDRSTRLEN];
  host[0] = '\0';
  inet_ntop(e.family, e.addr, host, sizeof host);
  const char* subjects[kNamesShown + 2];
  size_t n = 0;
  subjects[n++] = host;
  for (size_t i = 0; i < *name_count; ++i) subjects[n++] = names[i];
  subjects[n] = nullptr;
  return apply_taint(d, control, subjects, /*value_contains_subject=*/true);
}

// Decides one destination or local address. Returns 0 to proceed or the
// errno to fail with; reports violations.
int check_endpoint(image::Control control, int fd, const Endpoint& e, const char* op,
                   const void* caller) {
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
  if (taint_enabled(control)) d = net_taint(d, control, e, names, &name_count, &looked_up);
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

int check_outbound_message(int fd, const sockaddr* addr, socklen_t len, int flags, const char* op,
                           const void* caller) {
  Endpoint e;
  if (!parse_sockaddr(addr, len, &e)) return 0;
  if (!active() || policy().control(image::Control::kNetOutbound).mode == image::Mode::kOff)
    return 0;
  if (!address_used(fd, flags)) return 0;
  return check_endpoint(image::Control::kNetOutbound, fd, e, op, caller);
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

}  // namespace
}  // namespace fnguard::enforcer

using namespace fnguard::enforcer;  // NOLINT: the hooks are C symbols
using fnguard::image::Control;

FNGUARD_EXPORT int connect(int fd, const sockaddr* addr, socklen_t len) {
  static auto real = FNGUARD_NEXT(connect);
  Endpoint e;
  if (parse_sockaddr(addr, len, &e)) {
    int err = check_endpoint(Control::kNetOutbound, fd, e, "connect", __builtin_return_address(0));
    if (err != 0) {
      errno = err;
      return -1;
    }
  }
  return real(fd, addr, len);
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
  if (msg != nullptr && msg->msg_name != nullptr) {
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
  if (vec != nullptr) {
    for (unsigned int i = 0; i < vlen; ++i) {
      const msghdr& m = vec[i].msg_hdr;
      if (m.msg_name == nullptr) continue;
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
  Endpoint e;
  if (parse_sockaddr(addr, len, &e) && e.port != 0 && !is_loopback(e)) {
    int err = check_endpoint(Control::kNetInbound, fd, e, "bind", __builtin_return_address(0));
    if (err != 0) {
      errno = err;
      return -1;
    }
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
      int err = check_endpoint(Control::kNetInbound, fd, e, "listen", __builtin_return_address(0));
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
