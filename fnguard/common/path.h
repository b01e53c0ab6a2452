// Lexical path normalisation: make a path absolute against a base directory
// and remove ".", "..", and repeated slashes, without touching the file
// system. No allocation: safe inside the enforcer's hooks, signal handlers and
// vfork children.
//
// Security note: lexical normalisation alone cannot see symbolic links. The
// enforcer therefore also checks the file it actually opened (see
// fnguard/enforcer/); this function only guarantees that "..", "." and "//"
// cannot carry a path past a rule.
#pragma once

#include <cstddef>

namespace fnguard {

// Writes the normal absolute form of `path` into out[0..cap). A relative
// `path` is taken against `base` (which must be absolute; it may be null when
// `path` is absolute). ".." at the root stays at the root, as the kernel does.
// The result never ends with "/" unless it is "/". Returns the length written,
// or -1 when the result does not fit in `cap` bytes (with its NUL) or `path`
// is empty.
long normalize_path(const char* base, const char* path, char* out, size_t cap);

// The last component of a normal path ("/usr/bin/nc" -> "nc"); "/" for "/".
const char* path_basename(const char* path);

// True when path[0..length) has a ".." component ("a/../b", "..", "x/..";
// not "..x" or "x.."). Where ".." leads depends on the symbolic links
// before it, so a lexical join or normalisation of such a path may not be
// where the kernel goes.
inline bool has_dotdot_component(const char* path, size_t length) {
  for (size_t i = 0; i + 1 < length; ++i) {
    if (path[i] == '.' && path[i + 1] == '.' && (i == 0 || path[i - 1] == '/') &&
        (i + 2 == length || path[i + 2] == '/')) {
      return true;
    }
  }
  return false;
}

}  // namespace fnguard
