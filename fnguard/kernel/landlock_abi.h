// The Landlock kernel ABI, declared here rather than taken from
// <linux/landlock.h>: Debian 12's headers stop at ABI 2, while the kernels
// fnguard runs on offer up to ABI 6+ (truncate, TCP ports, signal scoping).
// Values are from the kernel's include/uapi/linux/landlock.h; the names carry
// a kLl prefix so they cannot clash with a newer system header.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace fnguard::kernel::ll {

struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  // ABI 4
  uint64_t scoped;              // ABI 6
};

struct PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};

inline constexpr uint32_t kCreateRulesetVersion = 1u << 0;
inline constexpr int kRulePathBeneath = 1;
inline constexpr int kRuleNetPort = 2;

inline constexpr uint64_t kFsExecute = 1ull << 0;
inline constexpr uint64_t kFsWriteFile = 1ull << 1;
inline constexpr uint64_t kFsReadFile = 1ull << 2;
inline constexpr uint64_t kFsReadDir = 1ull << 3;
inline constexpr uint64_t kFsRemoveDir = 1ull << 4;
inline constexpr uint64_t kFsRemoveFile = 1ull << 5;
inline constexpr uint64_t kFsMakeChar = 1ull << 6;
inline constexpr uint64_t kFsMakeDir = 1ull << 7;
inline constexpr uint64_t kFsMakeReg = 1ull << 8;
inline constexpr uint64_t kFsMakeSock = 1ull << 9;
inline constexpr uint64_t kFsMakeFifo = 1ull << 10;
inline constexpr uint64_t kFsMakeBlock = 1ull << 11;
inline constexpr uint64_t kFsMakeSym = 1ull << 12;
inline constexpr uint64_t kFsRefer = 1ull << 13;     // ABI 2
inline constexpr uint64_t kFsTruncate = 1ull << 14;  // ABI 3

inline constexpr uint64_t kNetBindTcp = 1ull << 0;     // ABI 4
inline constexpr uint64_t kNetConnectTcp = 1ull << 1;  // ABI 4

inline constexpr uint64_t kScopeAbstractUnixSocket = 1ull << 0;  // ABI 6
inline constexpr uint64_t kScopeSignal = 1ull << 1;              // ABI 6

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

inline long create_ruleset(const RulesetAttr* attr, size_t size, uint32_t flags) {
  return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}
inline long add_rule(int ruleset_fd, int type, const void* attr, uint32_t flags) {
  return syscall(SYS_landlock_add_rule, ruleset_fd, type, attr, flags);
}
inline long restrict_self(int ruleset_fd, uint32_t flags) {
  return syscall(SYS_landlock_restrict_self, ruleset_fd, flags);
}

}  // namespace fnguard::kernel::ll
