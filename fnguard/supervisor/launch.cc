// fork/exec with the enforcer protocol and fail-closed start (see launch.h).
#include "fnguard/supervisor/launch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fnguard/enforcer/protocol.h"
#include "fnguard/supervisor/executable.h"
#include "fnguard/supervisor/supervisor.h"

namespace fnguard::supervisor {

namespace {

// What the child writes to the report pipe when it cannot exec.
enum class ChildStage : int { kFds = 1, kHook = 2, kExec = 3 };
struct ChildReport {
  int stage;
  int error;
};

// Async-signal-safe: only write(2) and _exit(2).
[[noreturn]] void child_fail(int fd, ChildStage stage, int error) {
  ChildReport r{static_cast<int>(stage), error};
  ssize_t n;
  do {
    n = write(fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  _exit(kExitLaunchFailed);
}

bool has_prefix(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

}  // namespace

int exit_status_from_wait(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return kExitLaunchFailed;
}

Launched launch(Channel& channel, const LaunchOptions& options) {
  Launched out;

  // Everything the child needs is built before fork: after fork only
  // async-signal-safe calls are allowed (other threads may hold malloc's lock).
  std::vector<std::string> env_strings;
  std::string existing_preload;
  for (const std::string& entry : options.env) {
    if (has_prefix(entry, "LD_PRELOAD=")) {
      existing_preload = entry.substr(std::strlen("LD_PRELOAD="));
      if (!options.preload) env_strings.push_back(entry);
      continue;
    }
    if (has_prefix(entry, "FNGUARD_ENFORCER=")) continue;
    env_strings.push_back(entry);
  }
  if (options.preload) {
    for (std::string& e : channel.child_environment(options.library, existing_preload.c_str()))
      env_strings.push_back(std::move(e));
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    out.failure_status = kExitLaunchFailed;
    out.failure = make_error(std::string("cannot create a pipe: ") + std::strerror(errno),
                             "check the process's descriptor limit");
    return out;
  }

  sigset_t unblock = forwarded_signal_set();
  sigaddset(&unblock, SIGCHLD);
  const bool ignore_sigpipe = sigpipe_was_ignored();
  const pid_t supervisor_pid = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(report[0]);
    close(report[1]);
    out.failure_status = kExitLaunchFailed;
    out.failure = make_error(std::string("cannot fork: ") + std::strerror(err),
                             "check the process limit (ulimit -u) and memory");
    return out;
  }
  if (pid == 0) {
    close(report[0]);
    if (options.preload) {
      int r = channel.setup_child_fds();
      if (r < 0) child_fail(report[1], ChildStage::kFds, -r);
    }
    // The parent blocks these to read them from a signalfd; the program
    // expects the usual dispositions (an ignored SIGPIPE would be inherited).
    struct sigaction pipe_action {};
    pipe_action.sa_handler = ignore_sigpipe ? SIG_IGN : SIG_DFL;
    sigaction(SIGPIPE, &pipe_action, nullptr);
    sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
    if (options.die_with_supervisor) {
      prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      // The supervisor may have died before the line above took effect.
      if (getppid() != supervisor_pid) _exit(kExitLaunchFailed);
    }
    if (options.child_pre_exec != nullptr) {
      int r = options.child_pre_exec(options.child_pre_exec_ctx);
      if (r < 0) child_fail(report[1], ChildStage::kHook, -r);
    }
    execve(options.path.c_str(), argv.data(), envp.data());
    child_fail(report[1], ChildStage::kExec, errno);
  }

  close(report[1]);
  channel.close_child_ends();
  if (options.on_started) options.on_started(pid);

  ChildReport child_report{};
  ssize_t n;
  do {
    n = read(report[0], &child_report, sizeof child_report);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof child_report)) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const char* why = std::strerror(child_report.error);
    switch (static_cast<ChildStage>(child_report.stage)) {
      case ChildStage::kExec:
        out.failure_status = child_report.error == ENOENT ? kExitNotFound : kExitNotExecutable;
        out.failure = make_error("cannot run " + options.path + ": " + why,
                                 child_report.error == ENOENT
                                     ? "check the command and, for a script, its #! interpreter"
                                     : "check the file's permissions and format");
        break;
      case ChildStage::kHook:
        out.failure_status = kExitLaunchFailed;
        out.failure =
            make_error(std::string("setting up the protection of the child failed: ") + why,
                       "run 'fnguard doctor' to see what this kernel offers");
        break;
      default:
        out.failure_status = kExitLaunchFailed;
        out.failure = make_error(std::string("passing the policy to the child failed: ") + why,
                                 "check the process's descriptor limit (ulimit -n)");
        break;
    }
    return out;
  }

  out.pid = pid;
  if (!options.preload) {
    channel.open_gate();
    return out;
  }
  if (channel.wait_hello(pid, options.hello_timeout_ms, &out.early_events)) {
    out.preload_active = true;
    channel.open_gate();
    return out;
  }

  // No hello: the enforcer is not running in the child.
  siginfo_t info{};
  bool exited = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                info.si_pid == pid;
  std::string name = options.argv.empty() ? options.path : options.argv[0];
  std::string reason =
      exited ? "it exited before the enforcer reported in"
             : "no hello within " + std::to_string(options.hello_timeout_ms / 1000) + " s";
  if (options.require_preload) {
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    out.pid = -1;
    out.failure_status = kExitLaunchFailed;
    out.failure = make_error(
        "the enforcer did not load in " + name + " (" + reason +
            "); refusing to run it unprotected",
        "check that " + options.library +
            " exists and matches this system, or set require: {preload: false} to allow");
    return out;
  }
  out.warning = "the enforcer did not load in " + name + " (" + reason +
                "); running it unprotected because the policy sets require: {preload: false}";
  channel.open_gate();
  return out;
}

}  // namespace fnguard::supervisor
