// libFuzzer target: glob_match and glob_match_prefix against a plain
// recursive reference matcher written from the grammar in
// fnguard/common/glob.h. Input: GLOB "\n" TEXT.
// Invalid globs must be refused by glob_validate (and are then skipped); for
// valid ones the two matchers must agree, else the target traps.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fnguard/common/glob.h"

namespace {

constexpr size_t kMax = 96;

// Reference semantics, memoised over (glob position, text position) so that
// it stays polynomial. Comparisons in classes are on unsigned bytes.
struct Reference {
  const char* g;
  const char* t;
  size_t glen;
  size_t tlen;
  bool prefix = false;  // glob_match_prefix: the text may run out first
  signed char memo[kMax + 1][kMax + 1];

  // Parses the class at g[gi] == '['; returns its length, sets *hit.
  size_t klass(size_t gi, unsigned char c, bool* hit) const {
    size_t i = gi + 1;
    bool negate = false;
    if (g[i] == '!' || g[i] == '^') {
      negate = true;
      ++i;
    }
    bool in = false;
    bool first = true;
    while (g[i] != '\0' && (g[i] != ']' || first)) {
      first = false;
      unsigned char lo = static_cast<unsigned char>(g[i]);
      if (lo == '\\' && g[i + 1] != '\0') lo = static_cast<unsigned char>(g[++i]);
      unsigned char hi = lo;
      if (g[i + 1] == '-' && g[i + 2] != ']' && g[i + 2] != '\0') {
        size_t h = i + 2;
        if (g[h] == '\\' && g[h + 1] != '\0') ++h;
        hi = static_cast<unsigned char>(g[h]);
        i = h;
      }
      if (c >= lo && c <= hi) in = true;
      ++i;
    }
    *hit = c != '/' && in != negate;
    return (g[i] == ']' ? i + 1 : i) - gi;
  }

  bool match(size_t gi, size_t ti) {
    signed char& m = memo[gi][ti];
    if (m >= 0) return m != 0;
    bool r = compute(gi, ti);
    m = r ? 1 : 0;
    return r;
  }

  bool compute(size_t gi, size_t ti) {
    if (prefix && ti == tlen) return true;
    if (gi == glen) return ti == tlen;
    if (ti == tlen && std::strcmp(g + gi, "/**") == 0) return true;
    char c = g[gi];
    if (c == '*') {
      bool crosses = g[gi + 1] == '*';
      size_t next = gi + (crosses ? 2 : 1);
      for (size_t k = ti;; ++k) {
        if (match(next, k)) return true;
        if (k == tlen || (!crosses && t[k] == '/')) return false;
      }
    }
    if (ti == tlen) return false;
    if (c == '?') return t[ti] != '/' && match(gi + 1, ti + 1);
    if (c == '[') {
      bool hit = false;
      size_t n = klass(gi, static_cast<unsigned char>(t[ti]), &hit);
      return hit && match(gi + n, ti + 1);
    }
    if (c == '\\' && g[gi + 1] != '\0') return g[gi + 1] == t[ti] && match(gi + 2, ti + 1);
    return c == t[ti] && match(gi + 1, ti + 1);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  if (nl == std::string::npos) return 0;
  std::string glob = input.substr(0, nl);
  std::string text = input.substr(nl + 1);
  if (glob.find('\0') != std::string::npos || text.find('\0') != std::string::npos) return 0;
  if (glob.size() > kMax || text.size() > kMax) return 0;
  size_t offset = 0;
  if (fnguard::glob_validate(glob.c_str(), &offset) != nullptr) {
    if (offset > glob.size()) __builtin_trap();  // the offset points into the glob
    return 0;
  }
  static Reference ref;
  ref.g = glob.c_str();
  ref.t = text.c_str();
  ref.glen = glob.size();
  ref.tlen = text.size();
  std::memset(ref.memo, -1, sizeof ref.memo);
  ref.prefix = false;
  bool want = ref.match(0, 0);
  bool got = fnguard::glob_match(glob.c_str(), text.c_str());
  if (want != got) __builtin_trap();
  // glob_match_prefix against the same reference with the text allowed to
  // run out first; a match is always a prefix match.
  ref.prefix = true;
  std::memset(ref.memo, -1, sizeof ref.memo);
  bool want_prefix = ref.match(0, 0);
  bool got_prefix = fnguard::glob_match_prefix(glob.c_str(), text.c_str());
  if (want_prefix != got_prefix || (got && !got_prefix)) __builtin_trap();
  // A literal glob matches exactly itself, and its literal dir prefix is a prefix.
  if (fnguard::glob_is_literal(glob.c_str()) && got != (glob == text)) {
    if (!(text.empty() && glob.empty())) __builtin_trap();
  }
  size_t prefix = fnguard::glob_literal_dir_prefix(glob.c_str());
  if (prefix > glob.size()) __builtin_trap();
  return 0;
}
