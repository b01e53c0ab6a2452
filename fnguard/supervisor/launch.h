// Starting a program under protection, shared by `fnguard run` and the Lambda
// wrapper. The sequence, in order:
//
//   1. (caller) Supervisor::create(): signals blocked, subreaper set.
//   2. vfork-style clone: the child borrows the parent's memory, on a stack
//      of its own, and the calling thread waits until the child's exec (or
//      exit). Nothing may need the calling thread before that exec.
//   3. child: enforcer descriptors moved to their fixed numbers, forwarded
//      signals unblocked, SIGPIPE default, then LaunchOptions::child_pre_exec
//      (the kernel backstop installs seccomp/Landlock here), then execve with
//      LD_PRELOAD and FNGUARD_ENFORCER set. An exec failure is reported
//      through a close-on-exec pipe (errno), never silently.
//   4. parent: on_started(pid) once the clone returns (the child has
//      exec'd or died; a seccomp listener that answers the child's own
//      execve must run on another thread, started before), then the exec
//      result, then the enforcer's hello (fail-closed proof), then
//      the gate opens and the program's main() runs.
//
// If the hello does not come and the policy requires the preload, the child
// is killed and the launch fails (125). Limit, stated plainly: the gate holds
// the program only when the enforcer loaded. If the loader ignored the
// preload altogether, the program has been running, unprotected, until the
// hello deadline passed (hello_timeout_ms). `fnguard run` therefore refuses
// the known causes before it starts anything (static binaries, set-user-ID
// programs, a missing library); the kernel backstop (issue 3) is the layer
// that does not depend on the loader.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/supervisor/channel.h"

namespace fnguard::supervisor {

inline constexpr int kExitLaunchFailed = 125;

// Runs in the child between clone and execve, in the parent's memory:
// async-signal-safe code that writes nothing but its own stack and errno (no
// allocation, no locks). Returns 0, or -errno to abort the launch (reported
// to the parent like an exec failure, as "the child set-up failed").
using ChildHook = int (*)(void* ctx);

struct LaunchOptions {
  std::string path;               // the resolved executable (see resolve_command)
  std::vector<std::string> argv;  // argv[0] as the user wrote it
  std::vector<std::string> env;   // the child's environment, KEY=VALUE; LD_PRELOAD and
                                  // FNGUARD_ENFORCER are replaced by the launch
  bool preload = true;            // false: start without the enforcer (no hello awaited)
  std::string library;            // libfnguard.so
  bool require_preload = true;    // no hello -> kill and fail
  int hello_timeout_ms = 5000;

  // The child gets SIGKILL when the supervisor dies (PR_SET_PDEATHSIG), so
  // killing the supervisor cannot leave the program running without its
  // event stream and exec supervision. The kernel sends it when the *thread*
  // that called launch() exits: call launch() from a thread that lives as
  // long as the supervisor (the main thread).
  bool die_with_supervisor = true;

  ChildHook child_pre_exec = nullptr;
  void* child_pre_exec_ctx = nullptr;
  std::function<void(pid_t)> on_started;  // parent, once the clone returned
};

struct Launched {
  pid_t pid = -1;                         // the running child; -1 when the launch failed
  bool preload_active = false;            // the enforcer said hello
  std::vector<std::string> early_events;  // datagrams received while waiting for the hello
  int failure_status = 0;                 // when pid == -1: 125, 126 or 127
  Error failure;                          // when pid == -1
  std::string warning;                    // started, but degraded (no enforcer), one sentence
};

// Forks and starts the program; see the sequence above. One launch per
// Channel: the child's ends of the channel are closed in the parent
// afterwards (further processes inherit them from the first). The caller must have
// blocked the forwarded signals (Supervisor::create does) so that none is
// lost between fork and the event loop.
Launched launch(Channel& channel, const LaunchOptions& options);

// Converts a wait status to the exit status `fnguard run` returns: the exit
// code, or 128+N when killed by signal N.
int exit_status_from_wait(int wait_status);

}  // namespace fnguard::supervisor
