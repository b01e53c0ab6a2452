// The lock-free table of (domain name, address) pairs that lets domain rules
// match connect() calls.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fnguard/enforcer/name_cache.h"

namespace fnguard::enforcer {
namespace {

std::set<std::string> names_for(int family, const char* text) {
  uint8_t addr[16];
  EXPECT_EQ(inet_pton(family, text, addr), 1);
  char out[16][kNameMax];
  size_t n = name_cache_lookup(family, addr, out, 16);
  std::set<std::string> result;
  for (size_t i = 0; i < n; ++i) result.insert(out[i]);
  return result;
}

void record(const char* name, int family, const char* text) {
  uint8_t addr[16];
  ASSERT_EQ(inet_pton(family, text, addr), 1);
  name_cache_record(name, family, addr);
}

TEST(NameCache, RecordsLowerCaseWithoutTrailingDot) {
  name_cache_clear();
  record("API.Example.COM.", AF_INET, "93.184.216.34");
  record("api.example.com", AF_INET, "93.184.216.34");  // duplicate
  record("cdn.example.net", AF_INET, "93.184.216.34");
  EXPECT_EQ(names_for(AF_INET, "93.184.216.34"),
            (std::set<std::string>{"api.example.com", "cdn.example.net"}));
  EXPECT_TRUE(names_for(AF_INET, "93.184.216.35").empty());
}

TEST(NameCache, MappedIpv6MatchesIpv4AndIpv6IsSeparate) {
  name_cache_clear();
  record("localhost", AF_INET, "127.0.0.1");
  record("six.example", AF_INET6, "2001:db8::1");
  EXPECT_EQ(names_for(AF_INET6, "::ffff:127.0.0.1"), (std::set<std::string>{"localhost"}));
  EXPECT_EQ(names_for(AF_INET6, "2001:db8::1"), (std::set<std::string>{"six.example"}));
  EXPECT_TRUE(names_for(AF_INET, "0.0.0.1").empty());
}

TEST(NameCache, IgnoresLiteralsAndOverlongNames) {
  name_cache_clear();
  record("10.0.0.1", AF_INET, "10.0.0.1");
  record("::1", AF_INET6, "::1");
  record(std::string(200, 'a').c_str(), AF_INET, "10.0.0.2");
  EXPECT_TRUE(names_for(AF_INET, "10.0.0.1").empty());
  EXPECT_TRUE(names_for(AF_INET6, "::1").empty());
  EXPECT_TRUE(names_for(AF_INET, "10.0.0.2").empty());
}

TEST(NameCache, FullTableKeepsNewestEntries) {
  name_cache_clear();
  for (size_t i = 0; i < kNameCacheSlots + 10; ++i) {
    std::string name = "host" + std::to_string(i) + ".example";
    uint8_t addr[4] = {10, 1, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    name_cache_record(name.c_str(), AF_INET, addr);
  }
  size_t last = kNameCacheSlots + 9;
  std::string text = "10.1." + std::to_string(last >> 8) + "." + std::to_string(last & 0xff);
  EXPECT_EQ(names_for(AF_INET, text.c_str()),
            (std::set<std::string>{"host" + std::to_string(last) + ".example"}));
}

TEST(NameCache, ConcurrentWritersAndReadersSeeOnlyWholeEntries) {
  name_cache_clear();
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 20000; ++i) {
        // The name encodes the address, so a reader can detect a torn entry.
        uint8_t addr[4] = {10, static_cast<uint8_t>(t), static_cast<uint8_t>(i >> 8),
                           static_cast<uint8_t>(i)};
        std::string name = "h-" + std::to_string(t) + "-" + std::to_string(i & 0xffff) + ".x";
        name_cache_record(name.c_str(), AF_INET, addr);
      }
    });
  }
  std::thread reader([&] {
    while (!stop.load()) {
      for (int t = 0; t < 4; ++t) {
        for (int i = 0; i < 256; i += 17) {
          uint8_t addr[4] = {10, static_cast<uint8_t>(t), 0, static_cast<uint8_t>(i)};
          char out[8][kNameMax];
          size_t n = name_cache_lookup(AF_INET, addr, out, 8);
          std::string expected = "h-" + std::to_string(t) + "-" + std::to_string(i) + ".x";
          for (size_t k = 0; k < n; ++k) {
            if (expected != out[k]) torn.fetch_add(1);
          }
        }
      }
    }
  });
  for (auto& th : threads) th.join();
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace fnguard::enforcer
