// Fuzzes what fnguard reads from an exec the attacker controls
// (fnguard/common/exec_format.h): the "#!" line, the dynamic loader's
// argument vector, and the library lists of LD_PRELOAD/LD_AUDIT and the
// loader's options. The input is split at NUL bytes into an argument
// vector; its first byte picks the loader kind and whether the vector is
// complete. Checks, besides the sanitizers: the program index lies inside
// the vector and names no option; every option value points inside an
// argument; every library entry is non-empty, inside its list and holds no
// separator; every search path directory lies inside its list (or is the
// cwd's "."), holds no separator, and a kUnexpanded one has a '$' followed by
// a ".." component; parse_shebang's outputs are NUL-terminated within their
// buffers and the interpreter holds no blank.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fnguard/common/exec_format.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool inside(const char* p, const std::string& s) {
  return p >= s.data() && p <= s.data() + s.size();
}

void check_list(const char* list, fnguard::LibraryList kind) {
  const size_t n = std::strlen(list);
  fnguard::for_each_library(list, kind, [&](const char* entry, size_t length) {
    check(length > 0 && entry >= list && entry + length <= list + n);
    for (size_t i = 0; i < length; ++i) {
      check(entry[i] != ':' && !(kind == fnguard::LibraryList::kPreload && entry[i] == ' '));
    }
    return true;
  });
}

void check_search(const char* list, fnguard::SearchPath kind) {
  const size_t n = std::strlen(list);
  size_t entries = 0;
  fnguard::for_each_search_dir(list, kind, [&](const fnguard::SearchDir& d) {
    ++entries;
    const bool cwd = d.length == 1 && d.dir[0] == '.' && !(d.dir >= list && d.dir < list + n);
    check(cwd || (d.length > 0 && d.dir >= list && d.dir + d.length <= list + n));
    for (size_t i = 0; i < d.length; ++i) {
      check(d.dir[i] != ':' && !(kind == fnguard::SearchPath::kLibrary && d.dir[i] == ';'));
    }
    if (d.kind == fnguard::SearchDirKind::kUnexpanded) {
      const char* dollar = static_cast<const char*>(std::memchr(d.dir, '$', d.length));
      check(dollar != nullptr);
      const std::string rest(dollar, d.length - static_cast<size_t>(dollar - d.dir));
      check(rest.find("..") != std::string::npos);
    }
    if (d.kind != fnguard::SearchDirKind::kDirectory) check(kind == fnguard::SearchPath::kLibrary);
    return true;
  });
  check(n > 0 || entries == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const auto kind = (flags & 1) ? fnguard::LoaderKind::kMusl : fnguard::LoaderKind::kGlibc;
  const bool complete = (flags & 2) == 0;

  // "#!" line of the rest, as the kernel reads a file's first bytes.
  char interpreter[256], argument[256];
  bool has_argument = false;
  if (fnguard::parse_shebang(data + 1, size - 1, interpreter, sizeof interpreter, argument,
                             sizeof argument, &has_argument)) {
    check(std::memchr(interpreter, '\0', sizeof interpreter) != nullptr);
    check(interpreter[0] != '\0');
    for (const char* p = interpreter; *p != '\0'; ++p) check(*p != ' ' && *p != '\t');
    check(std::memchr(argument, '\0', sizeof argument) != nullptr);
  }

  // The argument vector.
  std::vector<std::string> args;
  std::string current;
  for (size_t i = 1; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(current);
  std::vector<const char*> argp;
  for (const std::string& a : args) argp.push_back(a.c_str());
  fnguard::LoaderScan s = fnguard::scan_loader_args(kind, argp.data(), argp.size(), complete);
  check(s.index <= argp.size());
  if (s.run == fnguard::LoaderRun::kProgram) check(s.index < argp.size() && s.index >= 1);
  if (s.run == fnguard::LoaderRun::kTruncated) check(!complete);
  check(s.value_count <= fnguard::LoaderScan::kMaxValues);
  for (size_t i = 0; i < s.value_count; ++i) {
    bool found = false;
    for (const std::string& a : args) found |= inside(s.values[i].value, a);
    check(found);
    check_list(s.values[i].value, fnguard::LibraryList::kPreload);
    check_list(s.values[i].value, fnguard::LibraryList::kAudit);
  }
  // The whole input as an environment entry's value.
  std::string list(reinterpret_cast<const char*>(data) + 1, size - 1);
  list = list.c_str();  // up to the first NUL, as the environment holds it
  check_list(list.c_str(), fnguard::LibraryList::kPreload);
  check_list(list.c_str(), fnguard::LibraryList::kAudit);
  check_search(list.c_str(), fnguard::SearchPath::kLibrary);
  check_search(list.c_str(), fnguard::SearchPath::kGconv);
  return 0;
}
