// A local AWS Lambda Runtime API server for `fnguard local invoke|serve`: it
// speaks the real protocol (version 2018-06-01) so real runtime clients
// (aws-lambda-ric for Node, fnguard's Python bootstrap) run unchanged:
//
//   GET  /2018-06-01/runtime/invocation/next        long-poll; the event with
//        Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn,
//        -Trace-Id headers, as AWS sends them
//   POST /2018-06-01/runtime/invocation/{id}/response  202 (buffered or streamed
//        with chunked encoding and error trailers)
//   POST /2018-06-01/runtime/invocation/{id}/error     202
//   POST /2018-06-01/runtime/init/error                202
//
// Unknown request ids get 400 and unknown paths 404, as from AWS. Deadlines
// are enforced by invoke(): a runtime that does not answer in time yields a
// timeout result. One thread per connection (a runtime holds one or two).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/lambda/http_io.h"

namespace fnguard::lambda {

struct FunctionSettings {
  std::string name = "fnguard-local";
  std::string version = "$LATEST";
  std::string region = "us-east-1";
  std::string account = "123456789012";
  int memory_mb = 128;
  int timeout_s = 30;
  std::string task_root;  // LAMBDA_TASK_ROOT
  std::string handler;    // _HANDLER

  std::string arn() const;
};

struct InvocationResult {
  enum class Kind { kResponse, kError, kInitError, kTimeout, kStopped };
  Kind kind = Kind::kResponse;
  std::string request_id;
  std::string body;        // response payload or error JSON
  std::string error_type;  // Lambda-Runtime-Function-Error-Type
};

class RuntimeApiServer {
 public:
  static Result<std::unique_ptr<RuntimeApiServer>> start(FunctionSettings settings,
                                                         uint16_t port = 0);
  ~RuntimeApiServer();

  const std::string& address() const { return address_; }  // "127.0.0.1:port"

  // Queues `event` and waits for the runtime's answer, the deadline
  // (settings.timeout_s), an init error, or stop(). `alive` is polled while
  // waiting; when it returns false (the runtime exited) the wait ends with
  // kStopped.
  InvocationResult invoke(const std::string& event, const std::function<bool()>& alive);

  // CLOCK_MONOTONIC nanoseconds of the latest GET /invocation/next request
  // (0: none yet). Benchmarks split a cold start at the runtime's first ask.
  int64_t last_next_request_ns() const { return last_next_ns_.load(); }

  // Waits until a GET /invocation/next is waiting here for an event, at most
  // timeout_ms; returns whether one is. Benchmarks start a measured
  // invocation only once the runtime is idle, so that what it still does
  // after the previous answer (the 202, its next ask) is not counted in
  // another side's invocation.
  bool wait_for_idle_runtime(int timeout_ms);

  // The environment Lambda gives a runtime ("NAME=value" entries).
  std::vector<std::string> runtime_environment() const;

  // The init error the runtime posted, if any.
  std::optional<std::string> init_error();

  void stop();

 private:
  explicit RuntimeApiServer(FunctionSettings s) : settings_(std::move(s)) {}
  void accept_loop();
  void serve(int fd);

  struct Pending {
    std::string id;
    std::string event;
    uint64_t deadline_ms;
  };

  FunctionSettings settings_;
  http::UniqueFd listen_fd_;
  std::string address_;
  std::thread acceptor_;
  http::ConnectionSet connections_;  // the runtime's connections

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<int64_t> last_next_ns_{0};
  int next_waiting_ = 0;  // /next requests waiting for an event; guarded by mu_
  std::deque<Pending> queue_;
  std::map<std::string, std::optional<InvocationResult>> in_flight_;
  std::optional<std::string> init_error_;
};

// A random version 4 UUID, as Lambda's request ids.
std::string random_uuid();

}  // namespace fnguard::lambda
