// Blocking HTTP/1.1 I/O over sockets, for the Runtime API proxy and the local
// Runtime API server: a buffered reader that yields heads and bodies with the
// strict parser of http.h, body pumping that forwards the exact bytes while
// finding where the message ends, and loopback TCP helpers.
//
// Every read can carry a timeout (poll); -1 waits forever, which is what a
// Runtime API long-poll needs. Writes use MSG_NOSIGNAL so a peer that went
// away is an error value, not a SIGPIPE.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/lambda/http.h"
#include "fnguard/supervisor/channel.h"

namespace fnguard::lambda::http {

using supervisor::UniqueFd;

// Why the last read of a Reader failed. The error value says what happened in
// words; this says whose fault it was, which callers act on: the proxy relays
// bytes its parser refuses (kMalformed) raw, but a connection that failed
// (kConnection) has nothing left to relay and is just closed.
enum class ReadFailure : uint8_t {
  kNone,        // the last read succeeded
  kMalformed,   // the peer's bytes were refused: not HTTP as http.h parses it, or over a limit
  kConnection,  // reset, closed mid-message, timed out, or poll/recv failed
};

class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}

  // The next head. std::nullopt when the peer closed cleanly before sending
  // any byte of a new message (the normal end of a keep-alive connection).
  Result<std::optional<Head>> read_head(bool is_request, const Limits& limits,
                                        std::string_view request_method = {},
                                        int timeout_ms = -1);

  // Reads the whole body of `head`. `raw` receives the exact bytes (chunk
  // framing and trailers included), `decoded` the payload; either may be null.
  // `trailers` (optional) receives the trailer fields of a chunked body.
  Status read_body(const Head& head, const Limits& limits, std::string* raw, std::string* decoded,
                   int timeout_ms = -1, std::vector<Header>* trailers = nullptr);

  // Copies the body of `head` to `out_fd` as it arrives, byte for byte.
  // `copy` (optional) receives the decoded payload too.
  // `prefix` (e.g. the head) is written together with the first body bytes,
  // so a small message costs one write, not two.
  Status pump_body(const Head& head, const Limits& limits, int out_fd, std::string* copy,
                   int timeout_ms = -1, std::string_view prefix = {});

  // Bytes read past the current message (pipelined input), for raw relays.
  std::string take_buffered();

  int fd() const { return fd_; }
  bool has_buffered() const { return !buf_.empty(); }
  // Set by every read_head(), read_body() and pump_body(): kNone when it
  // succeeded, else why it failed. (pump_body() failing to write to
  // `out_fd` counts as kConnection.)
  ReadFailure last_failure() const { return failure_; }

 private:
  Status pump_body_inner(const Head& head, const Limits& limits,
                         const std::function<Status(std::string_view)>& send, std::string* copy,
                         int timeout_ms);
  // Appends at least one byte to buf_; 0 on EOF; error on failure or timeout.
  Result<size_t> fill(int timeout_ms);
  // Record why a read failed and pass its error on.
  Error failed(ReadFailure why, Error error);

  int fd_;
  std::string buf_;
  ReadFailure failure_ = ReadFailure::kNone;
};

Status write_all(int fd, std::string_view data);
// `first` then `second`, in one system call when the socket takes both at
// once (a head and its body, without concatenating them first).
Status write_all(int fd, std::string_view first, std::string_view second);

// TCP helpers. `address` is "host:port" with a numeric IPv4 host or
// "localhost" (what AWS_LAMBDA_RUNTIME_API holds).
Result<UniqueFd> connect_tcp(std::string_view address, int timeout_ms = 5000);
// Listens on 127.0.0.1:port (0 = ephemeral); the chosen port in *bound_port.
Result<UniqueFd> listen_loopback(uint16_t port, uint16_t* bound_port);

// A whole response with Content-Length, for answers fnguard makes itself.
std::string make_response(int status, std::string_view extra_headers, std::string_view body);

// The connections a server is serving, one detached thread each (a runtime
// that opens a connection per request must not leave finished threads
// behind), and the other descriptors those threads block on. close_all()
// shuts every one of them down, so blocked threads wake, and waits until all
// serving threads have finished; from then on serve() refuses new
// connections and track() shuts new descriptors down at once.
class ConnectionSet {
 public:
  ConnectionSet() = default;
  ~ConnectionSet() { close_all(); }
  ConnectionSet(const ConnectionSet&) = delete;
  ConnectionSet& operator=(const ConnectionSet&) = delete;

  // Serves the accepted TCP connection `fd` with `serve` on a new thread and
  // closes it afterwards. Returns false (fd closed) once close_all() began.
  bool serve(int fd, std::function<void(int)> serve);
  // The same on the calling thread; returns when the connection is done.
  bool serve_here(int fd, const std::function<void(int)>& serve);
  void track(int fd);
  void untrack(int fd);
  void close_all();

 private:
  bool admit(int fd);   // tracks fd, or closes it once close_all() began
  void finish(int fd);  // untracks and closes fd
  void remove_locked(int fd);

  std::mutex mu_;
  std::condition_variable done_;
  std::vector<int> fds_;  // guarded by mu_
  size_t active_ = 0;     // serving threads, guarded by mu_
  bool closing_ = false;  // guarded by mu_
};

}  // namespace fnguard::lambda::http
