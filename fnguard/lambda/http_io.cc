// Socket I/O for HTTP/1.1 messages (see http_io.h).
#include "fnguard/lambda/http_io.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace fnguard::lambda::http {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

Error io_error(const char* what, int err) {
  return make_error(std::string(what) + ": " + std::strerror(err));
}

Error truncated() {
  return make_error("truncated HTTP message: the peer closed the connection mid-message",
                    "the other side crashed or was stopped; retry the request");
}

}  // namespace

Error Reader::failed(ReadFailure why, Error error) {
  failure_ = why;
  return error;
}

Result<size_t> Reader::fill(int timeout_ms) {
  if (timeout_ms >= 0) {
    pollfd p{fd_, POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return failed(ReadFailure::kConnection, io_error("poll failed", errno));
    if (r == 0) {
      return failed(ReadFailure::kConnection, make_error("timed out waiting for the HTTP peer",
                                                         "the other side is too slow or stuck"));
    }
  }
  char tmp[kReadChunk];
  ssize_t n;
  do {
    n = ::recv(fd_, tmp, sizeof tmp, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return failed(ReadFailure::kConnection, io_error("reading from the HTTP peer failed", errno));
  }
  buf_.append(tmp, static_cast<size_t>(n));
  return static_cast<size_t>(n);
}

Result<std::optional<Head>> Reader::read_head(bool is_request, const Limits& limits,
                                              std::string_view request_method, int timeout_ms) {
  failure_ = ReadFailure::kNone;
  for (;;) {
    if (!buf_.empty()) {
      Head head;
      auto parsed = parse_head(buf_, is_request, limits, &head, request_method);
      if (!parsed.ok()) return failed(ReadFailure::kMalformed, parsed.error());
      if (parsed->has_value()) {
        buf_.erase(0, **parsed);
        return std::optional<Head>(std::move(head));
      }
    }
    bool had_bytes = !buf_.empty();
    auto n = fill(timeout_ms);
    if (!n.ok()) return n.error();
    if (*n == 0) {
      if (!had_bytes) return std::optional<Head>{};
      return failed(ReadFailure::kConnection, truncated());
    }
  }
}

Status Reader::read_body(const Head& head, const Limits& limits, std::string* raw,
                         std::string* decoded, int timeout_ms, std::vector<Header>* trailers) {
  failure_ = ReadFailure::kNone;
  switch (head.framing) {
    case Framing::kNone:
      return Ok{};
    case Framing::kLength: {
      while (buf_.size() < head.content_length) {
        auto n = fill(timeout_ms);
        if (!n.ok()) return n.error();
        if (*n == 0) return failed(ReadFailure::kConnection, truncated());
      }
      size_t len = static_cast<size_t>(head.content_length);
      if (raw != nullptr) raw->append(buf_, 0, len);
      if (decoded != nullptr) decoded->append(buf_, 0, len);
      buf_.erase(0, len);
      return Ok{};
    }
    case Framing::kChunked: {
      ChunkedDecoder dec(limits);
      for (;;) {
        auto used = dec.feed(buf_, decoded);
        if (!used.ok()) return failed(ReadFailure::kMalformed, used.error());
        if (raw != nullptr) raw->append(buf_, 0, *used);
        buf_.erase(0, *used);
        if (dec.done()) {
          if (trailers != nullptr) *trailers = dec.trailers();
          return Ok{};
        }
        auto n = fill(timeout_ms);
        if (!n.ok()) return n.error();
        if (*n == 0) return failed(ReadFailure::kConnection, truncated());
      }
    }
    case Framing::kUntilClose: {
      for (;;) {
        if (buf_.size() > limits.max_body_bytes) {
          return failed(ReadFailure::kMalformed,
                        make_error("the response body is larger than the limit",
                                   "the peer sent more than fnguard accepts"));
        }
        auto n = fill(timeout_ms);
        if (!n.ok()) return n.error();
        if (*n == 0) break;
      }
      if (raw != nullptr) raw->append(buf_);
      if (decoded != nullptr) decoded->append(buf_);
      buf_.clear();
      return Ok{};
    }
  }
  return Ok{};
}

Status Reader::pump_body(const Head& head, const Limits& limits, int out_fd, std::string* copy,
                         int timeout_ms, std::string_view prefix) {
  failure_ = ReadFailure::kNone;
  std::string_view pending = prefix;  // written with the first body bytes
  auto send = [&](std::string_view data) -> Status {
    Status w = pending.empty() ? write_all(out_fd, data) : write_all(out_fd, pending, data);
    pending = {};
    if (!w.ok()) return failed(ReadFailure::kConnection, w.error());
    return w;
  };
  Status result = pump_body_inner(head, limits, send, copy, timeout_ms);
  if (result.ok() && !pending.empty()) return send({});
  return result;
}

Status Reader::pump_body_inner(const Head& head, const Limits& limits,
                               const std::function<Status(std::string_view)>& send,
                               std::string* copy, int timeout_ms) {
  switch (head.framing) {
    case Framing::kNone:
      return Ok{};
    case Framing::kLength: {
      uint64_t left = head.content_length;
      for (;;) {
        size_t take = buf_.size() < left ? buf_.size() : static_cast<size_t>(left);
        if (take > 0) {
          Status w = send(std::string_view(buf_).substr(0, take));
          if (!w.ok()) return w;
          if (copy != nullptr) copy->append(buf_, 0, take);
          buf_.erase(0, take);
          left -= take;
        }
        if (left == 0) return Ok{};
        auto n = fill(timeout_ms);
        if (!n.ok()) return n.error();
        if (*n == 0) return failed(ReadFailure::kConnection, truncated());
      }
    }
    case Framing::kChunked: {
      ChunkedDecoder dec(limits);
      for (;;) {
        auto used = dec.feed(buf_, copy);
        if (!used.ok()) return failed(ReadFailure::kMalformed, used.error());
        if (*used > 0) {
          // Forwarded as soon as read: a streaming response reaches the
          // client chunk by chunk, not when the handler finishes.
          Status w = send(std::string_view(buf_).substr(0, *used));
          if (!w.ok()) return w;
          buf_.erase(0, *used);
        }
        if (dec.done()) return Ok{};
        auto n = fill(timeout_ms);
        if (!n.ok()) return n.error();
        if (*n == 0) return failed(ReadFailure::kConnection, truncated());
      }
    }
    case Framing::kUntilClose: {
      for (;;) {
        if (!buf_.empty()) {
          Status w = send(buf_);
          if (!w.ok()) return w;
          if (copy != nullptr) copy->append(buf_);
          buf_.clear();
        }
        auto n = fill(timeout_ms);
        if (!n.ok()) return n.error();
        if (*n == 0) return Ok{};
      }
    }
  }
  return Ok{};
}

std::string Reader::take_buffered() {
  std::string out;
  out.swap(buf_);
  return out;
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("writing to the HTTP peer failed", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok{};
}

Status write_all(int fd, std::string_view first, std::string_view second) {
  while (!first.empty()) {
    iovec iov[2] = {{const_cast<char*>(first.data()), first.size()},
                    {const_cast<char*>(second.data()), second.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = second.empty() ? 1 : 2;
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("writing to the HTTP peer failed", errno);
    }
    size_t sent = static_cast<size_t>(n);
    if (sent >= first.size()) {
      second.remove_prefix(sent - first.size());
      first = {};
    } else {
      first.remove_prefix(sent);
    }
  }
  return write_all(fd, second);
}

Result<UniqueFd> connect_tcp(std::string_view address, int timeout_ms) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return make_error("'" + std::string(address) + "' is not HOST:PORT",
                      "AWS_LAMBDA_RUNTIME_API must look like 127.0.0.1:9001");
  }
  std::string host(address.substr(0, colon));
  std::string port_text(address.substr(colon + 1));
  if (host == "localhost") host = "127.0.0.1";
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  if (port <= 0 || port > 65535 || *end != '\0' ||
      ::inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) {
    return make_error("'" + std::string(address) + "' is not a numeric IPv4 HOST:PORT",
                      "AWS_LAMBDA_RUNTIME_API must look like 127.0.0.1:9001");
  }
  sin.sin_port = htons(static_cast<uint16_t>(port));
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return io_error("cannot create a socket", errno);
  int r = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  if (r < 0 && errno != EINPROGRESS) {
    return make_error("cannot connect to " + std::string(address) + ": " + std::strerror(errno));
  }
  if (r < 0) {
    pollfd p{fd.get(), POLLOUT, 0};
    int pr;
    do {
      pr = ::poll(&p, 1, timeout_ms);
    } while (pr < 0 && errno == EINTR);
    if (pr <= 0) return make_error("timed out connecting to " + std::string(address));
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      return make_error("cannot connect to " + std::string(address) + ": " + std::strerror(err));
    }
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Back to blocking: reads use poll for their timeouts.
  int fl = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

Result<UniqueFd> listen_loopback(uint16_t port, uint16_t* bound_port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return io_error("cannot create a socket", errno);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0) {
    return make_error("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                          std::strerror(errno),
                      "pick another port");
  }
  if (::listen(fd.get(), 64) < 0) return io_error("listen failed", errno);
  socklen_t len = sizeof sin;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  if (bound_port != nullptr) *bound_port = ntohs(sin.sin_port);
  return fd;
}

std::string make_response(int status, std::string_view extra_headers, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  out += extra_headers;
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

bool ConnectionSet::admit(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) {
    ::close(fd);
    return false;
  }
  // Heads and bodies go out in separate writes: without TCP_NODELAY, Nagle
  // and the peer's delayed ACK would add ~40 ms to every exchange.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fds_.push_back(fd);
  ++active_;
  return true;
}

void ConnectionSet::finish(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  remove_locked(fd);
  ::close(fd);
  --active_;
  done_.notify_all();  // under the lock: close_all() cannot return before we let go
}

bool ConnectionSet::serve(int fd, std::function<void(int)> serve) {
  if (!admit(fd)) return false;
  std::thread([this, fd, serve = std::move(serve)] {
    serve(fd);
    finish(fd);
  }).detach();
  return true;
}

bool ConnectionSet::serve_here(int fd, const std::function<void(int)>& serve) {
  if (!admit(fd)) return false;
  serve(fd);
  finish(fd);
  return true;
}

void ConnectionSet::track(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  fds_.push_back(fd);
  if (closing_) ::shutdown(fd, SHUT_RDWR);
}

void ConnectionSet::untrack(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  remove_locked(fd);
}

void ConnectionSet::remove_locked(int fd) {
  for (size_t i = 0; i < fds_.size(); ++i) {
    if (fds_[i] == fd) {
      fds_.erase(fds_.begin() + static_cast<long>(i));
      return;
    }
  }
}

void ConnectionSet::close_all() {
  std::unique_lock<std::mutex> lock(mu_);
  closing_ = true;
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  done_.wait(lock, [this] { return active_ == 0; });
}

}  // namespace fnguard::lambda::http
