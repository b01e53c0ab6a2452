// ELF and "#!" classification for the exec hooks (see elf_check.h).
#include "fnguard/enforcer/elf_check.h"

#include <elf.h>
#include <fcntl.h>

#include "fnguard/common/path.h"
#include "fnguard/enforcer/exec_syscalls.h"

namespace fnguard::enforcer {
namespace {

template <typename Ehdr, typename Phdr>
ProgramKind classify_class(const uint8_t* head, size_t length, ReadAt read_at, void* ctx) {
  if (length < sizeof(Ehdr)) return ProgramKind::kUnknown;
  Ehdr eh;
  __builtin_memcpy(&eh, head, sizeof(eh));
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return ProgramKind::kUnknown;
  if (eh.e_phentsize != sizeof(Phdr) || eh.e_phnum == 0 || eh.e_phnum > 1024) {
    return ProgramKind::kUnknown;
  }
  // Program headers are read in small batches: no allocation, bounded stack.
  Phdr batch[16];
  uint32_t done = 0;
  while (done < eh.e_phnum) {
    uint32_t n = eh.e_phnum - done;
    if (n > 16) n = 16;
    uint64_t offset =
        static_cast<uint64_t>(eh.e_phoff) + static_cast<uint64_t>(done) * sizeof(Phdr);
    long got = read_at(ctx, offset, batch, n * sizeof(Phdr));
    if (got != static_cast<long>(n * sizeof(Phdr))) return ProgramKind::kUnknown;
    for (uint32_t i = 0; i < n; ++i) {
      if (batch[i].p_type == PT_INTERP) return ProgramKind::kDynamicElf;
    }
    done += n;
  }
  return ProgramKind::kStaticElf;
}

struct FdCtx {
  int fd;
};

long fd_read_at(void* ctx, uint64_t offset, void* buf, size_t len) {
  return sys::pread(static_cast<FdCtx*>(ctx)->fd, buf, len, offset);
}

}  // namespace

ProgramKind classify_elf(const uint8_t* head, size_t length, ReadAt read_at, void* ctx) {
  if (length < EI_NIDENT || head[EI_MAG0] != ELFMAG0 || head[EI_MAG1] != ELFMAG1 ||
      head[EI_MAG2] != ELFMAG2 || head[EI_MAG3] != ELFMAG3) {
    return ProgramKind::kUnknown;
  }
  // Only native byte order is understood; anything else cannot run here
  // without binfmt_misc, which is outside what the enforcer can judge.
  if (head[EI_DATA] != ELFDATA2LSB) return ProgramKind::kUnknown;
  if (head[EI_CLASS] == ELFCLASS64) {
    return classify_class<Elf64_Ehdr, Elf64_Phdr>(head, length, read_at, ctx);
  }
  if (head[EI_CLASS] == ELFCLASS32) {
    return classify_class<Elf32_Ehdr, Elf32_Phdr>(head, length, read_at, ctx);
  }
  return ProgramKind::kUnknown;
}

namespace {

void reset(ProgramInfo* info) {
  info->kind = ProgramKind::kUnknown;
  info->interpreter[0] = '\0';
  info->argument[0] = '\0';
  info->has_argument = false;
  info->open_error = 0;
}

// Reads the head of `fd`; true when it is a "#!" script (info filled).
bool probe_shebang(int fd, uint8_t (&head)[kInterpreterMax], size_t* length, ProgramInfo* info) {
  long got = sys::pread(fd, head, sizeof(head), 0);
  if (got <= 0) return false;
  *length = static_cast<size_t>(got);
  if (parse_shebang(head, *length, info->interpreter, sizeof(info->interpreter), info->argument,
                    sizeof(info->argument), &info->has_argument)) {
    info->kind = ProgramKind::kScript;
    return true;
  }
  return false;
}

template <bool kElfToo>
void probe_path_impl(int dirfd, const char* path, ProgramInfo* info) {
  reset(info);
  int fd = sys::openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    info->open_error = -fd;
    return;
  }
  if (kElfToo) {
    probe_fd(fd, info);
  } else {
    uint8_t head[kInterpreterMax];
    size_t length = 0;
    probe_shebang(fd, head, &length, info);
  }
  sys::close(fd);
}

}  // namespace

void probe_fd(int fd, ProgramInfo* info) {
  reset(info);
  uint8_t head[kInterpreterMax];
  size_t length = 0;
  if (probe_shebang(fd, head, &length, info) || length == 0) return;
  FdCtx ctx{fd};
  info->kind = classify_elf(head, length, fd_read_at, &ctx);
}

void probe_path(int dirfd, const char* path, ProgramInfo* info) {
  probe_path_impl<true>(dirfd, path, info);
}

void probe_script(int dirfd, const char* path, ProgramInfo* info) {
  probe_path_impl<false>(dirfd, path, info);
}

bool is_dynamic_loader_name(const char* path) { return loader_kind(path) != LoaderKind::kNone; }

bool runs_static_program(const char* path, const char* name) {
  ProgramInfo info;
  char current[kInterpreterMax];
  size_t n = 0;
  while (path[n] != '\0' && n + 1 < sizeof(current)) {
    current[n] = path[n];
    ++n;
  }
  current[n] = '\0';
  for (int depth = 0; depth <= kMaxScriptDepth; ++depth) {
    probe_path(AT_FDCWD, current, &info);
    switch (info.kind) {
      case ProgramKind::kStaticElf:
        if (depth == 0) return name == nullptr || !is_dynamic_loader_name(name);
        return !is_dynamic_loader_name(current);
      case ProgramKind::kScript:
        // The kernel resolves the interpreter path as written (relative to
        // the cwd when relative), so the probe does the same.
        for (size_t i = 0; i < sizeof(current); ++i) {
          current[i] = info.interpreter[i];
          if (current[i] == '\0') break;
        }
        continue;
      default:
        return false;
    }
  }
  return false;  // deeper than the kernel allows: the exec itself will fail (ELOOP)
}

}  // namespace fnguard::enforcer
