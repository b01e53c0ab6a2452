// Test support for the in-process enforcer: build a policy image, run a real
// program under libfnguard.so with the supervisor's channel (image, context
// page, events socket, start gate) exactly as `fnguard run` does, and collect
// its output, exit status and event datagrams.
//
//   PolicyImage policy;
//   policy.control(Control::kFilesRead, Mode::kBlock).deny("/secret/**");
//   RunResult r = run_protected(policy.build(), {probe_path(), "read", "/secret/a"});
//   EXPECT_EQ(r.line("read"), "read err 13");
//   EXPECT_TRUE(r.has_event({"\"control\":\"files.read\"", "\"action\":\"blocked\""}));
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "fnguard/image/builder.h"
#include "fnguard/supervisor/channel.h"

namespace fnguard::testing {

using image::Control;
using image::Mode;
using image::Verdict;

// Builds an image: per control a mode, a default and first-match rules.
class PolicyImage {
 public:
  PolicyImage() {
    for (size_t c = 0; c < image::kControlCount; ++c) {
      builder_.set_control(static_cast<Control>(c), Mode::kOff, Verdict::kAllow);
    }
  }

  // Selects the control the following deny()/allow() calls add to.
  PolicyImage& control(Control c, Mode mode, Verdict default_verdict = Verdict::kAllow) {
    current_ = c;
    builder_.set_control(c, mode, default_verdict);
    index_[static_cast<size_t>(c)] = 0;
    return *this;
  }
  PolicyImage& deny(const std::string& glob) { return add(Verdict::kDeny, glob); }
  PolicyImage& allow(const std::string& glob) { return add(Verdict::kAllow, glob); }
  PolicyImage& rule(image::RuleSpec spec) {
    spec.source_index = index_[static_cast<size_t>(current_)]++;
    builder_.add_rule(current_, std::move(spec));
    return *this;
  }

  std::vector<uint8_t> build() const { return builder_.finish(); }

 private:
  PolicyImage& add(Verdict verdict, const std::string& glob) {
    image::RuleSpec spec;
    spec.verdict = verdict;
    spec.kind = image::MatchKind::kPathGlob;
    spec.pattern = glob;
    return rule(std::move(spec));
  }

  image::Builder builder_;
  Control current_ = Control::kFilesRead;
  uint32_t index_[image::kControlCount] = {};
};

inline std::string self_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

// The enforcer as built next to the test binaries (build/bin/.. /lib).
inline std::string library_path() { return self_dir() + "/../lib/libfnguard.so"; }
// The native probe program (tests/unit/programs/enforcer_probe.cc).
inline std::string probe_path() { return self_dir() + "/enforcer_probe"; }

struct RunResult {
  bool started = false;             // fork/exec worked
  bool hello = false;               // the enforcer said hello (it loaded and the image was valid)
  int exit_code = -1;               // exit status, or 128+signal
  std::string out;                  // stdout
  std::string err;                  // stderr
  std::vector<std::string> events;  // every datagram except hellos

  // The first stdout line starting with `prefix + " "`, or "".
  std::string line(const std::string& prefix) const {
    size_t pos = 0;
    while (pos < out.size()) {
      size_t end = out.find('\n', pos);
      if (end == std::string::npos) end = out.size();
      std::string l = out.substr(pos, end - pos);
      if (l.rfind(prefix + " ", 0) == 0 || l == prefix) return l;
      pos = end + 1;
    }
    return "";
  }
  // Events containing every fragment.
  std::vector<std::string> find_events(std::initializer_list<std::string> fragments) const {
    std::vector<std::string> found;
    for (const auto& e : events) {
      bool all = true;
      for (const auto& f : fragments) all = all && e.find(f) != std::string::npos;
      if (all) found.push_back(e);
    }
    return found;
  }
  bool has_event(std::initializer_list<std::string> fragments) const {
    return !find_events(fragments).empty();
  }
  std::string dump() const {
    std::string s =
        "exit " + std::to_string(exit_code) + "\nstdout:\n" + out + "stderr:\n" + err + "events:\n";
    for (const auto& e : events) s += e + "\n";
    return s;
  }
};

struct RunOptions {
  std::string cwd;               // empty: inherit
  std::vector<std::string> env;  // extra NAME=VALUE entries
  bool gate = true;
  // false: the harness never writes the gate byte (the pipe stays open until
  // the program ends), to show an active enforcer does not wait for it.
  bool open_gate = true;
  int timeout_ms = 60000;
  int hello_timeout_ms = 10000;  // tests that expect no hello shorten this
  // When set, the events socket is not read until stdout contains this
  // text (so the program can fill it); then events are drained and a
  // newline is written to the program's stdin to let it continue.
  std::string pause_events_until;
  // Fills the context page (request id, taints) before the program starts.
  std::function<void(image::ContextPage*)> context;
  // false: LD_PRELOAD is left out of the environment, for a launcher that
  // sets it for its guest only (qemu-user's -E, enforcer_arm64_test.cc).
  bool preload_in_environment = true;
  // Environment variables of this process left out of the child's
  // (prefixes, e.g. "QEMU_").
  std::vector<std::string> drop_env;
  // The child leads its own process group, and every kill (timeout, no
  // hello, the end of the run) goes to the whole group: a launcher's
  // children too.
  bool own_process_group = false;
};

inline void drain_events(int fd, std::vector<std::string>* events) {
  char buf[65536];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return;
    std::string msg(buf, static_cast<size_t>(n));
    if (msg.rfind("{\"fnguard_hello\"", 0) == 0) continue;
    events->push_back(std::move(msg));
  }
}

inline RunResult run_protected(const std::vector<uint8_t>& image,
                               const std::vector<std::string>& argv,
                               const RunOptions& options = {}) {
  RunResult result;
  auto channel_or = supervisor::Channel::create(image, options.gate);
  if (!channel_or.ok()) {
    result.err = channel_or.error().message;
    return result;
  }
  auto& channel = *channel_or;
  if (options.context) {
    channel->context_begin_write();
    options.context(channel->context());
    channel->context_end_write();
  }

  // Everything the child needs is built before fork.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "LD_PRELOAD=", 11) == 0 || std::strncmp(*e, "FNGUARD_ENFORCER=", 17) == 0)
      continue;
    bool dropped = false;
    for (const std::string& prefix : options.drop_env) dropped |= std::strncmp(*e, prefix.c_str(), prefix.size()) == 0;
    if (!dropped) env_strings.emplace_back(*e);
  }
  for (auto& e : channel->child_environment(library_path(), nullptr)) {
    if (options.preload_in_environment || e.rfind("LD_PRELOAD=", 0) != 0) env_strings.push_back(e);
  }
  for (auto& e : options.env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return result;
  bool paused = !options.pause_events_until.empty();
  if (paused && pipe2(in_pipe, O_CLOEXEC) != 0) return result;
  pid_t pid = fork();
  if (pid < 0) return result;
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (in_pipe[0] >= 0) dup2(in_pipe[0], 0);
    if (options.own_process_group) setpgid(0, 0);
    if (channel->setup_child_fds() != 0) _exit(126);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    execve(argp[0], argp.data(), envp.data());
    _exit(127);
  }
  result.started = true;
  const pid_t target = options.own_process_group ? -pid : pid;  // what kill() hits
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (in_pipe[0] >= 0) close(in_pipe[0]);
  channel->close_child_ends();
  result.hello = channel->wait_hello(pid, options.hello_timeout_ms, &result.events);
  if (result.hello && options.open_gate) channel->open_gate();

  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[3] = {
        {out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {channel->events_fd(), POLLIN, 0}};
    if (!out_open) fds[0].fd = -1;
    if (!err_open) fds[1].fd = -1;
    if (paused) fds[2].fd = -1;
    int r = poll(fds, 3, 200);
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed > options.timeout_ms) {
      kill(target, SIGKILL);
      break;
    }
    if (!result.hello) {
      // No hello: the child must not be left waiting at the gate.
      kill(target, SIGKILL);
    }
    if (r <= 0) continue;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
    if (paused && result.out.find(options.pause_events_until) != std::string::npos) {
      paused = false;
      drain_events(channel->events_fd(), &result.events);
      ssize_t n = write(in_pipe[1], "\n", 1);
      (void)n;
    }
    if (fds[2].revents & POLLIN) drain_events(channel->events_fd(), &result.events);
  }
  if (in_pipe[1] >= 0) close(in_pipe[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (options.own_process_group) kill(-pid, SIGKILL);  // what the program left behind
  drain_events(channel->events_fd(), &result.events);
  close(out_pipe[0]);
  close(err_pipe[0]);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// A fresh directory under /tmp, removed with its content by the destructor.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/fnguard-enforcer-XXXXXX";
    char* p = mkdtemp(tmpl);
    path_ = p != nullptr ? p : "/tmp";
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    int rc = std::system(cmd.c_str());
    (void)rc;
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

  void write(const std::string& name, const std::string& content) const {
    int fd = ::open((path_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    ssize_t n = ::write(fd, content.data(), content.size());
    (void)n;
    ::close(fd);
  }
  bool exists(const std::string& name) const {
    struct stat st {};
    return lstat((path_ + "/" + name).c_str(), &st) == 0;
  }
  std::string read(const std::string& name) const {
    std::string out;
    int fd = ::open((path_ + "/" + name).c_str(), O_RDONLY);
    if (fd < 0) return out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  }

 private:
  std::string path_;
};

}  // namespace fnguard::testing
