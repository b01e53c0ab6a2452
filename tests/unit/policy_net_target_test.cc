// Network target syntax: each accepted form, what it compiles to, and its
// canonical text in the effective policy.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "fnguard/policy/net_target.h"

namespace fnguard::policy {
namespace {

struct Case {
  const char* text;
  image::NetKind kind;
  const char* pattern;  // domains
  const char* addr;     // addresses, for inet_pton
  int prefix;
  int port;
  const char* canonical;
};

TEST(NetTarget, AcceptedForms) {
  const Case cases[] = {
      {"*", image::NetKind::kAnyHost, "", nullptr, 0, 0, "*"},
      {"*:443", image::NetKind::kAnyHost, "", nullptr, 0, 443, "*:443"},
      {":53", image::NetKind::kAnyHost, "", nullptr, 0, 53, "*:53"},
      {"example.com", image::NetKind::kDomain, "example.com", nullptr, 0, 0, "example.com"},
      {"API.Example.COM:8443", image::NetKind::kDomain, "api.example.com", nullptr, 0, 8443,
       "api.example.com:8443"},
      {"example.com.", image::NetKind::kDomain, "example.com", nullptr, 0, 0, "example.com"},
      {"localhost", image::NetKind::kDomain, "localhost", nullptr, 0, 0, "localhost"},
      {"*.amazonaws.com:443", image::NetKind::kDomainSuffix, ".amazonaws.com", nullptr, 0, 443,
       "*.amazonaws.com:443"},
      {"1.2.3.4", image::NetKind::kIpv4, "", "1.2.3.4", 32, 0, "1.2.3.4"},
      {"1.2.3.4:80", image::NetKind::kIpv4, "", "1.2.3.4", 32, 80, "1.2.3.4:80"},
      {"10.0.0.0/8", image::NetKind::kIpv4, "", "10.0.0.0", 8, 0, "10.0.0.0/8"},
      {"10.0.0.0/8:443", image::NetKind::kIpv4, "", "10.0.0.0", 8, 443, "10.0.0.0/8:443"},
      {"0.0.0.0/0", image::NetKind::kIpv4, "", "0.0.0.0", 0, 0, "0.0.0.0/0"},
      {"::1", image::NetKind::kIpv6, "", "::1", 128, 0, "::1"},
      {"[::1]:443", image::NetKind::kIpv6, "", "::1", 128, 443, "[::1]:443"},
      {"fd00::/8", image::NetKind::kIpv6, "", "fd00::", 8, 0, "fd00::/8"},
      {"[2001:db8::/32]:53", image::NetKind::kIpv6, "", "2001:db8::", 32, 53, "[2001:db8::/32]:53"},
  };
  for (const Case& c : cases) {
    ParsedNetTarget t;
    std::string message, hint;
    ASSERT_TRUE(parse_net_target(c.text, &t, &message, &hint)) << c.text << ": " << message;
    EXPECT_EQ(t.net.kind, c.kind) << c.text;
    EXPECT_EQ(t.pattern, c.pattern) << c.text;
    EXPECT_EQ(t.net.port, c.port) << c.text;
    if (c.addr != nullptr) {
      uint8_t want[16] = {};
      bool v6 = c.kind == image::NetKind::kIpv6;
      ASSERT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, c.addr, want), 1);
      EXPECT_EQ(std::memcmp(t.net.addr, want, v6 ? 16 : 4), 0) << c.text;
      EXPECT_EQ(t.net.prefix_len, c.prefix) << c.text;
    }
    EXPECT_EQ(net_target_to_string(t), c.canonical) << c.text;
  }
}

TEST(NetTarget, RefusedFormsSayWhy) {
  const std::string long_label = std::string(64, 'a') + ".com";
  const std::string bad[] = {"",        "10.0.0.1/8",   "10.0.0.0/33", "300.1.1.1", "1.2.3",
                             "x.com:0", "x.com:65536",  "x.com:http",  "[::1",      "[::1]x",
                             "::1/129", "fe80::1%eth0", "bad_host!",   "-x.com",    "x-.com",
                             "a..b",    "*.",           "x.*.com",     "**.x.com",  "https://x.com",
                             "a b",     long_label};
  for (const std::string& text : bad) {
    ParsedNetTarget t;
    std::string message, hint;
    EXPECT_FALSE(parse_net_target(text, &t, &message, &hint)) << text;
    EXPECT_FALSE(message.empty()) << text;
    EXPECT_FALSE(hint.empty()) << text;
  }
  ParsedNetTarget t;
  std::string message, hint;
  ASSERT_FALSE(parse_net_target("192.168.1.7/24", &t, &message, &hint));
  EXPECT_EQ(hint, "did you mean 192.168.1.0/24?");
}

}  // namespace
}  // namespace fnguard::policy
