// Stage 2 of policy loading ("collect"): the node tree checked against the
// version 1 schema and turned into a PolicyModel. Every problem is kept (not
// only the first), each with file:line:col, one sentence and a hint.
//
// Grammar of the version 1 policy (the keys are also listed, with their
// types and defaults, in docs/POLICY.md, which a unit test keeps in step
// with schema_keys()):
//
//   policy      := { version: 1, mode?: MODE, files?: files, network?: network,
//                    process?: process, inspect?: inspect, honeypots?: honeypots,
//                    require?: require }
//   MODE        := off | monitor | block
//   files       := { read?: control(GLOB), write?: control(GLOB) }
//   network     := { outbound?: control(TARGET), inbound?: (allow | deny | { mode?, default? }) }
//   process     := { exec?: control(EXEC), exec_from_writable?: MODE }
//   control(X)  := { mode?: MODE, default?: allow | deny, taint?: MODE, rules?: [ rule(X)* ] }
//   rule(X)     := { allow: X, phase?: PHASE } | { deny: X, phase?: PHASE }
//   PHASE       := init | invoke
//   EXEC        := GLOB | { name: NAME | [NAME+] } | { sha256: HEX64 } | { path: GLOB }
//   inspect     := { mode?: MODE, detectors?: [DETECTOR*] }
//   honeypots   := { env?: bool, files?: [PATH*] }
//   require     := { preload?: bool, kernel?: bool }
//
// GLOB and PATH may use $TASK_ROOT, $RUNTIME_DIR, $TMP and $HOME (also
// written ${NAME}); after expansion they must be absolute and are normalised.
#pragma once

#include <string>
#include <vector>

#include "fnguard/policy/model.h"
#include "fnguard/policy/policy.h"
#include "fnguard/policy/yaml_tree.h"

namespace fnguard::policy {

struct CollectResult {
  PolicyModel model;
  std::vector<Error> errors;
  std::vector<Warning> warnings;
};

CollectResult collect_policy(const Node& root, const CompileOptions& options);

}  // namespace fnguard::policy
