// The common middle of `fnguard run` and the Lambda wrapper: prepare the
// kernel backstop from the policy, launch the program under it and the
// enforcer, announce what protects it, and run the supervisor loop with the
// backstop's events. Each caller keeps what differs (argument parsing, the
// pre-checks, the Runtime API proxy).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "fnguard/events/sink.h"
#include "fnguard/image/format.h"
#include "fnguard/kernel/backstop.h"
#include "fnguard/policy/policy.h"
#include "fnguard/supervisor/channel.h"
#include "fnguard/supervisor/decoys.h"
#include "fnguard/supervisor/launch.h"
#include "fnguard/supervisor/run_events.h"
#include "fnguard/supervisor/supervisor.h"

namespace fnguard::supervisor {

struct ProtectedStart {
  Launched child;
  std::unique_ptr<kernel::Backstop> backstop;
  // The policy's honeypots, planted before the launch; removed when this
  // goes out of scope (keep it until the program has exited).
  std::unique_ptr<Decoys> decoys;
  int fail_status = 0;  // non-zero: the program is not running; exit with this status
  std::string failure;  // and this one-line message
};

// Plants the policy's honeypots (decoy files; decoy variables added to
// `launch.env`), prepares the backstop (exec allowed from the program's own
// directory and fnguard's install prefix), launches `launch` under it, and
// writes the
// `started` event and, when protection is degraded, an `enforcement` event.
// `phase` tells exec supervision the invocation phase (empty: unknown).
// `warning` is a degradation the caller already knows; on return it holds
// the warning that was reported ("" when none), for callers that also print
// it. `program` gets the child's pid. `launch.on_started`, if set, runs
// once the program has been exec'd, after the backstop has taken the child's
// report.
ProtectedStart start_protected(Channel& channel, Supervisor& sup, events::Sink& sink,
                               const policy::LoadedPolicy& policy, LaunchOptions launch,
                               std::function<image::Phase()> phase, ProgramInfo* program,
                               std::string* warning);

// Runs the supervisor loop until the program exits, feeding the enforcer's
// and the backstop's events to the sink, and drains both at the end.
ChildExit run_protected(Channel& channel, Supervisor& sup, events::Sink& sink,
                        const ProtectedStart& started);

}  // namespace fnguard::supervisor
