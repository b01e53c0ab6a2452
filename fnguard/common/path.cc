// Lexical normalisation, one component at a time, into the caller's buffer.
#include "fnguard/common/path.h"

namespace fnguard {
namespace {

// Appends the components of `src` to out[0..*len), resolving "." and "..".
// Returns false on overflow.
bool append_components(const char* src, char* out, size_t cap, size_t* len) {
  const char* p = src;
  while (*p != '\0') {
    while (*p == '/') ++p;
    if (*p == '\0') break;
    const char* start = p;
    while (*p != '\0' && *p != '/') ++p;
    size_t n = static_cast<size_t>(p - start);
    if (n == 1 && start[0] == '.') continue;
    if (n == 2 && start[0] == '.' && start[1] == '.') {
      // Drop the last component; at the root ".." is the root.
      while (*len > 1 && out[*len - 1] != '/') --(*len);
      if (*len > 1) --(*len);
      out[*len] = '\0';
      continue;
    }
    size_t need = (*len > 1 ? 1 : 0) + n;
    if (*len + need + 1 > cap) return false;
    if (*len > 1) out[(*len)++] = '/';
    for (size_t i = 0; i < n; ++i) out[(*len)++] = start[i];
    out[*len] = '\0';
  }
  return true;
}

}  // namespace

long normalize_path(const char* base, const char* path, char* out, size_t cap) {
  if (path == nullptr || path[0] == '\0' || cap < 2) return -1;
  out[0] = '/';
  out[1] = '\0';
  size_t len = 1;
  if (path[0] != '/') {
    if (base == nullptr || base[0] != '/') return -1;
    if (!append_components(base, out, cap, &len)) return -1;
  }
  if (!append_components(path, out, cap, &len)) return -1;
  return static_cast<long>(len);
}

const char* path_basename(const char* path) {
  const char* last = path;
  for (const char* p = path; *p != '\0'; ++p) {
    if (*p == '/' && p[1] != '\0') last = p + 1;
  }
  return last;
}

}  // namespace fnguard
