// ELF and "#!" classification for the exec hooks (see elf_check.h).
#include "fnguard/enforcer/elf_check.h"

#include <elf.h>
#include <fcntl.h>

#include "fnguard/common/path.h"
#include "fnguard/enforcer/exec_syscalls.h"

namespace fnguard::enforcer {
namespace {

bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

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

bool parse_shebang(const uint8_t* head, size_t length, char* interpreter, size_t cap) {
  if (cap == 0 || length < 3 || head[0] != '#' || head[1] != '!') return false;
  size_t i = 2;
  while (i < length && is_blank(head[i])) ++i;
  size_t n = 0;
  while (i < length && !is_blank(head[i]) && head[i] != '\n' && head[i] != '\0') {
    if (n + 1 >= cap) return false;
    interpreter[n++] = static_cast<char>(head[i++]);
  }
  interpreter[n] = '\0';
  return n > 0;
}

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

void probe_fd(int fd, ProgramInfo* info) {
  info->kind = ProgramKind::kUnknown;
  info->interpreter[0] = '\0';
  uint8_t head[kInterpreterMax];
  long got = sys::pread(fd, head, sizeof(head), 0);
  if (got <= 0) return;
  size_t length = static_cast<size_t>(got);
  if (parse_shebang(head, length, info->interpreter, sizeof(info->interpreter))) {
    info->kind = ProgramKind::kScript;
    return;
  }
  FdCtx ctx{fd};
  info->kind = classify_elf(head, length, fd_read_at, &ctx);
}

void probe_path(int dirfd, const char* path, ProgramInfo* info) {
  info->kind = ProgramKind::kUnknown;
  info->interpreter[0] = '\0';
  int fd = sys::openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return;
  probe_fd(fd, info);
  sys::close(fd);
}

bool is_dynamic_loader_name(const char* path) {
  const char* name = path_basename(path);
  auto starts = [name](const char* prefix) {
    size_t i = 0;
    while (prefix[i] != '\0') {
      if (name[i] != prefix[i]) return false;
      ++i;
    }
    return true;
  };
  return starts("ld-linux") || starts("ld64.so") || starts("ld-musl") || starts("ld.so");
}

bool runs_static_program(const char* path) {
  ProgramInfo info;
  char current[kInterpreterMax];
  size_t n = 0;
  while (path[n] != '\0' && n + 1 < sizeof(current)) {
    current[n] = path[n];
    ++n;
  }
  current[n] = '\0';
  for (int depth = 0; depth < 5; ++depth) {
    probe_path(AT_FDCWD, current, &info);
    switch (info.kind) {
      case ProgramKind::kStaticElf:
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
