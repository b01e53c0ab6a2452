// The subcommands of the `fnguard` binary. Each returns the process exit
// status. fnguard's own failures exit 125 with one line on stderr.
#pragma once

namespace fnguard::cli {

inline constexpr int kExitUsage = 2;     // bad usage of a non-run command, invalid policy
inline constexpr int kExitInternal = 125;

// argv[0] is the subcommand name ("run", "policy", ...).
int cmd_run(int argc, char** argv);     // fnguard/cli/run_cmd.cc
int cmd_policy(int argc, char** argv);  // fnguard/cli/policy_cmd.cc
int cmd_doctor(int argc, char** argv);  // fnguard/cli/doctor_cmd.cc
int cmd_layer(int argc, char** argv);   // fnguard/cli/layer_cmd.cc
int cmd_local(int argc, char** argv);   // fnguard/cli/local_cmd.cc

}  // namespace fnguard::cli
