// The kernel backstop, as the launcher uses it: one object that decides which
// kernel layers a policy gets on this kernel, prepares them before fork,
// installs them in the child, and runs exec supervision in the parent.
//
//   auto backstop = Backstop::prepare(image_view, options);   // before fork
//   if (!backstop) { print backstop.error(); exit 125; }       // require: kernel
//   pid = fork();
//   child:  Backstop::child_hook(backstop.get());  ... execve(cmd)
//   parent: backstop->on_started(pid);                         // starts the thread
//           lifecycle event: backstop->layers_json(preload_ok)
//
// Layers (what each does is in seccomp_filter.h, exec_supervisor.h,
// landlock.h, and docs/THREAT_MODEL.md):
// - seccomp denylist: when the policy's top-level mode is block (or
//   require.kernel is set). In monitor mode nothing is refused, so adding
//   fnguard never breaks a function.
// - exec supervision: when process.exec or exec_from_writable is not off.
// - Landlock: per control in block mode, plus signal scoping.
//
// FNGUARD_KERNEL=off in the environment disables all of them (the degraded
// path is then reported loudly, and refused under require.kernel).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/format.h"
#include "fnguard/kernel/exec_supervisor.h"
#include "fnguard/kernel/landlock.h"
#include "fnguard/kernel/probe.h"
#include "fnguard/kernel/seccomp_filter.h"

namespace fnguard::kernel {

inline constexpr const char* kEnvKernel = "FNGUARD_KERNEL";

struct BackstopOptions {
  // Events from exec supervision (one JSON object each), called on the
  // exec supervisor thread (for a first notification other than the
  // command's own exec, on the thread calling on_started). When unset, the backstop queues them as
  // datagrams on events_fd() instead, for the caller's event loop.
  std::function<void(std::string json)> emit;
  std::function<image::Phase()> phase;
  // Added to Landlock's execute locations (the command's directory, the
  // install prefix); writable locations among them are dropped.
  std::vector<std::string> exec_dirs;
  // Overrides the FNGUARD_KERNEL environment variable when set (tests).
  std::optional<bool> enabled;
  // Overrides probing (tests, doctor with a given probe).
  std::optional<KernelFeatures> features;
};

// What each layer ended up as, for the lifecycle event and doctor.
struct LayerStatus {
  bool enabled = true;    // false: FNGUARD_KERNEL=off
  bool seccomp = false;   // a filter is installed
  bool denylist = false;  // it refuses the denylist
  bool exec_supervision = false;
  int landlock_abi = 0;
  std::string landlock;              // LandlockPlan::summary(), or "none"
  std::vector<std::string> missing;  // one line per layer wanted but unavailable
  std::vector<std::string> notes;    // Landlock translation notes
};

class Backstop {
 public:
  // Decides and prepares the layers (allocates, probes; call before fork).
  // Fails when the image requires the kernel layer (kRequireKernel) and
  // seccomp is unavailable or disabled; the error is the one line to print.
  static Result<std::unique_ptr<Backstop>> prepare(image::View image, BackstopOptions options);

  // The child side, after fork and before execve. Async-signal-safe: only
  // system calls. Returns 0, or -errno when a required layer could not be
  // installed (the child must then _exit(125) without running the command).
  // A layer that fails and is not required is reported to the parent, which
  // says so in the status.
  int install_in_child() const;
  // For a LaunchOptions-style hook: ctx is a Backstop*.
  static int child_hook(void* ctx) { return static_cast<const Backstop*>(ctx)->install_in_child(); }

  // Before a launch that suspends the caller until the child's exec
  // (vfork): starts exec supervision's thread now, so that it can receive
  // the child's listener and answer the command's own exec while the caller
  // cannot. When the thread cannot be made, exec supervision is dropped
  // (listed in status().missing) and the child installs the rest; under
  // require.kernel that is an error instead. Without this call, on_started()
  // does it all after a plain fork.
  Status start_before_launch();
  // The parent side, right after fork (or after the vfork returned): takes
  // the child's report and, unless start_before_launch() did, receives the
  // listener and starts exec supervision. Fails when the child could not
  // install a required layer.
  Status on_started(pid_t pid);

  const LayerStatus& status() const { return status_; }
  // {"preload":<preload>,"seccomp":"active"|"off"|"unavailable",
  //  "exec_supervision":..,"landlock":"write,exec,..."|"none"|"unavailable",
  //  "missing":[..],"notes":[..]}
  std::string layers_json(bool preload) const;

  ExecSupervisorStats exec_stats() const;

  // When BackstopOptions::emit is unset: readable when exec supervision has
  // events; read_events() drains them without blocking. -1 otherwise.
  int events_fd() const { return events_read_; }
  std::vector<std::string> read_events();

  ~Backstop();
  Backstop(const Backstop&) = delete;
  Backstop& operator=(const Backstop&) = delete;

 private:
  // What the child sends after installing: each layer's result (0 or
  // -errno) and its pid, with the listener fd attached as SCM_RIGHTS when
  // exec supervision is on.
  struct ChildReport {
    int32_t nnp_rc = 0;
    int32_t landlock_rc = 0;
    int32_t seccomp_rc = 0;
    int32_t pid = 0;
  };
  struct Received {
    ChildReport report;
    ssize_t got = -1;             // recvmsg's result; -1 when nothing came
    int listener = -1;
    bool listener_taken = false;  // the supervisor thread owns it
  };

  Backstop() = default;
  Status apply_report(pid_t pid, Received rx, std::unique_ptr<ExecSupervisor> pending);
  Status drop_exec_supervision(const Error& why);
  image::View image_;
  BackstopOptions options_;
  LayerStatus status_;
  bool want_seccomp_ = false;
  bool require_ = false;
  bool confirm_continue_ = false;  // the child checks CONTINUE on its listener
  Error pending_error_ = make_error("exec supervision did not start");
  FilterSpec spec_;  // what program_ was built from
  BpfProgram program_;
  bool early_ = false;  // start_before_launch() started the thread
  std::mutex received_mu_;
  std::condition_variable received_cv_;
  bool received_ = false;
  Received received_value_;
  int ruleset_fd_ = -1;
  int child_sock_ = -1;  // child's end: sends the listener fd or an error
  int parent_sock_ = -1;
  int events_read_ = -1;
  int events_write_ = -1;
  std::unique_ptr<ExecSupervisor> exec_;
  ExecSupervisorOptions supervisor_options() const;
};

}  // namespace fnguard::kernel
