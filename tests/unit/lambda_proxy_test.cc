// The Runtime API proxy against an in-test upstream: bytes arrive unchanged
// in both directions (binary, 6 MB, chunked streaming with trailers), the
// invocation is published in the context page, concurrent long-polls are
// served, slow/broken/malformed peers do not stop invocations from flowing,
// and in block mode the runtime never sees a malicious event.
#include "fnguard/lambda/proxy.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fnguard/image/context.h"
#include "fnguard/lambda/http_io.h"
#include "fnguard/lambda/inspect_glue.h"

namespace fnguard::lambda {
namespace {

using http::UniqueFd;

// Reads until `n` bytes arrived or the peer closed (10 s safety limit so a
// broken proxy fails the test instead of hanging it).
std::string read_n(int fd, size_t n) {
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

// Reads until `needle` appears (or close / 10 s).
std::string read_until(int fd, std::string_view needle) {
  std::string out;
  char c;
  while (out.find(needle) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    if (::recv(fd, &c, 1, 0) != 1) break;
    out.push_back(c);
  }
  return out;
}

std::string read_to_close(int fd) { return read_n(fd, SIZE_MAX); }

void send_all(int fd, std::string_view data) { ASSERT_TRUE(http::write_all(fd, data).ok()); }

std::string binary_blob(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    s[i] = static_cast<char>(x >> 16);
  }
  return s;
}

// A scripted upstream: each accepted connection runs `handler` in its own thread.
class FakeUpstream {
 public:
  explicit FakeUpstream(std::function<void(int fd, int index)> handler)
      : handler_(std::move(handler)) {
    uint16_t port = 0;
    auto fd = http::listen_loopback(0, &port);
    EXPECT_TRUE(fd.ok());
    listen_ = std::move(*fd);
    address_ = "127.0.0.1:" + std::to_string(port);
    acceptor_ = std::thread([this] {
      for (int i = 0;; ++i) {
        int c = ::accept(listen_.get(), nullptr, nullptr);
        if (c < 0) return;
        connections_.fetch_add(1);
        threads_.emplace_back([this, c, i] {
          handler_(c, i);
          ::close(c);
        });
      }
    });
  }
  ~FakeUpstream() {
    ::shutdown(listen_.get(), SHUT_RDWR);
    acceptor_.join();
    for (auto& t : threads_) t.join();
  }
  const std::string& address() const { return address_; }
  int connections() const { return connections_.load(); }

 private:
  std::function<void(int, int)> handler_;
  UniqueFd listen_;
  std::string address_;
  std::thread acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<int> connections_{0};
};

struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;
  EmitFn fn() {
    return [this](std::string e) {
      std::lock_guard<std::mutex> l(mu);
      events.push_back(std::move(e));
    };
  }
  std::string all() {
    std::lock_guard<std::mutex> l(mu);
    std::string s;
    for (auto& e : events) s += e + "\n";
    return s;
  }
};

std::unique_ptr<Proxy> start_proxy(const std::string& upstream, supervisor::Channel* ch = nullptr,
                                   InspectFn inspect = {}, image::Mode mode = image::Mode::kOff,
                                   EmitFn emit = {}) {
  ProxyConfig cfg;
  cfg.upstream = upstream;
  cfg.channel = ch;
  cfg.inspect = std::move(inspect);
  cfg.inspect_mode = mode;
  cfg.emit = std::move(emit);
  cfg.function_name = "demo";
  auto p = Proxy::start(std::move(cfg));
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return std::move(*p);
}

UniqueFd connect_to(const std::string& address) {
  auto fd = http::connect_tcp(address);
  EXPECT_TRUE(fd.ok());
  return std::move(*fd);
}

const char kNextRequest[] =
    "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n";

std::string next_response(const std::string& id, const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
         "Lambda-Runtime-Aws-Request-Id: " + id +
         "\r\nLambda-Runtime-Deadline-Ms: 1790000000123\r\n"
         "lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:1:function:demo\r\n"
         "Lambda-Runtime-Trace-Id: Root=1-abc;Sampled=0\r\nX-Odd:   spaced  \r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(LambdaProxy, NextResponseIsByteExactAndPublishedInTheContextPage) {
  const std::string event = binary_blob(6 * 1024 * 1024);
  const std::string reply = next_response("req-1", event);
  std::string seen_request;
  FakeUpstream up([&](int fd, int) {
    seen_request = read_until(fd, "\r\n\r\n");
    send_all(fd, reply);
    read_to_close(fd);
  });
  auto channel = supervisor::Channel::create({1, 2, 3}, false);
  ASSERT_TRUE(channel.ok());
  EXPECT_EQ((*channel)->context()->phase, image::Phase::kAny);
  auto proxy = start_proxy(up.address(), channel->get());
  EXPECT_EQ((*channel)->context()->phase, image::Phase::kInit);

  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  std::string got = read_n(c.get(), reply.size());
  EXPECT_TRUE(got == reply) << "response changed in transit (" << got.size() << " bytes)";
  EXPECT_EQ(seen_request, kNextRequest);

  image::ContextPage snap;
  ASSERT_TRUE(image::context_snapshot((*channel)->context(), &snap));
  EXPECT_EQ(snap.phase, image::Phase::kInvoke);
  EXPECT_EQ(snap.invocation, 1u);
  EXPECT_STREQ(snap.request_id, "req-1");
  EXPECT_STREQ(snap.function_arn, "arn:aws:lambda:us-east-1:1:function:demo");
  EXPECT_STREQ(snap.trace_id, "Root=1-abc;Sampled=0");
  EXPECT_EQ(snap.deadline_ms, 1790000000123u);
  c.reset();
  proxy->stop();
}

// The wrapper's proxy: its first upstream connect waits for runtime_started().
std::unique_ptr<Proxy> start_proxy_connecting_after_start(const std::string& upstream) {
  ProxyConfig cfg;
  cfg.upstream = upstream;
  cfg.spare_after_start = true;
  auto p = Proxy::start(std::move(cfg));
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() ? std::move(*p) : nullptr;
}

// Waits (up to 5 s) until the upstream has accepted a connection.
void wait_for_a_connection(const FakeUpstream& up) {
  for (int i = 0; i < 1000 && up.connections() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// The runtime's first /next gets `reply` over the upstream connection the
// proxy already made (no second one), then the proxy stops.
void expect_first_next_uses_that_connection(Proxy& proxy, const FakeUpstream& up,
                                            const std::string& reply) {
  UniqueFd c = connect_to(proxy.address());
  send_all(c.get(), kNextRequest);
  EXPECT_EQ(read_n(c.get(), reply.size()), reply);
  EXPECT_EQ(up.connections(), 1);
  c.reset();
  proxy.stop();
}

TEST(LambdaProxy, TheFirstRequestUsesTheUpstreamConnectionMadeAtStart) {
  // The connection for the first request is made while the runtime starts,
  // so its first ask costs no connect; it is that connection, not a second.
  const std::string reply = next_response("req-1", "{}");
  FakeUpstream up([&](int fd, int) {
    read_until(fd, "\r\n\r\n");
    send_all(fd, reply);
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  wait_for_a_connection(up);
  EXPECT_EQ(up.connections(), 1);  // before the runtime asked anything
  expect_first_next_uses_that_connection(*proxy, up, reply);
}

TEST(LambdaProxy, WithSpareAfterStartTheUpstreamIsConnectedOnlyOnceTheRuntimeRuns) {
  // The wrapper's setting: the connect waits for runtime_started(), so it
  // is not on the way to the runtime's exec; the first request still uses it.
  const std::string reply = next_response("req-1", "{}");
  FakeUpstream up([&](int fd, int) {
    read_until(fd, "\r\n\r\n");
    send_all(fd, reply);
    read_to_close(fd);
  });
  std::unique_ptr<Proxy> proxy = start_proxy_connecting_after_start(up.address());
  ASSERT_NE(proxy, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(up.connections(), 0) << "connected before the runtime was started";
  proxy->runtime_started();
  wait_for_a_connection(up);
  EXPECT_EQ(up.connections(), 1);
  expect_first_next_uses_that_connection(*proxy, up, reply);
}

TEST(LambdaProxy, WithSpareAfterStartAStopBeforeTheRuntimeRunsDoesNotHang) {
  // The launch failed: the wrapper stops the proxy without ever calling
  // runtime_started(). The waiting thread must end, with no connect made.
  FakeUpstream up([&](int fd, int) { read_to_close(fd); });
  std::unique_ptr<Proxy> proxy = start_proxy_connecting_after_start(up.address());
  ASSERT_NE(proxy, nullptr);
  proxy->stop();  // returns only once the acceptor thread has ended
  proxy.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(up.connections(), 0);
}

TEST(LambdaProxy, AnUpstreamConnectionClosedBeforeTheFirstRequestIsReplaced) {
  // The endpoint drops the connection made at start before the runtime
  // asks: the proxy notices and connects again instead of failing the ask.
  const std::string reply = next_response("req-1", "{}");
  std::atomic<bool> dropped{false};
  FakeUpstream up([&](int fd, int index) {
    if (index == 0) {
      ::shutdown(fd, SHUT_RDWR);
      dropped = true;
      return;
    }
    read_until(fd, "\r\n\r\n");
    send_all(fd, reply);
    read_to_close(fd);
  });
  Recorder events;
  auto proxy = start_proxy(up.address(), nullptr, {}, image::Mode::kOff, events.fn());
  for (int i = 0; i < 1000 && !dropped; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(dropped);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the FIN reaches the proxy
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  EXPECT_EQ(read_n(c.get(), reply.size()), reply);
  EXPECT_EQ(up.connections(), 2);
  EXPECT_FALSE(proxy->degraded()) << events.all();
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, ConnectionsAreServedWhileAnotherConnectionLongPolls) {
  // Each accepted connection is served by the thread that accepted it; a
  // new thread takes over accepting, so a second connection is answered
  // while the first one waits in a long-poll.
  const std::string answer = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}";
  std::atomic<bool> release{false};
  FakeUpstream up([&](int fd, int) {
    std::string req = read_until(fd, "\r\n\r\n");
    if (req.find("invocation/next") != std::string::npos) {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      send_all(fd, next_response("req-9", "{}"));
    } else {
      send_all(fd, answer);
    }
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd polling = connect_to(proxy->address());
  send_all(polling.get(), kNextRequest);
  for (int k = 0; k < 3; ++k) {
    UniqueFd other = connect_to(proxy->address());
    send_all(other.get(),
             "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: 2\r\n\r\n{}");
    EXPECT_EQ(read_n(other.get(), answer.size()), answer) << "connection " << k;
  }
  release = true;
  EXPECT_NE(read_until(polling.get(), "{}").find("req-9"), std::string::npos);
  polling.reset();
  proxy->stop();
}

TEST(LambdaProxy, AConnectionIsServedWhileAnotherWaitsIdleForItsNextRequest) {
  // No thread is ready to accept while the first connection is served: the
  // thread serving it waits for the runtime's next request (as long as a
  // handler runs) and must start one when a second connection arrives.
  const std::string request =
      "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: 2\r\n\r\n{}";
  const std::string answer = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}";
  FakeUpstream up([&](int fd, int) {
    while (!read_until(fd, "{}").empty()) send_all(fd, answer);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd idle = connect_to(proxy->address());
  send_all(idle.get(), request);
  ASSERT_EQ(read_n(idle.get(), answer.size()), answer);
  // `idle` stays open, its thread waiting for a next request.
  for (int k = 0; k < 3; ++k) {
    UniqueFd other = connect_to(proxy->address());
    send_all(other.get(), request);
    EXPECT_EQ(read_n(other.get(), answer.size()), answer) << "connection " << k;
  }
  send_all(idle.get(), request);
  EXPECT_EQ(read_n(idle.get(), answer.size()), answer) << "the first connection still works";
  idle.reset();
  proxy->stop();
}

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

TEST(LambdaProxy, ARuntimeWithOneConnectionCostsNoSecondProxyThread) {
  // A thread costs ~60 us of CPU at cold start: a runtime that keeps one
  // connection (our Python bootstrap) is served by the first thread alone.
  const std::string answer = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}";
  std::atomic<int> handlers{0};
  FakeUpstream up([&](int fd, int) {
    handlers.fetch_add(1);
    while (!read_until(fd, "{}").empty()) send_all(fd, answer);
  });
  auto proxy = start_proxy(up.address());
  wait_for_a_connection(up);  // the proxy's spare upstream connection
  while (handlers.load() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int before = thread_count();
  UniqueFd c = connect_to(proxy->address());
  for (int i = 0; i < 5; ++i) {
    send_all(c.get(), "POST /2018-06-01/runtime/invocation/req-" + std::to_string(i) +
                          "/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    ASSERT_EQ(read_n(c.get(), answer.size()), answer);
  }
  EXPECT_EQ(thread_count(), before) << "serving one connection started another thread";
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, ManyShortConnectionsAndAStopInTheMiddleNeitherHangNorLoseAnswers) {
  // Each accepted connection hands accepting to a new thread: 8 clients x 25
  // connections, one request each, all answered; then stop() while clients
  // are still connecting returns, and later connections are refused.
  const std::string answer = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}";
  const std::string request =
      "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: 2\r\n\r\n{}";
  FakeUpstream up([&](int fd, int) {
    while (!read_until(fd, "{}").empty()) send_all(fd, answer);
  });
  auto proxy = start_proxy(up.address());
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        UniqueFd c = connect_to(proxy->address());
        if (!http::write_all(c.get(), request).ok()) continue;
        if (read_n(c.get(), answer.size()) == answer) answered.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(answered.load(), 200);

  std::atomic<bool> done{false};
  std::thread late([&] {
    while (!done) {
      auto fd = http::connect_tcp(proxy->address(), 200);
      if (fd.ok()) (void)http::write_all(fd->get(), request);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  proxy->stop();  // must return although connections keep arriving
  done = true;
  late.join();
  auto after = http::connect_tcp(proxy->address(), 200);
  EXPECT_FALSE(after.ok()) << "the listening socket is closed after stop()";
}

TEST(LambdaProxy, BinaryRequestBodyOfSixMegabytesArrivesUnchanged) {
  const std::string body = binary_blob(6 * 1024 * 1024);
  const std::string request = "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\n"
                              "Host: x\r\nContent-Type: application/octet-stream\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string seen;
  const std::string answer = "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";
  FakeUpstream up([&](int fd, int) {
    seen = read_n(fd, request.size());
    send_all(fd, answer);
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), request);
  EXPECT_EQ(read_n(c.get(), answer.size()), answer);
  EXPECT_TRUE(seen == request) << "request changed in transit";
}

TEST(LambdaProxy, StreamingResponseIsForwardedChunkByChunkWithTrailers) {
  const std::string head =
      "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
      "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
      "Trailer: Lambda-Runtime-Function-Error-Type\r\n\r\n";
  const std::string first = "5\r\nhello\r\n";
  const std::string rest = "6;ext=1\r\n world\r\n0\r\nLambda-Runtime-Function-Error-Type: E\r\n\r\n";
  std::mutex mu;
  std::condition_variable cv;
  bool first_arrived = false;
  std::string seen;
  FakeUpstream up([&](int fd, int) {
    std::string part = read_until(fd, "hello\r\n");
    {
      std::lock_guard<std::mutex> l(mu);
      first_arrived = part == head + first;
    }
    cv.notify_all();
    part += read_until(fd, "E\r\n\r\n");
    seen = part;
    send_all(fd, "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), head + first);
  {
    // The rest is sent only after the first chunk reached the upstream: the
    // proxy streams rather than buffering the whole body.
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return first_arrived; }));
  }
  send_all(c.get(), rest);
  EXPECT_EQ(read_until(c.get(), "0\r\n\r\n"),
            "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
  EXPECT_EQ(seen, head + first + rest);
}

TEST(LambdaProxy, ConcurrentLongPollsAreServedInParallel) {
  std::mutex mu;
  std::condition_variable cv;
  int waiting = 0;
  FakeUpstream up([&](int fd, int index) {
    read_until(fd, "\r\n\r\n");
    {
      // Answer only once both long-polls are inside the upstream at once.
      std::unique_lock<std::mutex> l(mu);
      ++waiting;
      cv.notify_all();
      cv.wait_for(l, std::chrono::seconds(10), [&] { return waiting >= 2; });
    }
    send_all(fd, next_response("req-" + std::to_string(index), "{}"));
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd a = connect_to(proxy->address());
  UniqueFd b = connect_to(proxy->address());
  send_all(a.get(), kNextRequest);
  send_all(b.get(), kNextRequest);
  std::string ra = read_until(a.get(), "\r\n\r\n{}");
  std::string rb = read_until(b.get(), "\r\n\r\n{}");
  EXPECT_NE(ra.find("Lambda-Runtime-Aws-Request-Id: req-"), std::string::npos);
  EXPECT_NE(rb.find("Lambda-Runtime-Aws-Request-Id: req-"), std::string::npos);
  EXPECT_EQ(waiting, 2);
}

TEST(LambdaProxy, RuntimeHangingUpEndsItsUpstreamLongPoll) {
  std::mutex mu;
  std::condition_variable cv;
  bool upstream_saw_close = false;
  FakeUpstream up([&](int fd, int) {
    read_until(fd, "\r\n\r\n");
    // Hold the long-poll; the proxy must close it once the runtime is gone
    // (recv returns 0: an orderly close, not a timeout).
    pollfd p{fd, POLLIN, 0};
    char byte;
    bool closed = ::poll(&p, 1, 10000) == 1 && ::recv(fd, &byte, 1, 0) == 0;
    std::lock_guard<std::mutex> l(mu);
    upstream_saw_close = closed;
    cv.notify_all();
  });
  auto proxy = start_proxy(up.address());
  {
    UniqueFd c = connect_to(proxy->address());
    send_all(c.get(), kNextRequest);
  }  // the runtime hangs up
  std::unique_lock<std::mutex> l(mu);
  EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return upstream_saw_close; }));
}

TEST(LambdaProxy, SlowUpstreamDribblingBytesStillArrivesIntact) {
  const std::string reply = next_response("slow-1", "{\"k\":\"v\"}");
  FakeUpstream up([&](int fd, int) {
    read_until(fd, "\r\n\r\n");
    for (char ch : reply) {
      send_all(fd, std::string_view(&ch, 1));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  EXPECT_EQ(read_n(c.get(), reply.size()), reply);
}

TEST(LambdaProxy, TruncatedUpstreamClosesTheClientAndLaterRequestsStillWork) {
  FakeUpstream up([&](int fd, int index) {
    read_until(fd, "\r\n\r\n");
    if (index == 0) {
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
      return;  // closes mid-body
    }
    send_all(fd, next_response("after", "{}"));
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  {
    UniqueFd c = connect_to(proxy->address());
    send_all(c.get(), kNextRequest);
    std::string got = read_to_close(c.get());
    // The client sees the same cut-off message it would see from the real endpoint.
    EXPECT_EQ(got, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
  }
  UniqueFd c2 = connect_to(proxy->address());
  send_all(c2.get(), kNextRequest);
  EXPECT_NE(read_until(c2.get(), "{}").find("Request-Id: after"), std::string::npos);
}

TEST(LambdaProxy, MalformedUpstreamIsRelayedRawAndReportedAsDegraded) {
  const std::string garbage = "HTTP/1.1 200 OK\nBare-LF: yes\n\nbody-bytes";
  FakeUpstream up([&](int fd, int) {
    read_until(fd, "\r\n\r\n");
    send_all(fd, garbage);
  });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  EXPECT_EQ(read_to_close(c.get()), garbage);
  EXPECT_TRUE(proxy->degraded());
  EXPECT_EQ((*channel)->context()->degraded, 1);
  EXPECT_NE(rec.all().find("\"kind\":\"lifecycle\",\"action\":\"degraded\""), std::string::npos);
}

TEST(LambdaProxy, MalformedRequestFromTheRuntimeStillReachesTheUpstream) {
  const std::string odd = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\nHost: x\n\n";
  std::string seen;
  FakeUpstream up([&](int fd, int) {
    seen = read_until(fd, "\n\n");
    send_all(fd, "raw answer");
  });
  auto proxy = start_proxy(up.address());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), odd);
  EXPECT_EQ(read_n(c.get(), 10), "raw answer");
  EXPECT_EQ(seen, odd);
  EXPECT_TRUE(proxy->degraded());
}

// Occurrences of `needle` in `text`.
size_t count_of(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

bool page_degraded(supervisor::Channel& channel) {
  image::ContextPage snap;
  EXPECT_TRUE(image::context_snapshot(channel.context(), &snap));
  return snap.degraded != 0;
}

constexpr std::string_view kDegradedEvent = "\"kind\":\"lifecycle\",\"action\":\"degraded\"";
constexpr std::string_view kRelayedRawEvent = "\"kind\":\"lifecycle\",\"action\":\"relayed_raw\"";

TEST(LambdaProxy, AConnectionResetMidHeadIsDroppedWithoutDegradingProtection) {
  // Anything on the loopback can reset a connection to the proxy's port (an
  // SSRF, code in the function): a failed connection is not a request the
  // proxy did not understand, and must not switch taint blocking off.
  const std::string answer = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}";
  FakeUpstream up([&](int fd, int) {
    while (!read_until(fd, "{}").empty()) send_all(fd, answer);
  });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  // One whole exchange first: the proxy is serving this connection.
  send_all(c.get(),
           "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 2\r\n\r\n{}");
  ASSERT_EQ(read_n(c.get(), answer.size()), answer);
  send_all(c.get(), "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHo");
  linger rst{1, 0};  // close with RST
  ASSERT_EQ(::setsockopt(c.get(), SOL_SOCKET, SO_LINGER, &rst, sizeof rst), 0);
  c.reset();
  proxy->stop();  // returns once the thread serving the connection is done with it
  EXPECT_FALSE(proxy->degraded()) << rec.all();
  EXPECT_FALSE(page_degraded(**channel));
  EXPECT_EQ(rec.all(), "") << "a reset connection is not worth an event";
}

TEST(LambdaProxy, AConnectionClosedMidHeadIsDroppedWithoutDegradingProtection) {
  FakeUpstream up([&](int fd, int) { read_to_close(fd); });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHo");
  ::shutdown(c.get(), SHUT_WR);  // the peer is gone mid-head
  EXPECT_EQ(read_to_close(c.get()), "") << "the proxy closes the connection without an answer";
  EXPECT_FALSE(proxy->degraded()) << rec.all();
  EXPECT_FALSE(page_degraded(**channel));
  EXPECT_EQ(rec.all(), "");
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, AMalformedRequestThatAsksForNoInvocationIsRelayedRawAndOnlyReported) {
  // A request the strict parser refuses is still relayed (a runtime whose
  // HTTP we do not understand keeps working), but no invocation can pass
  // unseen through it: protection stays on, one event says what happened.
  const std::string odd = "GET /anything HTTP/1.1\nHost: x\n\n";
  std::string seen;
  FakeUpstream up([&](int fd, int) {
    seen = read_until(fd, "\n\n");
    send_all(fd, "raw answer");
    read_to_close(fd);
  });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), odd);
  EXPECT_EQ(read_n(c.get(), 10), "raw answer");
  EXPECT_EQ(seen, odd);
  EXPECT_FALSE(proxy->degraded()) << rec.all();
  EXPECT_FALSE(page_degraded(**channel));
  const std::string events = rec.all();
  EXPECT_EQ(count_of(events, kRelayedRawEvent), 1u) << events;
  EXPECT_NE(events.find("a malformed request arrived on the Runtime API proxy"), std::string::npos)
      << events;
  EXPECT_EQ(count_of(events, kDegradedEvent), 0u) << events;
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, AConnectionRelayedRawDegradesProtectionBeforeItsNextRequestLeaves) {
  // The connection went raw on a request that asked for nothing; later it
  // asks for an invocation (the path split over two writes). The page is
  // degraded before that request reaches the endpoint, not after.
  std::mutex mu;
  std::condition_variable cv;
  bool got_part = false;
  int degraded_at_part = -1, degraded_at_whole = -1;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  FakeUpstream up([&](int fd, int) {
    read_until(fd, "\n\n");
    send_all(fd, "raw answer");
    read_until(fd, "/runtime/invo");
    {
      std::lock_guard<std::mutex> l(mu);
      degraded_at_part = page_degraded(**channel);
      got_part = true;
    }
    cv.notify_all();
    read_until(fd, "\r\n\r\n");
    degraded_at_whole = page_degraded(**channel);
    send_all(fd, next_response("unseen-1", "{}"));
    read_to_close(fd);
  });
  Recorder rec;
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), "GET /anything HTTP/1.1\nHost: x\n\n");
  EXPECT_EQ(read_n(c.get(), 10), "raw answer");
  send_all(c.get(), "GET /2018-06-01/runtime/invo");
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return got_part; }));
  }
  send_all(c.get(), "cation/next HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(read_until(c.get(), "\r\n\r\n{}").find("unseen-1"), std::string::npos);
  EXPECT_EQ(degraded_at_part, 0);
  EXPECT_EQ(degraded_at_whole, 1) << "the request for an invocation left before the page said so";
  EXPECT_TRUE(proxy->degraded());
  const std::string events = rec.all();
  EXPECT_EQ(count_of(events, kDegradedEvent), 1u) << events;
  EXPECT_NE(events.find("asks for an invocation"), std::string::npos) << events;
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, AnInvocationHandedOverOnARawConnectionDegradesProtection) {
  // A /next spelled so the proxy's watch on the request misses it (here
  // percent-encoded, which a lenient endpoint may decode): the invocation
  // header in the relayed answer degrades the page before the client has it.
  const std::string odd = "GET /2018-06-01/runtime/invocation/%6Eext HTTP/1.1\nHost: x\n\n";
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  FakeUpstream up([&](int fd, int) {
    read_until(fd, "\n\n");
    send_all(fd, next_response("unseen-2", "{}"));
    read_to_close(fd);
  });
  Recorder rec;
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), odd);
  EXPECT_NE(read_until(c.get(), "\r\n\r\n{}").find("unseen-2"), std::string::npos);
  EXPECT_TRUE(page_degraded(**channel));
  const std::string events = rec.all();
  EXPECT_EQ(count_of(events, kRelayedRawEvent), 1u) << events;
  EXPECT_EQ(count_of(events, kDegradedEvent), 1u) << events;
  EXPECT_NE(events.find("an invocation was handed over on a connection relayed raw"),
            std::string::npos)
      << events;
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, AnInvocationTheProxyPublishesEndsTheDegradedEpisode) {
  // Degraded is not forever: once the proxy has seen and published an
  // invocation, the page is current again; losing track later is a new
  // episode with its own event.
  const std::string garbage = "HTTP/1.1 200 OK\nBare-LF: yes\n\nbody-bytes";
  std::atomic<int> nexts{0};
  FakeUpstream up([&](int fd, int) {
    read_until(fd, "\r\n\r\n");
    if (nexts.fetch_add(1) == 1) {
      send_all(fd, next_response("seen-1", "{}"));
      read_to_close(fd);
    } else {
      send_all(fd, garbage);  // the 1st and 3rd /next: an answer the parser refuses
    }
  });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  {
    UniqueFd c = connect_to(proxy->address());
    send_all(c.get(), kNextRequest);
    EXPECT_EQ(read_to_close(c.get()), garbage);
  }
  EXPECT_TRUE(proxy->degraded());
  EXPECT_TRUE(page_degraded(**channel));
  EXPECT_EQ(count_of(rec.all(), kDegradedEvent), 1u) << rec.all();

  UniqueFd c2 = connect_to(proxy->address());
  send_all(c2.get(), kNextRequest);
  EXPECT_NE(read_until(c2.get(), "\r\n\r\n{}").find("seen-1"), std::string::npos);
  EXPECT_FALSE(proxy->degraded());
  image::ContextPage snap;
  ASSERT_TRUE(image::context_snapshot((*channel)->context(), &snap));
  EXPECT_EQ(snap.degraded, 0);
  EXPECT_STREQ(snap.request_id, "seen-1");

  {
    UniqueFd c3 = connect_to(proxy->address());
    send_all(c3.get(), kNextRequest);
    EXPECT_EQ(read_to_close(c3.get()), garbage);
  }
  EXPECT_TRUE(proxy->degraded());
  EXPECT_TRUE(page_degraded(**channel));
  EXPECT_EQ(count_of(rec.all(), kDegradedEvent), 2u) << rec.all();
  c2.reset();
  proxy->stop();
}

TEST(LambdaProxy, AKeptAliveUpstreamConnectionTheEndpointClosedWhileIdleIsReplaced) {
  // The endpoint closes a kept-alive connection after an idle timeout. The
  // runtime's next request must go out on a new connection, not into the
  // closed one (where it would be lost and the proxy would degrade).
  const std::string accepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}";
  const std::string reply = next_response("req-2", "{}");
  std::atomic<bool> idle_closed{false};
  FakeUpstream up([&](int fd, int index) {
    if (index == 0) {
      read_until(fd, "{}");
      send_all(fd, accepted);
      ::shutdown(fd, SHUT_RDWR);  // idle timeout
      idle_closed = true;
      return;
    }
    read_until(fd, "\r\n\r\n");
    send_all(fd, reply);
    read_to_close(fd);
  });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(),
           "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 2\r\n\r\n{}");
  ASSERT_EQ(read_n(c.get(), accepted.size()), accepted);
  for (int i = 0; i < 1000 && !idle_closed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(idle_closed);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the FIN reaches the proxy
  send_all(c.get(), kNextRequest);
  EXPECT_EQ(read_n(c.get(), reply.size()), reply);
  EXPECT_EQ(up.connections(), 2);
  EXPECT_FALSE(proxy->degraded()) << rec.all();
  EXPECT_FALSE(page_degraded(**channel));
  EXPECT_EQ(count_of(rec.all(), kDegradedEvent), 0u) << rec.all();
  c.reset();
  proxy->stop();
}

// The endpoint closes a kept-alive connection at the moment the proxy
// writes the runtime's /next into it (after the reuse check): no answer
// came, nothing passed unseen. The /next is asked again on a new
// connection; a POST, which may have been acted on, gets a 502. Neither
// degrades protection.
TEST(LambdaProxy, AnEndpointThatClosesWithoutAnsweringIsAskedAgainOrAnswered502) {
  const std::string accepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}";
  const std::string reply = next_response("req-2", "{}");
  FakeUpstream up([&](int fd, int index) {
    if (index == 0) {
      read_until(fd, "{}");
      send_all(fd, accepted);
      read_until(fd, "\r\n\r\n");  // the /next arrives: closed without a word
      return;
    }
    read_until(fd, "\r\n\r\n");
    send_all(fd, reply);
    read_to_close(fd);
  });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), {}, image::Mode::kOff, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(),
           "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 2\r\n\r\n{}");
  ASSERT_EQ(read_n(c.get(), accepted.size()), accepted);
  send_all(c.get(), kNextRequest);
  EXPECT_EQ(read_n(c.get(), reply.size()), reply);
  EXPECT_EQ(up.connections(), 2);
  EXPECT_FALSE(proxy->degraded()) << rec.all();
  EXPECT_FALSE(page_degraded(**channel));
  c.reset();
  proxy->stop();

  FakeUpstream silent([&](int fd, int) { read_until(fd, "{}"); });
  Recorder rec2;
  auto proxy2 = start_proxy(silent.address(), nullptr, {}, image::Mode::kOff, rec2.fn());
  UniqueFd c2 = connect_to(proxy2->address());
  send_all(c2.get(),
           "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(read_to_close(c2.get()).substr(0, 12), "HTTP/1.1 502");
  EXPECT_EQ(count_of(rec2.all(), kDegradedEvent), 0u) << rec2.all();
  proxy2->stop();
}

TEST(LambdaProxy, UnreachableUpstreamAnswers502) {
  uint16_t port = 0;
  std::string dead;
  {
    auto fd = http::listen_loopback(0, &port);  // bound, then closed: nothing listens
    ASSERT_TRUE(fd.ok());
    dead = "127.0.0.1:" + std::to_string(port);
  }
  auto proxy = start_proxy(dead);
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  EXPECT_EQ(read_to_close(c.get()).substr(0, 12), "HTTP/1.1 502");
}

// Block and monitor: an inspector that flags events containing "ATTACK".
InspectFn flag_attacks() {
  return [](std::string_view event) {
    InspectOutcome o;
    o.http_shaped = true;
    o.taints.push_back(Taint{"queryStringParameters.file", "/etc/passwd"});
    if (event.find("ATTACK") != std::string_view::npos) {
      o.findings.push_back(Finding{"path_traversal", "queryStringParameters.file", "/etc/passwd"});
    }
    return o;
  };
}

struct BlockScenario {
  std::mutex mu;
  std::vector<std::string> posted;  // requests the upstream received other than /next
  std::atomic<int> next_calls{0};
};

void serve_two_invocations(BlockScenario* s, int fd) {
  http::Reader r(fd);
  for (;;) {
    auto h = r.read_head(true, http::Limits{}, {}, 10000);
    if (!h.ok() || !h->has_value()) return;
    std::string body;
    (void)r.read_body(**h, http::Limits{}, nullptr, &body);
    if ((*h)->target == kNextPath) {
      int n = s->next_calls.fetch_add(1);
      send_all(fd, n == 0 ? next_response("bad-1", "{\"q\":\"ATTACK\"}")
                          : next_response("good-2", "{\"q\":\"fine\"}"));
    } else {
      {
        std::lock_guard<std::mutex> l(s->mu);
        s->posted.push_back((*h)->target + " " + body);
      }
      send_all(fd, "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}");
    }
  }
}

TEST(LambdaProxy, BlockModeAnswers403ItselfAndTheRuntimeSeesOnlyTheNextInvocation) {
  BlockScenario s;
  FakeUpstream up([&](int fd, int) { serve_two_invocations(&s, fd); });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), flag_attacks(), image::Mode::kBlock,
                           rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  std::string got = read_until(c.get(), "\"fine\"}");
  EXPECT_NE(got.find("Request-Id: good-2"), std::string::npos);
  EXPECT_EQ(got.find("ATTACK"), std::string::npos) << "the runtime saw the malicious event";
  EXPECT_EQ(s.next_calls.load(), 2);
  ASSERT_EQ(s.posted.size(), 1u);
  EXPECT_EQ(s.posted[0].rfind("/2018-06-01/runtime/invocation/bad-1/response {\"statusCode\":403", 0),
            0u)
      << s.posted[0];
  std::string events = rec.all();
  EXPECT_NE(events.find("\"kind\":\"detection\""), std::string::npos);
  EXPECT_NE(events.find("\"action\":\"blocked\""), std::string::npos);
  EXPECT_NE(events.find("\"request_id\":\"bad-1\""), std::string::npos);
  EXPECT_NE(events.find("\"taint\":{\"field\":\"queryStringParameters.file\",\"value\":\"/etc/passwd\"}"),
            std::string::npos);
  EXPECT_EQ(proxy->blocked(), 1u);
  image::ContextPage snap;
  ASSERT_TRUE(image::context_snapshot((*channel)->context(), &snap));
  EXPECT_STREQ(snap.request_id, "good-2");
  ASSERT_EQ(snap.taint_count, 1u);
  EXPECT_EQ(std::string(snap.taint_data + snap.taints[0].value_offset, snap.taints[0].value_length),
            "/etc/passwd");
}

TEST(LambdaProxy, MonitorModePassesTheEventOnAndReportsIt) {
  BlockScenario s;
  FakeUpstream up([&](int fd, int) { serve_two_invocations(&s, fd); });
  Recorder rec;
  auto proxy = start_proxy(up.address(), nullptr, flag_attacks(), image::Mode::kMonitor, rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  std::string got = read_until(c.get(), "\"ATTACK\"}");
  EXPECT_NE(got.find("Request-Id: bad-1"), std::string::npos);
  EXPECT_TRUE(s.posted.empty());
  std::string events = rec.all();
  EXPECT_NE(events.find("\"kind\":\"detection\""), std::string::npos);
  EXPECT_NE(events.find("\"action\":\"allowed\""), std::string::npos);
  EXPECT_NE(events.find("\"request_id\":\"bad-1\""), std::string::npos);
}

TEST(LambdaProxy, MonitorModePublishesTheTaintValuesBeforeTheRuntimeGetsTheEvent) {
  BlockScenario s;
  FakeUpstream up([&](int fd, int) { serve_two_invocations(&s, fd); });
  Recorder rec;
  auto channel = supervisor::Channel::create({1}, false);
  ASSERT_TRUE(channel.ok());
  auto proxy = start_proxy(up.address(), channel->get(), flag_attacks(), image::Mode::kMonitor,
                           rec.fn());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  std::string got = read_until(c.get(), "\"ATTACK\"}");
  EXPECT_NE(got.find("Request-Id: bad-1"), std::string::npos);
  // By the time the runtime has the event, the page names the invocation
  // with its taint values and the detection has been written.
  image::ContextPage snap;
  ASSERT_TRUE(image::context_snapshot((*channel)->context(), &snap));
  EXPECT_STREQ(snap.request_id, "bad-1");
  ASSERT_EQ(snap.taint_count, 1u);
  EXPECT_EQ(std::string(snap.taint_data + snap.taints[0].value_offset, snap.taints[0].value_length),
            "/etc/passwd");
  std::string events = rec.all();
  EXPECT_NE(events.find("\"kind\":\"detection\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"request_id\":\"bad-1\""), std::string::npos) << events;
  EXPECT_TRUE(s.posted.empty()) << "monitor mode must not answer the invocation itself";
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, BlockedNonHttpEventIsAnsweredWithAnError) {
  BlockScenario s;
  FakeUpstream up([&](int fd, int) { serve_two_invocations(&s, fd); });
  InspectFn inspect = [](std::string_view event) {
    InspectOutcome o;  // http_shaped stays false: an SQS or custom event
    if (event.find("ATTACK") != std::string_view::npos) {
      o.findings.push_back(Finding{"sql_injection", "Records[0].body", "' OR 1=1", ""});
    }
    return o;
  };
  auto proxy = start_proxy(up.address(), nullptr, inspect, image::Mode::kBlock);
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), kNextRequest);
  std::string got = read_until(c.get(), "\"fine\"}");
  EXPECT_NE(got.find("Request-Id: good-2"), std::string::npos);
  ASSERT_EQ(s.posted.size(), 1u);
  EXPECT_EQ(s.posted[0].rfind("/2018-06-01/runtime/invocation/bad-1/error {", 0), 0u) << s.posted[0];
  EXPECT_NE(s.posted[0].find("FnguardBlocked"), std::string::npos);
}

TEST(LambdaProxy, ExpectContinueWaitsForTheUpstreamsGoAhead) {
  const std::string head = "POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\nHost: x\r\n"
                           "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  std::string seen;
  FakeUpstream up([&](int fd, int) {
    seen = read_until(fd, "\r\n\r\n");
    send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    seen += read_n(fd, 5);
    send_all(fd, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok");
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), head);
  // The body is sent only after the interim answer came through the proxy.
  EXPECT_EQ(read_until(c.get(), "\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(c.get(), "hello");
  EXPECT_EQ(read_until(c.get(), "ok"), "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(seen, head + "hello");
}

TEST(LambdaProxy, ExpectContinueToAnEndpointThatWaitsForTheBodyForwardsTheBodyWhenItComes) {
  // RFC 9110 lets an endpoint wait for the body instead of sending 100
  // Continue (fnguard's own local Runtime API does), and lets the client send
  // it unasked after a while (curl waits 1 s). The proxy must then forward
  // the body, not wait for an interim answer that never comes.
  const std::string head =
      "POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\nHost: x\r\n"
      "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  const std::string accepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok";
  std::mutex mu;
  std::condition_variable cv;
  bool got_head = false;
  std::string seen;
  FakeUpstream up([&](int fd, int) {
    std::string h = read_until(fd, "\r\n\r\n");
    {
      std::lock_guard<std::mutex> l(mu);
      got_head = true;
    }
    cv.notify_all();
    std::string body = read_n(fd, 5);  // no 100 Continue: the body first
    seen = h + body;
    send_all(fd, accepted);
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), head);
  {
    // The proxy has passed the head on and now waits for one side or the other.
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return got_head; }));
  }
  send_all(c.get(), "hello");  // the client's wait for 100 Continue is over
  EXPECT_EQ(read_until(c.get(), "ok"), accepted);
  EXPECT_EQ(seen, head + "hello");
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, ExpectContinueWithTheBodySentAlongWithTheHeadIsForwarded) {
  // The same with a client that does not wait at all: head and body in one write.
  const std::string request =
      "POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\n"
      "Host: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello";
  const std::string accepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok";
  std::string seen;
  FakeUpstream up([&](int fd, int) {
    seen = read_until(fd, "\r\n\r\n");
    seen += read_n(fd, 5);
    send_all(fd, accepted);
    read_to_close(fd);
  });
  auto proxy = start_proxy(up.address());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), request);
  EXPECT_EQ(read_until(c.get(), "ok"), accepted);
  EXPECT_EQ(seen, request);
  c.reset();
  proxy->stop();
}

TEST(LambdaProxy, OtherPathsAndKeepAliveAreForwarded) {
  std::vector<std::string> targets;
  FakeUpstream up([&](int fd, int) {
    http::Reader r(fd);
    for (;;) {
      auto h = r.read_head(true, http::Limits{}, {}, 10000);
      if (!h.ok() || !h->has_value()) return;
      targets.push_back((*h)->target);
      if (!r.read_body(**h, http::Limits{}, nullptr, nullptr).ok()) return;
      send_all(fd, "HTTP/1.1 200 OK\r\nLambda-Extension-Identifier: ext-1\r\nContent-Length: 2\r\n\r\nok");
    }
  });
  auto proxy = start_proxy(up.address());
  UniqueFd c = connect_to(proxy->address());
  send_all(c.get(), "POST /2020-01-01/extension/register HTTP/1.1\r\nHost: x\r\n"
                    "Lambda-Extension-Name: e\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_NE(read_until(c.get(), "\r\n\r\nok").find("ext-1"), std::string::npos);
  send_all(c.get(), "GET /anything?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string second = read_until(c.get(), "\r\n\r\nok");
  EXPECT_NE(second.find("ext-1"), std::string::npos) << second;
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[1], "/anything?x=1");
  EXPECT_EQ(up.connections(), 1);  // one upstream connection, kept alive
}

}  // namespace
}  // namespace fnguard::lambda
