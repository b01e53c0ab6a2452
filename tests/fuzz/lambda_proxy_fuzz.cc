// libFuzzer target for the Runtime API proxy as a whole (fnguard/lambda/proxy.h):
// not its parser alone (lambda_http_fuzz) but the connection handling around
// it, with real sockets. Each input is a runtime's request bytes and the
// endpoint's answer bytes. A proxy is started against a scripted endpoint
// that writes the answer bytes to every connection the proxy makes and then
// closes its side; a client (or two at once) writes the request bytes to
// the proxy and, unless it checks that the answer arrives whole, closes its
// side. Inspection runs (mode from the input), and invocations are published
// in a real context page.
//
// Properties checked (a violation traps):
//   - the proxy closes the client's connection once both peers have closed
//     theirs (within kDeadlineMs): hostile bytes never leave it hanging;
//   - stop() returns (libFuzzer's -timeout catches a hang there), and the
//     endpoint's connections are closed by then;
//   - byte-exact forwarding: unless in block mode, when the request is one
//     whole HTTP message and the answer one whole final response (as the
//     proxy's parser reads them), the endpoint receives exactly the request
//     and the client exactly the answer;
//   - every event the proxy emits is one JSON object (compacting it again
//     gives the same text);
//   - no crash, leak or sanitizer report (the build's sanitizers: ASan and
//     UBSan, or TSan for lambda_proxy_tsan_fuzz).
//
// Input layout: byte 0 = flags (bits 0-1: inspection mode off, monitor,
// block; bit 2: the request is written in two pieces; bit 3: the spare
// upstream connection is made once the runtime runs, as the wrapper has it;
// bit 4: two runtime connections at once); bytes 1-2 = the request's length
// (little-endian, clamped); then the request, then the endpoint's answer.
#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
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

// Longer than the proxy's own connect timeout (5 s), so that only a hang
// trips it.
constexpr int kDeadlineMs = 15000;

// Closes with a reset instead of a FIN where the harness closes first, so
// that connection leaves no TIME_WAIT behind. (A side that sent its FIN
// first still gets one; at hundreds of inputs a second they use up the
// loopback's ephemeral ports, and connects then stall on SYN retransmits or
// fail: hence the long deadline, and the skip below.)
void close_at_once(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// The scripted endpoint, one per input (a listening socket of its own, so
// that a connection an earlier proxy left in the backlog cannot reach this
// input): every accepted connection gets the answer, then a FIN; what the
// proxy sends is recorded until it closes.
class Endpoint {
 public:
  explicit Endpoint(std::string answer) : answer_(std::move(answer)) {
    uint16_t port = 0;
    auto fd = lambda::http::listen_loopback(0, &port);
    if (!fd.ok()) {
      std::fprintf(stderr, "lambda_proxy_fuzz: cannot listen: %s\n", fd.error().message.c_str());
      __builtin_trap();
    }
    listen_ = std::move(*fd);
    address_ = "127.0.0.1:" + std::to_string(port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~Endpoint() {
    ::shutdown(listen_.get(), SHUT_RDWR);  // accept() fails: the acceptor ends
    acceptor_.join();
    for (std::thread& t : handlers_) t.join();
  }
  const std::string& address() const { return address_; }
  // What the proxy sent, all connections together, in order of arrival.
  std::string received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  // Waits until every accepted connection is closed; false after kDeadlineMs.
  bool wait_closed() {
    for (int i = 0; i < kDeadlineMs; ++i) {
      if (live_.load() == 0) return true;
      ::usleep(1000);
    }
    return false;
  }

 private:
  void accept_loop() {
    for (;;) {
      int c = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      live_.fetch_add(1);
      handlers_.emplace_back([this, c] {
        (void)lambda::http::write_all(c, answer_);
        ::shutdown(c, SHUT_WR);
        char buf[4096];
        for (;;) {
          pollfd p{c, POLLIN, 0};
          if (::poll(&p, 1, kDeadlineMs) <= 0) break;
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          std::lock_guard<std::mutex> lock(mu_);
          received_.append(buf, static_cast<size_t>(n));
        }
        close_at_once(c);
        live_.fetch_sub(1);
      });
    }
  }

  const std::string answer_;
  UniqueFd listen_;
  std::string address_;
  std::thread acceptor_;
  std::vector<std::thread> handlers_;  // the acceptor's own; joined after it ends
  std::mutex mu_;
  std::string received_;  // guarded by mu_
  std::atomic<int> live_{0};
};

struct Shared {
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

// `bytes` is exactly one whole message, as the proxy's parser reads it: its
// head, and a body of the framing the head gives, and nothing after. A
// response must be final (not 1xx); `method` is the request's.
bool one_whole_message(std::string_view bytes, bool is_request, std::string_view method,
                       lambda::http::Head* head) {
  lambda::http::Limits limits;
  auto parsed = lambda::http::parse_head(bytes, is_request, limits, head, method);
  if (!parsed.ok() || !parsed->has_value()) return false;
  if (!is_request && head->status < 200) return false;
  std::string_view body = bytes.substr(**parsed);
  switch (head->framing) {
    case lambda::http::Framing::kNone:
      return body.empty();
    case lambda::http::Framing::kLength:
      return body.size() == head->content_length;
    case lambda::http::Framing::kUntilClose:
      return true;
    case lambda::http::Framing::kChunked: {
      lambda::http::ChunkedDecoder decoder(limits);
      auto used = decoder.feed(body, nullptr);
      return used.ok() && decoder.done() && *used == body.size();
    }
  }
  return false;
}

// The input being run, saved on a hang (a sanitizer may die in libFuzzer's
// own crash handler before that writes it).
const uint8_t* g_input = nullptr;
size_t g_input_size = 0;

// On a hang: the input to ./lambda-proxy-hang-<pid>, and each thread's
// system call (number and arguments) and wait channel, for the report.
void report_hang() {
  std::string name = "lambda-proxy-hang-" + std::to_string(::getpid());
  if (FILE* f = std::fopen(name.c_str(), "wb")) {
    std::fwrite(g_input, 1, g_input_size, f);
    std::fclose(f);
    std::fprintf(stderr, "  input saved to %s\n", name.c_str());
  }
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::string line = std::string("  thread ") + e->d_name + ":";
    for (const char* what : {"comm", "syscall", "wchan"}) {
      std::string path = std::string("/proc/self/task/") + e->d_name + "/" + what;
      if (FILE* f = std::fopen(path.c_str(), "r")) {
        char buf[256] = {};
        size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0')) --n;
        line += std::string(" ") + what + "=" + std::string(buf, n);
      }
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  ::closedir(dir);
  // The process's sockets, and the loopback's TCP table to match them with.
  if (DIR* fds = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(fds)) {
      char target[128] = {};
      std::string path = std::string("/proc/self/fd/") + e->d_name;
      if (::readlink(path.c_str(), target, sizeof target - 1) > 0 &&
          std::string_view(target).rfind("socket:", 0) == 0) {
        std::fprintf(stderr, "  fd %s: %s\n", e->d_name, target);
      }
    }
    ::closedir(fds);
  }
  if (FILE* f = std::fopen("/proc/self/net/tcp", "r")) {
    char row[512];
    // Columns: local and remote address:port in hex, state (01 established,
    // 06 TIME_WAIT, 08 CLOSE_WAIT, 0A listen), ..., inode. TIME_WAIT rows
    // are left out.
    while (std::fgets(row, sizeof row, f) != nullptr) {
      if (std::strstr(row, " 06 ") == nullptr) std::fprintf(stderr, "  tcp %s", row);
    }
    std::fclose(f);
  }
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
  g_input = data;
  g_input_size = size;
  Shared& s = shared();
  const uint8_t flags = data[0];
  size_t request_len = data[1] | (static_cast<size_t>(data[2]) << 8);
  std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);
  if (request_len > rest.size()) request_len = rest.size();
  std::string_view request = rest.substr(0, request_len);
  std::string_view answer = rest.substr(request_len);
  Endpoint endpoint{std::string(answer)};

  static constexpr Mode kModes[4] = {Mode::kOff, Mode::kMonitor, Mode::kBlock, Mode::kMonitor};
  const Mode mode = kModes[flags & 3];
  lambda::ProxyConfig cfg;
  cfg.upstream = endpoint.address();
  cfg.channel = s.channel.get();
  cfg.inspect = s.inspect;
  cfg.inspect_mode = s.inspect ? mode : Mode::kOff;
  cfg.emit = check_event;
  cfg.function_name = "fuzz";
  // Bit 3: the wrapper's setting, the spare upstream connection made only
  // once the runtime runs (runtime_started() below, racing the client).
  cfg.spare_after_start = (flags & 8) != 0;
  auto started = lambda::Proxy::start(std::move(cfg));
  if (!started.ok()) {
    std::fprintf(stderr, "lambda_proxy_fuzz: the proxy did not start: %s\n",
                 started.error().message.c_str());
    __builtin_trap();
  }
  std::unique_ptr<lambda::Proxy> proxy = std::move(*started);

  // Unless in block mode, a request that is one whole message and an answer
  // that is one whole final response must pass unchanged. The client then
  // keeps its side open (the proxy takes a runtime that closes its side
  // during /next for one that hung up) and reads the answer's length.
  lambda::http::Head request_head, answer_head;
  const bool exact = mode != Mode::kBlock && one_whole_message(request, true, {}, &request_head) &&
                     one_whole_message(answer, false, request_head.method, &answer_head);

  if ((flags & 8) != 0) proxy->runtime_started();
  // Bit 4: a second runtime connection at the same time, with the same
  // request (another thread then takes over accepting).
  const int clients = (flags & 16) != 0 ? 2 : 1;
  std::string got[2];
  bool connected[2] = {false, false};
  auto run_client = [&](int i) {
    auto client = lambda::http::connect_tcp(proxy->address(), kDeadlineMs);
    // Failing here is this machine, not the proxy: the loopback's ports are
    // used up by earlier inputs' connections in TIME_WAIT. (When the
    // proxy's own upstream connect fails that way, it answers 502 and
    // closes.) The input is then not checked.
    if (!client.ok()) return;
    connected[i] = true;
    int fd = client->get();
    if ((flags & 4) != 0 && request.size() > 1) {
      size_t half = request.size() / 2;
      (void)lambda::http::write_all(fd, request.substr(0, half));
      (void)lambda::http::write_all(fd, request.substr(half));
    } else {
      (void)lambda::http::write_all(fd, request);
    }
    if (!exact) ::shutdown(fd, SHUT_WR);

    // Otherwise both peers have closed their sides: the proxy must close
    // the client's.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
    std::vector<char> buf(65536);
    while (!exact || got[i].size() < answer.size()) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      pollfd p{fd, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, left) <= 0) {
        std::fprintf(stderr,
                     exact ? "lambda_proxy_fuzz: the answer did not reach the client in %d ms\n"
                           : "lambda_proxy_fuzz: the proxy kept the connection open %d ms after "
                             "both peers closed theirs\n",
                     kDeadlineMs);
        report_hang();
        __builtin_trap();
      }
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) break;  // closed (or reset)
      got[i].append(buf.data(), static_cast<size_t>(n));
    }
    close_at_once(client->release());
  };
  if (clients == 2) {
    std::thread second(run_client, 1);
    run_client(0);
    second.join();
  } else {
    run_client(0);
  }
  proxy->stop();
  if (!endpoint.wait_closed()) {
    std::fprintf(stderr, "lambda_proxy_fuzz: an endpoint connection is open after stop()\n");
    __builtin_trap();
  }
  if (!exact || !connected[0] || (clients == 2 && !connected[1])) return 0;
  for (int i = 0; i < clients; ++i) {
    if (got[i] != answer) {
      std::fprintf(stderr, "lambda_proxy_fuzz: client %d got %zu bytes, not the endpoint's %zu\n",
                   i, got[i].size(), answer.size());
      __builtin_trap();
    }
  }
  // Two connections' requests may arrive interleaved: compare their sum.
  const std::string received = endpoint.received();
  if (clients == 1 ? received != request : received.size() != 2 * request.size()) {
    std::fprintf(stderr, "lambda_proxy_fuzz: the endpoint got %zu bytes, not the request's %zu%s\n",
                 received.size(), request.size(), clients == 2 ? " twice" : "");
    __builtin_trap();
  }
  return 0;
}
