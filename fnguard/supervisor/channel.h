// The supervisor's side of the enforcer protocol (fnguard/enforcer/protocol.h):
// the sealed policy image, the context page, the events socket and the gate.
//
//   auto channel = Channel::create(image_bytes);      // in the supervisor
//   pid = fork();
//   child:  channel->setup_child(env);  execve(...);  // moves fds, sets env
//   parent: channel->close_child_ends();
//           channel->wait_hello(pid, timeout) ... channel->open_gate();
//           read events from channel->events_fd()
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/context.h"

namespace fnguard::supervisor {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class Channel {
 public:
  // Writes `image` to a sealed memfd, creates the context page and the
  // events socketpair. `gate`: whether the first child must wait for
  // open_gate() (fail-closed start).
  static Result<std::unique_ptr<Channel>> create(const std::vector<uint8_t>& image, bool gate);

  // In the child, after fork and before exec: moves the child's ends to the
  // fixed descriptor numbers (protocol.h kFirstFd..), clears close-on-exec,
  // and returns the environment entries to add:
  // "LD_PRELOAD=<library>[:old]" and "FNGUARD_ENFORCER=...". Async-signal-safe
  // apart from building the strings, which callers do before fork via
  // child_environment().
  int setup_child_fds() const;  // 0 or -errno
  std::vector<std::string> child_environment(const std::string& library,
                                             const char* existing_preload) const;

  // In the parent after fork: closes the ends only the child needs.
  void close_child_ends();

  // Waits for the hello datagram from `pid` (fail-closed proof). Other
  // datagrams received meanwhile are appended to `early_events`. Returns true
  // on hello; false on timeout or if the child exited (`child_exited` set by
  // the caller's check through waitpid is the caller's business).
  bool wait_hello(pid_t pid, int timeout_ms, std::vector<std::string>* early_events);
  // Lets the first child run its main().
  void open_gate();

  int events_fd() const { return events_read_.get(); }
  // The writable mapping of the context page (the supervisor publishes
  // invocation data here; see context.h for the sequence lock).
  image::ContextPage* context() const { return context_; }
  // Write side of the context's sequence lock.
  void context_begin_write();
  void context_end_write();

  ~Channel();

 private:
  Channel() = default;
  UniqueFd image_fd_;
  UniqueFd context_fd_;
  UniqueFd events_read_;
  UniqueFd events_write_;  // child's end
  UniqueFd gate_read_;     // child's end
  UniqueFd gate_write_;
  image::ContextPage* context_ = nullptr;
};

}  // namespace fnguard::supervisor
