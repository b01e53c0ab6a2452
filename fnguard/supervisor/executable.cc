// PATH resolution and the static-binary check (see executable.h).
#include "fnguard/supervisor/executable.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace fnguard::supervisor {

namespace {

bool is_regular(const std::string& path, struct stat* st) {
  return stat(path.c_str(), st) == 0 && S_ISREG(st->st_mode);
}

// Reads up to `size` bytes at `offset`; returns the count read.
ssize_t read_at(int fd, void* buf, size_t size, off_t offset) {
  ssize_t n;
  do {
    n = pread(fd, buf, size, offset);
  } while (n < 0 && errno == EINTR);
  return n;
}

template <typename Ehdr, typename Phdr>
Result<bool> has_interp(int fd, const std::string& path) {
  Ehdr eh;
  if (read_at(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh))
    return make_error(path + " is a truncated ELF file", "check the file");
  if (eh.e_phentsize != sizeof(Phdr) || eh.e_phnum > 4096)
    return make_error(path + " has an unexpected ELF program header table", "check the file");
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Phdr ph;
    if (read_at(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * sizeof ph)) !=
        static_cast<ssize_t>(sizeof ph))
      return make_error(path + " is a truncated ELF file", "check the file");
    if (ph.p_type == PT_INTERP) return true;
  }
  return false;
}

// The kernel sets AT_SECURE for these, and then ld.so ignores LD_PRELOAD
// entries with a slash (ours has one).
bool runs_in_secure_mode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  if ((st.st_mode & S_ISUID) != 0 && st.st_uid != geteuid()) return true;
  if ((st.st_mode & S_ISGID) != 0 && st.st_gid != getegid()) return true;
  return getxattr(path.c_str(), "security.capability", nullptr, 0) > 0;
}

}  // namespace

ResolvedCommand resolve_command(const std::string& name, const char* path_env) {
  ResolvedCommand out;
  if (name.empty()) {
    out.failure_status = kExitNotFound;
    out.failure = "the command name is empty";
    return out;
  }
  struct stat st;
  if (name.find('/') != std::string::npos) {
    if (stat(name.c_str(), &st) != 0) {
      out.failure_status = kExitNotFound;
      out.failure = name + ": " + std::strerror(errno);
    } else if (!S_ISREG(st.st_mode) || access(name.c_str(), X_OK) != 0) {
      out.failure_status = kExitNotExecutable;
      out.failure = name + ": not an executable file";
    } else {
      out.path = name;
    }
    return out;
  }
  std::string_view dirs = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  bool found_unexecutable = false;
  while (true) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + name;
    if (is_regular(candidate, &st)) {
      if (access(candidate.c_str(), X_OK) == 0) {
        out.path = candidate;
        return out;
      }
      found_unexecutable = true;
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  out.failure_status = found_unexecutable ? kExitNotExecutable : kExitNotFound;
  out.failure = found_unexecutable ? name + ": found in PATH but not executable"
                                   : name + ": command not found in PATH";
  return out;
}

Result<ExecutableInfo> inspect_executable(const std::string& path) {
  std::string current = path;
  for (int depth = 0; depth < 5; ++depth) {
    int fd = open(current.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return make_error("cannot read " + current + ": " + std::strerror(errno),
                        "check that the command and its interpreter exist and are readable");
    }
    unsigned char head[256];
    ssize_t n = read_at(fd, head, sizeof head, 0);
    if (n >= 4 && std::memcmp(head, ELFMAG, SELFMAG) == 0) {
      Result<bool> interp = make_error("unsupported ELF class in " + current);
      if (n >= EI_NIDENT && head[EI_CLASS] == ELFCLASS64) {
        interp = has_interp<Elf64_Ehdr, Elf64_Phdr>(fd, current);
      } else if (n >= EI_NIDENT && head[EI_CLASS] == ELFCLASS32) {
        interp = has_interp<Elf32_Ehdr, Elf32_Phdr>(fd, current);
      }
      close(fd);
      if (!interp.ok()) return interp.error();
      ExecutableInfo info{true, !*interp, false, current};
      // A script's own set-user-ID bit is ignored by Linux; the interpreter's counts.
      info.secure_exec = runs_in_secure_mode(current);
      return info;
    }
    close(fd);
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
      // "#!  /path/interp [arg]": the interpreter is the first word.
      std::string_view line(reinterpret_cast<const char*>(head) + 2, static_cast<size_t>(n) - 2);
      line = line.substr(0, line.find('\n'));
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string_view::npos) return ExecutableInfo{false, false, false, current};
      line.remove_prefix(start);
      current = std::string(line.substr(0, line.find_first_of(" \t\r")));
      continue;
    }
    return ExecutableInfo{false, false, false, current};
  }
  return make_error(path + " has more than 4 nested script interpreters",
                    "run the final interpreter directly");
}

int exec_untouched(const std::vector<std::string>& command, std::string* failure) {
  ResolvedCommand resolved = resolve_command(command[0], std::getenv("PATH"));
  if (resolved.path.empty()) {
    *failure = resolved.failure;
    return resolved.failure_status;
  }
  std::vector<char*> argv;
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execve(resolved.path.c_str(), argv.data(), environ);
  int err = errno;
  *failure = "cannot run " + resolved.path + ": " + std::strerror(err);
  return err == ENOENT ? kExitNotFound : kExitNotExecutable;
}

}  // namespace fnguard::supervisor
