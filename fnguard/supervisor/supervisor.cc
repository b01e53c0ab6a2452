// The supervisor's event loop (see supervisor.h).
#include "fnguard/supervisor/supervisor.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fnguard/supervisor/launch.h"

namespace fnguard::supervisor {

sigset_t forwarded_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
  return set;
}

namespace {
bool g_sigpipe_ignored = false;
}  // namespace

bool sigpipe_was_ignored() { return g_sigpipe_ignored; }

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int64_t monotonic_ms() { return monotonic_ns() / 1000000; }

Result<std::unique_ptr<Supervisor>> Supervisor::create(events::Sink* sink) {
  std::unique_ptr<Supervisor> sup(new Supervisor());
  sup->sink_ = sink;
  sigset_t set = forwarded_signal_set();
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, &sup->old_mask_) != 0) {
    return make_error(std::string("cannot block signals: ") + std::strerror(errno));
  }
  sup->signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sup->signal_fd_ < 0) {
    return make_error(std::string("cannot create a signalfd: ") + std::strerror(errno),
                      "fnguard needs Linux 2.6.27 or later");
  }
  // A write to a closed events pipe must fail with EPIPE (counted as
  // dropped), not kill the supervisor and orphan the protected program.
  struct sigaction old_pipe {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  if (sigaction(SIGPIPE, &ignore, &old_pipe) == 0 && old_pipe.sa_handler == SIG_IGN)
    g_sigpipe_ignored = true;
  // Orphaned descendants come back to us, so they are reaped and their exit
  // does not go unnoticed.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  return sup;
}

Supervisor::~Supervisor() {
  if (signal_fd_ >= 0) close(signal_fd_);
  sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

void Supervisor::add_fd(int fd, std::function<void()> on_readable) {
  watches_.push_back(Watch{fd, std::move(on_readable)});
}

void Supervisor::remove_fd(int fd) {
  for (auto it = watches_.begin(); it != watches_.end(); ++it) {
    if (it->fd == fd) {
      watches_.erase(it);
      return;
    }
  }
}

void Supervisor::drain_events() {
  if (events_fd_ < 0) return;
  // Lines of one burst go out in few writes; the batch ends with the burst.
  sink_->begin_batch();
  struct EndBatch {
    events::Sink* sink;
    ~EndBatch() { sink->end_batch(); }
  } end_batch{sink_};
  while (true) {
    // MSG_TRUNC makes recv return the datagram's real length, so an
    // oversized one is noticed (and counted) instead of parsed half.
    ssize_t n = recv(events_fd_, buffer_.get(), kBufferSize, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: empty
    }
    if (n == 0) continue;  // an empty datagram: nothing to say
    if (static_cast<size_t>(n) > kBufferSize) {
      sink_->count_malformed(1);
      continue;
    }
    sink_->submit(std::string_view(buffer_.get(), static_cast<size_t>(n)), monotonic_ms());
  }
}

void Supervisor::handle_signals(pid_t child, bool* done, ChildExit* exit) {
  signalfd_siginfo info;
  while (read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGCHLD) continue;  // reaped below, whatever the siginfo says (signals coalesce)
    // Sent by the terminal: the child, in the same foreground process group,
    // got it already.
    if (info.ssi_code == SI_KERNEL) continue;
    if (!*done) kill(child, sig);
  }
  while (true) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    if (pid == child) {
      *done = true;
      exit->wait_status = status;
      exit->exit_status = exit_status_from_wait(status);
      exit->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    } else if (other_exit_) {
      other_exit_(pid, status);
    }
  }
}

ChildExit Supervisor::run(pid_t child) {
  ChildExit exit;
  bool done = false;
  // The child may have exited before we got here.
  handle_signals(child, &done, &exit);
  while (!done) {
    std::vector<pollfd> fds;
    fds.push_back(pollfd{signal_fd_, POLLIN, 0});
    if (events_fd_ >= 0) fds.push_back(pollfd{events_fd_, POLLIN, 0});
    size_t first_watch = fds.size();
    std::vector<Watch> watches = watches_;  // callbacks may add or remove watches
    for (const Watch& w : watches) fds.push_back(pollfd{w.fd, POLLIN, 0});

    int timeout = -1;
    int64_t expiry = sink_->next_expiry_ms();
    if (expiry >= 0) {
      int64_t left = expiry - monotonic_ms();
      timeout = left < 0 ? 0 : static_cast<int>(left > 60000 ? 60000 : left);
    }
    int r = poll(fds.data(), fds.size(), timeout);
    if (r < 0 && errno != EINTR) {
      // Cannot happen with valid descriptors; if it does, stop pumping but
      // still return the child's real status, never a made-up one.
      int status = 0;
      while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      exit.wait_status = status;
      exit.exit_status = exit_status_from_wait(status);
      exit.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      break;
    }
    if (r > 0) {
      if (events_fd_ >= 0 && fds[1].revents != 0) drain_events();
      for (size_t i = first_watch; i < fds.size(); ++i) {
        if (fds[i].revents != 0) watches[i - first_watch].callback();
      }
      if (fds[0].revents != 0) handle_signals(child, &done, &exit);
    }
    sink_->expire(monotonic_ms());
  }
  // Everything the child sent before it exited is queued now.
  drain_events();
  sink_->flush();
  return exit;
}

}  // namespace fnguard::supervisor
