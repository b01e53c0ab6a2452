// fork/exec with the enforcer protocol and fail-closed start (see launch.h).
#include "fnguard/supervisor/launch.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
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

// What the child needs, prepared before the clone (it may not allocate).
struct ChildStart {
  const Channel* channel;
  const LaunchOptions* options;
  int report_fd;
  const char* path;
  char** argv;
  char** envp;
  bool ignore_sigpipe;
  pid_t supervisor_pid;
  sigset_t final_mask;  // the program's signal mask
};

// The child, on its own stack in the parent's memory until execve: only
// system calls, and nothing written outside this stack but errno (the
// parent's thread, whose errno that is, is suspended until the exec).
int child_main(void* arg) {
  const ChildStart& s = *static_cast<const ChildStart*>(arg);
  const LaunchOptions& options = *s.options;
  if (options.preload) {
    int r = s.channel->setup_child_fds();
    if (r < 0) child_fail(s.report_fd, ChildStage::kFds, -r);
  }
  // The parent blocks the forwarded signals to read them from a signalfd;
  // the program expects the usual dispositions (an ignored SIGPIPE would be
  // inherited).
  struct sigaction pipe_action {};
  pipe_action.sa_handler = s.ignore_sigpipe ? SIG_IGN : SIG_DFL;
  sigaction(SIGPIPE, &pipe_action, nullptr);
  sigprocmask(SIG_SETMASK, &s.final_mask, nullptr);
  if (options.die_with_supervisor) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // The supervisor may have died before the line above took effect.
    if (getppid() != s.supervisor_pid) _exit(kExitLaunchFailed);
  }
  if (options.child_pre_exec != nullptr) {
    int r = options.child_pre_exec(options.child_pre_exec_ctx);
    if (r < 0) child_fail(s.report_fd, ChildStage::kHook, -r);
  }
  execve(s.path, s.argv, s.envp);
  child_fail(s.report_fd, ChildStage::kExec, errno);
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

  ChildStart start;
  start.channel = &channel;
  start.options = &options;
  start.report_fd = report[1];
  start.path = options.path.c_str();
  start.argv = argv.data();
  start.envp = envp.data();
  start.ignore_sigpipe = sigpipe_was_ignored();
  start.supervisor_pid = getpid();
  // The child starts with every signal blocked (it shares our memory until
  // its exec, so no handler of ours may run on its stack) and sets its own
  // mask: ours, with the signals the supervisor reads from a signalfd
  // unblocked again.
  sigset_t all, parent_mask;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &parent_mask);
  start.final_mask = parent_mask;
  sigset_t unblock = forwarded_signal_set();
  sigaddset(&unblock, SIGCHLD);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&unblock, sig) == 1) sigdelset(&start.final_mask, sig);
  }

  // vfork-style: the child borrows our memory, on a stack of its own, and
  // this thread waits until its exec (or its exit). That spares copying the
  // address space and the copy-on-write faults after it (0.15 ms of CPU per
  // cold start on our 2-vCPU test VM, docs/BENCHMARKS.md). Nothing in this
  // process may need this thread before the exec: a seccomp listener's
  // answer comes from a thread started before (Backstop::start_before_launch).
  constexpr size_t kStackSize = 64 * 1024;
  void* stack = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  pid_t pid = -1;
  int clone_errno = ENOMEM;
  if (stack != MAP_FAILED) {
    pid = clone(&child_main, static_cast<char*>(stack) + kStackSize,
                CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
    clone_errno = errno;
  }
  pthread_sigmask(SIG_SETMASK, &parent_mask, nullptr);
  if (stack != MAP_FAILED) munmap(stack, kStackSize);
  if (pid < 0) {
    int err = clone_errno;
    close(report[0]);
    close(report[1]);
    out.failure_status = kExitLaunchFailed;
    out.failure = make_error(std::string("cannot fork: ") + std::strerror(err),
                             "check the process limit (ulimit -u) and memory");
    return out;
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
