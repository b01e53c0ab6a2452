// Process hooks: every libc entry point that starts a program (execve,
// execv, execvp, execvpe, execl, execlp, execle, fexecve, execveat,
// posix_spawn, posix_spawnp, system, popen, and glibc's public popen names
// _IO_popen and _IO_proc_open), dlopen and dlmopen, mmap and mmap64 (a
// file mapped with PROT_EXEC), and the environment
// functions that could strip the enforcer from children (setenv, unsetenv,
// putenv, clearenv). posix_spawn's file actions are decided in
// hooks_files.cc.
//
// Decisions, stated plainly:
// - process.exec is decided on the file that will run: `resolved` is the
//   canonical path of the file (opened with O_PATH, read back from
//   /proc/self/fd), `invoked` the normalised path as asked. The *p variants
//   search PATH as glibc does (first regular, executable candidate; "" in
//   PATH is the cwd; no PATH means "/bin:/usr/bin") so the decision sees the
//   same file.
// - What the kernel and the dynamic loader run without another exec is
//   decided too (check_what_runs):
//   - A "#!" script is decided as the script, and every interpreter of its
//     chain (the kernel follows nested scripts: the exec'd one and up to 4
//     script interpreters, then a program) is checked for exec_from_writable,
//     and blocks the script when an explicit process.exec rule denies it
//     ("#!/usr/bin/nc" would otherwise run a denied program under another
//     name; the default is not applied to interpreters, so default-deny
//     policies need not list every interpreter). A relative interpreter is
//     resolved against the cwd, as the kernel opens it (also for execveat,
//     whose directory descriptor names the script only). The first
//     interpreter is named in the event's detail.
//   - The dynamic loader run as a program (ld-linux*.so*, ld64.so*, ld.so*,
//     ld-musl-*, see fnguard/common/exec_format.h), directly or as the last
//     interpreter of a chain: its options are skipped as glibc 2.36 and musl
//     parse them and its program is decided like an exec (rules, default,
//     exec_from_writable), resolved against the cwd; events name the
//     program as target and the loader in detail.loader. --list, --verify,
//     --help and --version run nothing and are allowed, and so does glibc's
//     loader given LD_TRACE_LOADED_OBJECTS in the exec's environment (what
//     ldd runs: trace mode lists the program's libraries, see
//     loader_trace_entry in exec_format.h).
//   - Unverifiable (rule "process.exec.unverifiable", or
//     "process.exec_from_writable.unverifiable" when only that control
//     applies; blocked in block mode): an unknown loader option, a loader
//     program named without '/' (glibc looks it up in ld.so.cache), a loader
//     loading a loader, more than 64 arguments before the program, a relative
//     posix_spawn program after a chdir file action, and a file we cannot
//     read (execute-only, mode 0111) that the caller owns or may write: the
//     kernel reads its "#!" line, we cannot, and the caller chose what it
//     says. An unreadable file the caller could not have written (a system
//     program installed execute-only) runs as before; the exec supervisor,
//     with root, reads and decides it.
// - process.exec_from_writable: the resolved file (or an interpreter, or the
//   loader's program) lies in a writable location
//   (image::is_writable_location), or is a memfd or a deleted file
//   (fexecve/execveat of a descriptor).
// - require.preload: when the image has kRequirePreload, running a static
//   ELF (no PT_INTERP, see elf_check.h), or a set-user-ID/set-group-ID
//   program that changes the process's identity (ld.so then ignores
//   LD_PRELOAD), escapes the enforcer, so it is a process.exec violation
//   named "require.preload", in process.exec's mode (the top-level mode
//   when process.exec is off). Programs with file capabilities are not
//   detected.
// - Blocked: the call fails with EACCES and nothing starts (posix_spawn*
//   return EACCES; system() returns the status of a shell that could not
//   run, 127 << 8, with errno EACCES; popen() returns NULL with EACCES;
//   dlopen() and dlmopen() return NULL and dlerror() says why).
// - Every exec/spawn passes an environment carrying LD_PRELOAD and
//   FNGUARD_ENFORCER (exec_env.h), also when the caller passed env={}.
//   system()/popen() pass `environ` to /bin/sh, so `environ` is repaired
//   first. setenv/unsetenv/putenv/clearenv cannot remove or replace our
//   LD_PRELOAD entry or FNGUARD_ENFORCER: they report success and keep them
//   (other LD_PRELOAD entries may be set and removed freely).
//
// vfork: CPython runs execve() in a vfork child that shares memory, and
// thread-local storage, with its parent. So no hook holds the re-entrancy
// Guard across the real exec call (a successful exec would leave the parent
// thread's guard depth raised forever, switching enforcement off in it), no
// hook allocates, and all buffers are on the stack (the deepest path, a
// posix_spawnp of a "#!" chain ending in the loader under name rules, uses
// about 75 KiB of stack: -fstack-usage; the old single-interpreter check
// about 55 KiB).
//
// Limits (closed by the seccomp exec supervisor of issue 3, not here):
// - A raw syscall(SYS_execve), inline assembly, or a static binary's own
//   execs never reach these hooks.
// - The check and the exec are two steps: a file swapped between them
//   (symlink race) is not seen.
// - The loader is recognised by name: a copy of it under another name is
//   not (exec_from_writable catches the copy where it is written). Of the
//   libraries the loader is told to load (LD_PRELOAD, LD_AUDIT, --preload,
//   --audit: check_libraries) a bare name is looked up only along
//   --library-path or LD_LIBRARY_PATH. A program's own dependencies are not
//   looked up; instead every directory of LD_LIBRARY_PATH, --library-path
//   and GCONV_PATH in a writable location is a violation
//   (check_search_dirs), whether or not it holds a library yet.
// - dlopen of a bare name is checked only along LD_LIBRARY_PATH (what the
//   loader searches first for most programs); RPATH/RUNPATH/ld.so.cache
//   locations are not writable locations on a normal system. The real
//   dlopen is reached by a tail call so that it sees the caller's return
//   address (its RUNPATH and $ORIGIN); that needs an optimised build.
// - A memfd or deleted file run via fexecve always counts as writable.
// Hooks test pointers that libc headers declare nonnull: a buggy caller
// must get an error, not a crash inside the enforcer.
#pragma GCC diagnostic ignored "-Wnonnull-compare"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstring>

#include "fnguard/common/exec_format.h"
#include "fnguard/common/path.h"
#include "fnguard/common/sha256.h"
#include "fnguard/enforcer/elf_check.h"
#include "fnguard/enforcer/exec_env.h"
#include "fnguard/enforcer/exec_syscalls.h"
#include "fnguard/enforcer/protocol.h"
#include "fnguard/enforcer/runtime.h"
#include "fnguard/enforcer/spawn_actions.h"
#include "fnguard/events/json_writer.h"

namespace fnguard::enforcer {
namespace {

constexpr size_t kPathMax = 4096;
constexpr size_t kDetailMax = 2048;
constexpr size_t kArgvShown = 32;
constexpr size_t kArgShownMax = 256;
constexpr size_t kPathFieldMax = 512;  // a loader's path in the detail

struct ExecTarget {
  char invoked[kPathMax];
  char resolved[kPathMax];
  char open_path[kPathMax];  // what to open for hashing and probing
  bool exists = false;
  bool special = false;  // memfd or deleted file: writable by definition
};

bool ends_with(const char* s, const char* suffix) {
  size_t n = std::strlen(s);
  size_t m = std::strlen(suffix);
  return n >= m && std::memcmp(s + n - m, suffix, m) == 0;
}

void copy_str(char* out, size_t cap, const char* s) {
  size_t i = 0;
  for (; s[i] != '\0' && i + 1 < cap; ++i) out[i] = s[i];
  out[i] = '\0';
}

bool is_special_target(const char* target) {
  return std::strncmp(target, "/memfd:", 7) == 0 || ends_with(target, " (deleted)");
}

// The target of an already open descriptor (fexecve, execveat with
// AT_EMPTY_PATH).
void resolve_fd(int fd, ExecTarget* t) {
  t->exists = sys::fd_target(fd, t->resolved, sizeof t->resolved) > 0;
  if (!t->exists) copy_str(t->resolved, sizeof t->resolved, "(unknown)");
  copy_str(t->invoked, sizeof t->invoked, t->resolved);
  sys::proc_fd_path(fd, t->open_path);
  t->special = t->exists && is_special_target(t->resolved);
}

// `path` relative to `dirfd` (AT_FDCWD: the cwd).
void resolve_path(int dirfd, const char* path, bool nofollow, ExecTarget* t) {
  t->exists = false;
  t->special = false;
  char base[kPathMax];
  const char* base_ptr = nullptr;
  bool base_known = true;  // the directory `path` is relative to has a real absolute path
  if (path[0] != '/') {
    long n = dirfd == AT_FDCWD ? sys::getcwd(base, sizeof base)
                               : sys::fd_target(dirfd, base, sizeof base);
    base_known = n > 0 && base[0] == '/' && !ends_with(base, " (deleted)");
    base_ptr = (n > 0 && base[0] == '/') ? base : "/";
  }
  bool normalized = normalize_path(base_ptr, path, t->invoked, sizeof t->invoked) >= 0;
  if (!normalized) copy_str(t->invoked, sizeof t->invoked, path);
  int flags = O_PATH | (nofollow ? O_NOFOLLOW : 0);
  // Fast path: with no symbolic link on the way, the normalised path is the
  // file's own path, and the /proc/self/fd readlink below is not needed.
  // (Without links, ".." lexically and in the kernel's walk agree.)
  if (normalized && base_known) {
    int fd = sys::openat_no_symlinks(dirfd, path, flags);
    if (fd >= 0 || fd == -ENOENT || fd == -ENOTDIR) {
      copy_str(t->resolved, sizeof t->resolved, t->invoked);
      copy_str(t->open_path, sizeof t->open_path, t->invoked);
      if (fd < 0) return;  // a missing component, reached without any link: no such file
      sys::close(fd);
      t->exists = true;
      t->special = is_special_target(t->resolved);
      return;
    }
  }
  int fd = sys::openat(dirfd, path, flags);
  if (fd < 0) {
    copy_str(t->resolved, sizeof t->resolved, t->invoked);
    copy_str(t->open_path, sizeof t->open_path, t->invoked);
    return;
  }
  long n = sys::fd_target(fd, t->resolved, sizeof t->resolved);
  sys::close(fd);
  if (n <= 0 || t->resolved[0] != '/') {
    copy_str(t->resolved, sizeof t->resolved, t->invoked);
  }
  t->exists = true;
  t->special = is_special_target(t->resolved);
  // A memfd or deleted file reached through /proc/self/fd/N has no path of
  // its own ("/memfd:x (deleted)" opens nothing): it is read (hashed,
  // probed for require.preload) through the link it was named by. (Until
  // 2026-11-24 a static program run this way was not seen as one.)
  copy_str(t->open_path, sizeof t->open_path, t->special ? t->invoked : t->resolved);
}

// The basenames along the chain of symbolic links from `invoked` (a normal
// absolute path) to the program, for name rules: "deny {name: nc}" must hold
// for "other -> nc -> nc.openbsd" as for "nc". At most kMaxLinkNames hops
// (the kernel allows 40; a longer chain keeps the names found so far).
// Raw system calls only: errno is untouched. Out of line, so that its
// buffers are on the stack only while it runs.
constexpr size_t kMaxLinkNames = 8;
struct LinkNames {
  char storage[kMaxLinkNames][256];
  const char* names[kMaxLinkNames];
  size_t count = 0;
};

__attribute__((noinline)) void collect_link_names(const char* invoked, LinkNames* out) {
  char cur[kPathMax];
  char target[kPathMax];
  char next[kPathMax];
  copy_str(cur, sizeof cur, invoked);
  while (out->count < kMaxLinkNames) {
    long n = sys::readlinkat(AT_FDCWD, cur, target, sizeof target - 1);
    if (n <= 0) return;  // not a link (EINVAL): the end of the chain
    target[n] = '\0';
    // A relative target is relative to the link's own directory.
    char* slash = std::strrchr(cur, '/');
    if (slash == nullptr) return;
    if (slash == cur) {
      cur[1] = '\0';
    } else {
      *slash = '\0';
    }
    if (normalize_path(cur, target, next, sizeof next) < 0) return;
    copy_str(out->storage[out->count], sizeof out->storage[0], path_basename(next));
    out->names[out->count] = out->storage[out->count];
    ++out->count;
    copy_str(cur, sizeof cur, next);
  }
}

// Fills `links` with the names between t.invoked and t.resolved, when they
// differ, and points `subject` at them.
void add_link_names(const ExecTarget& t, LinkNames* links, image::ExecSubject* subject) {
  links->count = 0;
  if (std::strcmp(t.invoked, t.resolved) == 0 || t.invoked[0] != '/') return;
  collect_link_names(t.invoked, links);
  subject->link_names = links->names;
  subject->link_name_count = links->count;
}

bool has_name_rules(const image::View& view) {
  const image::ControlEntry& c = view.control(image::Control::kProcessExec);
  for (uint32_t i = 0; i < c.rule_count; ++i) {
    if (view.rule(c.first_rule + i).kind == image::MatchKind::kExecName) return true;
  }
  return false;
}

// A set-user-ID/set-group-ID file that changes our identity makes the
// kernel mark the exec secure (AT_SECURE), and ld.so then ignores an
// LD_PRELOAD path outside the system directories: the enforcer would not
// load. (File capabilities have the same effect and are not detected here.)
bool gains_privileges(const char* path) {
  struct stat st;
  long r = sys::call(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>(path),
                     reinterpret_cast<long>(&st), 0);
  if (r != 0) return false;
  bool uid_change = (st.st_mode & S_ISUID) != 0 && st.st_uid != geteuid();
  bool gid_change =
      (st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IXGRP) != 0 && st.st_gid != getegid();
  return uid_change || gid_change;
}

bool hash_file(void* ctx, uint8_t out[32]) {
  int fd = sys::openat(AT_FDCWD, static_cast<const char*>(ctx), O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return false;
  bool ok = sha256_fd(fd, out);
  sys::close(fd);
  return ok;
}

void write_detail(char* buf, size_t cap, const char* via, char* const* argv,
                  const char* interpreter, const char* loader, const char* reason) {
  events::JsonWriter w(buf, cap);
  w.begin_object();
  w.field("via", via);
  if (argv != nullptr) {
    // Leave room for the closing fields: a detail must stay valid JSON.
    const size_t reserve = kArgShownMax * 2 + 256 + (loader != nullptr ? 2 * kPathFieldMax : 0);
    w.begin_array("argv");
    for (size_t i = 0; argv[i] != nullptr; ++i) {
      if (i >= kArgvShown || w.length() + reserve > cap) {
        w.element("...");
        break;
      }
      char arg[kArgShownMax];
      copy_str(arg, sizeof arg, argv[i]);
      w.element(arg);
    }
    w.end_array();
  }
  if (interpreter != nullptr) w.field("interpreter", interpreter);
  if (loader != nullptr) {
    char shown[kPathFieldMax];
    copy_str(shown, sizeof shown, loader);
    w.field("loader", shown);
  }
  if (reason != nullptr) w.field("reason", reason);
  w.end_object();
  if (!w.ok()) copy_str(buf, cap, "{}");
}

// The arguments joined by spaces, truncated to fit (for the taint search).
void join_argv(char* const* argv, char* out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (size_t i = 0; argv != nullptr && argv[i] != nullptr; ++i) {
    for (const char* p = argv[i]; *p != '\0' && len + 2 < cap; ++p) out[len++] = *p;
    if (len + 2 >= cap) break;
    out[len++] = ' ';
  }
  out[len] = '\0';
}

// The violations of one exec, reported as they are found.
struct ExecReport {
  const char* via = nullptr;
  char* const* argv = nullptr;
  const void* caller = nullptr;
  const char* interpreter = nullptr;    // the script's own "#!" interpreter, for the detail
  const char* taint_subject = nullptr;  // the command line, when taint is on
  bool blocked = false;

  // `loader`: the dynamic loader that runs `target` (named in the detail).
  void add(const image::Decision& d, const char* target, const char* reason,
           const char* rule = nullptr, const char* loader = nullptr) {
    if (!d.reports()) return;
    char detail[kDetailMax];
    write_detail(detail, sizeof detail, via, argv, interpreter, loader, reason);
    Report r;
    r.decision = d;
    r.target = target;
    r.detail = detail;
    r.rule = rule;
    r.taint_subject = taint_subject;
    report_at(r, caller);
    blocked = blocked || d.blocks();
  }
};

// process.exec's rules (and default) for one file.
image::Decision decide_file(const image::View& view, const ExecTarget& t, bool name_rules,
                            LinkNames* links, image::Phase phase) {
  image::ExecSubject subject;
  subject.resolved = t.resolved;
  subject.invoked = t.invoked;
  subject.hash = hash_file;
  subject.hash_ctx = const_cast<char*>(t.open_path);
  if (name_rules) add_link_names(t, links, &subject);
  return image::decide_exec(view, subject, phase);
}

image::Decision writable_violation(const image::View& view) {
  image::Decision d;
  d.control = image::Control::kExecFromWritable;
  d.verdict = image::Verdict::kDeny;
  d.mode = view.control(image::Control::kExecFromWritable).mode;
  d.rule = image::kNoRule;
  return d;
}

bool in_writable_location(const image::View& view, const ExecTarget& t) {
  return t.special || is_writable_location(view, t.resolved);
}

bool has_deny_rules(const image::View& view) {
  const image::ControlEntry& c = view.control(image::Control::kProcessExec);
  for (uint32_t i = 0; i < c.rule_count; ++i) {
    if (view.rule(c.first_rule + i).verdict == image::Verdict::kDeny) return true;
  }
  return false;
}

// What every check of one exec needs to know.
struct ExecContext {
  const image::View& view;
  image::Phase phase;
  image::Mode exec_mode;
  image::Mode writable_mode;
  bool name_rules;
  LinkNames* links;
  ExecReport* report;
  char* const* envp;  // the environment the exec passes (may be null)
};

// The value of the last entry of `envp` that starts with `prefix` ("NAME="),
// the one the loader reads, or null.
const char* last_env_value(char* const* envp, const char* prefix) {
  if (envp == nullptr) return nullptr;
  const size_t n = std::strlen(prefix);
  const char* value = nullptr;
  for (char* const* e = envp; *e != nullptr; ++e) {
    if (std::strncmp(*e, prefix, n) == 0) value = *e + n;
  }
  return value;
}

// Where the loader finds the library `name` (`length` bytes): a name with
// '/' is a path (relative to the cwd); a bare name is looked up in the
// directories of `search_dirs` (':' or ';' separated, as the loader reads
// LD_LIBRARY_PATH; may be null), the first that holds it. False when it is
// not found there: the loader then fails, or finds it through RUNPATH or the
// system directories, which are no writable locations on a normal system.
bool find_library(const char* name, size_t length, const char* search_dirs, ExecTarget* t) {
  char candidate[kPathMax];
  if (length + 1 > sizeof candidate) return false;
  if (std::memchr(name, '/', length) != nullptr) {
    std::memcpy(candidate, name, length);
    candidate[length] = '\0';
    resolve_path(AT_FDCWD, candidate, false, t);
    return t->exists;
  }
  if (search_dirs == nullptr) return false;
  const char* p = search_dirs;
  for (;;) {
    const char* start = p;
    while (*p != '\0' && *p != ':' && *p != ';') ++p;
    size_t n = static_cast<size_t>(p - start);
    if (n > 0 && n + 1 + length + 1 <= sizeof candidate) {
      std::memcpy(candidate, start, n);
      candidate[n] = '/';
      std::memcpy(candidate + n + 1, name, length);
      candidate[n + 1 + length] = '\0';
      resolve_path(AT_FDCWD, candidate, false, t);
      if (t->exists) return true;
    }
    if (*p == '\0') return false;
    ++p;
  }
}

// Where the directory `path` (a search path entry, absolute, shorter than
// kShortPath) lies, for check_search_dirs: the normal form of what the
// kernel reaches, into out[0..kShortPath), or false when this cannot say
// and resolve_path must. A symbolic link on the way (/lib64 -> usr/lib64 is
// in Lambda's LD_LIBRARY_PATH) is followed with readlinkat, not through
// /proc/self/fd, and the buffers are small: every exec pays this in a newly
// forked child, where each stack page touched and the first /proc look-up
// cost microseconds (BENCHMARKS.md). Lexical joins are exact only without
// "..", so a path or link with one, or more than 8 links, says false.
constexpr size_t kShortPath = 512;
bool resolve_search_dir(const char* path, char* out) {
  if (path[0] != '/' || has_dotdot_component(path, std::strlen(path)) ||
      normalize_path(nullptr, path, out, kShortPath) < 0) {
    return false;
  }
  for (int hop = 0; hop < 8; ++hop) {
    int fd = sys::openat_no_symlinks(AT_FDCWD, out, O_PATH);
    if (fd >= 0 || fd == -ENOENT || fd == -ENOTDIR) {
      if (fd >= 0) sys::close(fd);
      return true;
    }
    if (fd != -ELOOP) return false;
    // The first link: every shorter prefix is a directory, not a link.
    char link[kShortPath];
    long n = -1;
    size_t end = 1;
    for (;; ++end) {
      if (out[end] != '/' && out[end] != '\0') continue;
      const char saved = out[end];
      out[end] = '\0';
      n = sys::readlinkat(AT_FDCWD, out, link, sizeof link - 1);
      out[end] = saved;
      if (n > 0 || saved == '\0') break;
    }
    if (n <= 0 || static_cast<size_t>(n) >= sizeof link - 1) return false;
    link[n] = '\0';
    // The link's directory (for a relative target), the target, the rest.
    char joined[kShortPath];
    size_t parent = end;
    while (parent > 0 && out[parent - 1] != '/') --parent;
    if (link[0] == '/') parent = 0;
    const size_t rest = std::strlen(out + end);
    if (parent + static_cast<size_t>(n) + rest + 1 > sizeof joined) return false;
    std::memcpy(joined, out, parent);
    std::memcpy(joined + parent, link, static_cast<size_t>(n));
    std::memcpy(joined + parent + n, out + end, rest + 1);
    if (has_dotdot_component(joined, parent + static_cast<size_t>(n) + rest) ||
        normalize_path(nullptr, joined, out, kShortPath) < 0) {
      return false;
    }
  }
  return false;
}

// exec_from_writable for one search path directory that resolve_search_dir
// could not place: resolve_path, with its full-size buffers.
__attribute__((noinline)) void check_search_dir_slowly(const ExecContext& c, const char* dir,
                                                       size_t length, const char* reason) {
  char path[kPathMax];
  if (length + 1 > sizeof path) return;  // ENAMETOOLONG: the loader finds nothing there
  std::memcpy(path, dir, length);
  path[length] = '\0';
  ExecTarget t;
  resolve_path(AT_FDCWD, path, false, &t);
  if (in_writable_location(c.view, t))
    c.report->add(writable_violation(c.view), t.resolved, reason);
}

// exec_from_writable for where the loader and iconv look for code
// (exec_format.h, SearchPath): every LD_LIBRARY_PATH and GCONV_PATH entry
// of the exec's environment, or, given `scan` (the loader run as a
// program), its --library-path values. A directory in a writable location is
// a violation naming it, whether or not it holds a library yet.
__attribute__((noinline)) void check_search_dirs(const ExecContext& c, const LoaderScan* scan) {
  if (c.writable_mode == image::Mode::kOff) return;
  // With exec supervision running, an absolute directory is decided here as
  // written (no system call: every exec of a Lambda function carries eight
  // of them, ~1.5 us each in a new child), and exec supervision decides
  // where its links lead.
  const image::ContextPage* page = context();
  const bool supervised =
      page != nullptr && page->exec_supervised.load(std::memory_order_acquire) != 0;
  auto check = [&](const char* list, SearchPath kind, const char* reason) {
    for_each_search_dir(list, kind, [&](const SearchDir& d) {
      if (d.kind == SearchDirKind::kOrigin) return true;
      if (d.kind == SearchDirKind::kUnexpanded) {
        char shown[kShortPath];  // the event's target, cut to a short path
        const size_t n = d.length < sizeof shown - 1 ? d.length : sizeof shown - 1;
        std::memcpy(shown, d.dir, n);
        shown[n] = '\0';
        c.report->add(writable_violation(c.view), shown, kUnexpandedDirReason);
        return true;
      }
      if (d.length + 1 > kShortPath) {
        check_search_dir_slowly(c, d.dir, d.length, reason);
        return true;
      }
      char dir[kShortPath], resolved[kShortPath];
      std::memcpy(dir, d.dir, d.length);
      dir[d.length] = '\0';
      if (supervised && dir[0] == '/') {
        // Exec supervision resolves the links (and so where ".." leads:
        // "/lib64/../tmp" is /usr/tmp); here only a path as written.
        if (!has_dotdot_component(dir, d.length) &&
            normalize_path(nullptr, dir, resolved, sizeof resolved) >= 0 &&
            is_writable_location(c.view, resolved)) {
          c.report->add(writable_violation(c.view), resolved, reason);
        }
      } else if (!resolve_search_dir(dir, resolved)) {
        check_search_dir_slowly(c, d.dir, d.length, reason);
      } else if (is_writable_location(c.view, resolved)) {
        c.report->add(writable_violation(c.view), resolved, reason);
      }
      return true;
    });
  };
  if (scan == nullptr && c.envp != nullptr) {
    const size_t path_len = std::strlen(kLibraryPathEnv), gconv_len = std::strlen(kGconvPathEnv);
    for (char* const* e = c.envp; *e != nullptr; ++e) {
      if (std::strncmp(*e, kLibraryPathEnv, path_len) == 0) {
        check(*e + path_len, SearchPath::kLibrary, kLibraryPathEnvReason);
      } else if (std::strncmp(*e, kGconvPathEnv, gconv_len) == 0) {
        check(*e + gconv_len, SearchPath::kGconv, kGconvPathReason);
      }
    }
  }
  if (scan == nullptr) return;
  for (size_t i = 0; i < scan->value_count; ++i) {
    if (scan->values[i].option == LoaderOption::kLibraryPath) {
      check(scan->values[i].value, SearchPath::kLibrary, kLibraryPathOptionReason);
    }
  }
}

// exec_from_writable for the libraries the loader loads into the program
// besides its own dependencies (exec_format.h, LibraryList): the exec's
// LD_PRELOAD and LD_AUDIT entries, or, given `scan` (the loader run as a
// program), the values of its --preload and --audit options. A bare name is
// looked up along --library-path, else the exec's LD_LIBRARY_PATH. Our own library is skipped by
// the name our LD_PRELOAD entry gives it (it may itself lie in /tmp, as in a layer unpacked there).
__attribute__((noinline)) void check_libraries(const ExecContext& c, const LoaderScan* scan) {
  if (c.writable_mode == image::Mode::kOff) return;
  char* const* envp = c.envp;
  const char* search = last_env_value(envp, kLibraryPathEnv);
  if (scan != nullptr) {
    for (size_t i = 0; i < scan->value_count; ++i) {
      if (scan->values[i].option == LoaderOption::kLibraryPath) search = scan->values[i].value;
    }
  }
  const char* own = exec_env_own_library();
  const size_t own_len = own != nullptr ? std::strlen(own) : 0;
  auto check_list = [&](const char* list, LibraryList kind, const char* reason) {
    for_each_library(list, kind, [&](const char* entry, size_t length) {
      if (own_len == length && std::memcmp(own, entry, length) == 0) return true;
      ExecTarget lib;
      if (find_library(entry, length, search, &lib) && in_writable_location(c.view, lib)) {
        c.report->add(writable_violation(c.view), lib.resolved, reason);
      }
      return true;
    });
  };
  if (scan == nullptr) {
    if (envp == nullptr) return;
    const size_t preload_len = std::strlen(kPreloadEnv), audit_len = std::strlen(kAuditEnv);
    for (char* const* e = envp; *e != nullptr; ++e) {
      if (std::strncmp(*e, kPreloadEnv, preload_len) == 0) {
        check_list(*e + preload_len, LibraryList::kPreload, kPreloadEnvReason);
      } else if (std::strncmp(*e, kAuditEnv, audit_len) == 0) {
        check_list(*e + audit_len, LibraryList::kAudit, kAuditEnvReason);
      }
    }
    check_search_dirs(c, nullptr);
    return;
  }
  for_each_loader_list(*scan, check_list);
  check_search_dirs(c, scan);
}

// The dynamic loader run as a program maps its first non-option argument
// and runs it: no exec any layer sees. That program is decided like an exec
// (process.exec rules and default, exec_from_writable), resolved against the
// cwd as the loader opens it. `args` is the loader's argument vector
// (`complete`: not cut short), `loader` the loader file.
__attribute__((noinline)) void check_loader_program(const ExecContext& c, LoaderKind kind,
                                                    const ExecTarget& loader,
                                                    const char* const* args, size_t count,
                                                    bool complete) {
  LoaderScan scan = scan_loader_args(kind, args, count, complete);
  const char* problem = nullptr;
  ExecTarget program;
  if (scan.run == LoaderRun::kProgram && scan.values_overflow) {
    problem = "the dynamic loader is given too many library options to check";
  }
  switch (problem != nullptr ? LoaderRun::kUnknownOption : scan.run) {
    case LoaderRun::kNoProgram:
      return;  // --list, --verify, --help, --version, a usage error: nothing runs
    case LoaderRun::kUnknownOption:
      if (problem == nullptr)
        problem = "the dynamic loader is given an option fnguard does not know";
      break;
    case LoaderRun::kTruncated:
      problem = "the dynamic loader is given too many options to find its program";
      break;
    case LoaderRun::kProgram: {
      const char* name = args[scan.index];
      if (kind == LoaderKind::kGlibc && std::strchr(name, '/') == nullptr) {
        // glibc's loader looks a name without '/' up in ld.so.cache.
        problem = "the dynamic loader would look its program up by name";
        break;
      }
      resolve_path(AT_FDCWD, name, false, &program);
      if (!program.exists) return;  // the loader fails: nothing runs
      if (loader_kind(program.resolved) != LoaderKind::kNone ||
          loader_kind(program.invoked) != LoaderKind::kNone) {
        problem = "the dynamic loader would load another loader";
      }
      break;
    }
  }
  if (problem != nullptr) {
    image::UnverifiableDecision u =
        image::decide_unverifiable(c.view, c.exec_mode != image::Mode::kOff);
    c.report->add(u.decision, loader.resolved, problem, u.rule, loader.resolved);
    return;
  }
  if (c.exec_mode != image::Mode::kOff) {
    image::Decision d = decide_file(c.view, program, c.name_rules, c.links, c.phase);
    c.report->add(d, program.resolved, "run through the dynamic loader", nullptr, loader.resolved);
  }
  if (c.writable_mode != image::Mode::kOff && in_writable_location(c.view, program)) {
    c.report->add(writable_violation(c.view), program.resolved,
                  program.special ? "the program run by the dynamic loader is a memfd or a "
                                    "deleted file"
                                  : "the program run by the dynamic loader lies in a writable "
                                    "location",
                  nullptr, loader.resolved);
  }
  check_libraries(c, &scan);
}

// The kernel reads a "#!" line whatever the file's read permission, and an
// execute-only file (mode 0111) cannot be read here. When the caller could
// have written it (owns it or may write it), its "#!" line is the caller's
// choice and may name a denied interpreter: the exec is unverifiable. A
// file the caller could not have written (a system program installed
// execute-only, like sudo on some distributions) runs as before.
void check_unreadable(const ExecContext& c, const ExecTarget& file) {
  bool exec_applies = c.exec_mode != image::Mode::kOff && has_deny_rules(c.view);
  if (!exec_applies && c.writable_mode == image::Mode::kOff) return;
  struct stat st;
  long r = sys::call(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>(file.open_path),
                     reinterpret_cast<long>(&st), 0);
  if (r != 0 || !S_ISREG(st.st_mode)) return;
  if (st.st_uid != geteuid() && sys::faccessat(AT_FDCWD, file.open_path, W_OK) != 0) return;
  image::UnverifiableDecision u = image::decide_unverifiable(c.view, exec_applies);
  c.report->add(u.decision, file.resolved,
                "the program cannot be read to check its #! line, and the caller could have "
                "written it",
                u.rule);
}

// One level of a "#!" chain: the interpreter as written and its argument.
struct ScriptLevel {
  char interpreter[kInterpreterMax];
  char argument[kInterpreterMax];
  bool has_argument;
};

// The kernel runs a script's interpreter, and a script interpreter's own
// interpreter (up to kMaxScriptDepth files), without any call a hook sees,
// so "#!/usr/bin/nc" would run a denied program under another name. Every
// interpreter of the chain is decided: an explicit deny rule of process.exec
// (the control's default is not applied to interpreters, so a default-deny
// policy need not list every interpreter its allowed scripts use) and
// exec_from_writable. A relative interpreter is opened by the kernel
// relative to the cwd (also for execveat: the directory descriptor names the
// script only). The program at the end of the chain may be the dynamic
// loader, whose argument vector the kernel built from the "#!" lines, and
// whose mode the exec's environment `envp` may set.
__attribute__((noinline)) void check_what_runs(const ExecContext& c, const ExecTarget& t,
                                               const ProgramInfo& first, char* const* argv,
                                               char* const* envp) {
  ScriptLevel levels[kMaxScriptDepth];
  size_t depth = 0;
  ExecTarget interpreter;
  const ExecTarget* file = &t;
  const ProgramInfo* info = &first;
  ProgramInfo next;
  const bool exec_on = c.exec_mode != image::Mode::kOff;
  for (;;) {
    if (info->kind == ProgramKind::kUnknown && info->open_error == EACCES) {
      check_unreadable(c, *file);
      return;
    }
    if (info->kind != ProgramKind::kScript) break;
    if (depth == kMaxScriptDepth) return;  // the kernel refuses a deeper chain (ELOOP)
    ScriptLevel& level = levels[depth++];
    copy_str(level.interpreter, sizeof level.interpreter, info->interpreter);
    copy_str(level.argument, sizeof level.argument, info->argument);
    level.has_argument = info->has_argument;
    resolve_path(AT_FDCWD, level.interpreter, false, &interpreter);
    if (!interpreter.exists) return;  // the kernel fails with ENOENT
    if (exec_on) {
      image::Decision d = decide_file(c.view, interpreter, c.name_rules, c.links, c.phase);
      if (d.rule != image::kNoRule && d.verdict == image::Verdict::kDeny) {
        c.report->add(d, interpreter.resolved,
                      depth == 1 ? "the script's interpreter is denied"
                                 : "the interpreter of a nested script is denied");
      }
    }
    if (c.writable_mode != image::Mode::kOff && in_writable_location(c.view, interpreter)) {
      c.report->add(writable_violation(c.view), interpreter.resolved,
                    depth == 1 ? "the script's interpreter lies in a writable location"
                               : "the interpreter of a nested script lies in a writable location");
    }
    file = &interpreter;
    probe_script(AT_FDCWD, interpreter.open_path, &next);
    info = &next;
  }

  // By the name it was run as, or its own (musl's loader is its libc.so).
  LoaderKind kind = loader_kind(file->resolved);
  if (kind == LoaderKind::kNone) kind = loader_kind(file->invoked);
  if (kind == LoaderKind::kNone) return;
  // ldd: LD_TRACE_LOADED_OBJECTS puts glibc's loader in trace mode, which
  // lists the libraries and runs nothing, whatever the arguments say.
  if (loader_env_traces(kind, envp)) return;
  // The loader's argument vector: as the caller passed it, or, at the end of
  // a "#!" chain, as binfmt_script rebuilt it: the last interpreter, its
  // argument, the interpreter before it, ..., the script, argv[1...].
  constexpr size_t kLoaderArgsMax = 64;
  const char* args[kLoaderArgsMax];
  size_t n = 0;
  size_t from = 0;  // the first of the caller's arguments still to copy
  if (depth > 0) {
    for (size_t j = depth; j-- > 0;) {
      args[n++] = levels[j].interpreter;
      if (levels[j].has_argument) args[n++] = levels[j].argument;
    }
    args[n++] = t.invoked;
    from = 1;
  }
  size_t i = from;
  if (argv != nullptr) {
    if (depth > 0 && argv[0] == nullptr) i = 0;  // no argv[0] to replace
    for (; argv[i] != nullptr && n < kLoaderArgsMax; ++i) args[n++] = argv[i];
  }
  bool complete = argv == nullptr || argv[i] == nullptr;
  check_loader_program(c, kind, *file, args, n, complete);
}

// Decides one exec of `t` with the argument vector `argv` and the
// environment `envp` the caller passes (the hooks add only LD_PRELOAD and
// FNGUARD_ENFORCER to it). Returns 0 to let it proceed, or the errno to fail
// it with. Reports every violation. Must not hold anything past its return.
int check_exec(const ExecTarget& t, char* const* argv, char* const* envp, const char* via,
               const void* caller) {
  if (!active()) return 0;
  Guard guard;
  if (!guard.entered()) return 0;
  ErrnoSaver errno_saver;
  const image::View& view = policy();
  const image::Mode exec_mode = view.control(image::Control::kProcessExec).mode;
  const image::Mode writable_mode = view.control(image::Control::kExecFromWritable).mode;

  ProgramInfo info;
  probe_path(AT_FDCWD, t.open_path, &info);

  char command_line[4096];
  command_line[0] = '\0';
  ExecReport report;
  report.via = via;
  report.argv = argv;
  report.caller = caller;
  report.interpreter = info.kind == ProgramKind::kScript ? info.interpreter : nullptr;
  LinkNames links;  // reused for every file decided below
  ExecContext c{view,
                current_phase(),
                exec_mode,
                writable_mode,
                exec_mode != image::Mode::kOff && has_name_rules(view),
                &links,
                &report,
                envp};

  if (exec_mode != image::Mode::kOff) {
    image::Decision d = decide_file(view, t, c.name_rules, &links, c.phase);
    if (taint_enabled(image::Control::kProcessExec)) {
      // A value from the event anywhere in the command line: "ls /tmp; nc
      // host 4444" reaches exec as the arguments of "sh -c".
      join_argv(argv, command_line, sizeof command_line);
      const char* subjects[] = {command_line, t.invoked, t.resolved, nullptr};
      d = apply_taint(d, image::Control::kProcessExec, subjects);
      if (command_line[0] != '\0') report.taint_subject = command_line;
    }
    report.add(d, t.resolved, nullptr);
  }
  if (writable_mode != image::Mode::kOff && in_writable_location(view, t)) {
    report.add(writable_violation(view), t.resolved,
               t.special ? "the program is a memfd or a deleted file"
                         : "the program lies in a writable location");
  }
  if (exec_mode != image::Mode::kOff || writable_mode != image::Mode::kOff) {
    check_what_runs(c, t, info, argv, envp);
  }
  check_libraries(c, nullptr);

  const char* unfollowable = nullptr;
  if ((view.header().flags & image::kRequirePreload) != 0 && t.exists) {
    // The loader is exempted by the file's own name (t.resolved), not by
    // /proc/self/fd/N (fexecve); a memfd's or deleted file's name proves
    // nothing.
    if (runs_static_program(t.open_path, t.special ? nullptr : t.resolved)) {
      unfollowable = "static binary: the enforcer cannot follow it";
    } else if (gains_privileges(t.open_path)) {
      unfollowable = "set-user-ID or set-group-ID program: the loader ignores LD_PRELOAD";
    }
  }
  if (unfollowable != nullptr) {
    image::Decision d;
    d.control = image::Control::kProcessExec;
    d.verdict = image::Verdict::kDeny;
    d.mode = exec_mode != image::Mode::kOff ? exec_mode : view.header().top_mode;
    d.rule = image::kNoRule;
    report.add(d, t.resolved, unfollowable, "require.preload");
  }
  return report.blocked ? EACCES : 0;
}

// posix_spawn with a relative program path and file actions that change
// directory first: the program is found relative to a directory that cannot
// be known here (spawn_actions.h). Unverifiable; returns 0 or EACCES.
int check_spawn_after_chdir(const char* path, char* const* argv, const char* via,
                            const void* caller) {
  if (!active()) return 0;
  Guard guard;
  if (!guard.entered()) return 0;
  ErrnoSaver errno_saver;
  const image::View& view = policy();
  ExecReport report;
  report.via = via;
  report.argv = argv;
  report.caller = caller;
  image::UnverifiableDecision u = image::decide_unverifiable(
      view, view.control(image::Control::kProcessExec).mode != image::Mode::kOff);
  report.add(u.decision, path, "a relative program path after posix_spawn_file_actions_addchdir_np",
             u.rule);
  return report.blocked ? EACCES : 0;
}

// --- real functions -------------------------------------------------------

// The real exec functions are looked up when the library loads, not on
// first use: the first use may be in a vfork child, where dlsym() (which
// takes the loader's lock and may allocate) must not run.
using ExecveFn = int (*)(const char*, char* const[], char* const[]);
using ExecveatFn = int (*)(int, const char*, char* const[], char* const[], int);
using ExecvpeFn = int (*)(const char*, char* const[], char* const[]);
ExecveFn g_execve = nullptr;
ExecveatFn g_execveat = nullptr;
ExecvpeFn g_execvpe = nullptr;

__attribute__((constructor)) void resolve_exec_functions() {
  g_execve = reinterpret_cast<ExecveFn>(next_symbol("execve"));
  g_execveat = reinterpret_cast<ExecveatFn>(next_symbol("execveat"));
  g_execvpe = reinterpret_cast<ExecvpeFn>(next_symbol("execvpe"));
}

// Another library's constructor may exec before ours ran: resolve then.
ExecveFn real_execve() {
  if (g_execve == nullptr) resolve_exec_functions();
  return g_execve;
}
ExecveatFn real_execveat() {
  if (g_execveat == nullptr) resolve_exec_functions();
  return g_execveat;
}
ExecvpeFn real_execvpe() {
  if (g_execvpe == nullptr) resolve_exec_functions();
  return g_execvpe;
}

// True when the argument or environment vector, or one of its strings,
// lies in the first page (unmapped_pointer): the kernel answers EFAULT, and
// reading them here would crash the caller. NULL vectors are empty lists to
// Linux.
bool unmapped_vectors(char* const* argv, char* const* envp) {
  for (char* const* v : {argv, envp}) {
    if (v == nullptr) continue;
    if (unmapped_pointer(v)) return true;
    for (; *v != nullptr; ++v) {
      if (unmapped_pointer(*v)) return true;
    }
  }
  return false;
}

// The exec every path funnels into: decide, then run with the protected
// environment. The guard is not held here (see the vfork note above).
int checked_execve(int dirfd, const char* path, char* const argv[], char* const envp[], int flags,
                   const char* via, const void* caller) {
  if (unmapped_pointer(path) || unmapped_vectors(argv, envp)) {
    errno = EFAULT;
    return -1;
  }
  ExecTarget t;
  bool empty_path = path[0] == '\0';
  if (empty_path && (flags & AT_EMPTY_PATH) != 0) {
    resolve_fd(dirfd, &t);
  } else if (empty_path) {
    errno = ENOENT;
    return -1;
  } else {
    resolve_path(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) != 0, &t);
  }
  // A file that does not exist cannot run: let the kernel say ENOENT.
  if (t.exists || empty_path) {
    int err = check_exec(t, argv, envp, via, caller);
    if (err != 0) {
      errno = err;
      return -1;
    }
  }
  EnvForExec env(envp);
  if (dirfd == AT_FDCWD && flags == 0) {
    ExecveFn fn = real_execve();
    if (fn == nullptr) {
      errno = ENOSYS;
      return -1;
    }
    return fn(path, argv, env.get());
  }
  ExecveatFn at = real_execveat();
  if (at == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return at(dirfd, path, argv, env.get(), flags);
}

// Finds `file` along PATH as glibc's execvp does; writes the first regular
// file we may execute into out. False when there is none.
bool find_in_path(const char* file, char* out, size_t cap) {
  const char* path = getenv("PATH");
  if (path == nullptr) path = "/bin:/usr/bin";
  size_t file_len = std::strlen(file);
  const char* p = path;
  while (true) {
    const char* start = p;
    while (*p != '\0' && *p != ':') ++p;
    size_t n = static_cast<size_t>(p - start);
    if (n + 1 + file_len + 1 <= cap) {
      size_t len = 0;
      if (n == 0) {
        out[len++] = '.';  // an empty element is the current directory
      } else {
        std::memcpy(out, start, n);
        len = n;
      }
      out[len++] = '/';
      std::memcpy(out + len, file, file_len + 1);
      struct stat st;
      int fd = sys::openat(AT_FDCWD, out, O_PATH);
      if (fd >= 0) {
        bool regular = sys::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        sys::close(fd);
        if (regular && sys::faccessat(AT_FDCWD, out, X_OK) == 0) return true;
      }
    }
    if (*p == '\0') return false;
    ++p;
  }
}

int checked_execvpe(const char* file, char* const argv[], char* const envp[], const char* via,
                    const void* caller) {
  if (unmapped_pointer(file)) {
    errno = EFAULT;
    return -1;
  }
  if (file[0] == '\0') {
    errno = ENOENT;
    return -1;
  }
  if (std::strchr(file, '/') != nullptr) {
    int rc = checked_execve(AT_FDCWD, file, argv, envp, 0, via, caller);
    if (errno != ENOEXEC) return rc;
  } else {
    char candidate[kPathMax];
    if (!find_in_path(file, candidate, sizeof candidate)) {
      // Nothing runnable: the real execvpe reports glibc's own errno.
      ExecvpeFn fn = real_execvpe();
      EnvForExec env(envp);
      if (fn == nullptr) {
        errno = ENOENT;
        return -1;
      }
      return fn(file, argv, env.get());
    }
    int rc = checked_execve(AT_FDCWD, candidate, argv, envp, 0, via, caller);
    if (errno != ENOEXEC) return rc;
    file = candidate;
  }
  // glibc runs a file without a "#!" line and without ELF magic with
  // /bin/sh; that exec is checked as /bin/sh running the file.
  size_t argc = 0;
  while (argv != nullptr && argv[argc] != nullptr) ++argc;
  if (argc > 4096) {
    errno = E2BIG;
    return -1;
  }
  const char* shell_argv[argc + 3];
  shell_argv[0] = "/bin/sh";
  shell_argv[1] = file;
  for (size_t i = 1; i < argc; ++i) shell_argv[i + 1] = argv[i];
  shell_argv[argc < 1 ? 2 : argc + 1] = nullptr;  // argv[0] is replaced by the file
  return checked_execve(AT_FDCWD, "/bin/sh", const_cast<char* const*>(shell_argv), envp, 0, via,
                        caller);
}

// execl-style variadic arguments collected on the stack.
constexpr size_t kMaxListArgs = 4096;

size_t count_list(const char* arg, va_list ap) {
  size_t n = arg != nullptr ? 1 : 0;
  va_list copy;
  va_copy(copy, ap);
  while (arg != nullptr && n <= kMaxListArgs && va_arg(copy, const char*) != nullptr) ++n;
  va_end(copy);
  return n;
}

// dlerror() message for a blocked dlopen(), per thread.
thread_local const char* t_dlerror = nullptr;

// Reports code loaded, without an exec, from `target` in a writable location
// (dlopen, mmap): an exec_from_writable violation whose detail names the call
// and why. True when it blocks.
bool report_writable_load(const image::View& view, const char* target, const char* via,
                          const char* reason, const void* caller) {
  char detail[256];
  events::JsonWriter w(detail, sizeof detail);
  w.begin_object();
  w.field("via", via);
  w.field("reason", reason);
  w.end_object();
  Report r;
  r.decision = writable_violation(view);
  r.target = target;
  r.detail = w.ok() ? detail : nullptr;
  report_at(r, caller);
  return r.decision.blocks();
}

// mmap() of a file with PROT_EXEC: code in a file written to /tmp (or a
// memfd) runs without any exec or dlopen. exec_from_writable decides the
// file the descriptor `fd` names; a blocked mapping fails with EPERM, as on a
// noexec mount. Only calls through libc's public symbol are seen: the
// dynamic loader's own mappings (dlopen, decided by name) are not, and
// neither are raw system calls, mprotect(PROT_EXEC) of a mapping made
// readable first, or code copied into anonymous memory, which every JIT
// needs (THREAT_MODEL.md, "Executable mappings").
bool mapping_in_writable_location(int fd, const void* caller) {
  const image::View& view = policy();
  ExecTarget t;
  resolve_fd(fd, &t);
  if (!t.exists || !in_writable_location(view, t)) return false;
  return report_writable_load(view, t.resolved, "mmap",
                              t.special ? "a memfd or deleted file is mapped executable"
                                        : "a file mapped executable lies in a writable location",
                              caller);
}

bool library_in_writable_location(const char* file, const char* via, const void* caller) {
  const image::View& view = policy();
  ExecTarget t;
  // Bare names: look where the loader looks first for most programs.
  if (!find_library(file, std::strlen(file), getenv("LD_LIBRARY_PATH"), &t)) return false;
  if (!t.exists || !in_writable_location(view, t)) return false;
  return report_writable_load(view, t.resolved, via, "a library loaded from a writable location",
                              caller);
}

using SetenvFn = int (*)(const char*, const char*, int);
SetenvFn real_setenv() {
  static SetenvFn fn = reinterpret_cast<SetenvFn>(next_symbol("setenv"));
  return fn;
}

// Sets LD_PRELOAD to ours followed by the other entries of `value`.
int set_preload_keeping_ours(const char* value) {
  char buf[8192];
  if (compose_preload(exec_env_own_library(), value, buf, sizeof buf) == 0) {
    compose_preload(exec_env_own_library(), nullptr, buf, sizeof buf);
  }
  SetenvFn fn = real_setenv();
  if (fn == nullptr) return 0;
  return fn(kEnvPreload, buf + std::strlen("LD_PRELOAD="), 1);
}

}  // namespace
}  // namespace fnguard::enforcer

using namespace fnguard::enforcer;  // NOLINT: the hooks are C symbols

FNGUARD_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  return checked_execve(AT_FDCWD, path, argv, envp, 0, "execve", __builtin_return_address(0));
}

FNGUARD_EXPORT int execv(const char* path, char* const argv[]) {
  return checked_execve(AT_FDCWD, path, argv, environ, 0, "execv", __builtin_return_address(0));
}

FNGUARD_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return checked_execvpe(file, argv, envp, "execvpe", __builtin_return_address(0));
}

FNGUARD_EXPORT int execvp(const char* file, char* const argv[]) {
  return checked_execvpe(file, argv, environ, "execvp", __builtin_return_address(0));
}

FNGUARD_EXPORT int execveat(int dirfd, const char* path, char* const argv[], char* const envp[],
                            int flags) {
  return checked_execve(dirfd, path, argv, envp, flags, "execveat", __builtin_return_address(0));
}

FNGUARD_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  return checked_execve(fd, "", argv, envp, AT_EMPTY_PATH, "fexecve", __builtin_return_address(0));
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvla"

FNGUARD_EXPORT int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  size_t n = count_list(arg, ap);
  if (n > kMaxListArgs) {
    va_end(ap);
    errno = E2BIG;
    return -1;
  }
  const char* argv[n + 1];
  if (n > 0) argv[0] = arg;
  for (size_t i = 1; i < n; ++i) argv[i] = va_arg(ap, const char*);
  argv[n] = nullptr;
  va_end(ap);
  return checked_execve(AT_FDCWD, path, const_cast<char* const*>(argv), environ, 0, "execl",
                        __builtin_return_address(0));
}

FNGUARD_EXPORT int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  size_t n = count_list(arg, ap);
  if (n > kMaxListArgs) {
    va_end(ap);
    errno = E2BIG;
    return -1;
  }
  const char* argv[n + 1];
  if (n > 0) argv[0] = arg;
  for (size_t i = 1; i < n; ++i) argv[i] = va_arg(ap, const char*);
  argv[n] = nullptr;
  va_end(ap);
  return checked_execvpe(file, const_cast<char* const*>(argv), environ, "execlp",
                         __builtin_return_address(0));
}

FNGUARD_EXPORT int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  size_t n = count_list(arg, ap);
  if (n > kMaxListArgs) {
    va_end(ap);
    errno = E2BIG;
    return -1;
  }
  const char* argv[n + 1];
  if (n > 0) argv[0] = arg;
  for (size_t i = 1; i < n; ++i) argv[i] = va_arg(ap, const char*);
  argv[n] = nullptr;
  if (n > 0) va_arg(ap, const char*);  // the terminating NULL of the list
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  return checked_execve(AT_FDCWD, path, const_cast<char* const*>(argv), envp, 0, "execle",
                        __builtin_return_address(0));
}

#pragma GCC diagnostic pop

FNGUARD_EXPORT int posix_spawn(pid_t* pid, const char* path,
                               const posix_spawn_file_actions_t* actions,
                               const posix_spawnattr_t* attr, char* const argv[],
                               char* const envp[]) {
  static auto real = FNGUARD_NEXT(posix_spawn);
  if (real == nullptr) return ENOSYS;
  if (unmapped_pointer(path) || unmapped_vectors(argv, envp)) return EFAULT;
  if (path[0] != '/' && spawn_actions_change_directory(actions)) {
    int err = check_spawn_after_chdir(path, argv, "posix_spawn", __builtin_return_address(0));
    if (err != 0) return err;
  } else {
    ExecTarget t;
    resolve_path(AT_FDCWD, path, false, &t);
    if (t.exists) {
      int err = check_exec(t, argv, envp, "posix_spawn", __builtin_return_address(0));
      if (err != 0) return err;
    }
  }
  EnvForExec env(envp);
  return real(pid, path, actions, attr, argv, env.get());
}

FNGUARD_EXPORT int posix_spawnp(pid_t* pid, const char* file,
                                const posix_spawn_file_actions_t* actions,
                                const posix_spawnattr_t* attr, char* const argv[],
                                char* const envp[]) {
  static auto real_spawn = FNGUARD_NEXT(posix_spawn);
  static auto real_spawnp = FNGUARD_NEXT(posix_spawnp);
  if (real_spawn == nullptr || real_spawnp == nullptr) return ENOSYS;
  if (unmapped_pointer(file) || unmapped_vectors(argv, envp)) return EFAULT;
  EnvForExec env(envp);
  if (file[0] == '\0') return real_spawnp(pid, file, actions, attr, argv, env.get());
  char candidate[kPathMax];
  const char* path = file;
  if (std::strchr(file, '/') == nullptr) {
    if (!find_in_path(file, candidate, sizeof candidate)) {
      // Nothing here; after a change of directory a relative PATH entry
      // may find something in the child.
      if (spawn_actions_change_directory(actions)) {
        int err = check_spawn_after_chdir(file, argv, "posix_spawnp", __builtin_return_address(0));
        if (err != 0) return err;
      }
      return real_spawnp(pid, file, actions, attr, argv, env.get());  // glibc's own error
    }
    path = candidate;
  }
  // glibc searches PATH in the child, after the file actions ran: a relative
  // PATH entry, or a relative path, then names another file.
  if (path[0] != '/' && spawn_actions_change_directory(actions)) {
    int err = check_spawn_after_chdir(path, argv, "posix_spawnp", __builtin_return_address(0));
    if (err != 0) return err;
  } else {
    ExecTarget t;
    resolve_path(AT_FDCWD, path, false, &t);
    if (t.exists) {
      int err = check_exec(t, argv, envp, "posix_spawnp", __builtin_return_address(0));
      if (err != 0) return err;
    }
  }
  // Spawn exactly the file that was checked.
  return real_spawn(pid, path, actions, attr, argv, env.get());
}

namespace {

// system() and popen() run "/bin/sh -c command" with `environ`.
int check_shell(const char* command, const char* via, const void* caller) {
  static const char* kShell = "/bin/sh";
  ExecTarget t;
  resolve_path(AT_FDCWD, kShell, false, &t);
  const char* argv[] = {"sh", "-c", command, nullptr};
  int err = t.exists ? check_exec(t, const_cast<char* const*>(argv), environ, via, caller) : 0;
  if (err == 0) {
    Guard guard;
    if (guard.entered()) repair_environ(real_setenv());
  }
  return err;
}

}  // namespace

FNGUARD_EXPORT int system(const char* command) {
  static auto real = FNGUARD_NEXT(system);
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  if (command == nullptr) return real(command);
  int err = check_shell(command, "system", __builtin_return_address(0));
  if (err != 0) {
    errno = err;
    return 127 << 8;  // what system() returns when the shell could not run
  }
  return real(command);
}

namespace {

// popen and glibc's other names for it: the command is decided like
// system()'s, then `call` runs the real one.
template <typename Call>
FILE* checked_popen(bool have_real, const char* command, const char* via, const void* caller,
                    Call call) {
  if (!have_real) {
    errno = ENOSYS;
    return nullptr;
  }
  if (command != nullptr) {
    int err = check_shell(command, via, caller);
    if (err != 0) {
      errno = err;
      return nullptr;
    }
  }
  return call();
}

}  // namespace

FNGUARD_EXPORT FILE* popen(const char* command, const char* type) {
  static auto real = FNGUARD_NEXT(popen);
  return checked_popen(real != nullptr, command, "popen", __builtin_return_address(0),
                       [&] { return real(command, type); });
}

// glibc's public names of popen: _IO_popen is popen; _IO_proc_open runs
// the command into a FILE the caller provides (what popen does inside libc).
extern "C" FILE* _IO_popen(const char*, const char*);
extern "C" FILE* _IO_proc_open(FILE*, const char*, const char*);

FNGUARD_EXPORT FILE* _IO_popen(const char* command, const char* type) {
  static auto real = FNGUARD_NEXT(_IO_popen);
  return checked_popen(real != nullptr, command, "_IO_popen", __builtin_return_address(0),
                       [&] { return real(command, type); });
}

FNGUARD_EXPORT FILE* _IO_proc_open(FILE* stream, const char* command, const char* type) {
  static auto real = FNGUARD_NEXT(_IO_proc_open);
  return checked_popen(real != nullptr, command, "_IO_proc_open", __builtin_return_address(0),
                       [&] { return real(stream, command, type); });
}

namespace {

// dlopen() and dlmopen(): true when exec_from_writable blocks loading `file`
// (then dlerror() says why).
__attribute__((always_inline)) inline bool blocked_library(const char* file, const char* via,
                                                           const void* caller) {
  if (file == nullptr || !active() ||
      policy().control(fnguard::image::Control::kExecFromWritable).mode ==
          fnguard::image::Mode::kOff) {
    return false;
  }
  bool blocked = false;
  {
    Guard guard;
    if (guard.entered()) {
      ErrnoSaver errno_saver;
      blocked = library_in_writable_location(file, via, caller);
    }
  }
  if (blocked) {
    t_dlerror =
        "fnguard: loading a library from a writable location is blocked by "
        "process.exec_from_writable";
  }
  return blocked;
}

}  // namespace

FNGUARD_EXPORT void* dlopen(const char* file, int mode) {
  static auto real = FNGUARD_NEXT(dlopen);
  if (real == nullptr) return nullptr;
  if (blocked_library(file, "dlopen", __builtin_return_address(0))) return nullptr;
  // A tail call: the loader sees the caller's return address.
  return real(file, mode);
}

// dlmopen() loads into another link-map namespace (LM_ID_NEWLM): the same
// file check as dlopen().
FNGUARD_EXPORT void* dlmopen(Lmid_t lmid, const char* file, int mode) {
  static auto real = FNGUARD_NEXT(dlmopen);
  if (real == nullptr) return nullptr;
  if (blocked_library(file, "dlmopen", __builtin_return_address(0))) return nullptr;
  return real(lmid, file, mode);
}

namespace {

// mmap() and mmap64() of a file with PROT_EXEC: true when exec_from_writable
// blocks it (mapping_in_writable_location).
__attribute__((noinline)) bool blocked_mapping(int fd, const void* caller) {
  if (!active() || policy().control(fnguard::image::Control::kExecFromWritable).mode ==
                       fnguard::image::Mode::kOff) {
    return false;
  }
  Guard guard;
  if (!guard.entered()) return false;
  ErrnoSaver errno_saver;
  return mapping_in_writable_location(fd, caller);
}

// mmap and mmap64: a file mapped with PROT_EXEC is decided, anything else
// passes with one test.
template <typename Real, typename Offset>
__attribute__((always_inline)) inline void* checked_mmap(Real real, void* addr, size_t length,
                                                         int prot, int flags, int fd, Offset offset,
                                                         const void* caller) {
  if ((prot & PROT_EXEC) != 0 && fd >= 0 && (flags & MAP_ANONYMOUS) == 0 &&
      blocked_mapping(fd, caller)) {
    errno = EPERM;
    return MAP_FAILED;
  }
  if (real == nullptr) {
    errno = ENOSYS;
    return MAP_FAILED;
  }
  return real(addr, length, prot, flags, fd, offset);
}

}  // namespace

FNGUARD_EXPORT void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  static auto real = FNGUARD_NEXT(mmap);
  return checked_mmap(real, addr, length, prot, flags, fd, offset, __builtin_return_address(0));
}

FNGUARD_EXPORT void* mmap64(void* addr, size_t length, int prot, int flags, int fd,
                            off64_t offset) {
  static auto real = FNGUARD_NEXT(mmap64);
  return checked_mmap(real, addr, length, prot, flags, fd, offset, __builtin_return_address(0));
}

FNGUARD_EXPORT char* dlerror() {
  static auto real = FNGUARD_NEXT(dlerror);
  if (t_dlerror != nullptr) {
    const char* message = t_dlerror;
    t_dlerror = nullptr;
    return const_cast<char*>(message);
  }
  return real != nullptr ? real() : nullptr;
}

FNGUARD_EXPORT int setenv(const char* name, const char* value, int overwrite) {
  SetenvFn real = real_setenv();
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  if (name != nullptr && value != nullptr && exec_env_ready()) {
    size_t n = std::strlen(name);
    if (is_preload_name(name, n)) {
      if (overwrite == 0 && getenv(kEnvPreload) != nullptr) return 0;
      return set_preload_keeping_ours(value);
    }
    if (is_protected_env_name(name, n)) return 0;  // FNGUARD_ENFORCER: kept as is
  }
  return real(name, value, overwrite);
}

FNGUARD_EXPORT int unsetenv(const char* name) {
  static auto real = FNGUARD_NEXT(unsetenv);
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  if (name != nullptr && exec_env_ready()) {
    size_t n = std::strlen(name);
    if (is_preload_name(name, n)) return set_preload_keeping_ours(nullptr);
    if (is_protected_env_name(name, n)) return 0;
  }
  return real(name);
}

FNGUARD_EXPORT int putenv(char* string) {
  static auto real = FNGUARD_NEXT(putenv);
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  if (string != nullptr && exec_env_ready()) {
    const char* eq = std::strchr(string, '=');
    size_t n = eq != nullptr ? static_cast<size_t>(eq - string) : std::strlen(string);
    if (is_preload_name(string, n)) {
      // "LD_PRELOAD" without '=' removes it in glibc: keep ours.
      return set_preload_keeping_ours(eq != nullptr ? eq + 1 : nullptr);
    }
    if (is_protected_env_name(string, n)) return 0;
  }
  return real(string);
}

FNGUARD_EXPORT int clearenv() {
  static auto real = FNGUARD_NEXT(clearenv);
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  int rc = real();
  if (rc == 0 && exec_env_ready()) {
    SetenvFn set = real_setenv();
    if (set != nullptr) {
      set_preload_keeping_ours(nullptr);
      set(kEnvEnforcer, exec_env_enforcer(), 1);
    }
  }
  return rc;
}
