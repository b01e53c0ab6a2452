// What kind of program a file is, read from its first bytes the way the
// kernel's binfmt handlers read them: an ELF image with or without a program
// interpreter (PT_INTERP), or a "#!" script with its interpreter. The exec
// hooks use it for `require: {preload: true}`: a statically linked program
// never loads libfnguard.so, so the enforcer cannot follow it and the exec is
// treated as a process.exec violation.
//
// No allocation, raw syscalls only: callable from exec hooks running in a
// vfork child.
//
// Limits, stated plainly:
// - "No PT_INTERP" is how static binaries (and static-pie) are recognised.
//   The dynamic loader itself (ld-linux*.so*, ld64.so*, ld.so*, ld-musl-*,
//   see fnguard/common/exec_format.h) has no PT_INTERP either but honours
//   LD_PRELOAD, so it is treated as dynamic.
// - A file the process cannot read (execute-only, mode 0111) is kUnknown
//   with `open_error` EACCES, and not treated as static: the enforcer cannot
//   see what it is. The exec hooks decide what to do with it (hooks_exec.cc).
// - binfmt_misc handlers (qemu, Java, Wine) are kUnknown.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fnguard/common/exec_format.h"

namespace fnguard::enforcer {

enum class ProgramKind : uint8_t {
  kUnknown = 0,  // unreadable, too short, or a format the enforcer does not know
  kDynamicElf,   // ELF with PT_INTERP (or the dynamic loader itself)
  kStaticElf,    // ELF without PT_INTERP: LD_PRELOAD is never honoured
  kScript,       // "#!interpreter [arg]"
};

inline constexpr size_t kInterpreterMax = kShebangBufferSize;  // the kernel's BINPRM_BUF_SIZE

struct ProgramInfo {
  ProgramKind kind = ProgramKind::kUnknown;
  char interpreter[kInterpreterMax] = {};  // kScript: the interpreter path as written
  char argument[kInterpreterMax] = {};     // kScript: its optional argument, "" if none
  bool has_argument = false;
  int open_error = 0;  // probe_path: the errno of a failed open (EACCES: execute-only)
};

// "#!" lines are parsed by fnguard::parse_shebang (fnguard/common/exec_format.h),
// as the kernel parses them.
using fnguard::parse_shebang;

// Classifies an ELF image given its first bytes and a way to read program
// headers at an offset. `read_at(ctx, offset, buf, len)` returns the bytes
// read. Pure apart from the callback, so it is unit-testable on buffers.
using ReadAt = long (*)(void* ctx, uint64_t offset, void* buf, size_t len);
ProgramKind classify_elf(const uint8_t* head, size_t length, ReadAt read_at, void* ctx);

// Reads the file open on `fd` (readable descriptor) with pread and fills `info`.
void probe_fd(int fd, ProgramInfo* info);

// Opens `path` read-only (raw openat, relative to `dirfd`), probes it and
// closes it. kUnknown when it cannot be opened (`open_error` says why).
void probe_path(int dirfd, const char* path, ProgramInfo* info);

// The same, but only for a "#!" line: kScript or kUnknown (no ELF parsing).
void probe_script(int dirfd, const char* path, ProgramInfo* info);

// The kernel follows a chain of "#!" scripts up to this many files (the
// exec'd script and 4 nested script interpreters); the program after them
// must not be a script (ELOOP). Measured on Linux 6.18: exec_binprm()
// allows 5 binfmt rewrites.
inline constexpr int kMaxScriptDepth = 5;

// True when the basename looks like a dynamic loader (see the limits above).
bool is_dynamic_loader_name(const char* path);

// Follows "#!" interpreters (as deep as the kernel does) and tells whether
// the program that finally runs is a static ELF. `path` is absolute (what is
// opened). The dynamic loader has no PT_INTERP but is no static program: it
// honours LD_PRELOAD for the program it runs. It is recognised by name:
// `name` for the first file (its own name when `path` is /proc/self/fd/N,
// as for fexecve; null when no name may exempt it, as for a memfd, whose
// name is the caller's choice), an interpreter by the name its "#!" line
// gives.
bool runs_static_program(const char* path, const char* name);
inline bool runs_static_program(const char* path) { return runs_static_program(path, path); }

}  // namespace fnguard::enforcer
