// The Runtime API proxy. The Lambda wrapper points the runtime's
// AWS_LAMBDA_RUNTIME_API at this proxy; the proxy forwards every request to
// the real endpoint byte for byte (heads, bodies, chunked streaming responses
// with trailers, any path, the extensions API too) and, on the way:
//
// - learns each invocation from the /runtime/invocation/next response
//   (request id, function ARN, deadline, trace id) and publishes it with the
//   phase and the event's taint values in the context page, so every event
//   the enforcer emits names its invocation;
// - inspects the event body (when inspection is on), emits `detection`
//   events, and in block mode answers a malicious invocation itself (a 403
//   response for HTTP-shaped events, else an error) and fetches the next one,
//   so the runtime never sees the attack.
//
// Phase: `init` until the first /next response arrives, then `invoke` for
// the rest of the sandbox's life. Between invocations (after /response, while
// the runtime waits in /next) the last request id stays published: the
// sandbox is frozen there in Lambda, and work a function leaves running after
// its response is still attributed to the invocation that started it.
//
// Threads: one per runtime connection, each paired with its own upstream
// connection. A runtime holds one or two connections (plus one per
// extension), and /next is a long-poll that blocks for minutes, so a blocking
// thread per connection is the simplest design that serves concurrent
// long-polls correctly; an epoll loop would buy nothing at this scale.
// A connection is served by the thread that accepted it. Another thread
// takes over accepting only when a connection is waiting and no thread is
// ready to accept it: a serving thread watches the listening socket while
// it waits for the runtime's next request and during the /next long-poll,
// and starts one then. A runtime with one connection (our Python bootstrap)
// so never costs a second thread (creating one cost ~60 us of CPU at cold
// start, docs/BENCHMARKS.md). Limit: while a serving thread is inside one
// exchange (forwarding a body, waiting for any answer but /next's), a new
// connection waits in the backlog until that exchange ends.
//
// Both modes inspect the event before the runtime gets it, so its taint
// values are in the page before the handler runs. Handing the event over
// first and inspecting after (on the connection thread, or on a background
// thread with a "taints pending" mark the enforcer waited on) was measured
// and lowered nothing: see docs/LAMBDA.md.
//
// Failure policy (fail open unless told otherwise). A runtime connection
// that fails mid-request (reset, closed in the middle of a head) is closed:
// nothing was relayed, so nothing changes. A message our strict parser
// refuses (it is stricter than AWS) is not dropped: its connection falls back
// to a raw byte relay. The context page is marked degraded only when an
// invocation may pass unseen: at once for an endpoint answer we cannot parse,
// and for a refused request once the relayed bytes ask for an invocation (the
// /next path from the runtime) or hand one over (its request id header from
// the endpoint); a refused request that does neither gets one `relayed_raw`
// lifecycle event. Each degraded episode writes one `degraded` event and ends
// when the proxy next publishes an invocation it has seen. Security limit:
// while degraded, events lose their request data, taint rules do not match,
// and the inspector sees nothing of what is relayed raw.
#pragma once

#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/format.h"
#include "fnguard/lambda/http.h"
#include "fnguard/lambda/http_io.h"
#include "fnguard/supervisor/channel.h"

namespace fnguard::lambda {

inline constexpr std::string_view kNextPath = "/2018-06-01/runtime/invocation/next";
inline constexpr std::string_view kInvocationPrefix = "/2018-06-01/runtime/invocation/";

// What /invocation/next told us about the invocation.
struct Invocation {
  std::string request_id;
  std::string function_arn;
  std::string trace_id;
  uint64_t deadline_ms = 0;
};

// One attack the inspector found in an event.
struct Finding {
  std::string detector;  // "path_traversal", "command_injection", ...
  std::string field;     // "queryStringParameters.file"
  std::string evidence;  // the matched text
  std::string signature; // the detector's rule that matched, e.g. "path.traversal"; may be empty
  std::string rule;      // the event's rule; empty: "inspect.detectors.<detector>"
};

// Views into InspectOutcome::storage (or into static strings): valid while
// the outcome, or a copy of it, lives.
struct Taint {
  std::string_view field;
  std::string_view value;
};

struct InspectOutcome {
  std::vector<Finding> findings;
  std::vector<Taint> taints;
  std::shared_ptr<const void> storage;  // owns the bytes `taints` view; may be null
  bool http_shaped = false;          // API Gateway, ALB, function URL
  // Optional: the JSON to answer a blocked HTTP invocation with, given its request id.
  std::function<std::string(std::string_view request_id)> blocked_response;
};

// Inspects an invocation event (the /next response body).
using InspectFn = std::function<InspectOutcome(std::string_view event_json)>;
// Receives one event, one JSON object without newline.
using EmitFn = std::function<void(std::string json)>;

struct ProxyConfig {
  std::string upstream;  // the real AWS_LAMBDA_RUNTIME_API, "127.0.0.1:9001"
  uint16_t listen_port = 0;  // 0: ephemeral
  int listen_fd = -1;        // or: adopt this bound, listening loopback socket
  http::Limits limits;
  supervisor::Channel* channel = nullptr;  // context page; may be null (no publishing)
  InspectFn inspect;                        // may be empty (no inspection)
  image::Mode inspect_mode = image::Mode::kOff;
  // Run the inspector for its taint values even when inspect_mode is off
  // (a policy with `taint: monitor|block` on some control needs them).
  bool taint_only = false;
  EmitFn emit;                              // may be empty
  // Connect the spare upstream (the first request's connection) only once
  // runtime_started() (or stop()) is called, rather than at once: the
  // wrapper calls it when the runtime has been exec'd, so that on a second
  // CPU the connect runs beside the runtime's start, not before it.
  // Connections the runtime makes meanwhile wait in the listen backlog.
  bool spare_after_start = false;
  // Function identity for the events the proxy writes itself.
  std::string function_name, function_version, region;
};

class Proxy {
 public:
  static Result<std::unique_ptr<Proxy>> start(ProxyConfig config);
  ~Proxy();

  // "127.0.0.1:<port>": the value the runtime gets as AWS_LAMBDA_RUNTIME_API.
  const std::string& address() const { return address_; }
  bool degraded() const { return degraded_.load(); }
  // The runtime is running: see ProxyConfig::spare_after_start. Idempotent.
  void runtime_started();
  uint64_t invocations() const { return invocations_.load(); }
  uint64_t blocked() const { return blocked_.load(); }
  void stop();

 private:
  explicit Proxy(ProxyConfig config) : config_(std::move(config)) {}
  // A detached thread running accept_loop() (the first one also connects a
  // spare upstream); false when no thread can be made. `only_if_wanted`:
  // only if acceptor_wanted() (checked under the same lock).
  bool start_acceptor(bool first, bool only_if_wanted = false);
  void accept_loop();
  // No thread is ready to accept (and one could be started: after a
  // failure to make one, serving threads stop watching and each accepts
  // again once its connection ends).
  bool acceptor_wanted();
  bool acceptor_wanted_locked() const;  // the same, acceptors_mu_ held
  // Starts a thread to accept the connection waiting in the backlog, unless
  // one is ready already.
  void start_wanted_acceptor();
  // poll(fds, n, -1) for a serving thread; while acceptor_wanted(), it also
  // watches the listening socket and calls start_wanted_acceptor() when a
  // connection waits there. Returns when one of `fds` has an event (>0) or
  // poll failed (-1).
  int wait_serving(pollfd* fds, size_t n);
  void connect_spare_upstream();
  http::UniqueFd take_spare_upstream();
  void serve(int client_fd);
  // Relays both directions byte for byte until either side closes. `why`
  // (for events) says why the connection went raw. Degrades protection
  // whenever the relayed bytes ask for or hand over an invocation.
  void relay_raw(int client_fd, http::Reader& client, int upstream_fd, http::Reader* upstream,
                 std::string_view pending_to_upstream, const std::string& why);
  // Marks the context page degraded; the first call of an episode (see
  // publish()) emits the lifecycle event.
  void mark_degraded(const std::string& reason);
  // Publishes the invocation and its taint values in the context page, and
  // ends a degraded episode: the page is current again.
  void publish(const Invocation& inv, const std::vector<Taint>& taints);
  Status answer_blocked(const Invocation& inv, const InspectOutcome& outcome);
  std::string detection_event(const Invocation& inv, const Finding& finding,
                              const InspectOutcome& outcome, bool blocked) const;
  void emit(std::string json) const;

  ProxyConfig config_;
  http::UniqueFd listen_fd_;
  std::string address_;
  // Threads in accept_loop(), or serving the connection they accepted.
  std::mutex acceptors_mu_;
  std::condition_variable acceptors_cv_;
  int acceptors_ = 0;  // guarded by acceptors_mu_
  // Of those, the threads in (or about to enter) accept(); guarded by acceptors_mu_.
  int ready_acceptors_ = 0;
  bool acceptor_failed_ = false;  // a thread could not be made; guarded by acceptors_mu_
  std::mutex spare_mu_;
  http::UniqueFd spare_upstream_;    // guarded by spare_mu_
  std::condition_variable spare_cv_;  // runtime_started() or stop()
  bool runtime_started_ = false;      // guarded by spare_mu_
  http::ConnectionSet connections_;  // runtime connections and their upstreams
  std::atomic<bool> stopping_{false};
  std::atomic<bool> degraded_{false};
  std::atomic<uint64_t> invocations_{0};
  std::atomic<uint64_t> blocked_{0};
  std::mutex context_mu_;  // one writer of the context page at a time
};

// Builds a lifecycle event (for the wrapper and the proxy): "state" is
// "started", "degraded", "stopped"...; `message` one sentence.
std::string lifecycle_event(std::string_view state, std::string_view message,
                            std::string_view function_name = {});

// The default body of a blocked HTTP invocation (API Gateway/ALB/URL shape).
std::string default_blocked_response(std::string_view request_id);

}  // namespace fnguard::lambda
