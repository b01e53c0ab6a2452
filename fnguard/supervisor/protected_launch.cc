// See protected_launch.h.
#include "fnguard/supervisor/protected_launch.h"

#include <signal.h>

#include <utility>

#include "fnguard/common/self_path.h"

namespace fnguard::supervisor {

ProtectedStart start_protected(Channel& channel, Supervisor& sup, events::Sink& sink,
                               const policy::LoadedPolicy& policy, LaunchOptions launch,
                               std::function<image::Phase()> phase, ProgramInfo* program,
                               std::string* warning) {
  ProtectedStart out;
  out.decoys = std::make_unique<Decoys>();
  out.decoys->plant(policy.honeypots, &launch.env);
  // Prepared before fork, installed by the child hook, supervised from
  // here. require.kernel without seccomp refuses to run (125).
  kernel::BackstopOptions kernel_options;
  kernel_options.exec_dirs.push_back(launch.path.substr(0, launch.path.rfind('/')));
  kernel_options.exec_dirs.push_back(install_prefix());
  kernel_options.phase = std::move(phase);
  Result<std::unique_ptr<kernel::Backstop>> backstop = kernel::Backstop::prepare(
      image::View(policy.image.data(), policy.image.size()), std::move(kernel_options));
  if (!backstop) {
    out.fail_status = 125;
    out.failure = backstop.error().to_string();
    return out;
  }
  out.backstop = std::move(*backstop);
  kernel::Backstop& kernel = *out.backstop;

  // The launch suspends this thread until the child's exec, which exec
  // supervision answers: its thread starts first.
  if (Status early = kernel.start_before_launch(); !early) {
    out.fail_status = 125;
    out.failure = early.error().to_string();
    return out;
  }
  if (program->startup != nullptr) program->startup->mark("kernel");
  Status kernel_started = Ok{};
  launch.child_pre_exec = &kernel::Backstop::child_hook;
  launch.child_pre_exec_ctx = &kernel;
  // The caller's own on_started (if any) runs after the kernel's.
  launch.on_started = [&, callers = std::move(launch.on_started)](pid_t pid) {
    kernel_started = kernel.on_started(pid);
    if (kernel_started && kernel.status().exec_supervision && channel.context() != nullptr) {
      channel.context()->exec_supervised.store(1, std::memory_order_release);
    }
    if (program->startup != nullptr) program->startup->mark("exec");
    if (callers) callers(pid);
  };

  out.child = supervisor::launch(channel, launch);
  if (program->startup != nullptr) program->startup->mark("enforcer_hello");
  const Launched& child = out.child;
  if (child.pid >= 0 && !kernel_started && policy.require_kernel) {
    kill(child.pid, SIGKILL);
    sup.run(child.pid);
    out.fail_status = 125;
    out.failure = kernel_started.error().to_string();
    return out;
  }
  if (child.pid < 0) {
    sink.write_own(launch_failed_event(*program, child.failure_status, child.failure.to_string()));
    out.fail_status = child.failure_status;
    out.failure = child.failure.to_string();
    return out;
  }
  program->pid = child.pid;
  int64_t now = monotonic_ms();
  for (const std::string& early : child.early_events) sink.submit(early, now);

  Layers layers;
  layers.preload = child.preload_active;
  const kernel::LayerStatus& kstatus = kernel.status();
  layers.seccomp = kstatus.seccomp;
  layers.landlock = kstatus.landlock != "none" && kstatus.landlock != "off" &&
                    kstatus.landlock != "unavailable";
  layers.kernel = kernel.layers_json(child.preload_active);
  sink.write_own(started_event(*program, layers));
  if (warning->empty()) *warning = child.warning;
  if (warning->empty() && !kstatus.missing.empty()) {
    *warning = "kernel backstop degraded: ";
    for (size_t i = 0; i < kstatus.missing.size(); ++i) {
      *warning += (i ? "; " : "") + kstatus.missing[i];
    }
  }
  if (!warning->empty()) sink.write_own(enforcement_event(*program, layers, *warning));
  for (const std::string& problem : out.decoys->problems()) {
    sink.write_own(enforcement_event(*program, layers, problem));
  }
  return out;
}

ChildExit run_protected(Channel& channel, Supervisor& sup, events::Sink& sink,
                        const ProtectedStart& started) {
  kernel::Backstop& kernel = *started.backstop;
  sup.set_events_fd(channel.events_fd());
  auto drain_kernel = [&] {
    for (const std::string& e : kernel.read_events()) sink.submit(e, monotonic_ms());
  };
  if (kernel.events_fd() >= 0) sup.add_fd(kernel.events_fd(), drain_kernel);
  ChildExit exit = sup.run(started.child.pid);
  drain_kernel();
  return exit;
}

}  // namespace fnguard::supervisor
