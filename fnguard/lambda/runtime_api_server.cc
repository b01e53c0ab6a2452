// The local Runtime API server (see runtime_api_server.h).
#include "fnguard/lambda/runtime_api_server.h"

#include <poll.h>
#include <sys/random.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>

namespace fnguard::lambda {
namespace {

constexpr std::string_view kPrefix = "/2018-06-01/runtime/";

uint64_t epoch_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec / 1000000);
}

std::string error_json(std::string_view type, std::string_view message) {
  return "{\"errorType\":\"" + std::string(type) + "\",\"errorMessage\":\"" + std::string(message) +
         "\"}";
}

std::string trace_id() {
  unsigned char r[12] = {};
  (void)getrandom(r, sizeof r, 0);
  char out[80];
  std::snprintf(out, sizeof out, "Root=1-%08lx-", static_cast<unsigned long>(time(nullptr)));
  std::string s = out;
  for (unsigned char c : r) {
    std::snprintf(out, sizeof out, "%02x", c);
    s += out;
  }
  return s + ";Sampled=0";
}

// True when the peer closed or reset the connection (nothing is read).
bool peer_closed(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace

std::string random_uuid() {
  unsigned char b[16] = {};
  (void)getrandom(b, sizeof b, 0);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[40];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string FunctionSettings::arn() const {
  return "arn:aws:lambda:" + region + ":" + account + ":function:" + name;
}

Result<std::unique_ptr<RuntimeApiServer>> RuntimeApiServer::start(FunctionSettings settings,
                                                                  uint16_t port) {
  std::unique_ptr<RuntimeApiServer> s(new RuntimeApiServer(std::move(settings)));
  uint16_t bound = 0;
  auto fd = http::listen_loopback(port, &bound);
  if (!fd.ok()) return fd.error();
  s->listen_fd_ = std::move(*fd);
  s->address_ = "127.0.0.1:" + std::to_string(bound);
  RuntimeApiServer* self = s.get();
  s->acceptor_ = std::thread([self] { self->accept_loop(); });
  return s;
}

RuntimeApiServer::~RuntimeApiServer() { stop(); }

void RuntimeApiServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (listen_fd_) ::shutdown(listen_fd_.get(), SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  connections_.close_all();
}

void RuntimeApiServer::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        if (fd >= 0) ::close(fd);
        return;
      }
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    if (!connections_.serve(fd, [this](int client) { serve(client); })) return;
  }
}

std::vector<std::string> RuntimeApiServer::runtime_environment() const {
  const FunctionSettings& s = settings_;
  return {
      "AWS_LAMBDA_RUNTIME_API=" + address_,
      "AWS_LAMBDA_FUNCTION_NAME=" + s.name,
      "AWS_LAMBDA_FUNCTION_VERSION=" + s.version,
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + std::to_string(s.memory_mb),
      "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + s.name,
      "AWS_LAMBDA_LOG_STREAM_NAME=local/[" + s.version + "]" + random_uuid().substr(0, 8),
      "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
      "AWS_REGION=" + s.region,
      "AWS_DEFAULT_REGION=" + s.region,
      "AWS_EXECUTION_ENV=fnguard-local",
      "LAMBDA_TASK_ROOT=" + s.task_root,
      "_HANDLER=" + s.handler,
      "TZ=:UTC",
  };
}

InvocationResult RuntimeApiServer::invoke(const std::string& event,
                                          const std::function<bool()>& alive) {
  Pending p{random_uuid(), event, epoch_ms() + static_cast<uint64_t>(settings_.timeout_s) * 1000};
  std::unique_lock<std::mutex> lock(mu_);
  in_flight_[p.id] = std::nullopt;
  std::string id = p.id;
  uint64_t deadline = p.deadline_ms;
  queue_.push_back(std::move(p));
  cv_.notify_all();
  InvocationResult out;
  out.request_id = id;
  for (;;) {
    auto it = in_flight_.find(id);
    if (it != in_flight_.end() && it->second.has_value()) {
      out = *it->second;
      in_flight_.erase(it);
      return out;
    }
    if (init_error_.has_value()) {
      out.kind = InvocationResult::Kind::kInitError;
      out.body = *init_error_;
      return out;
    }
    if (stopping_ || (alive && !alive())) {
      out.kind = InvocationResult::Kind::kStopped;
      out.body = error_json("Runtime.ExitError", "the runtime exited before answering");
      return out;
    }
    if (epoch_ms() >= deadline) {
      // The invocation is over for the caller; a late answer gets 400 like AWS.
      in_flight_.erase(id);
      for (auto q = queue_.begin(); q != queue_.end(); ++q) {
        if (q->id == id) {
          queue_.erase(q);
          break;
        }
      }
      out.kind = InvocationResult::Kind::kTimeout;
      out.body = error_json("Sandbox.Timedout", "Task timed out after " +
                                                    std::to_string(settings_.timeout_s) +
                                                    ".00 seconds");
      return out;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

bool RuntimeApiServer::wait_for_idle_runtime(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] {
    return next_waiting_ > 0 || stopping_;
  }) && next_waiting_ > 0;
}

std::optional<std::string> RuntimeApiServer::init_error() {
  std::lock_guard<std::mutex> lock(mu_);
  return init_error_;
}

void RuntimeApiServer::serve(int fd) {
  http::Reader reader(fd);
  http::Limits limits;
  for (;;) {
    auto req = reader.read_head(true, limits);
    if (!req.ok()) {
      (void)http::write_all(fd, http::make_response(400, "Connection: close\r\n", ""));
      return;
    }
    if (!req->has_value()) return;
    const http::Head rq = std::move(**req);
    std::string body;
    std::vector<http::Header> trailers;  // streamed responses report errors here
    Status b = reader.read_body(rq, limits, nullptr, &body, -1, &trailers);
    if (!b.ok()) {
      (void)http::write_all(fd, http::make_response(413, "Connection: close\r\n",
                                                    error_json("InvalidRequest", "bad body")));
      return;
    }
    std::string_view target = rq.target;
    std::string reply;
    const std::string json = "Content-Type: application/json\r\n";
    if (target.substr(0, kPrefix.size()) != kPrefix) {
      reply = http::make_response(404, json, error_json("NotFound", "unknown path"));
    } else {
      std::string_view rest = target.substr(kPrefix.size());
      if (rest == "invocation/next" && rq.method == "GET") {
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        last_next_ns_.store(int64_t{now.tv_sec} * 1000000000 + now.tv_nsec);
        // Wait for an event, but give none to a runtime that has gone away
        // while waiting (it would be lost, and its invocation time out).
        std::unique_lock<std::mutex> lock(mu_);
        ++next_waiting_;
        cv_.notify_all();
        for (;;) {
          if (stopping_ || peer_closed(fd)) {
            --next_waiting_;
            return;
          }
          if (!queue_.empty()) break;
          cv_.wait_for(lock, std::chrono::milliseconds(100));
        }
        --next_waiting_;
        Pending p = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        std::string headers = json;
        headers += "Lambda-Runtime-Aws-Request-Id: " + p.id + "\r\n";
        headers += "Lambda-Runtime-Deadline-Ms: " + std::to_string(p.deadline_ms) + "\r\n";
        headers += "Lambda-Runtime-Invoked-Function-Arn: " + settings_.arn() + "\r\n";
        headers += "Lambda-Runtime-Trace-Id: " + trace_id() + "\r\n";
        reply = http::make_response(200, headers, p.event);
        if (!http::write_all(fd, reply).ok()) {
          std::lock_guard<std::mutex> relock(mu_);
          queue_.push_front(std::move(p));  // for the next runtime connection
          cv_.notify_all();
          return;
        }
        if (!rq.keep_alive) return;
        continue;
      } else if (rest == "init/error" && rq.method == "POST") {
        {
          std::lock_guard<std::mutex> lock(mu_);
          init_error_ = body;
        }
        cv_.notify_all();
        reply = http::make_response(202, json, "{\"status\":\"OK\"}");
      } else if (rest.substr(0, 11) == "invocation/" && rq.method == "POST") {
        std::string_view tail = rest.substr(11);
        size_t slash = tail.find('/');
        std::string id(tail.substr(0, slash));
        std::string_view what = slash == std::string_view::npos ? "" : tail.substr(slash + 1);
        if (what != "response" && what != "error") {
          reply = http::make_response(404, json, error_json("NotFound", "unknown path"));
        } else {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = in_flight_.find(id);
          if (it == in_flight_.end() || it->second.has_value()) {
            reply = http::make_response(400, json,
                                        error_json("InvalidRequestID", "Invalid request ID"));
          } else {
            InvocationResult r;
            r.request_id = id;
            r.body = body;
            if (const std::string* t = rq.find("Lambda-Runtime-Function-Error-Type")) {
              r.error_type = *t;
            }
            r.kind = what == "error" ? InvocationResult::Kind::kError
                                     : InvocationResult::Kind::kResponse;
            // A streamed response that failed midway says so in its trailers.
            for (const http::Header& t : trailers) {
              if (http::iequals(t.name, "Lambda-Runtime-Function-Error-Type")) {
                r.kind = InvocationResult::Kind::kError;
                r.error_type = t.value;
              }
            }
            it->second = std::move(r);
            cv_.notify_all();
            reply = http::make_response(202, json, "{\"status\":\"OK\"}");
          }
        }
      } else {
        reply = http::make_response(404, json, error_json("NotFound", "unknown path"));
      }
    }
    if (!http::write_all(fd, reply).ok()) return;
    if (!rq.keep_alive) return;
  }
}

}  // namespace fnguard::lambda
