// SHA-256 (FIPS 180-4) without allocation. The enforcer hashes executables
// for `process.exec` sha256 rules inside the protected process; linking
// OpenSSL's libcrypto there would drag a 4 MB library, with its own symbols
// and global state, into processes that may already load a different
// libcrypto version (Python's _ssl, Node's bundled OpenSSL). This small,
// self-contained implementation (portable, and with the x86 SHA extensions
// where the CPU has them) is checked against the FIPS 180-4 examples and
// its two paths against each other in tests/unit/sha256_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fnguard {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t length);
  void finish(uint8_t digest[32]);

 private:
  uint32_t state_[8];
  uint64_t bytes_ = 0;
  uint8_t buffer_[64];
  size_t buffered_ = 0;
};

// Hashes the file open on `fd` from its current offset with raw read(2);
// false on a read error. Restores nothing: pass a fresh descriptor.
bool sha256_fd(int fd, uint8_t digest[32]);

// "sha-ni" when the x86 SHA extensions are used on this CPU, else
// "portable". sha256_force_portable(true) selects the portable code (tests,
// benchmarks).
const char* sha256_implementation();
void sha256_force_portable(bool on);

// Parses 64 hex digits. False on anything else.
bool sha256_from_hex(const char* hex, uint8_t digest[32]);

}  // namespace fnguard
