// `fnguard wrapper -- RUNTIME...`: the Lambda exec wrapper (see wrapper.h).
#include "fnguard/lambda/wrapper.h"

#include <malloc.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fnguard/common/self_path.h"
#include "fnguard/events/sink.h"
#include "fnguard/lambda/inspect_glue.h"
#include "fnguard/lambda/proxy.h"
#include "fnguard/policy/policy.h"
#include "fnguard/supervisor/channel.h"
#include "fnguard/supervisor/executable.h"
#include "fnguard/supervisor/launch.h"
#include "fnguard/supervisor/protected_launch.h"
#include "fnguard/supervisor/run_events.h"
#include "fnguard/supervisor/supervisor.h"

extern char** environ;

namespace fnguard::lambda {
namespace {

namespace sv = fnguard::supervisor;

constexpr int kExitInternal = 125;

int fail(int status, const std::string& line) {
  std::fprintf(stderr, "fnguard: %s\n", line.c_str());
  return status;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' ? v : nullptr;
}

// FNGUARD_POLICY: a path, or the policy itself (text with a newline, or
// starting with '{'). Else PREFIX/policy.yaml (the layer's /opt/fnguard/policy.yaml),
// else the built-in default.
Result<policy::LoadedPolicy> load_policy(const policy::CompileOptions& options) {
  std::string layer_policy = install_prefix() + "/policy.yaml";
  const char* setting = env("FNGUARD_POLICY");
  // The layer's policy (also when FNGUARD_POLICY names it) comes with the
  // tree `fnguard layer build` parsed from it (policy.tree).
  if (setting == nullptr ? access(layer_policy.c_str(), R_OK) == 0 : setting == layer_policy) {
    return policy::load_policy_file_prepared(layer_policy, install_prefix() + "/policy.tree",
                                             options);
  }
  if (setting != nullptr) return policy::load_policy_setting(setting, options);
  return policy::default_policy(options);
}

// Events from the proxy's threads reach the single-threaded sink through
// this queue; an eventfd wakes the supervisor's loop.
class EventQueue {
 public:
  EventQueue() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~EventQueue() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }
  void push(std::string json) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(json));
    }
    uint64_t one = 1;
    ssize_t n = write(fd_, &one, sizeof one);
    (void)n;
  }
  void drain(events::Sink& sink) {
    uint64_t v;
    ssize_t n = read(fd_, &v, sizeof v);
    (void)n;
    std::deque<std::string> items;
    {
      std::lock_guard<std::mutex> lock(mu_);
      items.swap(queue_);
    }
    for (const std::string& e : items) sink.write_own(e);
  }

 private:
  int fd_;
  std::mutex mu_;
  std::deque<std::string> queue_;
};

}  // namespace

InspectSettings inspect_settings(const policy::InspectPolicy& inspect, image::Mode fallback) {
  InspectSettings s;
  s.mode = inspect.configured ? inspect.mode : fallback;
  if (inspect.configured) s.detectors = inspect.detectors;
  return s;
}

int wrapper_main(int argc, char** argv) {
  sv::StartupClock startup;
  // One malloc arena for all of the wrapper's threads: each new thread
  // (proxy, supervision) otherwise maps and trims a 64 MB arena of its own
  // on its first allocation, at cold start, for little allocation traffic.
  mallopt(M_ARENA_MAX, 1);
  std::vector<std::string> command;
  int i = 1;
  if (i < argc && std::strcmp(argv[i], "--") == 0) ++i;
  for (; i < argc; ++i) command.emplace_back(argv[i]);
  if (command.empty()) {
    return fail(kExitInternal,
                "wrapper: no runtime command given; Lambda passes it when "
                "AWS_LAMBDA_EXEC_WRAPPER=/opt/fnguard-wrapper (usage: fnguard wrapper -- CMD...)");
  }
  if (const char* d = env("FNGUARD_DISABLE"); d != nullptr && std::strcmp(d, "1") == 0) {
    std::string failure;
    int status = sv::exec_untouched(command, &failure);
    return fail(status, failure);
  }

  policy::CompileOptions options = policy::compile_options_from_environment();
  options.effective_json = false;
  if (const char* m = env("FNGUARD_MODE")) {
    options.mode_override = policy::parse_mode(m);
    if (!options.mode_override) {
      return fail(kExitInternal, std::string("FNGUARD_MODE must be off, monitor or block, not '") +
                                     m + "'");
    }
  }

  // Reserve the proxy's port first: the policy's implicit Runtime API allow
  // must name the address the runtime will actually use.
  const char* upstream = env("AWS_LAMBDA_RUNTIME_API");
  http::UniqueFd listen_fd;
  uint16_t port = 0;
  std::string proxy_problem;
  if (upstream == nullptr) {
    proxy_problem = "AWS_LAMBDA_RUNTIME_API is not set, so there is no Runtime API to proxy";
  } else {
    auto fd = http::listen_loopback(0, &port);
    if (fd.ok()) {
      listen_fd = std::move(*fd);
      options.runtime_api = "127.0.0.1:" + std::to_string(port);
    } else {
      proxy_problem = fd.error().message;
    }
  }

  Result<policy::LoadedPolicy> loaded = load_policy(options);
  if (!loaded) return fail(kExitInternal, loaded.error().to_string());
  const policy::LoadedPolicy& pol = *loaded;
  image::Mode mode = options.mode_override.value_or(pol.top_mode);
  startup.mark("policy");
  // The compile applied FNGUARD_MODE to the inspect section's mode, and
  // `mode` has it too.
  InspectSettings inspect = inspect_settings(pol.inspect, mode);
  const char* fc = env("FNGUARD_FAIL_CLOSED");
  bool fail_closed = inspect.mode == image::Mode::kBlock || (fc != nullptr && std::strcmp(fc, "1") == 0);

  std::string destination;
  if (const char* e = env("FNGUARD_EVENTS")) destination = e;
  Result<std::unique_ptr<events::Sink>> sink = events::Sink::open(destination);
  if (!sink) return fail(kExitInternal, sink.error().to_string());

  sv::ProgramInfo program;
  program.argv0 = command[0];
  program.startup = &startup;
  sv::ResolvedCommand resolved = sv::resolve_command(command[0], std::getenv("PATH"));
  if (resolved.path.empty()) return fail(resolved.failure_status, resolved.failure);
  program.exe = resolved.path;

  std::string library = enforcer_library_path();
  bool preload = access(library.c_str(), R_OK) == 0;
  std::string warning;
  if (!preload) {
    if (pol.require_preload) {
      return fail(kExitInternal, "the enforcer library " + library +
                                     " is missing; rebuild the layer, or set FNGUARD_DISABLE=1 to "
                                     "run without protection");
    }
    warning = "the enforcer library " + library + " is missing; running unprotected because the "
                                                  "policy sets require: {preload: false}";
  }

  Result<std::unique_ptr<sv::Channel>> channel = sv::Channel::create(pol.image, /*gate=*/true);
  if (!channel) return fail(kExitInternal, channel.error().to_string());
  Result<std::unique_ptr<sv::Supervisor>> sup = sv::Supervisor::create(sink->get());
  if (!sup) return fail(kExitInternal, sup.error().to_string());
  (*sink)->write_own(sv::policy_loaded_event(pol, mode));
  startup.mark("setup");

  // The Runtime API proxy.
  EventQueue queue;
  std::unique_ptr<Proxy> proxy;
  const char* fn_name = env("AWS_LAMBDA_FUNCTION_NAME");
  if (proxy_problem.empty()) {
    ProxyConfig cfg;
    cfg.upstream = upstream;
    cfg.listen_fd = listen_fd.release();
    cfg.channel = channel->get();
    cfg.emit = [&queue](std::string e) { queue.push(std::move(e)); };
    cfg.function_name = fn_name != nullptr ? fn_name : "";
    if (const char* v = env("AWS_LAMBDA_FUNCTION_VERSION")) cfg.function_version = v;
    if (const char* r = env("AWS_REGION")) cfg.region = r;
    cfg.inspect_mode = inspect.mode;
    cfg.spare_after_start = true;  // see launch.on_started below
    image::View view(pol.image.data(), pol.image.size());
    for (size_t c = 0; c < image::kControlCount; ++c) {
      if (view.control(static_cast<image::Control>(c)).taint_mode != image::Mode::kOff) {
        cfg.taint_only = true;
      }
    }
    if (inspect.mode != image::Mode::kOff || cfg.taint_only) {
      Result<InspectFn> fn = make_inspector(inspect);
      if (fn.ok()) {
        cfg.inspect = std::move(*fn);
      } else if (fail_closed) {
        return fail(kExitInternal, fn.error().to_string());
      } else {
        cfg.inspect_mode = image::Mode::kOff;
        (*sink)->write_own(lifecycle_event("degraded", "protection degraded: " + fn.error().message,
                                           cfg.function_name));
      }
    }
    auto started = Proxy::start(std::move(cfg));
    if (started.ok()) {
      proxy = std::move(*started);
    } else {
      proxy_problem = started.error().message;
    }
  }
  if (!proxy) {
    if (fail_closed && upstream != nullptr) {
      return fail(kExitInternal, "the Runtime API proxy could not start (" + proxy_problem +
                                     ") and the policy requires it (inspect mode block or "
                                     "FNGUARD_FAIL_CLOSED=1); refusing to run unprotected");
    }
    (*sink)->write_own(lifecycle_event(
        "degraded",
        "protection degraded: the Runtime API proxy is not running (" + proxy_problem +
            "); invocations go straight to the runtime, without inspection or request ids",
        fn_name != nullptr ? fn_name : ""));
  }

  startup.mark("proxy");

  sv::LaunchOptions launch;
  launch.path = resolved.path;
  launch.argv = command;
  for (char** e = environ; *e != nullptr; ++e) {
    if (proxy && std::strncmp(*e, "AWS_LAMBDA_RUNTIME_API=", 23) == 0) continue;
    launch.env.emplace_back(*e);
  }
  if (proxy) launch.env.push_back("AWS_LAMBDA_RUNTIME_API=" + proxy->address());
  launch.preload = preload;
  launch.library = library;
  launch.require_preload = pol.require_preload;
  // The runtime has been exec'd: the proxy's first upstream connect may run
  // now, beside the runtime's start (ProxyConfig::spare_after_start).
  launch.on_started = [&proxy](pid_t) {
    if (proxy) proxy->runtime_started();
  };

  // Kernel backstop, launch, started/enforcement events, as in `fnguard run`;
  // exec supervision learns the phase from the context page the proxy writes.
  image::ContextPage* context = (*channel)->context();
  auto phase = [context] {
    // One byte the proxy publishes; a torn read is impossible.
    return static_cast<image::Phase>(
        __atomic_load_n(reinterpret_cast<const uint8_t*>(&context->phase), __ATOMIC_RELAXED));
  };
  sv::ProtectedStart started =
      sv::start_protected(**channel, **sup, **sink, pol, std::move(launch), phase, &program, &warning);
  if (started.fail_status != 0) return fail(started.fail_status, started.failure);

  (*sup)->add_fd(queue.fd(), [&] { queue.drain(**sink); });
  sv::ChildExit exit = sv::run_protected(**channel, **sup, **sink, started);
  if (proxy) proxy->stop();
  queue.drain(**sink);
  (*sink)->write_own(sv::stopped_event(program, exit, (*sink)->stats()));
  (*sink)->flush();
  return exit.exit_status;
}

}  // namespace fnguard::lambda
