// "#!" lines and dynamic loader command lines (see exec_format.h).
#include "fnguard/common/exec_format.h"

#include "fnguard/common/path.h"

namespace fnguard {
namespace {

bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }
bool is_terminator(uint8_t c) { return c == ' ' || c == '\t' || c == '\0'; }

bool str_eq(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

bool starts_with(const char* s, const char* prefix) {
  while (*prefix != '\0') {
    if (*s++ != *prefix++) return false;
  }
  return true;
}

bool contains(const char* s, const char* needle) {
  for (; *s != '\0'; ++s) {
    if (starts_with(s, needle)) return true;
  }
  return false;
}

bool in_list(const char* s, const char* const* list) {
  for (; *list != nullptr; ++list) {
    if (str_eq(s, *list)) return true;
  }
  return false;
}

// Copies buf[from, to) up to the first NUL into out (NUL-terminated).
bool copy_field(const uint8_t* buf, size_t from, size_t to, char* out, size_t cap) {
  size_t n = 0;
  for (size_t i = from; i < to && buf[i] != '\0'; ++i) {
    if (n + 1 >= cap) return false;
    out[n++] = static_cast<char>(buf[i]);
  }
  out[n] = '\0';
  return true;
}

LoaderScan end_of_list(size_t count, bool complete) {
  LoaderScan s;
  s.run = complete ? LoaderRun::kNoProgram : LoaderRun::kTruncated;
  s.index = count;
  return s;
}

LoaderScan at(LoaderRun run, size_t index) {
  LoaderScan s;
  s.run = run;
  s.index = index;
  return s;
}

// The scan so far with its run and index set (the option values are kept).
LoaderScan finish(LoaderScan s, LoaderScan result) {
  s.run = result.run;
  s.index = result.index;
  return s;
}

// Records the value of a library option (`name` without its dashes).
void note_value(LoaderScan* s, const char* name, const char* value) {
  LoaderOption option;
  if (str_eq(name, "preload")) {
    option = LoaderOption::kPreload;
  } else if (str_eq(name, "audit")) {
    option = LoaderOption::kAudit;
  } else if (str_eq(name, "library-path")) {
    option = LoaderOption::kLibraryPath;
  } else {
    return;
  }
  if (s->value_count == LoaderScan::kMaxValues) {
    s->values_overflow = true;
    return;
  }
  s->values[s->value_count++] = LoaderOptionValue{option, value};
}

// glibc 2.36, elf/rtld.c dl_main: the option loop of a direct invocation.
LoaderScan scan_glibc(const char* const* args, size_t count, bool complete) {
  static const char* const kNoRun[] = {
      "--list",    "--verify", "--list-tunables", "--list-diagnostics", "--help",
      "--version", nullptr};
  static const char* const kFlag[] = {"--inhibit-cache", nullptr};
  static const char* const kWithValue[] = {
      "--library-path",         "--inhibit-rpath",     "--audit", "--preload", "--argv0",
      "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask", nullptr};
  LoaderScan s;
  size_t i = 1;
  while (i < count) {
    const char* a = args[i];
    if (a == nullptr || a[0] != '-' || a[1] != '-') break;  // the program
    if (a[2] == '\0') {
      ++i;  // "--": the end of the options
      break;
    }
    // Every mode these select (list, verify, help, ...) exits before the
    // program runs, and no later option returns to the normal mode.
    if (in_list(a, kNoRun)) return finish(s, at(LoaderRun::kNoProgram, i));
    if (in_list(a, kFlag)) {
      ++i;
      continue;
    }
    if (in_list(a, kWithValue)) {
      // Without its value the option is a usage error: nothing runs.
      if (i + 1 >= count) return finish(s, end_of_list(count, complete));
      if (args[i + 1] != nullptr) note_value(&s, a + 2, args[i + 1]);
      i += 2;
      continue;
    }
    return finish(s, at(LoaderRun::kUnknownOption, i));
  }
  if (i >= count) return finish(s, end_of_list(count, complete));
  return finish(s, at(LoaderRun::kProgram, i));
}

// musl 1.2, ldso/dynlink.c __dls3: the options of a direct invocation.
LoaderScan scan_musl(const char* const* args, size_t count, bool complete) {
  static const char* const kWithValue[] = {"library-path", "preload", "argv0", nullptr};
  // Invoked by the name "ldd" (musl installs ldd as a link to itself), the
  // loader lists dependencies and runs nothing.
  bool list = count > 0 && args[0] != nullptr && str_eq(path_basename(args[0]), "ldd");
  LoaderScan s;
  size_t i = 1;
  while (i < count) {
    const char* a = args[i];
    if (a == nullptr || a[0] != '-' || a[1] != '-') break;
    const char* opt = a + 2;
    ++i;
    if (*opt == '\0') break;  // "--"
    if (str_eq(opt, "list")) {
      list = true;
      continue;
    }
    bool known = false;
    for (const char* const* name = kWithValue; *name != nullptr && !known; ++name) {
      if (!starts_with(opt, *name)) continue;
      const char* rest = opt;
      for (const char* p = *name; *p != '\0'; ++p) ++rest;
      if (*rest == '=') {
        known = true;  // --preload=LIST
        note_value(&s, *name, rest + 1);
      } else if (*rest == '\0') {
        if (i >= count) return finish(s, end_of_list(count, complete));
        if (args[i] != nullptr) note_value(&s, *name, args[i]);
        ++i;  // --preload LIST
        known = true;
      }
    }
    if (!known) return finish(s, at(LoaderRun::kUnknownOption, i - 1));
  }
  if (i >= count) return finish(s, end_of_list(count, complete));
  if (list) return finish(s, at(LoaderRun::kNoProgram, i));
  return finish(s, at(LoaderRun::kProgram, i));
}

}  // namespace

bool parse_shebang(const uint8_t* head, size_t length, char* interpreter, size_t cap,
                   char* argument, size_t argument_cap, bool* has_argument) {
  if (has_argument != nullptr) *has_argument = false;
  if (argument != nullptr && argument_cap > 0) argument[0] = '\0';
  if (cap == 0) return false;
  interpreter[0] = '\0';
  // The kernel's buffer: the file's first bytes, NUL-padded.
  uint8_t buf[kShebangBufferSize];
  for (size_t i = 0; i < sizeof buf; ++i) buf[i] = i < length ? head[i] : 0;
  if (buf[0] != '#' || buf[1] != '!') return false;

  const size_t buf_end = sizeof buf - 1;
  size_t end = sizeof buf;  // the first newline before any NUL (strnchr)
  for (size_t i = 0; i < sizeof buf && buf[i] != '\0'; ++i) {
    if (buf[i] == '\n') {
      end = i;
      break;
    }
  }
  if (end == sizeof buf) {
    // No newline: the interpreter name must end (blank or NUL) inside the
    // buffer, or it might be truncated and the kernel refuses the file.
    size_t name = 2;
    while (name < buf_end && is_blank(buf[name])) ++name;
    if (name == buf_end) return false;
    size_t term = name;
    while (term < buf_end && !is_terminator(buf[term])) ++term;
    if (term == buf_end) return false;
    end = buf_end;
  }
  while (end > 2 && is_blank(buf[end - 1])) --end;
  size_t name = 2;
  while (name < end && is_blank(buf[name])) ++name;
  if (name >= end) return false;
  size_t sep = name;
  while (sep < end && !is_terminator(buf[sep])) ++sep;
  if (!copy_field(buf, name, sep, interpreter, cap)) return false;
  if (sep < end && buf[sep] != '\0') {
    size_t arg = sep;
    while (arg < end && is_blank(buf[arg])) ++arg;
    if (arg < end) {
      if (has_argument != nullptr) *has_argument = true;
      if (argument != nullptr && !copy_field(buf, arg, end, argument, argument_cap)) return false;
    }
  }
  return interpreter[0] != '\0';
}

LoaderKind loader_kind(const char* path) {
  const char* name = path_basename(path);
  // musl's loader is its libc: Debian links /lib/ld-musl-x86_64.so.1 to
  // /usr/lib/x86_64-linux-musl/libc.so, Alpine libc.musl-x86_64.so.1 to the
  // loader. ("libc.so" of glibc is a linker script, and its libc.so.6 only
  // prints its version when run.)
  if (starts_with(name, "ld-musl-") || starts_with(name, "libc.musl-") || str_eq(name, "libc.so")) {
    return LoaderKind::kMusl;
  }
  if (starts_with(name, "ld-linux") && contains(name + 8, ".so")) return LoaderKind::kGlibc;
  if (starts_with(name, "ld64.so") || starts_with(name, "ld.so")) return LoaderKind::kGlibc;
  return LoaderKind::kNone;
}

const char* loader_trace_entry(LoaderKind kind) {
  return kind == LoaderKind::kGlibc ? "LD_TRACE_LOADED_OBJECTS=" : nullptr;
}

bool loader_env_traces(LoaderKind kind, const char* const* envp) {
  const char* entry = loader_trace_entry(kind);
  if (entry == nullptr || envp == nullptr) return false;
  for (; *envp != nullptr; ++envp) {
    if (starts_with(*envp, entry)) return true;
  }
  return false;
}

LoaderScan scan_loader_args(LoaderKind kind, const char* const* args, size_t count, bool complete) {
  switch (kind) {
    case LoaderKind::kGlibc:
      return scan_glibc(args, count, complete);
    case LoaderKind::kMusl:
      return scan_musl(args, count, complete);
    case LoaderKind::kNone:
      break;
  }
  return at(LoaderRun::kNoProgram, 0);
}

}  // namespace fnguard
