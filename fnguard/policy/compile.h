// Stage 3 of policy loading ("compile"): a checked PolicyModel to the image
// the enforcer maps, plus the effective policy as JSON.
//
// What compile adds to what the user wrote:
// - modes: each control's mode is its own `mode`, else the top-level mode;
//   CompileOptions::mode_override replaces the top-level mode and every
//   per-control mode (and every configured taint mode).
// - built-in network.outbound rules, before the user's: the Runtime API
//   endpoint and each nameserver on port 53, always allowed.
// - the kWritable control that exec_from_writable consults: /tmp, /var/tmp,
//   /dev/shm, $TMP and every allow glob of files.write.
// - symbolic links: for each path rule, the literal directory prefix (or the
//   whole path, for a glob without wildcards) is resolved with realpath() on
//   this machine, and when it differs a second rule with the resolved form
//   follows the original (same verdict, same source index). Links created
//   after compilation are not seen here; the enforcer checks the file it
//   actually opened for that.
#pragma once

#include <string>
#include <string_view>

#include "fnguard/policy/model.h"
#include "fnguard/policy/policy.h"

namespace fnguard::policy {

LoadedPolicy compile_policy(const PolicyModel& model, std::string_view source_name,
                            const CompileOptions& options);

}  // namespace fnguard::policy
