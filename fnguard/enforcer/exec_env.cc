// Environment re-injection for exec and spawn (see exec_env.h).
#include "fnguard/enforcer/exec_env.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fnguard/enforcer/protocol.h"

namespace fnguard::enforcer {
namespace {

constexpr size_t kLibraryMax = 4096;
constexpr size_t kEnforcerMax = 256;
constexpr char kPreloadPrefix[] = "LD_PRELOAD=";
constexpr char kEnforcerPrefix[] = "FNGUARD_ENFORCER=";
constexpr size_t kPreloadPrefixLen = sizeof(kPreloadPrefix) - 1;
constexpr size_t kEnforcerPrefixLen = sizeof(kEnforcerPrefix) - 1;

// Written once at load time, read-only afterwards.
char g_library[kLibraryMax];
char g_enforcer_entry[kEnforcerPrefixLen + kEnforcerMax];  // "FNGUARD_ENFORCER=..."
bool g_ready = false;

size_t str_len(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

bool starts_with(const char* s, const char* prefix, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (s[i] != prefix[i]) return false;
  }
  return true;
}

bool copy(char* out, size_t cap, const char* s) {
  size_t n = str_len(s);
  if (n + 1 > cap) return false;
  for (size_t i = 0; i <= n; ++i) out[i] = s[i];
  return true;
}

// Appends the FNGUARD_ENFORCER value to out without any "gate=" item.
bool strip_gate(const char* value, char* out, size_t cap) {
  size_t len = 0;
  const char* p = value;
  while (*p != '\0') {
    const char* start = p;
    while (*p != '\0' && *p != ',') ++p;
    size_t n = static_cast<size_t>(p - start);
    if (*p == ',') ++p;
    if (n == 0 || (n >= 5 && starts_with(start, "gate=", 5))) continue;
    if (len + n + 2 > cap) return false;
    if (len > 0) out[len++] = ',';
    for (size_t i = 0; i < n; ++i) out[len++] = start[i];
  }
  out[len] = '\0';
  return len > 0;
}

__attribute__((constructor)) void exec_env_load() {
  Dl_info info{};
  // The address of a function in this library names the file it came from.
  if (dladdr(reinterpret_cast<void*>(&exec_env_load), &info) == 0 || info.dli_fname == nullptr) {
    return;
  }
  exec_env_init(environ, info.dli_fname);
}

}  // namespace

void exec_env_init(char* const* initial_env, const char* own_library) {
  g_ready = false;
  if (initial_env == nullptr || own_library == nullptr || own_library[0] != '/') return;
  const char* enforcer = nullptr;
  for (char* const* e = initial_env; *e != nullptr; ++e) {
    if (starts_with(*e, kEnforcerPrefix, kEnforcerPrefixLen)) enforcer = *e + kEnforcerPrefixLen;
  }
  if (enforcer == nullptr) return;  // not started by a supervisor: nothing to carry on
  if (!copy(g_library, sizeof(g_library), own_library)) return;
  for (size_t i = 0; i < kEnforcerPrefixLen; ++i) g_enforcer_entry[i] = kEnforcerPrefix[i];
  if (!strip_gate(enforcer, g_enforcer_entry + kEnforcerPrefixLen,
                  sizeof(g_enforcer_entry) - kEnforcerPrefixLen)) {
    return;
  }
  g_ready = true;
}

bool exec_env_ready() { return g_ready; }
const char* exec_env_own_library() { return g_library; }
const char* exec_env_enforcer() { return g_enforcer_entry + kEnforcerPrefixLen; }

size_t compose_preload(const char* own, const char* existing, char* out, size_t cap) {
  size_t own_len = str_len(own);
  size_t len = 0;
  if (kPreloadPrefixLen + own_len + 1 > cap) return 0;
  for (size_t i = 0; i < kPreloadPrefixLen; ++i) out[len++] = kPreloadPrefix[i];
  for (size_t i = 0; i < own_len; ++i) out[len++] = own[i];
  const char* p = existing != nullptr ? existing : "";
  while (*p != '\0') {
    const char* start = p;
    while (*p != '\0' && *p != ':' && *p != ' ') ++p;
    size_t n = static_cast<size_t>(p - start);
    if (*p != '\0') ++p;
    if (n == 0) continue;
    if (n == own_len && starts_with(start, own, n)) continue;  // ours is already first
    if (len + 1 + n + 1 > cap) return 0;
    out[len++] = ':';
    for (size_t i = 0; i < n; ++i) out[len++] = start[i];
  }
  out[len] = '\0';
  return len;
}

bool build_child_env(char* const* envp, const char* preload_entry, const char* enforcer_entry,
                     const char** out, size_t out_cap) {
  size_t n = 0;
  size_t last_preload = static_cast<size_t>(-1);
  size_t last_enforcer = static_cast<size_t>(-1);
  if (envp != nullptr) {
    for (size_t i = 0; envp[i] != nullptr; ++i) {
      if (starts_with(envp[i], kPreloadPrefix, kPreloadPrefixLen)) last_preload = i;
      if (starts_with(envp[i], kEnforcerPrefix, kEnforcerPrefixLen)) last_enforcer = i;
    }
    for (size_t i = 0; envp[i] != nullptr; ++i) {
      const char* entry = envp[i];
      if (starts_with(entry, kPreloadPrefix, kPreloadPrefixLen)) {
        if (i != last_preload) continue;
        entry = preload_entry;
      } else if (starts_with(entry, kEnforcerPrefix, kEnforcerPrefixLen)) {
        if (i != last_enforcer) continue;
        entry = enforcer_entry;
      }
      if (n + 1 >= out_cap) return false;
      out[n++] = entry;
    }
  }
  if (last_preload == static_cast<size_t>(-1)) {
    if (n + 1 >= out_cap) return false;
    out[n++] = preload_entry;
  }
  if (last_enforcer == static_cast<size_t>(-1)) {
    if (n + 1 >= out_cap) return false;
    out[n++] = enforcer_entry;
  }
  out[n] = nullptr;
  return true;
}

EnvForExec::EnvForExec(char* const* envp) : result_(envp) {
  if (!g_ready) return;
  size_t count = 0;
  const char* existing = nullptr;  // the last LD_PRELOAD value: the one ld.so uses
  if (envp != nullptr) {
    for (; envp[count] != nullptr; ++count) {
      if (starts_with(envp[count], kPreloadPrefix, kPreloadPrefixLen)) {
        existing = envp[count] + kPreloadPrefixLen;
      }
    }
  }
  size_t entries_needed = count + 3;
  size_t scratch_needed =
      kPreloadPrefixLen + str_len(g_library) + 2 + (existing != nullptr ? str_len(existing) : 0);

  const char** entries = entries_;
  char* scratch = scratch_;
  if (entries_needed > kStackEntries || scratch_needed > kStackScratch) {
    size_t page = 4096;
    size_t bytes = entries_needed * sizeof(char*) + scratch_needed;
    bytes = (bytes + page - 1) / page * page;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    // Out of memory: pass at least a protected minimal environment rather
    // than the caller's unprotected one (fail closed).
    if (p == MAP_FAILED) {
      compose_preload(g_library, nullptr, scratch_, kStackScratch);
      entries_[0] = scratch_;
      entries_[1] = g_enforcer_entry;
      entries_[2] = nullptr;
      result_ = const_cast<char* const*>(entries_);
      return;
    }
    mapping_ = p;
    mapping_size_ = bytes;
    entries = static_cast<const char**>(p);
    scratch = reinterpret_cast<char*>(entries + entries_needed);
  }
  if (compose_preload(g_library, existing, scratch, scratch_needed) == 0 ||
      !build_child_env(envp, scratch, g_enforcer_entry, entries, entries_needed)) {
    compose_preload(g_library, nullptr, scratch_, kStackScratch);
    entries_[0] = scratch_;
    entries_[1] = g_enforcer_entry;
    entries_[2] = nullptr;
    result_ = const_cast<char* const*>(entries_);
    return;
  }
  result_ = const_cast<char* const*>(entries);
}

EnvForExec::~EnvForExec() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
}

bool is_preload_name(const char* name, size_t length) {
  return length == kPreloadPrefixLen - 1 && starts_with(name, kPreloadPrefix, length);
}

bool is_protected_env_name(const char* name, size_t length) {
  return is_preload_name(name, length) ||
         (length == kEnforcerPrefixLen - 1 && starts_with(name, kEnforcerPrefix, length));
}

void repair_environ(int (*real_setenv)(const char*, const char*, int)) {
  if (!g_ready || real_setenv == nullptr) return;
  const char* preload = nullptr;
  const char* enforcer = nullptr;
  if (environ != nullptr) {
    for (char** e = environ; *e != nullptr; ++e) {
      if (starts_with(*e, kPreloadPrefix, kPreloadPrefixLen)) preload = *e + kPreloadPrefixLen;
      if (starts_with(*e, kEnforcerPrefix, kEnforcerPrefixLen)) enforcer = *e + kEnforcerPrefixLen;
    }
  }
  size_t own_len = str_len(g_library);
  bool preload_ok =
      preload != nullptr && starts_with(preload, g_library, own_len) &&
      (preload[own_len] == '\0' || preload[own_len] == ':' || preload[own_len] == ' ');
  if (!preload_ok) {
    char buf[8192];
    if (compose_preload(g_library, preload, buf, sizeof(buf)) == 0) {
      compose_preload(g_library, nullptr, buf, sizeof(buf));
    }
    real_setenv("LD_PRELOAD", buf + kPreloadPrefixLen, 1);
  }
  const char* ours = exec_env_enforcer();
  bool enforcer_ok = enforcer != nullptr;
  for (size_t i = 0; enforcer_ok; ++i) {
    if (enforcer[i] != ours[i]) enforcer_ok = false;
    if (ours[i] == '\0') break;
  }
  if (!enforcer_ok) real_setenv(kEnvEnforcer, ours, 1);
}

}  // namespace fnguard::enforcer
