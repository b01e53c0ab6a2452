// memfd sealing, socketpair and gate plumbing for the enforcer protocol.
#include "fnguard/supervisor/channel.h"

#include <pthread.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fnguard/enforcer/protocol.h"

namespace fnguard::supervisor {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {

Error errno_error(const char* what) {
  return make_error(std::string(what) + " failed: " + std::strerror(errno),
                    "check that the kernel supports memfd sealing (Linux 5.1 or later)");
}

bool write_all(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

Result<std::unique_ptr<Channel>> Channel::create(const std::vector<uint8_t>& image, bool gate) {
  std::unique_ptr<Channel> ch(new Channel());

  ch->image_fd_.reset(memfd_create("fnguard-policy", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!ch->image_fd_) return errno_error("memfd_create for the policy image");
  if (!write_all(ch->image_fd_.get(), image.data(), image.size()))
    return errno_error("writing the policy image");
  if (fcntl(ch->image_fd_.get(), F_ADD_SEALS,
            F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return errno_error("sealing the policy image");

  ch->context_fd_.reset(memfd_create("fnguard-context", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!ch->context_fd_) return errno_error("memfd_create for the context page");
  if (ftruncate(ch->context_fd_.get(), sizeof(image::ContextPage)) != 0)
    return errno_error("sizing the context page");
  void* map = mmap(nullptr, sizeof(image::ContextPage), PROT_READ | PROT_WRITE, MAP_SHARED,
                   ch->context_fd_.get(), 0);
  if (map == MAP_FAILED) return errno_error("mapping the context page");
  ch->context_ = static_cast<image::ContextPage*>(map);
  ch->context_->magic = image::kContextMagic;
  ch->context_->phase = image::Phase::kAny;
  // From now on nobody can map it writable again; our mapping stays writable.
  if (fcntl(ch->context_fd_.get(), F_ADD_SEALS,
            F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return errno_error("sealing the context page");

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) != 0)
    return errno_error("socketpair for events");
  ch->events_read_.reset(pair[0]);
  ch->events_write_.reset(pair[1]);
  int buf = 4 << 20;
  setsockopt(pair[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);

  if (gate) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return errno_error("pipe for the start gate");
    ch->gate_read_.reset(p[0]);
    ch->gate_write_.reset(p[1]);
  }
  return ch;
}

int Channel::setup_child_fds() const {
  // dup2 onto the fixed numbers; dup2 clears close-on-exec on the new fd.
  const int sources[] = {image_fd_.get(), context_fd_.get(), events_write_.get(), gate_read_.get()};
  for (int i = 0; i < 4; ++i) {
    if (sources[i] < 0) continue;
    if (dup2(sources[i], enforcer::kFirstFd + i) < 0) return -errno;
  }
  return 0;
}

std::vector<std::string> Channel::child_environment(const std::string& library,
                                                    const char* existing_preload) const {
  std::string preload = std::string(enforcer::kEnvPreload) + "=" + library;
  if (existing_preload != nullptr && existing_preload[0] != '\0') {
    preload += ":";
    preload += existing_preload;
  }
  int fd = enforcer::kFirstFd;
  std::string spec = std::string(enforcer::kEnvEnforcer) + "=image=" + std::to_string(fd) +
                     ",context=" + std::to_string(fd + 1) + ",events=" + std::to_string(fd + 2);
  if (gate_read_) spec += ",gate=" + std::to_string(fd + 3);
  return {preload, spec};
}

void Channel::close_child_ends() {
  events_write_.reset();
  gate_read_.reset();
}

bool Channel::wait_hello(pid_t pid, int timeout_ms, std::vector<std::string>* early_events) {
  std::string want = std::string(enforcer::kHelloPrefix) + ",\"pid\":" + std::to_string(pid) + "}";
  int64_t deadline = now_ms() + timeout_ms;
  char buf[65536];
  while (true) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    pollfd p{events_read_.get(), POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left > 50 ? 50 : left));
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) {
      // A dead child never says hello. kill(pid, 0) cannot tell: it succeeds
      // on a zombie. waitid with WNOWAIT sees the exit and leaves the status
      // for the caller to reap.
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
        return false;
      if (info.si_pid == pid) return false;
      continue;
    }
    ssize_t n = recv(events_read_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) continue;
    std::string msg(buf, static_cast<size_t>(n));
    if (msg == want) return true;
    if (msg.rfind(enforcer::kHelloPrefix, 0) == 0) continue;  // hello of another process
    if (early_events != nullptr) early_events->push_back(std::move(msg));
  }
}

void Channel::open_gate() {
  if (!gate_write_) return;
  // An enforcer that started closed its end without reading (it does not
  // wait): the write then fails with EPIPE. Keep the SIGPIPE that comes with
  // it from killing a caller that does not ignore SIGPIPE: block it for the
  // write and consume it if it became pending (this thread's own signal).
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  const bool already_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  char go = 1;
  ssize_t n;
  do {
    n = ::write(gate_write_.get(), &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EPIPE && !already_pending) {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  gate_write_.reset();
}

void Channel::context_begin_write() {
  context_->seq.fetch_add(1, std::memory_order_acq_rel);  // odd: writing
}

void Channel::context_end_write() {
  context_->seq.fetch_add(1, std::memory_order_release);  // even: stable
}

Channel::~Channel() {
  if (context_ != nullptr) munmap(context_, sizeof(image::ContextPage));
}

}  // namespace fnguard::supervisor
