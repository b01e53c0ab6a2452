// Kernel backstop orchestration: which layers, prepared before fork,
// installed in the child, supervised from the parent. See backstop.h.
#include "fnguard/kernel/backstop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "fnguard/events/json_writer.h"

namespace fnguard::kernel {
namespace {

// How long on_started() answers the child's first exec itself before
// leaving it to the supervisor thread.
constexpr int kFirstExecWaitMs = 1000;
// How long the parent waits for the child's report on its layers.
constexpr int kReportWaitMs = 30000;

// Receives the child's report on `sock`, and the listener when it attached
// one (any further descriptors are closed). Waits up to `timeout_ms`, or
// until `stop_fd` (when >= 0) is readable. Returns recvmsg's result, -1 when
// nothing came.
ssize_t receive_report(int sock, int stop_fd, int timeout_ms, void* report, size_t size,
                       int* listener) {
  *listener = -1;
  struct pollfd pfd[2] = {{sock, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  int n;
  do n = poll(pfd, stop_fd >= 0 ? 2 : 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n <= 0 || pfd[0].revents == 0) return -1;
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  struct iovec iov = {report, size};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  for (struct cmsghdr* c = got > 0 ? CMSG_FIRSTHDR(&msg) : nullptr; c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      // Keep the first descriptor; close any others a confused child sent.
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (*listener < 0)
          *listener = fd;
        else
          close(fd);
      }
    }
  }
  return got;
}

bool env_disabled() {
  const char* v = getenv(kEnvKernel);
  return v != nullptr && (strcmp(v, "off") == 0 || strcmp(v, "0") == 0);
}

std::string json_string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    std::vector<char> buf(items[i].size() * 6 + 8);
    events::JsonWriter w(buf.data(), buf.size());
    w.begin_array(nullptr);
    w.element(items[i].c_str());
    w.end_array();
    std::string s(w.data(), w.length());
    // s is ["..."]: keep the element.
    if (i) out += ",";
    out += s.substr(1, s.size() - 2);
  }
  return out + "]";
}

}  // namespace

Result<std::unique_ptr<Backstop>> Backstop::prepare(image::View image, BackstopOptions options) {
  std::unique_ptr<Backstop> b(new Backstop());
  b->image_ = image;
  b->options_ = std::move(options);
  b->require_ = (image.header().flags & image::kRequireKernel) != 0;
  LayerStatus& st = b->status_;
  st.enabled = b->options_.enabled.has_value() ? *b->options_.enabled : !env_disabled();
  if (!st.enabled) {
    st.landlock = "off";
    st.missing.push_back("kernel backstop disabled by FNGUARD_KERNEL=off");
    if (b->require_) {
      return make_error(
          "the policy requires the kernel backstop (require.kernel) but FNGUARD_KERNEL=off "
          "disables it",
          "unset FNGUARD_KERNEL or set require.kernel to false");
    }
    return b;
  }
  // The quick probe forks nothing; what it infers is confirmed in the child.
  KernelFeatures f =
      b->options_.features ? *b->options_.features : probe_kernel(ProbeDepth::kQuick);

  const bool block_top = image.header().top_mode == image::Mode::kBlock;
  const bool want_denylist = block_top || b->require_;
  const bool want_exec = image.control(image::Control::kProcessExec).mode != image::Mode::kOff ||
                         image.control(image::Control::kExecFromWritable).mode != image::Mode::kOff;
  const auto blocks = [&](image::Control c) {
    return image.control(c).mode == image::Mode::kBlock;
  };
  const bool want_landlock = blocks(image::Control::kFilesWrite) ||
                             blocks(image::Control::kExecFromWritable) ||
                             blocks(image::Control::kNetOutbound);
  if (!f.seccomp_filter || !f.no_new_privs) {
    if (want_denylist || want_exec) {
      st.missing.push_back("seccomp: this kernel offers no seccomp filter (or no_new_privs)");
    }
  } else {
    FilterSpec spec;
    spec.refuse_denylist = want_denylist;
    // In block mode the listener is wanted for the denylist's events even
    // when exec itself is off.
    spec.supervise_exec = (want_exec || want_denylist) && f.exec_supervision();
    spec.notify_denylist = want_denylist;
    spec.supervisor_pid = getpid();
    spec.supervisor_pgid = getpgrp();
    if (want_exec && !f.exec_supervision()) {
      st.missing.push_back(
          "exec supervision: this kernel lacks seccomp user notification with CONTINUE (Linux "
          "5.5+)");
    }
    if (spec.refuse_denylist || spec.supervise_exec) {
      auto program = build_filter(spec);
      if (!program) {
        if (b->require_) return program.error();
        st.missing.push_back(program.error().message);
      } else {
        b->program_ = std::move(program.value());
        b->want_seccomp_ = true;
        st.seccomp = true;
        st.denylist = spec.refuse_denylist;
        st.exec_supervision = spec.supervise_exec;
        b->confirm_continue_ = spec.supervise_exec && f.listener_flags_inferred;
        b->spec_ = spec;
      }
    }
  }
  if (b->require_ && !st.seccomp) {
    return make_error(
        "the policy requires the kernel backstop (require.kernel) but seccomp is not available "
        "here",
        "run `fnguard doctor` to see what this kernel offers, or set require.kernel to false");
  }

  st.landlock_abi = f.landlock_abi;
  if (f.landlock_abi <= 0) {
    st.landlock = "unavailable";
    if (want_landlock) {
      st.missing.push_back("landlock: " + (f.landlock_reason.empty() ? std::string("not available")
                                                                     : f.landlock_reason));
    }
  } else {
    LandlockPlan plan = plan_landlock(image, f.landlock_abi, b->options_.exec_dirs);
    // The command inherits our standard descriptors (a shell's redirection).
    plan_inherited_files({STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}, &plan);
    st.notes = plan.notes;
    st.landlock = plan.summary();
    if (plan.active()) {
      auto fd = create_landlock_ruleset(plan);
      if (!fd) {
        st.landlock = "unavailable";
        st.missing.push_back(fd.error().message);
      } else {
        b->ruleset_fd_ = fd.value();
      }
    }
  }

  if (st.exec_supervision && !b->options_.emit) {
    int ev[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ev) != 0) {
      return make_error(std::string("cannot prepare the kernel backstop: socketpair: ") +
                        strerror(errno));
    }
    b->events_read_ = ev[0];
    b->events_write_ = ev[1];
    int wfd = ev[1];
    // A full queue drops the event rather than stall exec decisions; the
    // supervisor drains it from its loop.
    b->options_.emit = [wfd](std::string json) {
      ssize_t n = send(wfd, json.data(), json.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      (void)n;
    };
  }

  if (b->want_seccomp_ || b->ruleset_fd_ >= 0) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
      return make_error(std::string("cannot prepare the kernel backstop: socketpair: ") +
                        strerror(errno));
    }
    b->parent_sock_ = sv[0];
    b->child_sock_ = sv[1];
  }
  return b;
}

int Backstop::install_in_child() const {
  if (child_sock_ < 0) return 0;  // nothing to install
  ChildReport report;
  report.pid = getpid();
  int listener = -1;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) report.nnp_rc = -errno;
  if (ruleset_fd_ >= 0) {
    report.landlock_rc = report.nnp_rc != 0 ? report.nnp_rc : apply_landlock_ruleset(ruleset_fd_);
    close(ruleset_fd_);
  }
  if (want_seccomp_) {
    int rc = install_filter(program_, status_.exec_supervision);
    if (rc < 0) {
      report.seccomp_rc = rc;
    } else if (status_.exec_supervision) {
      listener = rc;
      // The quick probe inferred CONTINUE from the release. Without it no
      // exec could ever be allowed (the filter is in place and cannot be
      // removed): refuse to run the command rather than hang in execve.
      if (confirm_continue_ && !listener_accepts_continue(listener)) {
        close(listener);
        listener = -1;
        report.seccomp_rc = -EOPNOTSUPP;
      }
    }
  }
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  struct iovec iov = {&report, sizeof(report)};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (listener >= 0) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &listener, sizeof(int));
  }
  ssize_t sent;
  do sent = sendmsg(child_sock_, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  // The child must not keep a listener: if the supervisor dies, the last
  // listener closes and the kernel fails execs instead of leaving them
  // waiting for an answer nobody will give.
  if (listener >= 0) close(listener);
  close(child_sock_);
  close(parent_sock_);
  if (sent < 0 && status_.exec_supervision) return -EPIPE;  // execs would hang unanswered
  if (report.seccomp_rc == -EOPNOTSUPP && confirm_continue_) return -EOPNOTSUPP;
  if (require_ && report.seccomp_rc != 0) return report.seccomp_rc;
  return 0;
}

Status Backstop::start_before_launch() {
  if (early_ || !status_.exec_supervision || parent_sock_ < 0) return Ok{};
  auto sup = ExecSupervisor::create(image_, supervisor_options());
  if (!sup) return drop_exec_supervision(sup.error());
  // The thread takes the child's report, and its listener when the child
  // could install the filter; on_started() reads the report from here.
  Status started = (*sup)->start_thread([this](int stop_fd) -> std::pair<int, pid_t> {
    Received rx;
    rx.got = receive_report(parent_sock_, stop_fd, kReportWaitMs, &rx.report, sizeof(rx.report),
                            &rx.listener);
    rx.listener_taken = rx.got == static_cast<ssize_t>(sizeof(rx.report)) &&
                        rx.report.seccomp_rc == 0 && rx.report.nnp_rc == 0 && rx.listener >= 0;
    std::pair<int, pid_t> out{rx.listener_taken ? rx.listener : -1, rx.report.pid};
    {
      std::lock_guard<std::mutex> lock(received_mu_);
      received_value_ = rx;
      received_ = true;
    }
    received_cv_.notify_all();
    return out;
  });
  if (!started) return drop_exec_supervision(started.error());
  exec_ = std::move(*sup);
  early_ = true;
  return Ok{};
}

Status Backstop::drop_exec_supervision(const Error& why) {
  if (require_) return why;
  status_.exec_supervision = false;
  status_.missing.push_back("exec supervision: " + why.message);
  // Without a listener a notifying filter would fail every exec (ENOSYS):
  // keep only the denylist, answered by the kernel itself.
  spec_.supervise_exec = false;
  spec_.notify_denylist = false;
  confirm_continue_ = false;
  Result<BpfProgram> program = spec_.refuse_denylist ? build_filter(spec_)
                                                     : Result<BpfProgram>(make_error("no filter"));
  if (program) {
    program_ = std::move(program.value());
  } else {
    if (spec_.refuse_denylist) status_.missing.push_back(program.error().message);
    want_seccomp_ = false;
    status_.seccomp = status_.denylist = false;
  }
  return Ok{};
}

Status Backstop::on_started(pid_t pid) {
  if (parent_sock_ < 0) return Ok{};
  // From here a child that died without reporting reads as end of file.
  close(child_sock_);
  child_sock_ = -1;
  if (early_) {
    std::unique_lock<std::mutex> lock(received_mu_);
    bool done = received_cv_.wait_for(lock, std::chrono::milliseconds(kReportWaitMs + 1000),
                                      [this] { return received_; });
    // Not done: the thread may still read parent_sock_. apply_report() stops
    // it (exec_.reset(), which fails later execs closed) and the destructor
    // closes the socket.
    Received rx = done ? received_value_ : Received{};
    lock.unlock();
    if (done) {
      close(parent_sock_);
      parent_sock_ = -1;
    }
    return apply_report(pid, rx, nullptr);
  }
  // Prepare exec supervision (everything but its thread) while the child
  // installs its layers on the other CPU.
  std::unique_ptr<ExecSupervisor> pending;
  if (status_.exec_supervision) {
    auto sup = ExecSupervisor::create(image_, supervisor_options());
    // On failure the child's execs fail with ENOSYS once its listener is
    // closed below: fail closed, and say why.
    if (!sup) {
      pending_error_ = sup.error();
    } else {
      pending = std::move(sup.value());
    }
  }
  Received rx;
  rx.got = receive_report(parent_sock_, -1, kReportWaitMs, &rx.report, sizeof(rx.report),
                          &rx.listener);
  close(parent_sock_);
  parent_sock_ = -1;
  return apply_report(pid, rx, std::move(pending));
}

Status Backstop::apply_report(pid_t pid, Received rx, std::unique_ptr<ExecSupervisor> pending) {
  if (ruleset_fd_ >= 0) {
    close(ruleset_fd_);
    ruleset_fd_ = -1;
  }
  const ChildReport& report = rx.report;
  int listener = rx.listener_taken ? -1 : rx.listener;
  if (rx.got != static_cast<ssize_t>(sizeof(report))) {
    if (listener >= 0) close(listener);
    if (early_) exec_.reset();  // its thread got no listener and has returned
    status_.seccomp = status_.exec_supervision = status_.denylist = false;
    status_.missing.push_back(
        "kernel backstop: the child did not report its layers (it exited or stalled)");
    return make_error(
        "the child process did not install the kernel backstop",
        "run `fnguard doctor`; set FNGUARD_KERNEL=off to run without the kernel backstop");
  }
  if (report.landlock_rc != 0) {
    status_.missing.push_back(std::string("landlock: restrict_self failed: ") +
                              strerror(-report.landlock_rc));
    status_.landlock = "unavailable";
  }
  if (report.seccomp_rc != 0 || report.nnp_rc != 0) {
    int rc = report.seccomp_rc != 0 ? report.seccomp_rc : report.nnp_rc;
    status_.missing.push_back(std::string("seccomp: loading the filter failed: ") + strerror(-rc));
    status_.seccomp = status_.exec_supervision = status_.denylist = false;
    if (listener >= 0) close(listener);
    if (early_) exec_.reset();  // its thread got no listener and has returned
    if (require_)
      return make_error(
          "the policy requires the kernel backstop but the seccomp filter did not load");
    return Ok{};
  }
  if (!status_.exec_supervision) {
    if (listener >= 0) close(listener);
    return Ok{};
  }
  if (early_) {
    if (rx.listener_taken) return Ok{};  // the thread answered the exec and goes on
    exec_.reset();
    status_.exec_supervision = false;
    return make_error("the child did not hand over the exec supervision listener");
  }
  if (listener < 0) {
    status_.exec_supervision = false;
    return make_error("the child did not hand over the exec supervision listener");
  }
  if (!pending) {
    close(listener);
    // The child's execs now fail with ENOSYS (no listener): fail closed.
    status_.exec_supervision = false;
    return pending_error_;
  }
  pending->attach(listener, pid);
  // The child's next system call is its exec of the command, which waits
  // for an answer: give it here and now rather than after creating a
  // thread (tens of microseconds on every cold start, measured). Bounded:
  // if it does not come, the thread answers it.
  pending->serve_first(kFirstExecWaitMs);
  if (Status started = pending->start_thread(); !started) {
    // Destroying `pending` closes the listener: later execs fail with
    // ENOSYS (fail closed).
    status_.exec_supervision = false;
    return started;
  }
  exec_ = std::move(pending);
  return Ok{};
}

ExecSupervisorOptions Backstop::supervisor_options() const {
  ExecSupervisorOptions eo;
  eo.emit = options_.emit;
  eo.phase = options_.phase;
  return eo;
}

std::string Backstop::layers_json(bool preload) const {
  std::string s = "{\"preload\":";
  s += preload ? "true" : "false";
  s += ",\"seccomp\":\"";
  s += !status_.enabled ? "off" : status_.seccomp ? "active" : "unavailable";
  s += "\",\"denylist\":";
  s += status_.denylist ? "true" : "false";
  s += ",\"exec_supervision\":";
  s += status_.exec_supervision ? "true" : "false";
  s += ",\"landlock\":\"" + status_.landlock + "\"";
  s += ",\"landlock_abi\":" + std::to_string(status_.landlock_abi);
  s += ",\"missing\":" + json_string_array(status_.missing);
  s += ",\"notes\":" + json_string_array(status_.notes);
  return s + "}";
}

ExecSupervisorStats Backstop::exec_stats() const {
  return exec_ ? exec_->stats() : ExecSupervisorStats{};
}

std::vector<std::string> Backstop::read_events() {
  std::vector<std::string> out;
  if (events_read_ < 0) return out;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = recv(events_read_, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.emplace_back(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

Backstop::~Backstop() {
  exec_.reset();
  if (events_read_ >= 0) close(events_read_);
  if (events_write_ >= 0) close(events_write_);
  if (ruleset_fd_ >= 0) close(ruleset_fd_);
  if (child_sock_ >= 0) close(child_sock_);
  if (parent_sock_ >= 0) close(parent_sock_);
}

}  // namespace fnguard::kernel
