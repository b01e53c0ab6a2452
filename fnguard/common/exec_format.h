// How the kernel and the dynamic loader read what an exec will run, for the
// two layers that decide execs (the preload's exec hooks and the seccomp exec
// supervisor), so that both see the same program:
// - a "#!" line, parsed as the kernel's binfmt_script does (interpreter and
//   its one optional argument);
// - the dynamic loader run as a program (`ld-linux-x86-64.so.2 PROG`,
//   `ld-musl-x86_64.so.1 PROG`): which argument it will load and run, after
//   its own options, as glibc's rtld (2.36) and musl's ldso parse them.
//
// No allocation, no system calls: callable from hooks, vfork children and
// the supervisor alike.
//
// Limits, stated plainly:
// - The loader is recognised by its file name (glibc: ld-linux*.so*,
//   ld64.so*, ld.so*; musl, whose loader is its libc: ld-musl-*,
//   libc.musl-*, libc.so), as exec'd or as resolved. A copy or hard link under
//   another name is not; that is the same limit as for any renamed copy of a
//   program (exec_from_writable and sha256 rules cover copies).
// - An option this parser does not know (a newer loader's) is reported as
//   such, so that callers can fail closed: its argument count is unknown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fnguard/common/path.h"

namespace fnguard {

// The kernel reads the first BINPRM_BUF_SIZE bytes of a file for "#!".
inline constexpr size_t kShebangBufferSize = 256;

// Parses a "#!" line from the first `length` bytes of a file exactly as
// Linux's binfmt_script (5.1+) does: bytes past the end of a short file count
// as NUL; the line ends at the first newline (or, with none in the buffer,
// at its last byte, provided the interpreter name is followed by a blank or
// NUL there, else the kernel refuses the file); trailing blanks are trimmed;
// the interpreter name ends at a blank or NUL; the rest after blanks, up to a
// NUL or the end of the line, is the single optional argument.
// Returns true and fills `interpreter` (and `argument`, "" when there is none;
// `*has_argument` tells the two apart) when the kernel would run an
// interpreter. `argument` may be null.
bool parse_shebang(const uint8_t* head, size_t length, char* interpreter, size_t cap,
                   char* argument = nullptr, size_t argument_cap = 0, bool* has_argument = nullptr);

enum class LoaderKind : uint8_t {
  kNone = 0,  // not a dynamic loader
  kGlibc,     // ld-linux*.so*, ld64.so*, ld.so*
  kMusl,      // ld-musl-*, libc.musl-*, libc.so
};

// What the file name `path` (its basename) says the program is.
LoaderKind loader_kind(const char* path);

enum class LoaderRun : uint8_t {
  kProgram,        // the loader runs args[index]
  kNoProgram,      // it runs nothing: --list, --verify, --help, --version,
                   // --list-tunables, --list-diagnostics (glibc), --list or
                   // "ldd" (musl), or a usage error (no program, a missing value)
  kUnknownOption,  // args[index] is an option this parser does not know
  kTruncated,      // the list ended before the program, and it is incomplete
};

// The loader options that name libraries it loads besides the program's
// own dependencies, or where it looks for them.
enum class LoaderOption : uint8_t {
  kPreload,      // --preload LIST: loaded before the program's libraries
  kAudit,        // --audit LIST (glibc): audit modules
  kLibraryPath,  // --library-path DIRS: searched instead of LD_LIBRARY_PATH
};

struct LoaderOptionValue {
  LoaderOption option;
  const char* value;  // points into the argument (after '=' for --opt=VALUE)
};

struct LoaderScan {
  LoaderRun run = LoaderRun::kNoProgram;
  size_t index = 0;
  // The values of --preload, --audit and --library-path before the program,
  // in order. More than kMaxValues of them: `values_overflow`, and the
  // libraries they name are unknown.
  static constexpr size_t kMaxValues = 8;
  LoaderOptionValue values[kMaxValues];
  size_t value_count = 0;
  bool values_overflow = false;
};

// The environment entry prefix ("NAME=") that makes the loader of `kind`
// list the libraries of its program and exit without running it, or null
// when that loader has none. glibc 2.36 (elf/rtld.c, process_envvars):
// "LD_TRACE_LOADED_OBJECTS=" with any value, even empty, selects trace
// mode, which is how ldd runs the loader (`LD_TRACE_LOADED_OBJECTS=1 ld.so
// FILE`). rtld then maps FILE and its libraries, prints them and exits:
// no constructor runs, the relocation ldd -d/-r ask for (LD_WARN,
// LD_BIND_NOW) is done with __RTLD_NOIFUNC (no IFUNC resolver runs), and no
// option returns the loader to the normal mode (--list and --verify select
// other modes that run nothing either). An entry without '=' is ignored.
// Not recognised: LD_TRACE_PRELINKING, which selected trace mode before
// glibc 2.36 removed prelink support; on 2.36 it is ignored and the program
// runs. musl's loader has no such variable (its ldd is `--list` or the name
// "ldd", see scan_loader_args).
// Limit: audit modules (LD_AUDIT, --audit) are loaded and run in trace mode
// as in --list mode (exec_from_writable decides where they come from, see
// LibraryList below).
const char* loader_trace_entry(LoaderKind kind);

// True when an entry of `envp` (null-terminated; may be null) makes the
// loader of `kind` only list its program's libraries (loader_trace_entry).
bool loader_env_traces(LoaderKind kind, const char* const* envp);

// Finds the program the loader of `kind` runs given the argument vector
// `args[0..count)` (args[0] is the loader's argv[0]). `complete` is false when
// the caller could hand over only the first `count` arguments of a longer
// vector. glibc 2.36 rtld options without a value: --list, --verify,
// --inhibit-cache, --list-tunables, --list-diagnostics, --help, --version;
// with one value: --library-path, --inhibit-rpath, --audit, --preload,
// --argv0, --glibc-hwcaps-prepend, --glibc-hwcaps-mask. musl: --list,
// --library-path, --preload, --argv0 (value separate or after '='), "--" ends
// the options. glibc 2.36 rejects "--"; it is taken as the end of the options
// here too, which can only decide more. An argument starting with a single
// '-' is a program name for both.
LoaderScan scan_loader_args(LoaderKind kind, const char* const* args, size_t count, bool complete);

// The lists of libraries a dynamically linked program's loader loads besides
// the program's own dependencies: LD_PRELOAD and --preload, whose entries
// glibc 2.36 (elf/rtld.c, handle_preload_list) and musl (load_preload)
// separate by ' ' or ':', and glibc's LD_AUDIT and --audit, separated by
// ':' only (audit_list_add_string). An entry with a '/' is a path (relative
// ones to the cwd); a bare name is searched like a needed library, first
// along the library path (LD_LIBRARY_PATH, which --library-path replaces).
enum class LibraryList : uint8_t { kPreload, kAudit };

// The environment entries that hold such lists ("LD_PRELOAD=", "LD_AUDIT="),
// and the library path ("LD_LIBRARY_PATH=").
inline constexpr const char* kPreloadEnv = "LD_PRELOAD=";
inline constexpr const char* kAuditEnv = "LD_AUDIT=";
inline constexpr const char* kLibraryPathEnv = "LD_LIBRARY_PATH=";

// What an event says of a library in a writable location, by what named it.
inline constexpr const char* kPreloadEnvReason =
    "a library LD_PRELOAD loads into the program lies in a writable location";
inline constexpr const char* kAuditEnvReason =
    "an audit library LD_AUDIT loads into the program lies in a writable location";
inline constexpr const char* kPreloadOptionReason =
    "a library the loader's --preload loads lies in a writable location";
inline constexpr const char* kAuditOptionReason =
    "an audit library the loader's --audit loads lies in a writable location";

// Where the loader or libc looks for code to load, beyond the program's own
// dependencies: the loader's library search path (LD_LIBRARY_PATH, the
// loader's --library-path) and iconv's module path (GCONV_PATH). A
// directory of either in a writable location lets a dropped library stand in
// for one the program loads (a libc.so.6 in /tmp, found before the system's),
// so exec_from_writable decides the directories themselves, whether or not
// they hold anything yet.
inline constexpr const char* kGconvPathEnv = "GCONV_PATH=";
inline constexpr const char* kLibraryPathEnvReason =
    "LD_LIBRARY_PATH has the loader look for the program's libraries in a writable location";
inline constexpr const char* kLibraryPathOptionReason =
    "the loader's --library-path has it look for the program's libraries in a writable location";
inline constexpr const char* kGconvPathReason =
    "GCONV_PATH has iconv load its modules from a writable location";
inline constexpr const char* kUnexpandedDirReason =
    "a library search path entry climbs out of a dynamic string token fnguard does not expand";

enum class SearchPath : uint8_t {
  kLibrary,  // LD_LIBRARY_PATH, --library-path: ':' or ';', an empty entry is the cwd
  kGconv,    // GCONV_PATH: ':', empty entries skipped
};

// What to decide for one entry of a search path.
enum class SearchDirKind : uint8_t {
  kDirectory,   // `dir` (relative ones to the cwd)
  kOrigin,      // under the program's own directory ($ORIGIN): decided with the program
  kUnexpanded,  // a token followed by "..": where it leads is not known
};
struct SearchDir {
  SearchDirKind kind;
  const char* dir;  // kDirectory: not NUL-terminated
  size_t length;
};

// glibc 2.36's loader expands the dynamic string tokens $ORIGIN, $LIB and
// $PLATFORM (also as ${NAME}) in LD_LIBRARY_PATH: $ORIGIN to the program's
// directory, $LIB and $PLATFORM to relative names ("lib/x86_64-linux-gnu",
// "x86_64"). An entry with a '$' is decided by the directory before it
// (the text up to its last '/'; the cwd when there is none) unless a ".."
// component follows the '$'; a leading $ORIGIN is the program's directory.
inline SearchDir classify_search_dir(const char* entry, size_t length, SearchPath kind) {
  if (length == 0) return {SearchDirKind::kDirectory, ".", 1};
  const void* dollar = kind == SearchPath::kLibrary ? std::memchr(entry, '$', length) : nullptr;
  if (dollar == nullptr) return {SearchDirKind::kDirectory, entry, length};
  const size_t at = static_cast<size_t>(static_cast<const char*>(dollar) - entry);
  if (has_dotdot_component(entry + at, length - at)) {
    return {SearchDirKind::kUnexpanded, entry, length};
  }
  size_t slash = at;
  while (slash > 0 && entry[slash - 1] != '/') --slash;
  if (slash > 0) return {SearchDirKind::kDirectory, entry, slash};
  auto starts = [&](const char* token) {
    const size_t n = std::strlen(token);
    return length >= n && std::memcmp(entry, token, n) == 0 && (length == n || entry[n] == '/');
  };
  if (at == 0 && (starts("$ORIGIN") || starts("${ORIGIN}"))) {
    return {SearchDirKind::kOrigin, entry, length};
  }
  return {SearchDirKind::kDirectory, ".", 1};
}

// Calls each(SearchDir) for every entry of the search path `list` (NUL-
// terminated) of kind `kind`, until `each` returns false. Returns false when
// `each` stopped it. An empty list is no search path at all (glibc ignores
// an empty LD_LIBRARY_PATH), not the cwd.
template <typename Each>
bool for_each_search_dir(const char* list, SearchPath kind, Each each) {
  if (*list == '\0') return true;
  auto separates = [kind](char c) {
    return c == ':' || (kind == SearchPath::kLibrary && c == ';');
  };
  const char* p = list;
  for (;;) {
    const char* start = p;
    while (*p != '\0' && !separates(*p)) ++p;
    const size_t n = static_cast<size_t>(p - start);
    if ((n > 0 || kind == SearchPath::kLibrary) && !each(classify_search_dir(start, n, kind))) {
      return false;
    }
    if (*p == '\0') return true;
    ++p;
  }
}

// Calls each(list, kind, reason) for every --preload and --audit value of
// `scan`, in order.
template <typename Each>
void for_each_loader_list(const LoaderScan& scan, Each each) {
  for (size_t i = 0; i < scan.value_count; ++i) {
    const LoaderOptionValue& v = scan.values[i];
    if (v.option == LoaderOption::kPreload) {
      each(v.value, LibraryList::kPreload, kPreloadOptionReason);
    } else if (v.option == LoaderOption::kAudit) {
      each(v.value, LibraryList::kAudit, kAuditOptionReason);
    }
  }
}

// Calls each(entry, length) for every non-empty entry of `list` (NUL-
// terminated) of kind `kind`, until `each` returns false. Returns false when
// `each` stopped it.
template <typename Each>
bool for_each_library(const char* list, LibraryList kind, Each each) {
  auto separates = [kind](char c) {
    return c == ':' || (kind == LibraryList::kPreload && c == ' ');
  };
  const char* p = list;
  while (*p != '\0') {
    while (*p != '\0' && separates(*p)) ++p;
    const char* start = p;
    while (*p != '\0' && !separates(*p)) ++p;
    if (p > start && !each(start, static_cast<size_t>(p - start))) return false;
  }
  return true;
}

}  // namespace fnguard
