// `fnguard run`: start a command under protection and return its exit status.
//
// Start-up is an ordered list of small steps; any failure before the command
// runs exits 125 (126/127 when the command cannot be executed) with one line
// on stderr:
//   arguments -> FNGUARD_DISABLE -> mode -> policy -> event sink -> command
//   (PATH, static check) -> enforcer library -> channel -> supervisor -> launch
//   -> event loop -> "stopped" -> the command's exit status.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fnguard/cli/commands.h"
#include "fnguard/common/self_path.h"
#include "fnguard/events/sink.h"
#include "fnguard/policy/policy.h"
#include "fnguard/supervisor/channel.h"
#include "fnguard/supervisor/executable.h"
#include "fnguard/supervisor/launch.h"
#include "fnguard/supervisor/protected_launch.h"
#include "fnguard/supervisor/run_args.h"
#include "fnguard/supervisor/run_events.h"
#include "fnguard/supervisor/supervisor.h"

extern char** environ;

namespace fnguard::cli {

namespace {

namespace sv = fnguard::supervisor;

int fail(int status, const std::string& line) {
  std::fprintf(stderr, "fnguard: %s\n", line.c_str());
  return status;
}

bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, value) == 0;
}

// FNGUARD_POLICY holds a path, or the policy itself: text with a newline or
// starting with '{' is taken as the policy.
Result<policy::LoadedPolicy> load_policy(const sv::RunArgs& args,
                                         const policy::CompileOptions& options) {
  if (args.policy_file) return policy::load_policy_file(*args.policy_file, options);
  const char* env = std::getenv("FNGUARD_POLICY");
  if (env != nullptr && env[0] != '\0') return policy::load_policy_setting(env, options);
  return policy::default_policy(options);
}


}  // namespace

int cmd_run(int argc, char** argv) {
  sv::StartupClock startup;
  Result<sv::RunArgs> parsed = sv::parse_run_args(argc, argv);
  if (!parsed) return fail(kExitInternal, "run: " + parsed.error().to_string());
  const sv::RunArgs& args = *parsed;
  if (args.help) {
    std::printf("%s\n", sv::kRunUsage);
    return 0;
  }

  if (env_is("FNGUARD_DISABLE", "1")) {
    std::string failure;
    int status = sv::exec_untouched(args.command, &failure);
    return fail(status, failure);
  }

  policy::CompileOptions options = policy::compile_options_from_environment();
  if (args.mode) {
    options.mode_override = args.mode;
  } else if (const char* m = std::getenv("FNGUARD_MODE"); m != nullptr && m[0] != '\0') {
    options.mode_override = policy::parse_mode(m);
    if (!options.mode_override) {
      return fail(kExitInternal, std::string("FNGUARD_MODE must be off, monitor or block, not '") +
                                     m + "'");
    }
  }

  Result<policy::LoadedPolicy> loaded = load_policy(args, options);
  if (!loaded) return fail(kExitInternal, loaded.error().to_string());
  const policy::LoadedPolicy& pol = *loaded;
  image::Mode mode = options.mode_override.value_or(pol.top_mode);
  startup.mark("policy");

  std::string destination = args.events.value_or("");
  if (!args.events) {
    if (const char* e = std::getenv("FNGUARD_EVENTS"); e != nullptr) destination = e;
  }
  Result<std::unique_ptr<events::Sink>> sink = events::Sink::open(destination);
  if (!sink) return fail(kExitInternal, sink.error().to_string());

  sv::ProgramInfo program;
  program.argv0 = args.command[0];
  program.startup = &startup;
  sv::ResolvedCommand resolved = sv::resolve_command(args.command[0], std::getenv("PATH"));
  if (resolved.path.empty()) return fail(resolved.failure_status, resolved.failure);
  program.exe = resolved.path;

  // Fail closed before anything runs when the enforcer cannot load at all.
  bool preload = true;
  std::string warning;
  Result<sv::ExecutableInfo> info = sv::inspect_executable(resolved.path);
  if (info.ok() && info->is_static) {
    std::string what = info->final_path == resolved.path
                           ? resolved.path
                           : resolved.path + " (interpreter " + info->final_path + ")";
    if (pol.require_preload) {
      return fail(kExitInternal, what +
                                     " is statically linked, so the enforcer cannot load into it; "
                                     "refusing to run it unprotected (set require: {preload: false} "
                                     "to allow)");
    }
    preload = false;
    warning = what + " is statically linked, so the enforcer cannot load into it; running it "
                     "unprotected because the policy sets require: {preload: false}";
  }
  if (info.ok() && info->secure_exec && preload) {
    if (pol.require_preload) {
      return fail(kExitInternal, info->final_path +
                                     " runs set-user-ID, set-group-ID or with file capabilities, so "
                                     "the loader ignores the enforcer; refusing to run it "
                                     "unprotected (set require: {preload: false} to allow)");
    }
    preload = false;
    warning = info->final_path + " runs set-user-ID, set-group-ID or with file capabilities, so "
                                 "the loader ignores the enforcer; running it unprotected because "
                                 "the policy sets require: {preload: false}";
  }
  std::string library = enforcer_library_path();
  if (preload && access(library.c_str(), R_OK) != 0) {
    if (pol.require_preload) {
      return fail(kExitInternal, "the enforcer library " + library +
                                     " is missing; reinstall fnguard, or set FNGUARD_DISABLE=1 "
                                     "to run without protection");
    }
    preload = false;
    warning = "the enforcer library " + library +
              " is missing; running unprotected because the policy sets require: {preload: false}";
  }

  Result<std::unique_ptr<sv::Channel>> channel = sv::Channel::create(pol.image, /*gate=*/true);
  if (!channel) return fail(kExitInternal, channel.error().to_string());
  Result<std::unique_ptr<sv::Supervisor>> sup = sv::Supervisor::create(sink->get());
  if (!sup) return fail(kExitInternal, sup.error().to_string());

  (*sink)->write_own(sv::policy_loaded_event(pol, mode));
  startup.mark("setup");

  sv::LaunchOptions launch;
  launch.path = resolved.path;
  launch.argv = args.command;
  for (char** e = environ; *e != nullptr; ++e) launch.env.emplace_back(*e);
  launch.preload = preload;
  launch.library = library;
  launch.require_preload = pol.require_preload;

  // Kernel backstop, launch, started/enforcement events (shared with the
  // Lambda wrapper). Degraded protection is never silent: the warning also
  // goes to stderr when events go elsewhere.
  sv::ProtectedStart started =
      sv::start_protected(**channel, **sup, **sink, pol, std::move(launch), {}, &program, &warning);
  if (started.fail_status != 0) return fail(started.fail_status, started.failure);
  if (!warning.empty() && !destination.empty()) {
    std::fprintf(stderr, "fnguard: warning: %s\n", warning.c_str());
  }

  sv::ChildExit exit = sv::run_protected(**channel, **sup, **sink, started);
  (*sink)->write_own(sv::stopped_event(program, exit, (*sink)->stats()));
  return exit.exit_status;
}

}  // namespace fnguard::cli
