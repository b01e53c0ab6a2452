// The Runtime API proxy (see proxy.h for what it does and why it is built so).
#include "fnguard/lambda/proxy.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>

#include "fnguard/events/json_writer.h"

namespace fnguard::lambda {
namespace {


constexpr size_t kEventBuffer = 64 * 1024;

std::string now_utc() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char out[32];
  events::format_utc(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec), out);
  return out;
}

// Path of a request target without its query string.
std::string_view target_path(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

// Request ids go into a URL the proxy builds itself; refuse anything that
// could change the path.
bool safe_request_id(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

void copy_field(char* dst, size_t cap, const std::string& src) {
  size_t n = src.size() < cap - 1 ? src.size() : cap - 1;
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

// Finds a needle (ASCII, case-insensitive) in a byte stream that arrives in
// pieces, an occurrence split across two pieces included. A raw relay uses it
// to notice an invocation passing by without parsing what it relays.
class StreamWatch {
 public:
  explicit StreamWatch(std::string_view needle) : needle_(needle) {}

  // True when an occurrence ends in `piece`.
  bool feed(std::string_view piece) {
    std::string window = tail_;
    window.append(piece.data(), piece.size());
    auto same = [](char a, char b) { return lower(a) == lower(b); };
    bool found = std::search(window.begin(), window.end(), needle_.begin(), needle_.end(), same) !=
                 window.end();
    // Shorter than the needle: no occurrence is ever counted twice.
    size_t keep = std::min(window.size(), needle_.size() - 1);
    tail_ = window.substr(window.size() - keep);
    return found;
  }

 private:
  static char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

  std::string_view needle_;
  std::string tail_;  // the last needle.size() - 1 bytes fed
};

// What a raw relay watches for. From the runtime's side: the /next path (any
// API version, any case), so the page is degraded before the request that
// asks for an invocation reaches the endpoint. From the endpoint's side: the
// header that only an invocation carries, which also catches a /next spelled
// so that the first watch misses it (percent-encoded, say) but the endpoint
// still understands.
constexpr std::string_view kNextPathWatch = "/runtime/invocation/next";
constexpr std::string_view kInvocationHeaderWatch = "Lambda-Runtime-Aws-Request-Id:";

std::string json_escape(std::string_view s) {
  std::vector<char> buf(s.size() * 6 + 16);
  events::JsonWriter w(buf.data(), buf.size());
  w.begin_object();
  w.field("v", s.data(), s.size());
  w.end_object();
  std::string out(w.data(), w.length());
  // {"v":"..."} -> "..."
  return out.substr(5, out.size() - 6);
}

}  // namespace

std::string lifecycle_event(std::string_view state, std::string_view message,
                            std::string_view function_name) {
  std::string out = "{\"fnguard\":1,\"time\":\"" + now_utc() + "\",\"kind\":\"lifecycle\"";
  out += ",\"action\":" + json_escape(state);
  out += ",\"detail\":{\"message\":" + json_escape(message) + "}";
  out += ",\"process\":{\"pid\":" + std::to_string(::getpid()) + "}";
  if (!function_name.empty()) out += ",\"function\":{\"name\":" + json_escape(function_name) + "}";
  out += ",\"enforcement\":\"proxy\"}";
  return out;
}

std::string default_blocked_response(std::string_view request_id) {
  std::string inner = "{\"message\":\"Forbidden\",\"blocked_by\":\"fnguard\",\"request_id\":" +
                      json_escape(request_id) + "}";
  return "{\"statusCode\":403,\"headers\":{\"content-type\":\"application/json\"},\"body\":" +
         json_escape(inner) + "}";
}

Result<std::unique_ptr<Proxy>> Proxy::start(ProxyConfig config) {
  if (config.upstream.empty()) {
    return make_error("the Runtime API proxy has no upstream",
                      "AWS_LAMBDA_RUNTIME_API must be set (Lambda sets it)");
  }
  std::unique_ptr<Proxy> proxy(new Proxy(std::move(config)));
  uint16_t port = 0;
  if (proxy->config_.listen_fd >= 0) {
    proxy->listen_fd_.reset(proxy->config_.listen_fd);
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    if (::getsockname(proxy->listen_fd_.get(), reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
      return make_error("the proxy's listening socket is not usable");
    }
    port = ntohs(sin.sin_port);
  } else {
    auto fd = http::listen_loopback(proxy->config_.listen_port, &port);
    if (!fd.ok()) return fd.error();
    proxy->listen_fd_ = std::move(*fd);
  }
  proxy->address_ = "127.0.0.1:" + std::to_string(port);
  if (proxy->config_.channel != nullptr) {
    supervisor::Channel* ch = proxy->config_.channel;
    ch->context_begin_write();
    ch->context()->phase = image::Phase::kInit;
    ch->context_end_write();
  }
  if (!proxy->start_acceptor(/*first=*/true)) {
    return make_error("the Runtime API proxy cannot start a thread",
                      "check the process's thread and memory limits");
  }
  return proxy;
}

Proxy::~Proxy() { stop(); }

void Proxy::runtime_started() {
  {
    std::lock_guard<std::mutex> lock(spare_mu_);
    runtime_started_ = true;
  }
  spare_cv_.notify_all();
}

void Proxy::stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(spare_mu_);  // a waiting first acceptor sees stopping_
  }
  spare_cv_.notify_all();
  if (listen_fd_) ::shutdown(listen_fd_.get(), SHUT_RDWR);  // the acceptor's accept() fails
  connections_.close_all();  // wakes and waits for the threads serving connections
  {
    std::unique_lock<std::mutex> lock(acceptors_mu_);
    acceptors_cv_.wait(lock, [this] { return acceptors_ == 0; });
  }
  listen_fd_.reset();
  std::lock_guard<std::mutex> lock(spare_mu_);
  spare_upstream_.reset();
}

bool Proxy::start_acceptor(bool first, bool only_if_wanted) {
  {
    std::lock_guard<std::mutex> lock(acceptors_mu_);
    if (only_if_wanted && !acceptor_wanted_locked()) return true;
    ++acceptors_;
    ++ready_acceptors_;
  }
  try {
    std::thread([this, first] {
      if (first) connect_spare_upstream();
      accept_loop();
      std::lock_guard<std::mutex> lock(acceptors_mu_);
      --acceptors_;
      acceptors_cv_.notify_all();  // under the lock: stop() cannot return before we let go
    }).detach();
  } catch (const std::system_error&) {
    std::lock_guard<std::mutex> lock(acceptors_mu_);
    --acceptors_;
    --ready_acceptors_;
    acceptor_failed_ = true;
    return false;
  }
  return true;
}

bool Proxy::acceptor_wanted_locked() const {
  return ready_acceptors_ == 0 && !acceptor_failed_ && !stopping_.load();
}

bool Proxy::acceptor_wanted() {
  std::lock_guard<std::mutex> lock(acceptors_mu_);
  return acceptor_wanted_locked();
}

void Proxy::start_wanted_acceptor() {
  (void)start_acceptor(/*first=*/false, /*only_if_wanted=*/true);
}

int Proxy::wait_serving(pollfd* fds, size_t n) {
  constexpr size_t kMax = 4;
  if (n > kMax - 1) n = kMax - 1;
  for (;;) {
    pollfd all[kMax];
    for (size_t i = 0; i < n; ++i) all[i] = pollfd{fds[i].fd, fds[i].events, 0};
    const bool watch = acceptor_wanted();
    if (watch) all[n] = pollfd{listen_fd_.get(), POLLIN, 0};
    int r = ::poll(all, watch ? n + 1 : n, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    bool ours = false;
    for (size_t i = 0; i < n; ++i) {
      fds[i].revents = all[i].revents;
      ours = ours || all[i].revents != 0;
    }
    if (watch && all[n].revents != 0) start_wanted_acceptor();
    if (ours) return r;
  }
}

// The first request's upstream connection is made while the runtime starts,
// not when it first asks (one connect and the endpoint's accept fewer on the
// cold start). It may delay accepting by at most kSpareConnectMs (a loopback
// endpoint answers at once); failing here is not an error: serve() connects
// then, with the full timeout, and reports what goes wrong.
constexpr int kSpareConnectMs = 20;

void Proxy::connect_spare_upstream() {
  if (config_.spare_after_start) {
    std::unique_lock<std::mutex> lock(spare_mu_);
    spare_cv_.wait(lock, [this] { return runtime_started_ || stopping_.load(); });
    if (stopping_.load()) return;
  }
  auto fd = http::connect_tcp(config_.upstream, kSpareConnectMs);
  if (!fd.ok()) return;
  std::lock_guard<std::mutex> lock(spare_mu_);
  if (!stopping_.load()) spare_upstream_ = std::move(*fd);
}

// The spare connection, if there is one and the endpoint has not closed it
// (or sent something unasked) while it waited.
http::UniqueFd Proxy::take_spare_upstream() {
  http::UniqueFd fd;
  {
    std::lock_guard<std::mutex> lock(spare_mu_);
    fd = std::move(spare_upstream_);
  }
  if (fd) {
    pollfd p{fd.get(), POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) != 0) fd.reset();
  }
  return fd;
}

void Proxy::accept_loop() {
  // This thread counts as ready to accept (start_acceptor() counted it)
  // until it takes a connection, and again when it comes back for more.
  auto leave_ready = [this] {
    std::lock_guard<std::mutex> lock(acceptors_mu_);
    --ready_acceptors_;
  };
  while (!stopping_.load()) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stopping_.load()) break;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        ::usleep(10000);  // transient: keep serving once descriptors free up
        continue;
      }
      mark_degraded(std::string("the proxy cannot accept connections: ") + std::strerror(errno));
      break;
    }
    leave_ready();
    // The connection is served on this thread, so that its first request is
    // read without waking another one. No thread takes over accepting yet:
    // serve() starts one if another connection waits (wait_serving()).
    if (!connections_.serve_here(fd, [this](int client) { serve(client); })) return;
    // Back to accepting, unless another thread does that now.
    std::lock_guard<std::mutex> lock(acceptors_mu_);
    if (ready_acceptors_ > 0) return;
    ++ready_acceptors_;
  }
  leave_ready();
}

void Proxy::emit(std::string json) const {
  if (config_.emit) config_.emit(std::move(json));
}

void Proxy::mark_degraded(const std::string& reason) {
  bool already;
  {
    // Under the page's lock, so that a publish() running beside us cannot
    // clear the page after we set it but before we look at the flag.
    std::lock_guard<std::mutex> lock(context_mu_);
    if (config_.channel != nullptr) {
      config_.channel->context_begin_write();
      config_.channel->context()->degraded = 1;
      config_.channel->context_end_write();
    }
    already = degraded_.exchange(true);
  }
  // One event per degraded episode: publish() ends the episode.
  if (!already) {
    emit(lifecycle_event("degraded", "protection degraded: " + reason, config_.function_name));
  }
}

namespace {

// Taint values: as many as fit; a value that does not fit is left out (the
// enforcer then cannot mark operations using it: stated in LAMBDA.md).
// Inside the page's write lock.
void write_taints(image::ContextPage* page, const std::vector<Taint>& taints) {
  size_t used = 0;
  uint32_t count = 0;
  for (const Taint& t : taints) {
    if (count >= image::kMaxTaints) break;
    size_t need = t.field.size() + 1 + t.value.size() + 1;
    if (t.value.empty() || t.field.size() > 0xffff || t.value.size() > 0xffff ||
        used + need > sizeof page->taint_data) {
      continue;
    }
    image::TaintValue& tv = page->taints[count++];
    tv.field_offset = static_cast<uint16_t>(used);
    tv.field_length = static_cast<uint16_t>(t.field.size());
    std::memcpy(page->taint_data + used, t.field.data(), t.field.size());
    used += t.field.size();
    page->taint_data[used++] = '\0';
    tv.value_offset = static_cast<uint16_t>(used);
    tv.value_length = static_cast<uint16_t>(t.value.size());
    std::memcpy(page->taint_data + used, t.value.data(), t.value.size());
    used += t.value.size();
    page->taint_data[used++] = '\0';
  }
  page->taint_count = count;
}

}  // namespace

void Proxy::publish(const Invocation& inv, const std::vector<Taint>& taints) {
  std::lock_guard<std::mutex> lock(context_mu_);
  // The proxy has seen (and inspected) this invocation: the page is current
  // again, whatever was relayed raw before. A later loss of track starts a
  // new degraded episode, with its own lifecycle event.
  degraded_.store(false);
  if (config_.channel == nullptr) return;
  supervisor::Channel* ch = config_.channel;
  image::ContextPage* page = ch->context();
  ch->context_begin_write();
  page->degraded = 0;
  page->invocation += 1;
  page->phase = image::Phase::kInvoke;
  page->deadline_ms = inv.deadline_ms;
  copy_field(page->request_id, sizeof page->request_id, inv.request_id);
  copy_field(page->function_arn, sizeof page->function_arn, inv.function_arn);
  copy_field(page->trace_id, sizeof page->trace_id, inv.trace_id);
  write_taints(page, taints);
  ch->context_end_write();
}

std::string Proxy::detection_event(const Invocation& inv, const Finding& finding,
                                   const InspectOutcome& outcome, bool blocked) const {
  std::unique_ptr<char[]> buf(new char[kEventBuffer]);  // not zero-filled
  events::JsonWriter w(buf.get(), kEventBuffer);
  w.begin_object();
  w.field_int("fnguard", 1);
  w.field("time", now_utc().c_str());
  w.field("kind", "detection");
  w.field("control", "inspect");
  w.field("action", blocked ? "blocked" : "allowed");
  w.field("mode", image::mode_name(config_.inspect_mode));
  std::string rule = finding.rule.empty() ? "inspect.detectors." + finding.detector : finding.rule;
  w.field("rule", rule.c_str());
  w.field("target", finding.evidence.data(), finding.evidence.size());
  w.begin_object("detail");
  w.field("detector", finding.detector.c_str());
  w.field("field", finding.field.data(), finding.field.size());
  w.field("evidence", finding.evidence.data(), finding.evidence.size());
  if (!finding.signature.empty()) w.field("signature", finding.signature.c_str());
  w.end_object();
  w.begin_object("function");
  if (!config_.function_name.empty()) w.field("name", config_.function_name.c_str());
  if (!config_.function_version.empty()) w.field("version", config_.function_version.c_str());
  if (!inv.function_arn.empty()) w.field("arn", inv.function_arn.c_str());
  if (!config_.region.empty()) w.field("region", config_.region.c_str());
  if (!inv.request_id.empty()) w.field("request_id", inv.request_id.c_str());
  w.field("phase", "invoke");
  w.end_object();
  for (const Taint& t : outcome.taints) {
    if (t.field == finding.field) {
      w.begin_object("taint");
      w.field("field", t.field.data(), t.field.size());
      w.field("value", t.value.data(), t.value.size());
      w.end_object();
      break;
    }
  }
  w.field("enforcement", "proxy");
  w.end_object();
  return std::string(w.data(), w.length());
}

Status Proxy::answer_blocked(const Invocation& inv, const InspectOutcome& outcome) {
  std::string path, body;
  std::string headers;
  if (outcome.http_shaped) {
    path = std::string(kInvocationPrefix) + inv.request_id + "/response";
    body = outcome.blocked_response ? outcome.blocked_response(inv.request_id)
                                    : default_blocked_response(inv.request_id);
  } else {
    path = std::string(kInvocationPrefix) + inv.request_id + "/error";
    body = "{\"errorMessage\":\"The invocation was blocked by fnguard: an attack was found in "
           "the event, or the event could not be inspected.\",\"errorType\":\"FnguardBlocked\"}";
    headers = "Lambda-Runtime-Function-Error-Type: FnguardBlocked\r\n";
  }
  auto fd = http::connect_tcp(config_.upstream);
  if (!fd.ok()) return fd.error();
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + config_.upstream +
                    "\r\nContent-Type: application/json\r\n" + headers +
                    "Content-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body;
  Status w = http::write_all(fd->get(), req);
  if (!w.ok()) return w;
  http::Reader reader(fd->get());
  auto head = reader.read_head(false, config_.limits, "POST", 30000);
  if (!head.ok()) return head.error();
  if (!head->has_value()) return make_error("the Runtime API closed without answering the block");
  if ((*head)->status != 202) {
    return make_error("the Runtime API refused the blocked response with status " +
                      std::to_string((*head)->status));
  }
  return Ok{};
}

void Proxy::relay_raw(int client_fd, http::Reader& client, int upstream_fd, http::Reader* upstream,
                      std::string_view pending_to_upstream, const std::string& why) {
  // Both directions, byte for byte, until either side closes. The page is
  // marked degraded before bytes that hand over an invocation the proxy
  // cannot see move on (each time: a published invocation may have ended an
  // earlier episode meanwhile).
  StreamWatch asks(kNextPathWatch);
  StreamWatch hands_over(kInvocationHeaderWatch);
  auto forward = [&](bool to_upstream, std::string_view data) -> bool {
    if (data.empty()) return true;
    if (to_upstream && asks.feed(data)) {
      mark_degraded("a connection relayed raw (" + why + ") asks for an invocation");
    }
    if (!to_upstream && hands_over.feed(data)) {
      mark_degraded("an invocation was handed over on a connection relayed raw (" + why + ")");
    }
    return http::write_all(to_upstream ? upstream_fd : client_fd, data).ok();
  };
  std::string to_up(pending_to_upstream);
  to_up += client.take_buffered();
  if (!forward(true, to_up)) return;
  if (upstream != nullptr && !forward(false, upstream->take_buffered())) return;
  char buf[64 * 1024];
  pollfd fds[2] = {{client_fd, POLLIN, 0}, {upstream_fd, POLLIN, 0}};
  while (!stopping_.load()) {
    int r = ::poll(fds, 2, 1000);
    if (r < 0 && errno != EINTR) return;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      if (!forward(i == 0, std::string_view(buf, static_cast<size_t>(n)))) return;
    }
  }
}

void Proxy::serve(int client_fd) {
  http::Reader client(client_fd);
  http::UniqueFd up;
  std::unique_ptr<http::Reader> upstream;
  const http::Limits& limits = config_.limits;

  // Upstream descriptors are registered like client ones, so that stop()
  // can wake a thread blocked in a long-poll.
  auto track = [&](int fd, bool add) {
    if (add) {
      connections_.track(fd);
    } else {
      connections_.untrack(fd);
    }
  };
  struct Untrack {
    std::function<void()> fn;
    ~Untrack() { fn(); }
  } untrack{[&] {
    if (up) track(up.get(), false);
  }};
  auto drop_upstream = [&] {
    if (up) track(up.get(), false);
    upstream.reset();
    up.reset();
  };
  auto ensure_upstream = [&]() -> Status {
    if (up) {
      // A kept-alive connection the endpoint closed while idle (or that
      // holds bytes nobody asked for) would lose the request written into
      // it: check it like the spare, with one poll that does not wait.
      pollfd p{up.get(), POLLIN | POLLRDHUP, 0};
      if (!upstream->has_buffered() && ::poll(&p, 1, 0) == 0) return Ok{};
      drop_upstream();
    }
    up = take_spare_upstream();
    if (!up) {
      auto fd = http::connect_tcp(config_.upstream);
      if (!fd.ok()) return fd.error();
      up = std::move(*fd);
    }
    track(up.get(), true);
    upstream = std::make_unique<http::Reader>(up.get());
    return Ok{};
  };

  while (!stopping_.load()) {
    // Waiting for the runtime's next request, which may take as long as the
    // handler runs: a connection that arrives meanwhile must not wait for it.
    if (!client.has_buffered() && acceptor_wanted()) {
      pollfd p{client_fd, POLLIN | POLLRDHUP, 0};
      if (wait_serving(&p, 1) < 0) return;
    }
    auto req = client.read_head(true, limits);
    if (!req.ok()) {
      // Reset, or closed in the middle of a head: nothing to relay and
      // nothing wrong with protection. Anything on the loopback can do that
      // to the proxy's port; it must not switch anything off.
      if (client.last_failure() != http::ReadFailure::kMalformed) return;
      // Bytes our strict parser refuses: do not break a runtime whose HTTP
      // we do not understand, relay them raw. That degrades protection only
      // once the relayed bytes ask for an invocation (relay_raw() watches);
      // until then no invocation passes unseen, so say what happened only.
      if (!ensure_upstream().ok()) return;
      const std::string why = "a request was not understood: " + req.error().message;
      std::string head_bytes = client.take_buffered();
      if (!StreamWatch(kNextPathWatch).feed(head_bytes)) {
        emit(lifecycle_event("relayed_raw",
                             "a malformed request arrived on the Runtime API proxy (" +
                                 req.error().message +
                                 ") and its connection is relayed raw; protection is not "
                                 "degraded unless that connection asks for an invocation",
                             config_.function_name));
      }
      relay_raw(client_fd, client, up.get(), upstream.get(), head_bytes, why);
      return;
    }
    if (!req->has_value()) return;  // runtime closed the connection
    const http::Head& rq = **req;
    Status st = ensure_upstream();
    if (!st.ok()) {
      // Same answer the runtime would get from an unreachable endpoint.
      (void)http::write_all(client_fd, http::make_response(502, "Connection: close\r\n",
                                                           st.error().message));
      return;
    }
    std::string_view path = target_path(rq.target);
    bool is_next = rq.method == "GET" && path == kNextPath;
    bool expect_continue = false;
    if (const std::string* e = rq.find("Expect")) expect_continue = http::iequals(*e, "100-continue");

    // The head goes out now only when the body must wait for 100 Continue;
    // otherwise it leaves together with the body's first bytes.
    bool head_sent = false;
    if (expect_continue) {
      if (!http::write_all(up.get(), rq.raw).ok()) return;
      head_sent = true;
    }

    // Interim responses (100 Continue) are forwarded before the body.
    http::Head resp;
    bool have_final = false;
    bool upstream_gone = false;  // closed or reset before any byte of an answer
    bool retried = false;
    bool interim_sent = false;
    auto read_response = [&]() -> Result<bool> {
      for (;;) {
        auto h = upstream->read_head(false, limits, rq.method);
        if (!h.ok()) {
          upstream_gone = upstream->last_failure() == http::ReadFailure::kConnection &&
                          !upstream->has_buffered();
          return h.error();
        }
        if (!h->has_value()) {
          upstream_gone = true;
          return make_error("the Runtime API closed the connection");
        }
        resp = std::move(**h);
        if (resp.status >= 100 && resp.status < 200 && resp.status != 101) {
          Status w = http::write_all(client_fd, resp.raw);
          if (!w.ok()) return w.error();
          interim_sent = true;
          if (resp.status == 100) return false;
          continue;
        }
        return true;
      }
    };
    // The next answer, or nullopt once an answer the parser refuses has
    // degraded the connection to a raw relay (the caller then returns).
    auto next_answer = [&]() -> std::optional<bool> {
      auto r = read_response();
      if (r.ok()) return *r;
      if (upstream_gone) {
        // The endpoint closed or reset the connection without answering:
        // nothing passed unseen, so protection is not degraded. A /next (a
        // GET: nothing was acted on) is asked again once on a new
        // connection; anything else (a POST may have been acted on) gets
        // the 502 an unreachable endpoint would give.
        upstream_gone = false;
        if (is_next && !expect_continue && !interim_sent && !retried) {
          retried = true;
          drop_upstream();
          // Not final yet: the long-poll loop waits for the answer again
          // (and still gives up if the runtime hangs up meanwhile).
          if (ensure_upstream().ok() && http::write_all(up.get(), rq.raw).ok()) return false;
        }
        (void)http::write_all(client_fd, http::make_response(502, "Connection: close\r\n",
                                                             "the Runtime API closed the "
                                                             "connection without answering"));
        return std::nullopt;
      }
      const std::string why = "the Runtime API answer was not understood: " + r.error().message;
      mark_degraded("the Runtime API answer was not understood (" + r.error().message + ")");
      relay_raw(client_fd, client, up.get(), upstream.get(), {}, why);
      return std::nullopt;
    };
    if (expect_continue) {
      // RFC 9110 lets the client send the body without waiting for 100
      // Continue (curl waits 1 s), and lets the endpoint wait for the body
      // without sending 100 (our runtime_api_server.cc does). Waiting for
      // the endpoint alone would then hang both: whichever side moves first
      // decides. The endpoint first (or both at once): its answer, as usual.
      bool body_first = false;
      if (rq.framing != http::Framing::kNone && !upstream->has_buffered()) {
        body_first = client.has_buffered();
        if (!body_first) {
          pollfd fds[2] = {{up.get(), POLLIN, 0}, {client_fd, POLLIN, 0}};
          if (wait_serving(fds, 2) < 0) return;
          body_first = fds[0].revents == 0;
        }
      }
      if (!body_first) {
        auto r = next_answer();
        if (!r) return;
        have_final = *r;
      }
    }
    // A final answer before 100 Continue: the body was never asked for, and
    // the client may still send it; this connection cannot be reused.
    bool answered_before_body = expect_continue && have_final && rq.framing != http::Framing::kNone;
    if (!have_final) {
      Status body = client.pump_body(rq, limits, up.get(), nullptr, -1,
                                     head_sent ? std::string_view() : std::string_view(rq.raw));
      if (!body.ok()) return;  // runtime went away mid-request: nothing to answer
    }

    if (is_next) {
      // Long-poll: no timeout. Loops when an invocation is blocked here.
      for (;;) {
        if (!have_final && !upstream->has_buffered()) {
          // Wait for the endpoint, but give up the long-poll when the runtime
          // hangs up: an event handed to a dead connection would be lost.
          for (;;) {
            pollfd fds[2] = {{up.get(), POLLIN, 0}, {client_fd, POLLRDHUP, 0}};
            if (wait_serving(fds, 2) < 0) break;
            if ((fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return;
            if (fds[0].revents != 0) break;
          }
        }
        if (!have_final) {
          auto r = next_answer();
          if (!r) return;
          have_final = *r;
          if (!have_final) continue;
        }
        // With Content-Length framing (what the Runtime API sends) the raw
        // body is the event: one copy, not two.
        std::string raw_body, event;
        bool chunked = resp.framing == http::Framing::kChunked;
        Status b = upstream->read_body(resp, limits, chunked ? &raw_body : nullptr, &event);
        const std::string& body_out = chunked ? raw_body : event;
        if (!b.ok()) {
          if (resp.framing == http::Framing::kLength || resp.framing == http::Framing::kChunked) {
            // Truncated or over the limit: pass on what we have and stop.
            (void)http::write_all(client_fd, resp.raw + body_out + upstream->take_buffered());
          }
          return;
        }
        bool block = false;
        Invocation inv;
        InspectOutcome outcome;
        if (resp.status == 200) {
          if (const std::string* v = resp.find("Lambda-Runtime-Aws-Request-Id")) inv.request_id = *v;
          if (const std::string* v = resp.find("Lambda-Runtime-Invoked-Function-Arn")) inv.function_arn = *v;
          if (const std::string* v = resp.find("Lambda-Runtime-Trace-Id")) inv.trace_id = *v;
          if (const std::string* v = resp.find("Lambda-Runtime-Deadline-Ms")) {
            inv.deadline_ms = std::strtoull(v->c_str(), nullptr, 10);
          }
          invocations_.fetch_add(1);
          if (config_.inspect && (config_.inspect_mode != image::Mode::kOff || config_.taint_only)) {
            outcome = config_.inspect(event);
            if (config_.inspect_mode == image::Mode::kOff) outcome.findings.clear();
          }
          publish(inv, outcome.taints);
          bool want_block = config_.inspect_mode == image::Mode::kBlock && !outcome.findings.empty();
          if (want_block && !safe_request_id(inv.request_id)) {
            emit(lifecycle_event("degraded",
                                 "cannot block an invocation whose request id is not a plain "
                                 "token; passing it to the runtime",
                                 config_.function_name));
            want_block = false;
          }
          if (want_block) {
            Status a = answer_blocked(inv, outcome);
            if (!a.ok()) {
              emit(lifecycle_event("degraded", "blocking failed (" + a.error().message +
                                                   "); passing the invocation to the runtime",
                                   config_.function_name));
              want_block = false;
            }
          }
          for (const Finding& f : outcome.findings) emit(detection_event(inv, f, outcome, want_block));
          block = want_block;
          if (block) blocked_.fetch_add(1);
        }
        if (!block) {
          // Head and body in one system call.
          Status w = http::write_all(client_fd, resp.raw, body_out);
          if (!w.ok()) return;
          break;
        }
        // Blocked: fetch the next invocation for the runtime on its behalf.
        if (!resp.keep_alive) drop_upstream();
        if (!ensure_upstream().ok()) return;
        if (!http::write_all(up.get(), rq.raw).ok()) return;
        have_final = false;
      }
    } else {
      if (!have_final) {
        auto r = next_answer();
        if (!r) return;
        have_final = *r;
        if (!have_final) {
          // 100 Continue although the body was already sent: wait for the final answer.
          auto r2 = read_response();
          if (!r2.ok() || !*r2) return;
        }
      }
      Status body = upstream->pump_body(resp, limits, client_fd, nullptr, -1, resp.raw);
      if (!body.ok()) return;
    }
    if (!rq.keep_alive || !resp.keep_alive || answered_before_body) return;
  }
}

}  // namespace fnguard::lambda
