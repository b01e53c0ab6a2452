// Landlock rules derived from the compiled policy, where the kernel has
// Landlock. Landlock is enforced by the kernel at the moment of the access,
// on every code path (raw syscalls, static binaries, io_uring workers), with
// no time-of-check window, and it cannot be lifted by the process once
// applied. Its language is narrower than the policy's, so each control is
// translated conservatively and every rule that cannot be expressed exactly is
// named in LandlockPlan::notes (reported in the lifecycle event and doctor):
//
// - files.write (block, default deny): write, create, remove, rename and
//   truncate are allowed only beneath the literal directory prefix of each
//   allow glob ("/tmp/**" -> /tmp; "/srv/out/*.log" -> /srv/out, widened to
//   every file beneath). Deny rules cannot be expressed (Landlock only
//   allows) and are left to the preload. A default-allow write control is a
//   deny list and is not expressed at all. A regular file the command
//   inherits open for writing (a shell's `> out.log`) may be written and
//   truncated wherever it lies (plan_inherited_files): the descriptor can
//   write it already, and a reopen (freopen(NULL, "wb", stdout)) gains
//   nothing.
// - process.exec_from_writable (block): execute is allowed only beneath the
//   system and code directories that are not writable locations (exec_dirs).
//   memfds and anything under /tmp cannot be executed.
// - network.outbound (block, default deny, ABI 4+): TCP connect only to the
//   ports of the allow rules, when every allow rule names a port; a rule for
//   "host:443" is widened to "any host, port 443". UDP is not covered.
// - Signal scope (ABI 6+, always): the process cannot signal processes
//   outside its domain, i.e. the supervisor.
//
// What Landlock cannot restrict here: reads (the policy's read rules are a
// deny list), UDP, already-open descriptors, paths on file systems mounted
// after the rules were made, and the phase of a rule (rules apply always).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/format.h"

namespace fnguard::kernel {

struct LandlockPathRule {
  std::string path;
  uint64_t access = 0;
};

struct LandlockPlan {
  int abi = 0;
  uint64_t handled_fs = 0;
  uint64_t handled_net = 0;
  uint64_t scoped = 0;
  bool restrict_write = false;
  bool restrict_exec = false;
  bool restrict_connect = false;
  std::vector<LandlockPathRule> paths;
  std::vector<uint16_t> connect_ports;
  std::vector<std::string> exec_dirs;
  std::vector<std::string> notes;  // rules widened, narrowed or not expressed

  bool active() const { return handled_fs != 0 || handled_net != 0 || scoped != 0; }
  // "write,exec,connect,signals" (what is restricted), or "none".
  std::string summary() const;
};

// Derives the rules. `abi` from probe_kernel(); `extra_exec_dirs` are added
// to the execute candidates (the launcher passes the command's directory and
// fnguard's install prefix). Touches the file system only to see which
// candidate directories exist.
LandlockPlan plan_landlock(const image::View& image, int abi,
                           const std::vector<std::string>& extra_exec_dirs);

// Adds a file rule (write and truncate) for each of `fds` that is open for
// writing on a regular file and is inherited across exec (no close-on-exec):
// the launcher's 0, 1 and 2, which the command inherits. The process can
// write such a file through the descriptor already; the rule lets it reopen
// the file for writing too, which freopen(NULL, mode, stream) does
// (/proc/self/fd/N), as the preload allows it (it decides only the access a
// reopen adds). Only when writes are restricted; each rule is named in the
// notes. Read-only descriptors, directories, pipes and sockets get nothing.
void plan_inherited_files(const std::vector<int>& fds, LandlockPlan* plan);

// Creates the ruleset in the supervisor (before fork). Returns the ruleset
// fd (close-on-exec; the caller owns it).
Result<int> create_landlock_ruleset(const LandlockPlan& plan);

// In the child after fork (async-signal-safe), after no_new_privs: restricts
// the calling process with the ruleset. 0 or -errno.
int apply_landlock_ruleset(int ruleset_fd);

}  // namespace fnguard::kernel
