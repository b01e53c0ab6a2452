// The Lambda exec wrapper: `fnguard wrapper -- RUNTIME [ARG...]`, started by
// /opt/fnguard-wrapper (AWS_LAMBDA_EXEC_WRAPPER). In order:
//
//   FNGUARD_DISABLE=1 -> exec the runtime untouched
//   mode (FNGUARD_MODE) -> reserve the proxy's port -> policy (FNGUARD_POLICY:
//   path or inline text; else PREFIX/policy.yaml; else the built-in default)
//   -> event sink (FNGUARD_EVENTS) -> channel -> Runtime API proxy in front of
//   the real AWS_LAMBDA_RUNTIME_API -> the runtime launched under protection
//   with AWS_LAMBDA_RUNTIME_API pointing at the proxy (for the runtime only)
//   -> event loop -> the runtime's exit status.
//
// Never breaks a function through its own fault: when the proxy cannot start
// the runtime gets the real endpoint and a lifecycle event says protection is
// degraded; only a policy that asks for it (inspect mode block, or
// FNGUARD_FAIL_CLOSED=1) turns that into a refusal to start (exit 125). A bad
// policy is the user's error and stops the start with one clear line.
#pragma once

#include <string>
#include <string_view>

#include "fnguard/image/format.h"
#include "fnguard/policy/policy.h"

namespace fnguard::lambda {

// argv[0] is "wrapper".
int wrapper_main(int argc, char** argv);

// What the effective policy says about payload inspection.
struct InspectSettings {
  image::Mode mode = image::Mode::kOff;
  std::optional<std::vector<std::string>> detectors;  // by name; unset: every detector
};

// The policy's inspect section. When the policy has none, inspection
// follows the top-level mode (`fallback`) with every detector.
InspectSettings inspect_settings(const policy::InspectPolicy& inspect, image::Mode fallback);

}  // namespace fnguard::lambda
