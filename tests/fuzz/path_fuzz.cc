// libFuzzer target: normalize_path. Input: BASE "\n" PATH (no newline: PATH
// only, against "/"). Every result must be normal (starts with "/", no "/./",
// "/../", "//", no trailing "/" or "/." or "/..") and normalising it again
// must give the same text. Small output buffers must fail cleanly.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fnguard/common/path.h"

namespace {

bool ends_with(const char* s, size_t n, const char* suffix) {
  size_t m = std::strlen(suffix);
  return n >= m && std::memcmp(s + n - m, suffix, m) == 0;
}

void check_normal(const char* out, long len) {
  if (len < 1 || static_cast<size_t>(len) != std::strlen(out)) __builtin_trap();
  if (out[0] != '/') __builtin_trap();
  if (std::strstr(out, "//") != nullptr || std::strstr(out, "/./") != nullptr ||
      std::strstr(out, "/../") != nullptr) {
    __builtin_trap();
  }
  size_t n = static_cast<size_t>(len);
  if (n > 1 && (out[n - 1] == '/' || ends_with(out, n, "/.") || ends_with(out, n, "/.."))) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string base = "/";
  std::string path = input;
  size_t nl = input.find('\n');
  if (nl != std::string::npos) {
    base = input.substr(0, nl);
    path = input.substr(nl + 1);
  }
  char out[512];
  long len = fnguard::normalize_path(base.c_str(), path.c_str(), out, sizeof out);
  if (len >= 0) {
    check_normal(out, len);
    char again[512];
    long len2 = fnguard::normalize_path(nullptr, out, again, sizeof again);
    if (len2 != len || std::strcmp(out, again) != 0) __builtin_trap();
    const char* name = fnguard::path_basename(out);
    if (name < out || name > out + len) __builtin_trap();
  }
  // Tiny buffers: either a normal result that fits, or -1; never overflow
  // (AddressSanitizer watches the heap copy).
  for (size_t cap : {0ul, 1ul, 2ul, 3ul, 8ul, 17ul}) {
    char* small = new char[cap == 0 ? 1 : cap];
    long n = fnguard::normalize_path(base.c_str(), path.c_str(), small, cap);
    if (n >= 0) {
      if (static_cast<size_t>(n) + 1 > cap) __builtin_trap();
      check_normal(small, n);
    }
    delete[] small;
  }
  return 0;
}
