// Protection follows the process into its children: every exec and spawn
// hook hands the kernel an environment that still carries
//
//   LD_PRELOAD=<this libfnguard.so>[:<the caller's other entries>]
//   FNGUARD_ENFORCER=image=..,context=..,events=..   (never gate=)
//
// even when the caller passed an empty or scrubbed environment. The two
// values are cached once, when the library loads, from the environment the
// process started with (so later changes to `environ` cannot alter them).
// The gate descriptor is only for the first process (see protocol.h), so it
// is dropped.
//
// vfork safety: CPython's subprocess runs execve() in a vfork child, and a
// vfork child shares the parent's memory. EnvForExec therefore never calls
// malloc: it builds the new pointer array and the two strings in buffers on
// the stack, and only for very large environments (more than kStackEntries
// entries or kStackScratch bytes of preload text) in an anonymous mmap, which
// is released by the destructor when the exec fails.
#pragma once

#include <cstddef>

namespace fnguard::enforcer {

// Caches the two values from `initial_env` (the process's starting environ).
// `own_library` is the path this library was loaded from (dladdr). Runs from
// a constructor; callable again from tests.
void exec_env_init(char* const* initial_env, const char* own_library);

// True when both values are known (the process runs under a supervisor).
bool exec_env_ready();
// Our LD_PRELOAD entry (the library path) and the FNGUARD_ENFORCER value.
const char* exec_env_own_library();
const char* exec_env_enforcer();

// Writes "LD_PRELOAD=<own>[:<entries of `existing` other than own>]" into
// out (existing may be null; entries are separated by ':' or ' ' as ld.so
// accepts). Returns the length, or 0 when it does not fit.
size_t compose_preload(const char* own, const char* existing, char* out, size_t cap);

// Fills `out` with the entries of `envp` (may be null), where every
// LD_PRELOAD= entry is replaced by one composed entry (`preload_entry`) at
// the position of the last original one, every FNGUARD_ENFORCER= entry by
// `enforcer_entry`, and missing ones are appended; null-terminated.
// Returns false when out_cap is too small. No allocation.
bool build_child_env(char* const* envp, const char* preload_entry, const char* enforcer_entry,
                     const char** out, size_t out_cap);

// The environment to pass to one exec/spawn. When exec_env_ready() is false
// the caller's envp is passed through unchanged.
class EnvForExec {
 public:
  explicit EnvForExec(char* const* envp);
  ~EnvForExec();
  EnvForExec(const EnvForExec&) = delete;
  EnvForExec& operator=(const EnvForExec&) = delete;

  char* const* get() const { return result_; }

 private:
  static constexpr size_t kStackEntries = 256;
  static constexpr size_t kStackScratch = 6144;
  const char* entries_[kStackEntries];
  char scratch_[kStackScratch];
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  char* const* result_ = nullptr;
};

// If `environ` lost our LD_PRELOAD entry or FNGUARD_ENFORCER (the program
// edited it directly), puts them back through the real setenv. For system()
// and popen(), which pass `environ` to /bin/sh. Not vfork-safe (setenv
// allocates); those two functions allocate themselves anyway.
void repair_environ(int (*real_setenv)(const char*, const char*, int));

// True when `name` is one of the two protected variables.
bool is_protected_env_name(const char* name, size_t length);
bool is_preload_name(const char* name, size_t length);

}  // namespace fnguard::enforcer
