// The lifecycle events a protected run writes (docs/EVENTS.md), shared by
// `fnguard run` and the Lambda wrapper:
//
//   policy_loaded  the policy in force: source, mode, image digest, warnings,
//                  sections parsed but not enforced yet
//   started        the program runs: its process, the layers active, and
//                  how long fnguard's own start took, phase by phase
//   enforcement    protection is degraded (a layer is missing): what and why
//   stopped        the program exited: exit status, signal, event counts
//                  (including "dropped")
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "fnguard/events/sink.h"
#include "fnguard/policy/policy.h"
#include "fnguard/supervisor/supervisor.h"

namespace fnguard::supervisor {

// Which enforcement layers protect the program. The kernel backstop (issue 3)
// sets seccomp and landlock.
struct Layers {
  bool preload = false;
  bool seccomp = false;
  bool landlock = false;
  std::string kernel;  // the kernel backstop's detail (kernel::Backstop::layers_json), JSON
};

// fnguard's own start, from its main() to the program's enforcer
// reporting in, split where a user can act on it (the policy, the proxy,
// the kernel backstop). The `started` event carries it as "startup_us".
// Monotonic clock reads only (vDSO): no system call on the way.
class StartupClock {
 public:
  StartupClock();  // the start: construct first thing in main()
  // Ends the phase `name` (a string literal) now; the next begins.
  void mark(const char* name);
  // {"policy":N,...,"total":N}, microseconds; "" when nothing was marked.
  std::string json() const;

 private:
  static constexpr int kMaxPhases = 8;
  int64_t start_ns_;
  int64_t last_ns_;
  const char* names_[kMaxPhases];
  int64_t phase_ns_[kMaxPhases];
  int count_ = 0;
};

struct ProgramInfo {
  pid_t pid = 0;
  std::string exe;    // the resolved path
  std::string argv0;  // as the user wrote it
  StartupClock* startup = nullptr;  // optional: reported in the started event
};

std::string policy_loaded_event(const policy::LoadedPolicy& policy, image::Mode mode);
std::string started_event(const ProgramInfo& program, const Layers& layers);
std::string enforcement_event(const ProgramInfo& program, const Layers& layers,
                              const std::string& message);
std::string stopped_event(const ProgramInfo& program, const ChildExit& exit,
                          const events::SinkStats& stats);
// The launch failed (exit 125/126/127): what the user saw on stderr, as an event.
std::string launch_failed_event(const ProgramInfo& program, int exit_status,
                                const std::string& message);

}  // namespace fnguard::supervisor
