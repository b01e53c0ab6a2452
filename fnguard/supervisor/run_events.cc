// Lifecycle event composition (see run_events.h).
#include "fnguard/supervisor/run_events.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "fnguard/common/sha256.h"
#include "fnguard/events/lifecycle.h"

namespace fnguard::supervisor {

namespace {

void process_fields(events::JsonWriter& w, const ProgramInfo& p) {
  if (p.pid <= 0 && p.exe.empty()) return;
  w.begin_object("process");
  if (p.pid > 0) w.field_int("pid", p.pid);
  w.field_int("ppid", getpid());
  if (!p.exe.empty()) w.field("exe", p.exe.c_str());
  if (!p.argv0.empty()) w.field("argv0", p.argv0.c_str());
  w.end_object();
}

void layer_fields(events::JsonWriter& w, const Layers& layers) {
  w.begin_object("layers");
  w.field_bool("preload", layers.preload);
  w.field_bool("seccomp", layers.seccomp);
  w.field_bool("landlock", layers.landlock);
  if (!layers.kernel.empty()) w.field_raw("kernel", layers.kernel.c_str());
  w.end_object();
}

std::string hex_digest(const std::vector<uint8_t>& data) {
  Sha256 h;
  h.update(data.data(), data.size());
  uint8_t digest[32];
  h.finish(digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace

std::string policy_loaded_event(const policy::LoadedPolicy& policy, image::Mode mode) {
  events::LifecycleEvent ev("policy_loaded");
  auto& w = ev.json();
  w.field("mode", image::mode_name(mode));
  w.begin_object("policy");
  w.field("source", policy.source.empty() ? "<default>" : policy.source.c_str());
  w.field("sha256", hex_digest(policy.image).c_str());
  if (policy.prepared) w.field_bool("prepared", true);
  w.end_object();
  if (!policy.warnings.empty()) {
    w.begin_array("warnings");
    for (const auto& warning : policy.warnings) {
      std::string text = warning.where.to_string();
      text += text.empty() ? warning.message : ": " + warning.message;
      w.element(text.c_str());
    }
    w.end_array();
  }
  if (!policy.not_enforced.empty()) {
    w.begin_array("not_enforced");
    for (const auto& line : policy.not_enforced) w.element(line.c_str());
    w.end_array();
  }
  return ev.finish();
}

StartupClock::StartupClock() : start_ns_(monotonic_ns()), last_ns_(start_ns_) {}

void StartupClock::mark(const char* name) {
  int64_t now = monotonic_ns();
  if (count_ < kMaxPhases) {
    names_[count_] = name;
    phase_ns_[count_] = now - last_ns_;
    ++count_;
  }
  last_ns_ = now;
}

std::string StartupClock::json() const {
  if (count_ == 0) return "";
  std::string out = "{";
  for (int i = 0; i < count_; ++i) {
    out += "\"" + std::string(names_[i]) + "\":" + std::to_string(phase_ns_[i] / 1000) + ",";
  }
  out += "\"total\":" + std::to_string((last_ns_ - start_ns_) / 1000) + "}";
  return out;
}

std::string started_event(const ProgramInfo& program, const Layers& layers) {
  events::LifecycleEvent ev("started");
  process_fields(ev.json(), program);
  layer_fields(ev.json(), layers);
  if (program.startup != nullptr) {
    std::string startup = program.startup->json();
    if (!startup.empty()) ev.json().field_raw("startup_us", startup.c_str());
  }
  return ev.finish();
}

std::string enforcement_event(const ProgramInfo& program, const Layers& layers,
                              const std::string& message) {
  events::LifecycleEvent ev("enforcement");
  auto& w = ev.json();
  w.field("level", "warning");
  w.field("message", message.c_str());
  process_fields(w, program);
  layer_fields(w, layers);
  return ev.finish();
}

std::string stopped_event(const ProgramInfo& program, const ChildExit& exit,
                          const events::SinkStats& stats) {
  events::LifecycleEvent ev("stopped");
  auto& w = ev.json();
  process_fields(w, program);
  w.begin_object("detail");
  w.field_int("exit_status", exit.exit_status);
  if (exit.signal != 0) {
    w.field_int("signal", exit.signal);
    const char* name = sigabbrev_np(exit.signal);
    if (name != nullptr) w.field("signal_name", (std::string("SIG") + name).c_str());
  }
  w.field_int("events", static_cast<int64_t>(stats.written));
  w.field_int("folded", static_cast<int64_t>(stats.folded));
  w.field_int("malformed", static_cast<int64_t>(stats.malformed));
  w.field_int("dropped", static_cast<int64_t>(stats.dropped));
  w.end_object();
  return ev.finish();
}

std::string launch_failed_event(const ProgramInfo& program, int exit_status,
                                const std::string& message) {
  events::LifecycleEvent ev("stopped");
  auto& w = ev.json();
  process_fields(w, program);
  w.begin_object("detail");
  w.field_int("exit_status", exit_status);
  w.field("error", message.c_str());
  w.end_object();
  return ev.finish();
}

}  // namespace fnguard::supervisor
