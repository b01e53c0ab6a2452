// Network target parsing; addresses through inet_pton so that only forms the
// C library accepts are accepted.
#include "fnguard/policy/net_target.h"

#include <arpa/inet.h>

#include <cstring>

namespace fnguard::policy {
namespace {

bool parse_uint(std::string_view s, unsigned long max, unsigned long* out) {
  if (s.empty() || s.size() > 6) return false;
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

bool parse_port(std::string_view s, uint16_t* port, std::string* message, std::string* hint) {
  unsigned long v = 0;
  if (!parse_uint(s, 65535, &v) || v == 0) {
    *message = "'" + std::string(s) + "' is not a port number";
    *hint = "use a port from 1 to 65535, or leave the port out to allow every port";
    return false;
  }
  *port = static_cast<uint16_t>(v);
  return true;
}

bool host_bits_clear(const uint8_t* addr, unsigned bytes, unsigned prefix) {
  for (unsigned bit = prefix; bit < bytes * 8; ++bit) {
    if ((addr[bit / 8] >> (7 - bit % 8)) & 1) return false;
  }
  return true;
}

// Parses "addr[/prefix]" for one family.
bool parse_address(std::string_view text, bool v6, ParsedNetTarget* out, std::string* message,
                   std::string* hint) {
  std::string_view addr = text;
  std::string_view prefix_text;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    prefix_text = text.substr(slash + 1);
  }
  std::string a(addr);
  uint8_t bytes[16] = {};
  if (inet_pton(v6 ? AF_INET6 : AF_INET, a.c_str(), bytes) != 1) {
    *message = "'" + a + "' is not a valid " + (v6 ? "IPv6" : "IPv4") + " address";
    *hint = v6 ? "write IPv6 addresses like 2001:db8::1, with a port as [2001:db8::1]:443"
               : "write IPv4 addresses like 10.0.0.1 or networks like 10.0.0.0/8";
    return false;
  }
  unsigned max = v6 ? 128 : 32;
  unsigned long prefix = max;
  if (slash != std::string_view::npos && !parse_uint(prefix_text, max, &prefix)) {
    *message = "'/" + std::string(prefix_text) + "' is not a valid prefix length";
    *hint = "use /0 to /" + std::to_string(max) + " after the address";
    return false;
  }
  if (!host_bits_clear(bytes, v6 ? 16 : 4, static_cast<unsigned>(prefix))) {
    *message = "the network '" + std::string(text) + "' has bits set after its prefix length";
    // Suggest the network address.
    uint8_t net[16];
    std::memcpy(net, bytes, sizeof net);
    for (unsigned bit = static_cast<unsigned>(prefix); bit < max; ++bit) {
      net[bit / 8] = static_cast<uint8_t>(net[bit / 8] & ~(1u << (7 - bit % 8)));
    }
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(v6 ? AF_INET6 : AF_INET, net, buf, sizeof buf);
    *hint = "did you mean " + std::string(buf) + "/" + std::to_string(prefix) + "?";
    return false;
  }
  out->net.kind = v6 ? image::NetKind::kIpv6 : image::NetKind::kIpv4;
  out->net.prefix_len = static_cast<uint8_t>(prefix);
  std::memcpy(out->net.addr, bytes, v6 ? 16 : 4);
  return true;
}

bool looks_numeric(std::string_view host) {
  for (char c : host) {
    if ((c < '0' || c > '9') && c != '.' && c != '/') return false;
  }
  return !host.empty();
}

bool parse_domain(std::string_view host, ParsedNetTarget* out, std::string* message,
                  std::string* hint) {
  bool suffix = false;
  std::string_view name = host;
  if (name.size() >= 2 && name[0] == '*' && name[1] == '.') {
    suffix = true;
    name.remove_prefix(2);
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  auto bad = [&](const std::string& why) {
    *message = "'" + std::string(host) + "' is not a valid host name: " + why;
    *hint = "write a domain like api.example.com or *.example.com, an address, or a CIDR";
    return false;
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > 253) return bad("it is longer than 253 characters");
  std::string lower;
  size_t label = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      if (label == 0) return bad("it has an empty label");
      if (lower.back() == '-') return bad("a label ends with '-'");
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      if (label == 0 && c == '-') return bad("a label starts with '-'");
      if (++label > 63) return bad("a label is longer than 63 characters");
    } else if (c == '*') {
      return bad("'*' is only allowed as the whole first label ('*.example.com')");
    } else {
      return bad(std::string("the character '") + c + "' is not allowed");
    }
    lower.push_back(c);
  }
  if (label == 0) return bad("it has an empty label");
  if (lower.back() == '-') return bad("a label ends with '-'");
  out->net.kind = suffix ? image::NetKind::kDomainSuffix : image::NetKind::kDomain;
  out->pattern = suffix ? "." + lower : lower;
  return true;
}

}  // namespace

bool parse_net_target(std::string_view text, ParsedNetTarget* out, std::string* message,
                      std::string* hint) {
  *out = ParsedNetTarget{};
  if (text.empty()) {
    *message = "the network target is empty";
    *hint = "write a host, address or CIDR, optionally with :PORT, or \"*\" for any host";
    return false;
  }
  for (char c : text) {
    if (c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20) {
      *message = "the network target '" + std::string(text) + "' contains white space";
      *hint = "write one target per rule";
      return false;
    }
  }
  if (text.find("://") != std::string_view::npos) {
    *message = "'" + std::string(text) + "' is a URL, not a network target";
    *hint = "write the host and port only, e.g. api.example.com:443";
    return false;
  }
  std::string_view host = text;
  std::string_view port_text;
  bool has_port = false;
  if (text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      *message = "'" + std::string(text) + "' opens '[' without a closing ']'";
      *hint = "write IPv6 targets with a port as [2001:db8::1]:443";
      return false;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        *message = "unexpected '" + std::string(rest) + "' after ']'";
        *hint = "only ':PORT' may follow an IPv6 address in brackets";
        return false;
      }
      port_text = rest.substr(1);
      has_port = true;
    }
    if (has_port && !parse_port(port_text, &out->net.port, message, hint)) return false;
    return parse_address(host, true, out, message, hint);
  }
  size_t colons = 0;
  for (char c : text) colons += c == ':' ? 1 : 0;
  if (colons > 1) {
    // A bare IPv6 address or network: no port possible without brackets.
    return parse_address(text, true, out, message, hint);
  }
  if (colons == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
    if (!parse_port(port_text, &out->net.port, message, hint)) return false;
  }
  if (host.empty() || host == "*") {
    out->net.kind = image::NetKind::kAnyHost;
    return true;
  }
  if (looks_numeric(host)) return parse_address(host, false, out, message, hint);
  return parse_domain(host, out, message, hint);
}

std::string net_target_to_string(const ParsedNetTarget& target) {
  const image::NetTarget& t = target.net;
  std::string host;
  bool v6 = false;
  switch (t.kind) {
    case image::NetKind::kAnyHost:
      host = "*";
      break;
    case image::NetKind::kDomain:
      host = target.pattern;
      break;
    case image::NetKind::kDomainSuffix:
      host = "*" + target.pattern;
      break;
    case image::NetKind::kIpv4:
    case image::NetKind::kIpv6: {
      v6 = t.kind == image::NetKind::kIpv6;
      char buf[INET6_ADDRSTRLEN] = {};
      inet_ntop(v6 ? AF_INET6 : AF_INET, t.addr, buf, sizeof buf);
      host = buf;
      if (t.prefix_len != (v6 ? 128 : 32)) host += "/" + std::to_string(t.prefix_len);
      break;
    }
  }
  if (t.port == 0) return host;
  if (v6) host = "[" + host + "]";
  return host + ":" + std::to_string(t.port);
}

}  // namespace fnguard::policy
