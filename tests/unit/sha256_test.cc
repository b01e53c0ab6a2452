// SHA-256 (fnguard/common/sha256.h): the FIPS 180-4 examples, both
// compression functions against each other, and sha256_fd on a file.
#include "fnguard/common/sha256.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace fnguard {
namespace {

std::string hex(const uint8_t digest[32]) {
  std::string out;
  char byte[3];
  for (int i = 0; i < 32; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    out += byte;
  }
  return out;
}

std::string digest_of(const std::string& data, size_t chunk = 0) {
  Sha256 h;
  if (chunk == 0) {
    h.update(data.data(), data.size());
  } else {
    for (size_t at = 0; at < data.size(); at += chunk) {
      h.update(data.data() + at, std::min(chunk, data.size() - at));
    }
  }
  uint8_t d[32];
  h.finish(d);
  return hex(d);
}

// Runs the body once with each compression function this CPU offers.
class Sha256Test : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { sha256_force_portable(GetParam()); }
  void TearDown() override { sha256_force_portable(false); }
};

TEST_P(Sha256Test, FipsExamples) {
  EXPECT_EQ(digest_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(digest_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(digest_of(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(digest_of(million, 7), digest_of(million)) << "split updates give the same digest";
}

INSTANTIATE_TEST_SUITE_P(Implementations, Sha256Test, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Portable" : "Fastest";
                         });

TEST(Sha256, BothImplementationsAgreeOnEveryLengthAndSplit) {
  // Lengths around the block and padding boundaries, random contents, fed
  // whole and in odd pieces: the accelerated and the portable code must
  // give the same digest (on a CPU without the SHA extensions both runs
  // use the portable code, and the FIPS examples above still check it).
  std::mt19937 rng(2026);
  for (size_t len : {1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 127u, 128u, 1000u, 4096u, 65537u}) {
    std::string data(len, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    sha256_force_portable(true);
    std::string portable = digest_of(data);
    sha256_force_portable(false);
    EXPECT_EQ(digest_of(data), portable) << len << " bytes";
    EXPECT_EQ(digest_of(data, 13), portable) << len << " bytes in 13-byte pieces";
  }
}

TEST(Sha256, TheShaExtensionsAreUsedWhereTheCpuHasThem) {
  std::FILE* f = std::fopen("/proc/cpuinfo", "r");
  ASSERT_NE(f, nullptr);
  char line[4096];
  bool sha_ni = false;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::string l = line;
    if (l.rfind("flags", 0) == 0 && l.find(" sha_ni") != std::string::npos) sha_ni = true;
  }
  std::fclose(f);
#if defined(__x86_64__)
  EXPECT_STREQ(sha256_implementation(), sha_ni ? "sha-ni" : "portable");
#else
  EXPECT_STREQ(sha256_implementation(), "portable");
#endif
  sha256_force_portable(true);
  EXPECT_STREQ(sha256_implementation(), "portable");
  sha256_force_portable(false);
}

TEST(Sha256, HashesAFileFromItsDescriptor) {
  char path[] = "/tmp/fnguard-sha256-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string data(100000, 'x');
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
  uint8_t d[32];
  ASSERT_TRUE(sha256_fd(fd, d));
  close(fd);
  unlink(path);
  EXPECT_EQ(hex(d), digest_of(data));
  EXPECT_FALSE(sha256_fd(-1, d)) << "a read error is reported";
}

TEST(Sha256, ParsesHexDigests) {
  uint8_t d[32];
  ASSERT_TRUE(sha256_from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", d));
  EXPECT_EQ(hex(d), digest_of(""));
  EXPECT_FALSE(sha256_from_hex("e3b0", d));
  EXPECT_FALSE(sha256_from_hex(std::string(64, 'g').c_str(), d));
}

}  // namespace
}  // namespace fnguard
