// What `fnguard run` learns about a command before it starts it: where it is
// (PATH search, as execvp does it) and whether the in-process enforcer can
// load into it at all (a statically linked program ignores LD_PRELOAD).
// Side-effect-free apart from reading files; no fork, no exec.
#pragma once

#include <string>
#include <vector>

#include "fnguard/common/result.h"

namespace fnguard::supervisor {

// Exit statuses for a command that cannot run, as env(1) and timeout(1) use them.
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

struct ResolvedCommand {
  std::string path;        // what to execve; empty when not found / not executable
  int failure_status = 0;  // kExitNotFound or kExitNotExecutable when path is empty
  std::string failure;     // one sentence, when path is empty
};

// A name with a slash is taken as is; otherwise the directories of
// `path_env` (or "/usr/local/bin:/usr/bin:/bin" when null) are searched for an
// executable regular file. A match that exists but cannot be executed makes
// the result "not executable" when nothing later in PATH can.
ResolvedCommand resolve_command(const std::string& name, const char* path_env);

// FNGUARD_DISABLE=1: execs the command (looked up in $PATH) as if fnguard
// were not there. Returns only when it cannot: the exit status (126/127),
// with one sentence in *failure.
int exec_untouched(const std::vector<std::string>& command, std::string* failure);

struct ExecutableInfo {
  bool is_elf = false;
  bool is_static = false;  // an ELF without PT_INTERP: LD_PRELOAD never loads
  // Set-user-ID, set-group-ID (to someone else) or file capabilities: the
  // loader runs it in secure-execution mode and ignores LD_PRELOAD paths.
  bool secure_exec = false;
  std::string final_path;  // the ELF that will actually run, after following shebangs
};

// Reads the ELF header (following "#!" interpreters up to 4 deep). A file
// that is neither ELF nor a script yields is_elf=false: execve decides.
Result<ExecutableInfo> inspect_executable(const std::string& path);

}  // namespace fnguard::supervisor
