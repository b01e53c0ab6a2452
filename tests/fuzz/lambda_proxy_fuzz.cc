// libFuzzer target for the Runtime API proxy as a whole (fnguard/lambda/proxy.h):
// not its parser alone (lambda_http_fuzz) but the connection handling around
// it, with real sockets. Each input is a runtime's request bytes and the
// endpoint's answer bytes. A proxy is started against a scripted endpoint
// that writes the answer bytes to every connection the proxy makes and then
// closes its side; a client writes the request bytes to the proxy and closes
// its side. Inspection runs (mode from the input), and invocations are
// published in a real context page.
//
// Properties checked (a violation traps):
//   - the proxy closes the client's connection once both peers have closed
//     theirs (within kDeadlineMs): hostile bytes never leave it hanging;
//   - stop() returns (libFuzzer's -timeout catches a hang there);
//   - every event the proxy emits is one JSON object (compacting it again
//     gives the same text);
//   - no crash, leak or sanitizer report (the build's sanitizers).
//
// Input layout: byte 0 = flags (bits 0-1: inspection mode off, monitor,
// block; bit 2: the request is written in two pieces); bytes 1-2 = the
// request's length (little-endian, clamped); then the request, then the
// endpoint's answer.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fnguard/events/sink.h"
#include "fnguard/lambda/http_io.h"
#include "fnguard/lambda/inspect_glue.h"
#include "fnguard/lambda/proxy.h"
#include "fnguard/policy/policy.h"
#include "fnguard/supervisor/channel.h"

namespace {

namespace lambda = fnguard::lambda;
using fnguard::image::Mode;
using fnguard::lambda::http::UniqueFd;

constexpr int kDeadlineMs = 5000;

// The scripted endpoint: every accepted connection gets the current answer,
// then a FIN; what the proxy sends is read and dropped until it closes.
class Endpoint {
 public:
  Endpoint() {
    uint16_t port = 0;
    auto fd = lambda::http::listen_loopback(0, &port);
    if (!fd.ok()) {
      std::fprintf(stderr, "lambda_proxy_fuzz: cannot listen: %s\n", fd.error().message.c_str());
      __builtin_trap();
    }
    listen_ = std::move(*fd);
    address_ = "127.0.0.1:" + std::to_string(port);
    std::thread([this] { accept_loop(); }).detach();
  }
  const std::string& address() const { return address_; }
  void set_answer(std::string answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(answer);
  }

 private:
  void accept_loop() {
    for (;;) {
      int c = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string answer;
      {
        std::lock_guard<std::mutex> lock(mu_);
        answer = answer_;
      }
      std::thread([c, answer = std::move(answer)] {
        (void)lambda::http::write_all(c, answer);
        ::shutdown(c, SHUT_WR);
        char buf[4096];
        for (;;) {
          pollfd p{c, POLLIN, 0};
          if (::poll(&p, 1, kDeadlineMs) <= 0) break;
          if (::recv(c, buf, sizeof buf, 0) <= 0) break;
        }
        ::close(c);
      }).detach();
    }
  }

  UniqueFd listen_;
  std::string address_;
  std::mutex mu_;
  std::string answer_;
};

struct Shared {
  Endpoint endpoint;
  std::unique_ptr<fnguard::supervisor::Channel> channel;
  lambda::InspectFn inspect;
};

Shared& shared() {
  static Shared* s = [] {
    auto* out = new Shared();
    fnguard::policy::CompileOptions options;
    options.task_root = "/var/task";
    options.tmp = "/tmp";
    fnguard::policy::LoadedPolicy pol = fnguard::policy::default_policy(options);
    auto channel = fnguard::supervisor::Channel::create(pol.image, /*gate=*/false);
    if (!channel.ok()) __builtin_trap();
    out->channel = std::move(*channel);
    lambda::InspectSettings settings;
    settings.mode = Mode::kMonitor;
    auto fn = lambda::make_inspector(settings);
    if (fn.ok()) out->inspect = std::move(*fn);  // a build without inspection: none
    return out;
  }();
  return *s;
}

void check_event(const std::string& json) {
  std::string again;
  if (!fnguard::events::compact_json_object(json, &again) || again != json) {
    std::fprintf(stderr, "lambda_proxy_fuzz: the proxy emitted an invalid event: %s\n",
                 json.c_str());
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  Shared& s = shared();
  const uint8_t flags = data[0];
  size_t request_len = data[1] | (static_cast<size_t>(data[2]) << 8);
  std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);
  if (request_len > rest.size()) request_len = rest.size();
  std::string_view request = rest.substr(0, request_len);
  s.endpoint.set_answer(std::string(rest.substr(request_len)));

  static constexpr Mode kModes[4] = {Mode::kOff, Mode::kMonitor, Mode::kBlock, Mode::kMonitor};
  lambda::ProxyConfig cfg;
  cfg.upstream = s.endpoint.address();
  cfg.channel = s.channel.get();
  cfg.inspect = s.inspect;
  cfg.inspect_mode = s.inspect ? kModes[flags & 3] : Mode::kOff;
  cfg.emit = check_event;
  cfg.function_name = "fuzz";
  auto started = lambda::Proxy::start(std::move(cfg));
  if (!started.ok()) {
    std::fprintf(stderr, "lambda_proxy_fuzz: the proxy did not start: %s\n",
                 started.error().message.c_str());
    __builtin_trap();
  }
  std::unique_ptr<lambda::Proxy> proxy = std::move(*started);

  auto client = lambda::http::connect_tcp(proxy->address(), kDeadlineMs);
  if (!client.ok()) __builtin_trap();
  int fd = client->get();
  if ((flags & 4) != 0 && request.size() > 1) {
    size_t half = request.size() / 2;
    (void)lambda::http::write_all(fd, request.substr(0, half));
    (void)lambda::http::write_all(fd, request.substr(half));
  } else {
    (void)lambda::http::write_all(fd, request);
  }
  ::shutdown(fd, SHUT_WR);

  // Both peers have closed their sides: the proxy must close the client's.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
  char buf[65536];
  for (;;) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, left) <= 0) {
      std::fprintf(stderr,
                   "lambda_proxy_fuzz: the proxy kept the connection open %d ms after both "
                   "peers closed theirs\n",
                   kDeadlineMs);
      __builtin_trap();
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;  // closed (or reset): done
  }
  client->reset();
  proxy->stop();
  return 0;
}
