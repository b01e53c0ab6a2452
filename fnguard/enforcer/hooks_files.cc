// File hooks: every libc entry point that opens, creates, truncates, renames,
// links, removes or changes the permissions, owner or times of a file is
// checked against files.read / files.write.
//
// How a path is decided:
// 1. Lexically: made absolute against the cwd (getcwd system call) or the
//    dirfd (/proc/self/fd/N), normalised ("..", ".", "//"), then decided. A
//    block here fails the call before anything happens.
// 2. Against symbolic links:
//    - opens first try openat2(RESOLVE_NO_SYMLINKS) with the caller's flags.
//      When no component is a symbolic link the lexical path *is* the file,
//      so that one system call replaces the open (the fast path: no extra
//      system call, no allocation). When a link is in the way (ELOOP), or
//      openat2 is unavailable, the target is resolved before any effect
//      (O_CREAT/O_TRUNC: an O_PATH open of the file or of its parent
//      directory, following a dangling last link), then the real open runs
//      and the file actually opened (/proc/self/fd/N) is decided again.
//    - path operations (unlink, rename, mkdir, chmod, ...) resolve what the
//      kernel will touch with an O_PATH open (following the last component
//      or not, as the operation does) plus readlink, and decide that too.
// 3. Block: the call fails with EACCES (EPERM for chmod/chown/utime, as the
//    OS fails them for a non-owner) and nothing is done. Monitor: it
//    proceeds and an event with action "allowed" is sent.
//
// Also covered: posix_spawn_file_actions_addopen (the open glibc performs in
// the spawned child, decided when the action is added; see the section
// below), mknod/mkfifo (create), lchmod and the path-based xattr
// setters/removers (ACLs and security labels change permissions), and the
// mkstemp/mkdtemp family, whose libc implementations open internally (not
// through a hookable call): the template is decided before, the created
// name after (a name a rule denies is removed again and EACCES returned, so
// a file existed for an instant; documented as the one exception to
// "nothing done").
//
// glibc's public aliases are hooked with the same checks: __open, __open64
// (open), _IO_fopen (fopen), __xmknod/__xmknodat (mknod), and
// _IO_file_fopen/_IO_file_open, which open a file into an existing FILE as
// freopen does inside libc (decided before the call, as freopen is). The
// GLIBC_PRIVATE __open_nocancel is not: it is libc's internal interface,
// and code that looks it up is code that finds libc's functions itself (the
// threat model's limit), as with dlsym(libc, "open").
//
// Calls that act on an open descriptor's file decide its /proc/self/fd
// name: fchmod/fchown/f*xattr (write), freopen(NULL, mode, stream) (the
// access the new mode adds to what the descriptor already has, from
// F_GETFL: glibc reopens /proc/self/fd/N inside libc; the same access again
// adds nothing, an O_PATH descriptor has none),
// linkat(fd, "", AT_EMPTY_PATH) (read and write, like link()'s existing
// path: any descriptor, O_PATH included, gets a new name), and
// fchownat/fchmodat(fd, "", AT_EMPTY_PATH) (write). The kernel names a
// file whose name was removed "PATH (deleted)"; the suffix is dropped
// when that name no longer leads to the file, so literal rules still match.
// A pathname AF_UNIX socket is decided here for hooks_net.cc
// (check_unix_socket_path, file_checks.h).
//
// Re-entrancy: these hooks do not hold the Guard while they check, so a
// signal handler that interrupts a check and opens a file is itself checked
// (a Guard held across the check would let the handler through unchecked).
// Only the enforcer's own libc use (symbol lookup, event reporting) marks
// the thread, and calls made from there pass straight through.
//
// Intent: O_RDONLY reads; O_WRONLY writes; O_RDWR both; O_CREAT, O_TRUNC and
// O_APPEND always write. fopen: "r" reads, "w"/"a" write, "+" both. link()
// and rename() check their existing path as read *and* write (a new name for
// the same content would otherwise let a read-protected file be read under
// an allowed name) and the new path as write; renameat2(RENAME_EXCHANGE)
// checks both paths as read and write (each content gets the other name).
//
// Not covered (stated plainly): raw system calls and static binaries (the
// seccomp/Landlock backstop of issue 3 covers those); O_PATH opens and
// O_TMPFILE (no content access by name; naming one goes through linkat(),
// which is checked); operations through an already-open descriptor other
// than those above (ftruncate and write need a descriptor opened for
// writing, which was checked at open; futimens is not checked);
// a race where a path component is swapped for a symbolic link between our
// check and the kernel's walk (the post-open check still catches opens, but
// a path operation may land); hard links created before the process started.
// When /proc is not mounted, the symbolic-link checks cannot resolve and the
// lexical decision stands.
#include <fcntl.h>
#include <linux/openat2.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include <atomic>
#include <cstring>

#include "fnguard/common/path.h"
#include "fnguard/enforcer/file_checks.h"
#include "fnguard/enforcer/runtime.h"
#include "fnguard/enforcer/spawn_actions.h"
#include "fnguard/events/json_writer.h"

// The fortified open variants (_FORTIFY_SOURCE) are not declared by the
// headers unless fortification is on.
extern "C" int __open_2(const char*, int);
extern "C" int __open64_2(const char*, int);
extern "C" int __openat_2(int, const char*, int);
extern "C" int __openat64_2(int, const char*, int);
// Public glibc aliases that no header declares (see the hooks below).
extern "C" int __open(const char*, int, ...);
extern "C" int __open64(const char*, int, ...);
extern "C" FILE* _IO_fopen(const char*, const char*);
extern "C" FILE* _IO_file_fopen(FILE*, const char*, const char*, int);
extern "C" FILE* _IO_file_open(FILE*, const char*, int, int, int, int);
extern "C" int __xmknod(int, const char*, mode_t, dev_t*);
extern "C" int __xmknodat(int, int, const char*, mode_t, dev_t*);

namespace fnguard::enforcer {
namespace {

using image::Control;
using image::Decision;

constexpr size_t kPathMax = 4096;
constexpr int kMaxLinkHops = 8;

// ---- Path helpers ----------------------------------------------------------

// True when `path` names the file open at `fd` (same device and inode,
// without following a last symbolic link).
bool names_file(int fd, const char* path) {
  struct stat open_file {};
  struct stat named {};
  if (syscall(SYS_newfstatat, fd, "", &open_file, AT_EMPTY_PATH) != 0) return false;
  if (syscall(SYS_newfstatat, AT_FDCWD, path, &named, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return open_file.st_dev == named.st_dev && open_file.st_ino == named.st_ino;
}

// The path of an open descriptor ("/proc/self/fd/N" link). False when it is
// not a file-system path (pipe, socket) or cannot be read.
//
// The kernel appends " (deleted)" to the name of a file whose name was
// removed (unlinked, st_nlink 0, or that one hard link removed). Rules are
// written against the name the file had, so the suffix is dropped when the
// name as shown does not lead to this file; a file whose real name ends in
// " (deleted)" keeps it.
bool fd_path(int fd, char* out, size_t cap) {
  char link[32] = "/proc/self/fd/";
  size_t len = std::strlen(link);
  char digits[12];
  size_t nd = 0;
  unsigned value = static_cast<unsigned>(fd);
  do {
    digits[nd++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (nd > 0) link[len++] = digits[--nd];
  link[len] = '\0';
  long n = syscall(SYS_readlinkat, AT_FDCWD, link, out, cap - 1);
  if (n <= 0) return false;
  out[n] = '\0';
  if (out[0] != '/') return false;
  static constexpr char kDeleted[] = " (deleted)";
  constexpr long kDeletedLen = sizeof kDeleted - 1;
  if (n > kDeletedLen && std::memcmp(out + n - kDeletedLen, kDeleted, kDeletedLen) == 0) {
    int saved = errno;
    if (!names_file(fd, out)) out[n - kDeletedLen] = '\0';
    errno = saved;
  }
  return true;
}

// True when `path` is absolute and already normal (no "//", "." or ".."
// component, no trailing slash), the common case, which needs no copy.
bool is_normal_absolute(const char* path) {
  if (path[0] != '/') return false;
  const char* p = path;
  size_t n = 0;
  while (*p != '\0') {
    // p points at a '/': look at the component after it.
    const char* c = p + 1;
    if (*c == '/' || *c == '\0')
      return p == path && *c == '\0';  // "//" or trailing "/" (but "/" is fine)
    if (c[0] == '.' && (c[1] == '/' || c[1] == '\0')) return false;
    if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0')) return false;
    p = c;
    while (*p != '\0' && *p != '/') ++p;
    n = static_cast<size_t>(p - path);
    if (n >= kPathMax) return false;
  }
  return true;
}

// The lexical absolute normal form of (dirfd, path): `path` itself when it
// is already normal, else written into out. nullptr when it cannot be made.
const char* lexical_form(int dirfd, const char* path, char* out) {
  if (is_normal_absolute(path)) return path;
  if (path[0] == '/') return normalize_path(nullptr, path, out, kPathMax) >= 0 ? out : nullptr;
  char base[kPathMax];
  if (dirfd == AT_FDCWD) {
    if (syscall(SYS_getcwd, base, sizeof base) <= 0 || base[0] != '/') return nullptr;
  } else if (!fd_path(dirfd, base, sizeof base)) {
    return nullptr;
  }
  return normalize_path(base, path, out, kPathMax) >= 0 ? out : nullptr;
}

// The lexical absolute normal form of (dirfd, path), always copied.
bool lexical_path(int dirfd, const char* path, char* out) {
  if (path[0] == '/') return normalize_path(nullptr, path, out, kPathMax) >= 0;
  char base[kPathMax];
  if (dirfd == AT_FDCWD) {
    if (syscall(SYS_getcwd, base, sizeof base) <= 0 || base[0] != '/') return false;
  } else if (!fd_path(dirfd, base, sizeof base)) {
    return false;
  }
  return normalize_path(base, path, out, kPathMax) >= 0;
}

// Splits `path` at its last slash into the directory part (as written) and
// the last component. False for paths whose last component is "", "." or
// "..", which name a directory the kernel resolves in full.
bool split_last(const char* path, char* dir, size_t cap, const char** name) {
  const char* slash = std::strrchr(path, '/');
  const char* last = slash != nullptr ? slash + 1 : path;
  if (last[0] == '\0' || std::strcmp(last, ".") == 0 || std::strcmp(last, "..") == 0) return false;
  if (slash == nullptr) {
    std::strcpy(dir, ".");
  } else {
    size_t n = static_cast<size_t>(slash - path);
    if (n == 0) n = 1;  // "/name": the directory is "/"
    if (n + 1 > cap) return false;
    std::memcpy(dir, path, n);
    dir[n] = '\0';
  }
  *name = last;
  return true;
}

// Resolves (dirfd, path) to the canonical path the kernel will act on:
// following the last component (opens, chmod, truncate) or not (unlink,
// rename, mkdir). A file that does not exist yet resolves through its
// parent directory; a dangling symbolic link as the last component is
// followed up to kMaxLinkHops times when `follow_last` (O_CREAT creates its
// target). False when it cannot be resolved (then the lexical decision
// stands, and the real call reports its own error).
bool canonical_path(int dirfd, const char* path, bool follow_last, char* out) {
  char current[kPathMax];
  char dir[kPathMax];
  if (std::strlen(path) >= sizeof current) return false;
  std::strcpy(current, path);
  int base = dirfd;
  int owned_base = -1;
  bool ok = false;
  for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
    int flags = O_PATH | O_CLOEXEC | (follow_last ? 0 : O_NOFOLLOW);
    long fd = syscall(SYS_openat, base, current, flags);
    if (fd >= 0) {
      ok = fd_path(static_cast<int>(fd), out, kPathMax);
      syscall(SYS_close, fd);
      break;
    }
    if (errno != ENOENT) break;
    const char* name = nullptr;
    if (!split_last(current, dir, sizeof dir, &name)) break;
    long parent = syscall(SYS_openat, base, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) break;
    if (follow_last) {
      char target[kPathMax];
      long n = syscall(SYS_readlinkat, parent, name, target, sizeof target - 1);
      if (n > 0) {  // a dangling link: continue with its target, relative to parent
        target[n] = '\0';
        std::strcpy(current, target);
        if (owned_base >= 0) syscall(SYS_close, owned_base);
        owned_base = static_cast<int>(parent);
        base = owned_base;
        continue;
      }
    }
    char parent_path[kPathMax];
    if (fd_path(static_cast<int>(parent), parent_path, sizeof parent_path)) {
      ok = normalize_path(parent_path, name, out, kPathMax) >= 0;
    }
    syscall(SYS_close, parent);
    break;
  }
  if (owned_base >= 0) syscall(SYS_close, owned_base);
  return ok;
}

// ---- Decisions -------------------------------------------------------------

// Which decision an event should describe: a block beats a logged allow,
// which beats no violation.
bool worse(const Decision& a, const Decision& b) {
  if (a.blocks() != b.blocks()) return a.blocks();
  return a.reports() && !b.reports();
}

struct Access {
  bool read = false;
  bool write = false;
};

// The first decision that reports among the controls the access touches.
Decision decide(const char* path, Access access) {
  Decision result{};
  image::Phase phase = current_phase();
  if (access.read && control_enabled(Control::kFilesRead)) {
    result = image::decide_path(policy(), Control::kFilesRead, path, phase);
  }
  if (access.write && control_enabled(Control::kFilesWrite)) {
    Decision d = image::decide_path(policy(), Control::kFilesWrite, path, phase);
    if (worse(d, result)) result = d;
  }
  return result;
}

// The taint decision for an access: the path as the caller wrote it (where
// "../../etc/passwd" from the event still shows) and its normal form.
Decision decide_taint(const Decision& so_far, Access access, const char* raw, const char* normal) {
  if (!any_taint_enabled()) return so_far;
  const char* subjects[] = {raw, normal, nullptr};
  Decision result = so_far;
  if (access.read && taint_enabled(Control::kFilesRead)) {
    Decision d = apply_taint(so_far, Control::kFilesRead, subjects);
    if (worse(d, result)) result = d;
  }
  if (access.write && taint_enabled(Control::kFilesWrite)) {
    Decision d = apply_taint(so_far, Control::kFilesWrite, subjects);
    if (worse(d, result)) result = d;
  }
  return result;
}

// A finding: the decision to report and the path it was made on.
struct Finding {
  Decision decision{};
  char target[kPathMax];
  bool found = false;

  void consider(const Decision& d, const char* path) {
    if (!d.reports()) return;
    if (found && !worse(d, decision)) return;
    decision = d;
    size_t n = strnlen(path, sizeof target - 1);
    std::memcpy(target, path, n);
    target[n] = '\0';
    found = true;
  }
};

Access access_for_flags(int flags) {
  Access a;
  int mode = flags & O_ACCMODE;
  a.read = mode == O_RDONLY || mode == O_RDWR;
  a.write = mode == O_WRONLY || mode == O_RDWR || (flags & (O_CREAT | O_TRUNC | O_APPEND)) != 0;
  return a;
}

bool enabled(Access a) {
  return (a.read && control_enabled(Control::kFilesRead)) ||
         (a.write && control_enabled(Control::kFilesWrite));
}

void flags_text(int flags, char* out, size_t cap) {
  out[0] = '\0';
  auto add = [&](const char* s) {
    if (out[0] != '\0') strncat(out, "|", cap - std::strlen(out) - 1);
    strncat(out, s, cap - std::strlen(out) - 1);
  };
  int mode = flags & O_ACCMODE;
  add(mode == O_WRONLY ? "O_WRONLY" : mode == O_RDWR ? "O_RDWR" : "O_RDONLY");
  if (flags & O_CREAT) add("O_CREAT");
  if (flags & O_EXCL) add("O_EXCL");
  if (flags & O_TRUNC) add("O_TRUNC");
  if (flags & O_APPEND) add("O_APPEND");
  if (flags & O_NOFOLLOW) add("O_NOFOLLOW");
  if (flags & O_DIRECTORY) add("O_DIRECTORY");
}

// Sends the event for a finding. `op` names the libc call; `flags` (opens
// only, else -1); `requested`: the path as the caller named it, included
// when it differs from the target (a link or a relative path).
__attribute__((noinline)) void emit(const Finding& f, const char* op, int flags,
                                    const char* requested, const void* caller) {
  char detail[kPathMax + 256];
  events::JsonWriter w(detail, sizeof detail);
  w.begin_object();
  w.field("op", op);
  if (flags != -1) {
    char text[128];
    flags_text(flags, text, sizeof text);
    w.field("flags", text);
  }
  if (requested != nullptr && std::strcmp(requested, f.target) != 0)
    w.field("requested", requested);
  w.end_object();
  Report r;
  r.decision = f.decision;
  r.target = f.target;
  r.detail = w.ok() ? detail : nullptr;
  r.taint_subject = requested;
  report_at(r, caller);
}

// ---- Opens -----------------------------------------------------------------

// The common body of every open-like hook. `real` performs the caller's open
// (used when the fast path cannot). Returns the descriptor or -1 with errno.
template <typename Real>
int checked_open(int dirfd, const char* path, int flags, mode_t mode, const char* op,
                 const void* caller, Real real) {
  if (!active() || unmapped_pointer(path) || (flags & O_PATH) != 0 ||
      (flags & __O_TMPFILE) == __O_TMPFILE) {
    return real();
  }
  Access access = access_for_flags(flags);
  if (!enabled(access)) return real();
  if (inside_enforcer()) return real();
  int saved_errno = errno;

  Finding finding;
  char lexical_buf[kPathMax];
  const char* lexical = lexical_form(dirfd, path, lexical_buf);
  bool have_lexical = lexical != nullptr;
  if (have_lexical) {
    finding.consider(decide(lexical, access), lexical);
    finding.consider(decide_taint(finding.decision, access, path, lexical), lexical);
  }
  if (finding.found && finding.decision.blocks()) {
    emit(finding, op, flags, path, caller);
    errno = EACCES;
    return -1;
  }

  // Fast path: no symbolic link anywhere, so the lexical path is the file.
  if (have_lexical) {
    open_how how{};
    how.flags = static_cast<uint64_t>(static_cast<unsigned>(flags));
    if ((flags & O_CREAT) != 0) how.mode = mode & 07777;
    how.resolve = RESOLVE_NO_SYMLINKS;
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || (errno != ELOOP && errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
                    errno != E2BIG && errno != EPERM)) {
      int result_errno = fd >= 0 ? saved_errno : errno;
      if (finding.found) emit(finding, op, flags, path, caller);
      errno = result_errno;
      return static_cast<int>(fd);
    }
  }

  // Slow path: a symbolic link is involved (or openat2 is unavailable).
  char resolved[kPathMax];
  if ((flags & (O_CREAT | O_TRUNC)) != 0 &&
      canonical_path(dirfd, path, (flags & O_NOFOLLOW) == 0, resolved)) {
    // Decide before the open creates or truncates anything.
    finding.consider(decide(resolved, access), resolved);
    if (finding.decision.blocks()) {
      emit(finding, op, flags, path, caller);
      errno = EACCES;
      return -1;
    }
  }
  errno = saved_errno;
  int fd = real();
  if (fd < 0) {
    int e = errno;
    if (finding.found) emit(finding, op, flags, path, caller);
    errno = e;
    return fd;
  }
  int result_errno = errno;
  char opened[kPathMax];
  if (fd_path(fd, opened, sizeof opened)) finding.consider(decide(opened, access), opened);
  if (finding.found) emit(finding, op, flags, path, caller);
  if (finding.found && finding.decision.blocks()) {
    syscall(SYS_close, fd);
    errno = EACCES;
    return -1;
  }
  errno = result_errno;
  return fd;
}

bool takes_mode(int flags) {
  return (flags & O_CREAT) != 0 || (flags & __O_TMPFILE) == __O_TMPFILE;
}

// ---- Path operations ---------------------------------------------------------

struct PathArg {
  int dirfd;
  const char* path;
  Access access;
  bool follow_last;
  // The existing path of a rename: when it is a directory, every file
  // below gets a new name, so a deny rule for anything inside decides too.
  bool moves_tree = false;
};

// The deny rules for anything inside directory `dir` (a rename of it would
// move those files out from under their rules: renaming /tmp/.aws moves a
// honeypot's credentials to an unwatched name).
void check_inside(const char* dir, Access access, Finding* finding) {
  struct stat st;
  if (syscall(SYS_newfstatat, AT_FDCWD, dir, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISDIR(st.st_mode)) {
    return;
  }
  char slash[kPathMax];
  size_t n = strnlen(dir, kPathMax);
  if (n + 2 > kPathMax) return;
  std::memcpy(slash, dir, n);
  if (n == 0 || slash[n - 1] != '/') slash[n++] = '/';
  slash[n] = '\0';
  image::Phase phase = current_phase();
  if (access.read && control_enabled(Control::kFilesRead))
    finding->consider(image::decide_inside(policy(), Control::kFilesRead, slash, phase), dir);
  if (access.write && control_enabled(Control::kFilesWrite))
    finding->consider(image::decide_inside(policy(), Control::kFilesWrite, slash, phase), dir);
}

// Checks one path of a path operation. Returns false when the call must
// fail; findings accumulate in `finding`.
void check_path(const PathArg& arg, Finding* finding) {
  char lexical[kPathMax];
  if (lexical_path(arg.dirfd, arg.path, lexical)) {
    finding->consider(decide(lexical, arg.access), lexical);
    finding->consider(decide_taint(finding->decision, arg.access, arg.path, lexical), lexical);
  }
  if (finding->found && finding->decision.blocks()) return;
  char resolved[kPathMax];
  int saved = errno;
  if (canonical_path(arg.dirfd, arg.path, arg.follow_last, resolved)) {
    finding->consider(decide(resolved, arg.access), resolved);
    if (arg.moves_tree && !(finding->found && finding->decision.blocks()))
      check_inside(resolved, Access{true, true}, finding);
  }
  errno = saved;
}

constexpr Access kWrite{false, true};
constexpr Access kReadWrite{true, true};

// Runs the checks for up to two paths, then `real` unless blocked.
// `deny_errno`: EACCES, or EPERM for ownership-type operations.
template <typename Real>
int checked_path_op(const PathArg* args, int count, const char* op, int deny_errno,
                    const void* caller, Real real) {
  if (!active()) return real();
  bool any = false;
  for (int i = 0; i < count; ++i) {
    if (args[i].path != nullptr && enabled(args[i].access)) any = true;
  }
  if (!any) return real();
  if (inside_enforcer()) return real();
  int saved_errno = errno;
  Finding findings[2];
  bool blocked = false;
  for (int i = 0; i < count; ++i) {
    if (unmapped_pointer(args[i].path) || args[i].path[0] == '\0' || !enabled(args[i].access)) {
      continue;
    }
    check_path(args[i], &findings[i]);
    if (findings[i].found) {
      emit(findings[i], op, -1, args[i].path, caller);
      blocked = blocked || findings[i].decision.blocks();
    }
  }
  if (blocked) {
    errno = deny_errno;
    return -1;
  }
  errno = saved_errno;
  return real();
}

// The file an open descriptor refers to; AT_FDCWD is the working directory.
bool descriptor_path(int fd, char* out) {
  if (fd == AT_FDCWD) return syscall(SYS_getcwd, out, kPathMax) > 0 && out[0] == '/';
  return fd >= 0 && fd_path(fd, out, kPathMax);
}

// Decides the file an open descriptor refers to (its /proc/self/fd name),
// for calls that act on a descriptor's file rather than on a path (fchmod,
// fchown, linkat/fchownat with AT_EMPTY_PATH, freopen with no path). False
// when the call must fail. A descriptor that is no file-system object (a
// pipe, a socket) or whose name cannot be read (no /proc) proceeds, as does
// the enforcer's own. errno is preserved.
bool descriptor_allowed(int fd, Access access, const char* op, const void* caller) {
  if (!active() || !enabled(access) || inside_enforcer() || is_own_fd(fd)) return true;
  int saved_errno = errno;
  char path[kPathMax];
  if (!descriptor_path(fd, path)) {
    errno = saved_errno;
    return true;
  }
  Finding finding;
  finding.consider(decide(path, access), path);
  if (finding.found) emit(finding, op, -1, nullptr, caller);
  errno = saved_errno;
  return !(finding.found && finding.decision.blocks());
}

#define CALLER __builtin_return_address(0)

}  // namespace

// ---- open family ---------------------------------------------------------------

#define MODE_ARG(flags)        \
  mode_t mode = 0;             \
  if (takes_mode(flags)) {     \
    va_list ap;                \
    va_start(ap, flags);       \
    mode = va_arg(ap, mode_t); \
    va_end(ap);                \
  }

FNGUARD_EXPORT int open(const char* path, int flags, ...) {
  MODE_ARG(flags);
  return checked_open(AT_FDCWD, path, flags, mode, "open", CALLER,
                      [&] { return REAL(open)(path, flags, mode); });
}

FNGUARD_EXPORT int open64(const char* path, int flags, ...) {
  MODE_ARG(flags);
  return checked_open(AT_FDCWD, path, flags, mode, "open", CALLER,
                      [&] { return REAL(open64)(path, flags, mode); });
}

FNGUARD_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  MODE_ARG(flags);
  return checked_open(dirfd, path, flags, mode, "openat", CALLER,
                      [&] { return REAL(openat)(dirfd, path, flags, mode); });
}

FNGUARD_EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  MODE_ARG(flags);
  return checked_open(dirfd, path, flags, mode, "openat", CALLER,
                      [&] { return REAL(openat64)(dirfd, path, flags, mode); });
}

// Fortified variants (_FORTIFY_SOURCE): no mode argument.

FNGUARD_EXPORT int __open_2(const char* path, int flags) {
  return checked_open(AT_FDCWD, path, flags, 0, "open", CALLER,
                      [&] { return REAL(__open_2)(path, flags); });
}

FNGUARD_EXPORT int __open64_2(const char* path, int flags) {
  return checked_open(AT_FDCWD, path, flags, 0, "open", CALLER,
                      [&] { return REAL(__open64_2)(path, flags); });
}

FNGUARD_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  return checked_open(dirfd, path, flags, 0, "openat", CALLER,
                      [&] { return REAL(__openat_2)(dirfd, path, flags); });
}

FNGUARD_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  return checked_open(dirfd, path, flags, 0, "openat", CALLER,
                      [&] { return REAL(__openat64_2)(dirfd, path, flags); });
}

// glibc's public aliases of open (the same function under another name).

FNGUARD_EXPORT int __open(const char* path, int flags, ...) {
  MODE_ARG(flags);
  return checked_open(AT_FDCWD, path, flags, mode, "__open", CALLER,
                      [&] { return REAL(__open)(path, flags, mode); });
}

FNGUARD_EXPORT int __open64(const char* path, int flags, ...) {
  MODE_ARG(flags);
  return checked_open(AT_FDCWD, path, flags, mode, "__open64", CALLER,
                      [&] { return REAL(__open64)(path, flags, mode); });
}

FNGUARD_EXPORT int creat(const char* path, mode_t mode) {
  int flags = O_CREAT | O_WRONLY | O_TRUNC;
  return checked_open(AT_FDCWD, path, flags, mode, "creat", CALLER,
                      [&] { return REAL(creat)(path, mode); });
}

FNGUARD_EXPORT int creat64(const char* path, mode_t mode) {
  int flags = O_CREAT | O_WRONLY | O_TRUNC;
  return checked_open(AT_FDCWD, path, flags, mode, "creat", CALLER,
                      [&] { return REAL(creat64)(path, mode); });
}

// ---- stdio -----------------------------------------------------------------------

namespace {

// open(2) flags for an fopen mode; false for a mode we do not understand
// (then the call passes to libc, which rejects it).
bool fopen_flags(const char* mode, int* flags) {
  if (mode == nullptr) return false;
  int f = 0;
  switch (mode[0]) {
    case 'r':
      f = O_RDONLY;
      break;
    case 'w':
      f = O_WRONLY | O_CREAT | O_TRUNC;
      break;
    case 'a':
      f = O_WRONLY | O_CREAT | O_APPEND;
      break;
    default:
      return false;
  }
  for (const char* p = mode + 1; *p != '\0' && *p != ','; ++p) {
    if (*p == '+') f = (f & ~O_ACCMODE) | O_RDWR;
    if (*p == 'x') f |= O_EXCL;
    if (*p == 'e') f |= O_CLOEXEC;
  }
  *flags = f;
  return true;
}

// fopen through checked_open + fdopen, so that stdio gets the same fast path
// and symbolic-link checks as open(). Modes with ",ccs=" (wide streams) are
// checked first and then opened by libc itself.
template <typename RealFopen>
FILE* checked_fopen(const char* path, const char* mode, const void* caller, RealFopen real_fopen) {
  int flags = 0;
  if (!active() || unmapped_pointer(path) || unmapped_pointer(mode) || !fopen_flags(mode, &flags) ||
      !enabled(access_for_flags(flags))) {
    return real_fopen();
  }
  if (std::strchr(mode, ',') != nullptr) {
    PathArg arg{AT_FDCWD, path, access_for_flags(flags), true};
    int r = checked_path_op(&arg, 1, "fopen", EACCES, caller, [] { return 0; });
    return r == 0 ? real_fopen() : nullptr;
  }
  int fd = checked_open(AT_FDCWD, path, flags, 0666, "fopen", caller, [&] {
    return static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, flags, 0666));
  });
  if (fd < 0) return nullptr;
  FILE* f = REAL(fdopen)(fd, mode);
  if (f == nullptr) {
    int e = errno;
    syscall(SYS_close, fd);
    errno = e;
  }
  return f;
}

// The access the open descriptor `fd` already has (F_GETFL, by the raw
// call: fcntl is hooked): none for an O_PATH descriptor, which can neither
// read nor write, or when it cannot be read. errno is preserved.
Access held_access(int fd) {
  int saved_errno = errno;
  long flags = fd >= 0 ? syscall(SYS_fcntl, fd, F_GETFL) : -1;
  errno = saved_errno;
  Access a;
  if (flags < 0 || (flags & O_PATH) != 0) return a;
  int mode = static_cast<int>(flags) & O_ACCMODE;
  a.read = mode == O_RDONLY || mode == O_RDWR;
  a.write = mode == O_WRONLY || mode == O_RDWR;
  return a;
}

template <typename RealFreopen>
FILE* checked_freopen(const char* path, const char* mode, FILE* stream, const void* caller,
                      RealFreopen real) {
  int flags = 0;
  if (!active() || !fopen_flags(mode, &flags) || !enabled(access_for_flags(flags))) {
    return real();
  }
  bool allowed;
  if (path == nullptr) {
    // freopen(NULL, mode, stream) reopens the stream's own file with the new
    // mode (glibc opens /proc/self/fd/N internally, where no hook sees it).
    // The file is decided for the access the new mode adds to what the
    // descriptor already has: the same access again gives the process
    // nothing new (freopen(NULL, "wb", stdout) with stdout redirected by the
    // shell to a file outside the allowed places), while a read-only
    // descriptor reopened for writing, or a write-only or O_PATH one
    // reopened for reading, gains access. (Truncation by "w" needs no more
    // than the write access the descriptor has: ftruncate would do.)
    int saved_errno = errno;
    int fd = stream != nullptr ? fileno(stream) : -1;
    errno = saved_errno;
    Access wanted = access_for_flags(flags);
    Access held = held_access(fd);
    Access added{wanted.read && !held.read, wanted.write && !held.write};
    allowed = (!added.read && !added.write) || descriptor_allowed(fd, added, "freopen", caller);
  } else {
    PathArg arg{AT_FDCWD, path, access_for_flags(flags), true};
    allowed = checked_path_op(&arg, 1, "freopen", EACCES, caller, [] { return 0; }) == 0;
  }
  if (!allowed) {
    // freopen closes the stream even when it fails.
    if (stream != nullptr) REAL(fclose)(stream);
    errno = EACCES;
    return nullptr;
  }
  return real();
}

}  // namespace

FNGUARD_EXPORT FILE* fopen(const char* path, const char* mode) {
  return checked_fopen(path, mode, CALLER, [&] { return REAL(fopen)(path, mode); });
}

FNGUARD_EXPORT FILE* fopen64(const char* path, const char* mode) {
  return checked_fopen(path, mode, CALLER, [&] { return REAL(fopen64)(path, mode); });
}

FNGUARD_EXPORT FILE* freopen(const char* path, const char* mode, FILE* stream) {
  return checked_freopen(path, mode, stream, CALLER,
                         [&] { return REAL(freopen)(path, mode, stream); });
}

FNGUARD_EXPORT FILE* freopen64(const char* path, const char* mode, FILE* stream) {
  return checked_freopen(path, mode, stream, CALLER,
                         [&] { return REAL(freopen64)(path, mode, stream); });
}

// Public glibc names of the same stdio opens (libc's own calls to them do
// not go through the dynamic linker, a program's do). _IO_fopen is fopen;
// _IO_file_fopen and _IO_file_open open a file into an existing FILE (what
// freopen does inside libc), so they are checked before, like freopen.

FNGUARD_EXPORT FILE* _IO_fopen(const char* path, const char* mode) {
  return checked_fopen(path, mode, CALLER, [&] { return REAL(_IO_fopen)(path, mode); });
}

namespace {

// A path check before an open that the caller's libc call performs itself.
bool stdio_open_allowed(const char* path, int flags, const char* op, const void* caller) {
  if (unmapped_pointer(path) || (flags & O_PATH) != 0 || (flags & __O_TMPFILE) == __O_TMPFILE) {
    return true;
  }
  PathArg arg{AT_FDCWD, path, access_for_flags(flags), (flags & O_NOFOLLOW) == 0};
  return checked_path_op(&arg, 1, op, EACCES, caller, [] { return 0; }) == 0;
}

}  // namespace

FNGUARD_EXPORT FILE* _IO_file_fopen(FILE* stream, const char* path, const char* mode,
                                    int is32not64) {
  int flags = 0;
  if (fopen_flags(mode, &flags) && !stdio_open_allowed(path, flags, "_IO_file_fopen", CALLER)) {
    return nullptr;
  }
  return REAL(_IO_file_fopen)(stream, path, mode, is32not64);
}

FNGUARD_EXPORT FILE* _IO_file_open(FILE* stream, const char* path, int flags, int prot,
                                   int read_write, int is32not64) {
  if (!stdio_open_allowed(path, flags, "_IO_file_open", CALLER)) return nullptr;
  return REAL(_IO_file_open)(stream, path, flags, prot, read_write, is32not64);
}

// ---- truncate ----------------------------------------------------------------------

FNGUARD_EXPORT int truncate(const char* path, off_t length) {
  PathArg arg{AT_FDCWD, path, kWrite, true};
  return checked_path_op(&arg, 1, "truncate", EACCES, CALLER,
                         [&] { return REAL(truncate)(path, length); });
}

FNGUARD_EXPORT int truncate64(const char* path, off64_t length) {
  PathArg arg{AT_FDCWD, path, kWrite, true};
  return checked_path_op(&arg, 1, "truncate", EACCES, CALLER,
                         [&] { return REAL(truncate64)(path, length); });
}

// ---- rename, link, symlink, unlink, mkdir, rmdir --------------------------------------

FNGUARD_EXPORT int rename(const char* from, const char* to) {
  PathArg args[2] = {{AT_FDCWD, from, kReadWrite, false, true}, {AT_FDCWD, to, kWrite, false}};
  return checked_path_op(args, 2, "rename", EACCES, CALLER, [&] { return REAL(rename)(from, to); });
}

FNGUARD_EXPORT int renameat(int fromfd, const char* from, int tofd, const char* to) {
  PathArg args[2] = {{fromfd, from, kReadWrite, false, true}, {tofd, to, kWrite, false}};
  return checked_path_op(args, 2, "renameat", EACCES, CALLER,
                         [&] { return REAL(renameat)(fromfd, from, tofd, to); });
}

FNGUARD_EXPORT int renameat2(int fromfd, const char* from, int tofd, const char* to,
                             unsigned flags) {
  // RENAME_EXCHANGE swaps the two: each file's content gets the other name,
  // so both are the existing path of a rename (read and write).
  Access to_access = (flags & RENAME_EXCHANGE) != 0 ? kReadWrite : kWrite;
  bool exchange = (flags & RENAME_EXCHANGE) != 0;
  PathArg args[2] = {{fromfd, from, kReadWrite, false, true},
                     {tofd, to, to_access, false, exchange}};
  return checked_path_op(args, 2, "renameat2", EACCES, CALLER,
                         [&] { return REAL(renameat2)(fromfd, from, tofd, to, flags); });
}

FNGUARD_EXPORT int link(const char* from, const char* to) {
  PathArg args[2] = {{AT_FDCWD, from, kReadWrite, false}, {AT_FDCWD, to, kWrite, false}};
  return checked_path_op(args, 2, "link", EACCES, CALLER, [&] { return REAL(link)(from, to); });
}

FNGUARD_EXPORT int linkat(int fromfd, const char* from, int tofd, const char* to, int flags) {
  // linkat(fd, "", ..., AT_EMPTY_PATH) gives a new name to the file open at
  // fd: an O_TMPFILE, but also any descriptor, O_PATH ones included (which
  // are never checked at open). Like link()'s existing path, that file is
  // decided for read and write.
  bool by_descriptor = from != nullptr && from[0] == '\0' && (flags & AT_EMPTY_PATH) != 0;
  if (by_descriptor && !descriptor_allowed(fromfd, kReadWrite, "linkat", CALLER)) {
    errno = EACCES;
    return -1;
  }
  PathArg args[2] = {
      {fromfd, by_descriptor ? nullptr : from, kReadWrite, (flags & AT_SYMLINK_FOLLOW) != 0},
      {tofd, to, kWrite, false}};
  return checked_path_op(args, 2, "linkat", EACCES, CALLER,
                         [&] { return REAL(linkat)(fromfd, from, tofd, to, flags); });
}

FNGUARD_EXPORT int symlink(const char* target, const char* linkpath) {
  PathArg arg{AT_FDCWD, linkpath, kWrite, false};
  return checked_path_op(&arg, 1, "symlink", EACCES, CALLER,
                         [&] { return REAL(symlink)(target, linkpath); });
}

FNGUARD_EXPORT int symlinkat(const char* target, int dirfd, const char* linkpath) {
  PathArg arg{dirfd, linkpath, kWrite, false};
  return checked_path_op(&arg, 1, "symlinkat", EACCES, CALLER,
                         [&] { return REAL(symlinkat)(target, dirfd, linkpath); });
}

FNGUARD_EXPORT int unlink(const char* path) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "unlink", EACCES, CALLER, [&] { return REAL(unlink)(path); });
}

FNGUARD_EXPORT int unlinkat(int dirfd, const char* path, int flags) {
  PathArg arg{dirfd, path, kWrite, false};
  return checked_path_op(&arg, 1, "unlinkat", EACCES, CALLER,
                         [&] { return REAL(unlinkat)(dirfd, path, flags); });
}

FNGUARD_EXPORT int remove(const char* path) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "remove", EACCES, CALLER, [&] { return REAL(remove)(path); });
}

FNGUARD_EXPORT int mkdir(const char* path, mode_t mode) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "mkdir", EACCES, CALLER, [&] { return REAL(mkdir)(path, mode); });
}

FNGUARD_EXPORT int mkdirat(int dirfd, const char* path, mode_t mode) {
  PathArg arg{dirfd, path, kWrite, false};
  return checked_path_op(&arg, 1, "mkdirat", EACCES, CALLER,
                         [&] { return REAL(mkdirat)(dirfd, path, mode); });
}

FNGUARD_EXPORT int rmdir(const char* path) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "rmdir", EACCES, CALLER, [&] { return REAL(rmdir)(path); });
}

// ---- permissions, owner, times -------------------------------------------------------

FNGUARD_EXPORT int chmod(const char* path, mode_t mode) {
  PathArg arg{AT_FDCWD, path, kWrite, true};
  return checked_path_op(&arg, 1, "chmod", EPERM, CALLER, [&] { return REAL(chmod)(path, mode); });
}

FNGUARD_EXPORT int fchmodat(int dirfd, const char* path, mode_t mode, int flags) {
  // AT_EMPTY_PATH with "" (fchmodat2, glibc 2.39+) acts on dirfd's file.
  bool by_descriptor = path != nullptr && path[0] == '\0' && (flags & AT_EMPTY_PATH) != 0;
  if (by_descriptor && !descriptor_allowed(dirfd, kWrite, "fchmodat", CALLER)) {
    errno = EPERM;
    return -1;
  }
  PathArg arg{dirfd, by_descriptor ? nullptr : path, kWrite, (flags & AT_SYMLINK_NOFOLLOW) == 0};
  return checked_path_op(&arg, 1, "fchmodat", EPERM, CALLER,
                         [&] { return REAL(fchmodat)(dirfd, path, mode, flags); });
}

FNGUARD_EXPORT int chown(const char* path, uid_t owner, gid_t group) {
  PathArg arg{AT_FDCWD, path, kWrite, true};
  return checked_path_op(&arg, 1, "chown", EPERM, CALLER,
                         [&] { return REAL(chown)(path, owner, group); });
}

FNGUARD_EXPORT int lchown(const char* path, uid_t owner, gid_t group) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "lchown", EPERM, CALLER,
                         [&] { return REAL(lchown)(path, owner, group); });
}

FNGUARD_EXPORT int fchownat(int dirfd, const char* path, uid_t owner, gid_t group, int flags) {
  // AT_EMPTY_PATH with "" acts on dirfd's file itself (the working directory
  // for AT_FDCWD): decided as fchown() decides its descriptor.
  bool by_descriptor = path != nullptr && path[0] == '\0' && (flags & AT_EMPTY_PATH) != 0;
  if (by_descriptor && !descriptor_allowed(dirfd, kWrite, "fchownat", CALLER)) {
    errno = EPERM;
    return -1;
  }
  PathArg arg{dirfd, by_descriptor ? nullptr : path, kWrite, (flags & AT_SYMLINK_NOFOLLOW) == 0};
  return checked_path_op(&arg, 1, "fchownat", EPERM, CALLER,
                         [&] { return REAL(fchownat)(dirfd, path, owner, group, flags); });
}

FNGUARD_EXPORT int utime(const char* path, const struct utimbuf* times) {
  PathArg arg{AT_FDCWD, path, kWrite, true};
  return checked_path_op(&arg, 1, "utime", EPERM, CALLER, [&] { return REAL(utime)(path, times); });
}

FNGUARD_EXPORT int utimes(const char* path, const struct timeval times[2]) {
  PathArg arg{AT_FDCWD, path, kWrite, true};
  return checked_path_op(&arg, 1, "utimes", EPERM, CALLER,
                         [&] { return REAL(utimes)(path, times); });
}

FNGUARD_EXPORT int lutimes(const char* path, const struct timeval times[2]) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "lutimes", EPERM, CALLER,
                         [&] { return REAL(lutimes)(path, times); });
}

FNGUARD_EXPORT int futimesat(int dirfd, const char* path, const struct timeval times[2]) {
  PathArg arg{dirfd, path, kWrite, true};
  return checked_path_op(&arg, 1, "futimesat", EPERM, CALLER,
                         [&] { return REAL(futimesat)(dirfd, path, times); });
}

FNGUARD_EXPORT int utimensat(int dirfd, const char* path, const struct timespec times[2],
                             int flags) {
  // A null path acts on dirfd itself (futimens).
  PathArg arg{dirfd, path, kWrite, (flags & AT_SYMLINK_NOFOLLOW) == 0};
  return checked_path_op(&arg, 1, "utimensat", EPERM, CALLER,
                         [&] { return REAL(utimensat)(dirfd, path, times, flags); });
}

FNGUARD_EXPORT int lchmod(const char* path, mode_t mode) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "lchmod", EPERM, CALLER,
                         [&] { return REAL(lchmod)(path, mode); });
}

// ---- special files, extended attributes --------------------------------------------

FNGUARD_EXPORT int mknod(const char* path, mode_t mode, dev_t dev) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "mknod", EACCES, CALLER,
                         [&] { return REAL(mknod)(path, mode, dev); });
}

FNGUARD_EXPORT int mknodat(int dirfd, const char* path, mode_t mode, dev_t dev) {
  PathArg arg{dirfd, path, kWrite, false};
  return checked_path_op(&arg, 1, "mknodat", EACCES, CALLER,
                         [&] { return REAL(mknodat)(dirfd, path, mode, dev); });
}

// The pre-2.33 names of mknod/mknodat, still exported by glibc (with a
// version argument first).
FNGUARD_EXPORT int __xmknod(int version, const char* path, mode_t mode, dev_t* dev) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "__xmknod", EACCES, CALLER,
                         [&] { return REAL(__xmknod)(version, path, mode, dev); });
}

FNGUARD_EXPORT int __xmknodat(int version, int dirfd, const char* path, mode_t mode, dev_t* dev) {
  PathArg arg{dirfd, path, kWrite, false};
  return checked_path_op(&arg, 1, "__xmknodat", EACCES, CALLER,
                         [&] { return REAL(__xmknodat)(version, dirfd, path, mode, dev); });
}

FNGUARD_EXPORT int mkfifo(const char* path, mode_t mode) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "mkfifo", EACCES, CALLER,
                         [&] { return REAL(mkfifo)(path, mode); });
}

FNGUARD_EXPORT int mkfifoat(int dirfd, const char* path, mode_t mode) {
  PathArg arg{dirfd, path, kWrite, false};
  return checked_path_op(&arg, 1, "mkfifoat", EACCES, CALLER,
                         [&] { return REAL(mkfifoat)(dirfd, path, mode); });
}

FNGUARD_EXPORT int setxattr(const char* path, const char* name, const void* value, size_t size,
                            int flags) {
  PathArg arg{AT_FDCWD, path, kWrite, true};
  return checked_path_op(&arg, 1, "setxattr", EPERM, CALLER,
                         [&] { return REAL(setxattr)(path, name, value, size, flags); });
}

FNGUARD_EXPORT int lsetxattr(const char* path, const char* name, const void* value, size_t size,
                             int flags) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "lsetxattr", EPERM, CALLER,
                         [&] { return REAL(lsetxattr)(path, name, value, size, flags); });
}

FNGUARD_EXPORT int removexattr(const char* path, const char* name) {
  PathArg arg{AT_FDCWD, path, kWrite, true};
  return checked_path_op(&arg, 1, "removexattr", EPERM, CALLER,
                         [&] { return REAL(removexattr)(path, name); });
}

FNGUARD_EXPORT int lremovexattr(const char* path, const char* name) {
  PathArg arg{AT_FDCWD, path, kWrite, false};
  return checked_path_op(&arg, 1, "lremovexattr", EPERM, CALLER,
                         [&] { return REAL(lremovexattr)(path, name); });
}

// ---- mkstemp family ------------------------------------------------------------------

namespace {

// Decides the template before creation (a denied directory fails at once,
// nothing created) and the created file after; `undo` removes what was
// created when the final name is denied.
template <typename Real, typename Undo>
int checked_temp(char* tmpl, const char* op, const void* caller, Real real, Undo undo) {
  PathArg arg{AT_FDCWD, tmpl, kWrite, false};
  if (checked_path_op(&arg, 1, op, EACCES, caller, [] { return 0; }) != 0) return -1;
  int result = real();
  if (result < 0 || !active() || !control_enabled(Control::kFilesWrite)) return result;
  if (inside_enforcer()) return result;
  int saved_errno = errno;
  Finding finding;
  char resolved[kPathMax];
  if (canonical_path(AT_FDCWD, tmpl, false, resolved))
    finding.consider(decide(resolved, kWrite), resolved);
  if (finding.found && finding.decision.blocks()) {
    emit(finding, op, -1, tmpl, caller);
    undo(result);
    errno = EACCES;
    return -1;
  }
  if (finding.found) emit(finding, op, -1, tmpl, caller);
  errno = saved_errno;
  return result;
}

}  // namespace

#define TEMP_FILE_HOOK(name, params, call)                    \
  FNGUARD_EXPORT int name params {                            \
    return checked_temp(                                      \
        tmpl, #name, CALLER, [&] { return REAL(name) call; }, \
        [&](int fd) {                                         \
          syscall(SYS_unlinkat, AT_FDCWD, tmpl, 0);           \
          syscall(SYS_close, fd);                             \
        });                                                   \
  }

TEMP_FILE_HOOK(mkstemp, (char* tmpl), (tmpl))
TEMP_FILE_HOOK(mkstemp64, (char* tmpl), (tmpl))
TEMP_FILE_HOOK(mkostemp, (char* tmpl, int flags), (tmpl, flags))
TEMP_FILE_HOOK(mkostemp64, (char* tmpl, int flags), (tmpl, flags))
TEMP_FILE_HOOK(mkstemps, (char* tmpl, int suffixlen), (tmpl, suffixlen))
TEMP_FILE_HOOK(mkstemps64, (char* tmpl, int suffixlen), (tmpl, suffixlen))
TEMP_FILE_HOOK(mkostemps, (char* tmpl, int suffixlen, int flags), (tmpl, suffixlen, flags))
TEMP_FILE_HOOK(mkostemps64, (char* tmpl, int suffixlen, int flags), (tmpl, suffixlen, flags))

FNGUARD_EXPORT char* mkdtemp(char* tmpl) {
  int r = checked_temp(
      tmpl, "mkdtemp", CALLER, [&] { return REAL(mkdtemp)(tmpl) != nullptr ? 0 : -1; },
      [&](int) { syscall(SYS_unlinkat, AT_FDCWD, tmpl, AT_REMOVEDIR); });
  return r == 0 ? tmpl : nullptr;
}

// ---- posix_spawn file actions ----------------------------------------------------------
//
// glibc carries out a posix_spawn_file_actions_addopen() in the spawned child,
// before the exec, with an internal open no hook sees; the program then reads
// or writes the descriptor. So the open is decided when it is added, as
// open(path, oflag) would be (relative paths against the cwd at that time,
// links resolved now); a blocked one makes addopen return EACCES and the
// action is never recorded.
//
// Actions run in order in the child, so a relative path added after
// posix_spawn_file_actions_add(f)chdir_np() resolves against that directory,
// not against the cwd it is decided on here. Such a combination cannot be
// decided: a relative addopen on an actions object that received a chdir
// action (spawn_actions.h) is a violation ("files.read.unverifiable" /
// "files.write.unverifiable"), blocked in block mode. Every chdir action is
// tracked: while kSpawnChdirSlots (128) live objects hold one, a further
// add(f)chdir_np fails with ENOMEM and adds nothing.
// Limit: the path is decided before the spawn; a file swapped for a link in
// between is opened unchecked (the time-of-check window of every path check).

namespace {

// The actions objects that received a change of directory (spawn_actions.h).
std::atomic<const void*> g_chdir_actions[kSpawnChdirSlots];

}  // namespace

bool spawn_actions_note_chdir(const void* actions, bool* added) {
  *added = false;
  for (auto& slot : g_chdir_actions) {
    if (slot.load() == actions) return true;
  }
  for (auto& slot : g_chdir_actions) {
    const void* empty = nullptr;
    if (slot.compare_exchange_strong(empty, actions)) {
      *added = true;
      return true;
    }
  }
  return false;
}

void spawn_actions_forget(const void* actions) {
  for (auto& slot : g_chdir_actions) {
    if (slot.load(std::memory_order_relaxed) != actions) continue;
    const void* expected = actions;
    slot.compare_exchange_strong(expected, nullptr);
  }
}

bool spawn_actions_change_directory(const void* actions) {
  if (actions == nullptr) return false;
  for (auto& slot : g_chdir_actions) {
    if (slot.load() == actions) return true;
  }
  return false;
}

namespace {

// The access cannot be decided: a violation of the file control(s) it
// touches, in the stronger of their modes.
__attribute__((noinline)) bool report_unverifiable_open(const char* path, int oflag, Access access,
                                                        const void* caller) {
  const image::View& view = policy();
  Decision d;
  d.verdict = image::Verdict::kDeny;
  d.rule = image::kNoRule;
  const char* rule = nullptr;
  if (access.read && control_enabled(Control::kFilesRead)) {
    d.control = Control::kFilesRead;
    d.mode = view.control(Control::kFilesRead).mode;
    rule = "files.read.unverifiable";
  }
  if (access.write && control_enabled(Control::kFilesWrite) &&
      view.control(Control::kFilesWrite).mode > d.mode) {
    d.control = Control::kFilesWrite;
    d.mode = view.control(Control::kFilesWrite).mode;
    rule = "files.write.unverifiable";
  }
  if (!d.reports()) return false;
  char detail[kPathMax + 256];
  char text[128];
  flags_text(oflag, text, sizeof text);
  events::JsonWriter w(detail, sizeof detail);
  w.begin_object();
  w.field("op", "posix_spawn_file_actions_addopen");
  w.field("flags", text);
  w.field("reason", "a relative path after posix_spawn_file_actions_addchdir_np");
  w.end_object();
  Report r;
  r.decision = d;
  r.target = path;
  r.detail = w.ok() ? detail : nullptr;
  r.rule = rule;
  report_at(r, caller);
  return d.blocks();
}

}  // namespace

FNGUARD_EXPORT int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t* actions, int fd,
                                                    const char* path, int oflag, mode_t mode) {
  auto real = REAL(posix_spawn_file_actions_addopen);
  if (real == nullptr) return ENOSYS;
  if (!active() || path == nullptr || (oflag & O_PATH) != 0 ||
      (oflag & __O_TMPFILE) == __O_TMPFILE) {
    return real(actions, fd, path, oflag, mode);
  }
  Access access = access_for_flags(oflag);
  if (!enabled(access) || inside_enforcer()) return real(actions, fd, path, oflag, mode);
  int saved_errno = errno;
  if (path[0] != '/' && spawn_actions_change_directory(actions)) {
    bool blocked = report_unverifiable_open(path, oflag, access, CALLER);
    errno = saved_errno;
    if (blocked) return EACCES;
    return real(actions, fd, path, oflag, mode);
  }
  Finding finding;
  PathArg arg{AT_FDCWD, path, access, (oflag & O_NOFOLLOW) == 0};
  if (path[0] != '\0') check_path(arg, &finding);
  if (finding.found) emit(finding, "posix_spawn_file_actions_addopen", oflag, path, CALLER);
  errno = saved_errno;
  if (finding.found && finding.decision.blocks()) return EACCES;  // an error number, as glibc's
  return real(actions, fd, path, oflag, mode);
}

namespace {

// Records the change of directory before glibc adds it (`add`), so that no
// actions object changes directory untracked: with the table full the
// action is not added and the call fails with ENOMEM (spawn_actions.h).
template <typename AddAction>
int add_chdir_action(const void* actions, AddAction add) {
  if (!active()) return add();
  bool added = false;
  if (!spawn_actions_note_chdir(actions, &added)) return ENOMEM;
  int rc = add();
  if (rc != 0 && added) spawn_actions_forget(actions);
  return rc;
}

}  // namespace

FNGUARD_EXPORT int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t* actions,
                                                        const char* path) {
  auto real = REAL(posix_spawn_file_actions_addchdir_np);
  if (real == nullptr) return ENOSYS;
  return add_chdir_action(actions, [&] { return real(actions, path); });
}

FNGUARD_EXPORT int posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t* actions,
                                                         int fd) {
  auto real = REAL(posix_spawn_file_actions_addfchdir_np);
  if (real == nullptr) return ENOSYS;
  return add_chdir_action(actions, [&] { return real(actions, fd); });
}

FNGUARD_EXPORT int posix_spawn_file_actions_init(posix_spawn_file_actions_t* actions) {
  auto real = REAL(posix_spawn_file_actions_init);
  if (real == nullptr) return ENOSYS;
  spawn_actions_forget(actions);  // a new object at the address of one never destroyed
  return real(actions);
}

FNGUARD_EXPORT int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t* actions) {
  auto real = REAL(posix_spawn_file_actions_destroy);
  if (real == nullptr) return ENOSYS;
  spawn_actions_forget(actions);
  return real(actions);
}

// ---- descriptor-based permission changes ----------------------------------------------
//
// fchmod/fchown/fsetxattr work on a descriptor opened for reading, so a
// read-allowed open would otherwise change the permissions of a file that
// files.write denies. The descriptor's path (/proc/self/fd/N) is decided.

namespace {

template <typename Real>
int checked_fd_op(int fd, const char* op, Real real, const void* caller) {
  if (!descriptor_allowed(fd, kWrite, op, caller)) {
    errno = EPERM;
    return -1;
  }
  return real();
}

}  // namespace

FNGUARD_EXPORT int fchmod(int fd, mode_t mode) {
  return checked_fd_op(
      fd, "fchmod", [&] { return REAL(fchmod)(fd, mode); }, CALLER);
}

FNGUARD_EXPORT int fchown(int fd, uid_t owner, gid_t group) {
  return checked_fd_op(
      fd, "fchown", [&] { return REAL(fchown)(fd, owner, group); }, CALLER);
}

FNGUARD_EXPORT int fsetxattr(int fd, const char* name, const void* value, size_t size, int flags) {
  return checked_fd_op(
      fd, "fsetxattr", [&] { return REAL(fsetxattr)(fd, name, value, size, flags); }, CALLER);
}

FNGUARD_EXPORT int fremovexattr(int fd, const char* name) {
  return checked_fd_op(
      fd, "fremovexattr", [&] { return REAL(fremovexattr)(fd, name); }, CALLER);
}

// ---- AF_UNIX socket files (for hooks_net.cc) -----------------------------------------

int check_unix_socket_path(const char* path, bool create, const char* op, const void* caller) {
  PathArg arg{AT_FDCWD, path, kWrite, !create};
  return checked_path_op(&arg, 1, op, EACCES, caller, [] { return 0; }) == 0 ? 0 : EACCES;
}

}  // namespace fnguard::enforcer
