// Helpers for the kernel backstop unit tests: small compiled images built
// directly with image::Builder, and a fork-and-report harness.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "fnguard/image/builder.h"

namespace fnguard::kernel::testing {

inline image::RuleSpec path_rule(image::Verdict v, const std::string& glob, uint32_t index) {
  image::RuleSpec r;
  r.verdict = v;
  r.kind = image::MatchKind::kPathGlob;
  r.pattern = glob;
  r.source_index = index;
  return r;
}

inline image::RuleSpec name_rule(image::Verdict v, const std::string& name, uint32_t index) {
  image::RuleSpec r = path_rule(v, name, index);
  r.kind = image::MatchKind::kExecName;
  return r;
}

inline image::RuleSpec port_rule(uint16_t port, uint32_t index) {
  image::RuleSpec r;
  r.verdict = image::Verdict::kAllow;
  r.kind = image::MatchKind::kNetTarget;
  r.net.kind = image::NetKind::kAnyHost;
  r.net.port = port;
  r.source_index = index;
  return r;
}

// Every control off; the caller turns on what it tests. /tmp is the
// writable location, as the compiler makes it.
inline image::Builder base_builder(image::Mode top) {
  image::Builder b;
  b.set_top_mode(top);
  for (size_t i = 0; i < image::kControlCount; ++i) {
    b.set_control(static_cast<image::Control>(i), image::Mode::kOff, image::Verdict::kAllow);
  }
  b.set_control(image::Control::kWritable, image::Mode::kOff, image::Verdict::kDeny);
  b.add_rule(image::Control::kWritable,
             path_rule(image::Verdict::kAllow, "/tmp/**", image::kBuiltinRule));
  return b;
}

// Runs `fn` in a forked child; returns what it wrote to the pipe (results
// as text), after the child exited.
template <typename Fn>
std::string run_in_child(Fn fn, int* exit_status = nullptr) {
  int p[2];
  if (pipe(p) != 0) return "<pipe failed>";
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string out = fn();
    ssize_t n = write(p[1], out.data(), out.size());
    (void)n;
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (exit_status) *exit_status = status;
  return out;
}

// A second thread of this process (the supervisor in these tests), parked
// until destroyed: its id is what an attacker finds in /proc/<pid>/task.
class ParkedThread {
 public:
  ParkedThread() {
    if (pipe(wake_) != 0) return;
    thread_ = std::thread([this] {
      tid_.store(gettid());
      char c;
      (void)!read(wake_[0], &c, 1);
    });
    while (tid_.load() == 0) usleep(100);
  }
  ~ParkedThread() {
    (void)!write(wake_[1], "x", 1);
    if (thread_.joinable()) thread_.join();
    close(wake_[0]);
    close(wake_[1]);
  }
  pid_t tid() const { return tid_.load(); }

 private:
  int wake_[2] = {-1, -1};
  std::atomic<pid_t> tid_{0};
  std::thread thread_;
};

}  // namespace fnguard::kernel::testing
