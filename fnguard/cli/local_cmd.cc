// `fnguard local invoke|serve`: run a Lambda handler on this machine the way
// Lambda runs it, under the same protection. A local Runtime API server
// (fnguard/lambda/runtime_api_server.h) plays AWS; the runtime is started
// through `fnguard wrapper` exactly as AWS_LAMBDA_EXEC_WRAPPER does in
// Lambda (wrapper -> Runtime API proxy -> runtime under protection); the
// runtime is a real client: fnguard's Python bootstrap (the one the layer
// ships) or the npm package aws-lambda-ric for Node.
//
//   invoke: one event (--event FILE, - for stdin, else {}), the handler's
//           response on stdout, events on stderr or --events.
//   serve:  an HTTP server that turns each request into an API Gateway v2
//           (HTTP API) event and the handler's response back into HTTP, so
//           `curl 'localhost:9000/?file=/etc/passwd'` reproduces an attack.
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fnguard/cli/commands.h"
#include "fnguard/common/self_path.h"
#include "fnguard/events/sink.h"
#include "fnguard/lambda/http_io.h"
#include "fnguard/lambda/runtime_api_server.h"
#include "fnguard/policy/policy.h"

extern char** environ;

namespace fnguard::cli {
namespace {

namespace lb = fnguard::lambda;

constexpr const char* kLocalUsage =
    "usage: fnguard local invoke --dir DIR --handler MODULE.FUNC --runtime nodejs|python\n"
    "                            [--event FILE|-] [--policy FILE] [--mode off|monitor|block]\n"
    "                            [--events FILE|-] [--timeout SECONDS]\n"
    "       fnguard local serve  --dir DIR --handler MODULE.FUNC --runtime nodejs|python\n"
    "                            [--port 9000] [--policy FILE] [--mode M] [--events FILE|-]\n";

constexpr const char* kRicVersion = "aws-lambda-ric@4.0.2";

int fail(int status, const std::string& line) {
  std::fprintf(stderr, "fnguard: local: %s\n", line.c_str());
  return status;
}

struct LocalArgs {
  std::string sub;
  std::string dir, handler, runtime;
  std::optional<std::string> event, policy, mode, events;
  int port = 9000;
  int timeout_s = 30;
};

Result<LocalArgs> parse_args(int argc, char** argv) {
  LocalArgs a;
  if (argc < 2) return make_error("missing subcommand", "use 'invoke' or 'serve'");
  a.sub = argv[1];
  if (a.sub != "invoke" && a.sub != "serve") {
    return make_error("unknown subcommand '" + a.sub + "'", "use 'invoke' or 'serve'");
  }
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return make_error(flag + " needs a value");
      return std::string(argv[++i]);
    };
    Result<std::string> v = std::string();
    if (flag == "--dir" || flag == "--handler" || flag == "--runtime" || flag == "--event" ||
        flag == "--policy" || flag == "--mode" || flag == "--events" || flag == "--port" ||
        flag == "--timeout") {
      v = value();
      if (!v.ok()) return v.error();
    } else if (flag == "-h" || flag == "--help") {
      return make_error("help");
    } else {
      return make_error("unknown option '" + flag + "'", "see 'fnguard local --help'");
    }
    if (flag == "--dir") a.dir = *v;
    if (flag == "--handler") a.handler = *v;
    if (flag == "--runtime") a.runtime = *v;
    if (flag == "--event") a.event = *v;
    if (flag == "--policy") a.policy = *v;
    if (flag == "--mode") a.mode = *v;
    if (flag == "--events") a.events = *v;
    if (flag == "--port" || flag == "--timeout") {
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (*end != '\0' || n <= 0 || n > 65535) return make_error(flag + " must be a positive number");
      (flag == "--port" ? a.port : a.timeout_s) = static_cast<int>(n);
    }
  }
  if (a.dir.empty()) return make_error("--dir is required", "the folder with the handler's code");
  if (a.handler.empty() || a.handler.find('.') == std::string::npos) {
    return make_error("--handler MODULE.FUNC is required", "for example index.handler");
  }
  if (a.runtime != "python" && a.runtime != "nodejs") {
    return make_error("--runtime must be python or nodejs");
  }
  if (a.mode && !policy::parse_mode(*a.mode)) {
    return make_error("--mode must be off, monitor or block, not '" + *a.mode + "'");
  }
  return a;
}

std::string absolute(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

bool readable(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

std::string cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && x[0] == '/') {
    return std::string(x) + "/fnguard";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/tmp") + "/.cache/fnguard";
}

// The Node runtime client: FNGUARD_NODE_RIC (its index.mjs), else the cache,
// installed there with npm on first use.
Result<std::string> node_ric() {
  if (const char* p = std::getenv("FNGUARD_NODE_RIC"); p != nullptr && p[0] != '\0') {
    if (readable(p)) return std::string(p);
    return make_error(std::string("FNGUARD_NODE_RIC names ") + p + ", which is not readable");
  }
  std::string dir = cache_dir() + "/ric";
  std::string entry = dir + "/node_modules/aws-lambda-ric/index.mjs";
  if (readable(entry)) return entry;
  std::fprintf(stderr, "fnguard: local: installing %s into %s (once)\n", kRicVersion, dir.c_str());
  std::string cmd = "mkdir -p '" + dir + "' && cd '" + dir +
                    "' && npm install --no-audit --no-fund --loglevel=error " + kRicVersion +
                    " >&2";
  if (std::system(cmd.c_str()) != 0 || !readable(entry)) {
    return make_error(std::string("cannot install ") + kRicVersion + " with npm",
                      "check that npm can reach its registry, or set FNGUARD_NODE_RIC");
  }
  return entry;
}

Result<std::string> python_bootstrap() {
  for (const std::string& p : {data_dir() + "/python/bootstrap.py",
                               install_prefix() + "/python/bootstrap.py"}) {
    if (readable(p)) return p;
  }
  return make_error("the Python bootstrap is missing from " + data_dir() + "/python",
                    "rebuild or reinstall fnguard");
}

// The Python interpreter: FNGUARD_PYTHON, else the first python3 on PATH that
// is a binary. Version-manager shims (pyenv) are shell scripts that run a
// dozen helper programs at start-up; under a policy that denies shells they
// would be reported (or blocked) as if the function ran them.
std::string python_interpreter() {
  if (const char* p = std::getenv("FNGUARD_PYTHON"); p != nullptr && p[0] != '\0') return p;
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = dir + "/python3";
    if (access(candidate.c_str(), X_OK) != 0) continue;
    char magic[2] = {};
    std::ifstream in(candidate, std::ios::binary);
    if (in.read(magic, 2) && magic[0] == '#' && magic[1] == '!') continue;
    return candidate;
  }
  return "python3";
}

Result<std::vector<std::string>> runtime_command(const LocalArgs& a) {
  if (a.runtime == "python") {
    auto boot = python_bootstrap();
    if (!boot.ok()) return boot.error();
    return std::vector<std::string>{python_interpreter(), *boot};
  }
  auto ric = node_ric();
  if (!ric.ok()) return ric.error();
  return std::vector<std::string>{"node", *ric, a.handler};
}

// The wrapper and the runtime under it, as Lambda starts them.
class Runtime {
 public:
  ~Runtime() { stop(); }

  Status start(const LocalArgs& a, const lb::RuntimeApiServer& server) {
    auto cmd = runtime_command(a);
    if (!cmd.ok()) return cmd.error();
    std::vector<std::string> env = server.runtime_environment();
    for (const char* keep : {"PATH", "HOME", "LANG", "TMPDIR", "FNGUARD_KERNEL", "FNGUARD_DISABLE",
                             "FNGUARD_FAIL_CLOSED", "NODE_PATH", "PYTHONPATH"}) {
      if (const char* v = std::getenv(keep)) env.push_back(std::string(keep) + "=" + v);
    }
    if (a.policy) env.push_back("FNGUARD_POLICY=" + absolute(*a.policy));
    if (a.mode) env.push_back("FNGUARD_MODE=" + *a.mode);
    bool events_to_stdout = a.events && *a.events == "-";
    if (events_to_stdout) {
      env.push_back("FNGUARD_EVENTS=/dev/fd/3");
    } else if (a.events) {
      env.push_back("FNGUARD_EVENTS=" + absolute(*a.events));
    }
    std::vector<std::string> argv = {"fnguard", "wrapper", "--"};
    argv.insert(argv.end(), cmd->begin(), cmd->end());
    std::vector<char*> cargv, cenv;
    for (auto& s : argv) cargv.push_back(s.data());
    cargv.push_back(nullptr);
    for (auto& s : env) cenv.push_back(s.data());
    cenv.push_back(nullptr);
    std::string self = install_prefix() + "/bin/fnguard";
    std::string task_root = absolute(a.dir);
    pid_ = fork();
    if (pid_ < 0) return make_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid_ == 0) {
      // The function's output (print, console.log) goes to stderr, so stdout
      // carries only the response (and events with --events -).
      if (events_to_stdout) dup2(1, 3);
      dup2(2, 1);
      if (chdir(task_root.c_str()) != 0) _exit(125);
      execve(self.c_str(), cargv.data(), cenv.data());
      _exit(127);
    }
    return Ok{};
  }

  bool alive() {
    if (pid_ <= 0) return false;
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    return true;
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100 && alive(); ++i) usleep(20000);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

Result<std::string> read_event(const std::optional<std::string>& source) {
  std::string text;
  if (!source) {
    text = "{}";
  } else if (*source == "-") {
    // read(2), not std::cin: <iostream> would make every fnguard start,
    // the Lambda wrapper's included, construct the iostream locales.
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error("cannot read the event from standard input");
      text.append(buf, static_cast<size_t>(n));
    }
  } else {
    std::ifstream in(*source, std::ios::binary);
    if (!in) return make_error("cannot read the event file " + *source);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError()) {
    return make_error("the event is not valid JSON",
                      "Lambda events are JSON documents; check " + source.value_or("the event"));
  }
  return text;
}

lb::FunctionSettings settings_for(const LocalArgs& a) {
  lb::FunctionSettings s;
  std::string base = absolute(a.dir);
  s.name = base.substr(base.rfind('/') + 1);
  if (s.name.empty()) s.name = "fnguard-local";
  s.task_root = base;
  s.handler = a.handler;
  s.timeout_s = a.timeout_s;
  return s;
}

Status check_dir(const LocalArgs& a) {
  struct stat st;
  if (stat(a.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error("--dir " + a.dir + " is not a directory");
  }
  return Ok{};
}

int report_failure(const lb::InvocationResult& r, int exit_status) {
  using Kind = lb::InvocationResult::Kind;
  switch (r.kind) {
    case Kind::kResponse:
      return 0;
    case Kind::kError:
      std::fprintf(stderr, "fnguard: local: the handler failed (%s)\n",
                   r.error_type.empty() ? "error" : r.error_type.c_str());
      return 1;
    case Kind::kInitError:
      std::fprintf(stderr, "fnguard: local: the runtime failed to initialise the handler\n");
      return 1;
    case Kind::kTimeout:
      std::fprintf(stderr, "fnguard: local: the handler did not answer in time (--timeout)\n");
      return 1;
    case Kind::kStopped:
      std::fprintf(stderr, "fnguard: local: the runtime exited (status %d) before answering\n",
                   exit_status);
      return 1;
  }
  return 1;
}

int local_invoke(const LocalArgs& a) {
  Result<std::string> event = read_event(a.event);
  if (!event.ok()) return fail(kExitUsage, event.error().to_string());
  auto server = lb::RuntimeApiServer::start(settings_for(a));
  if (!server.ok()) return fail(kExitInternal, server.error().to_string());
  Runtime runtime;
  Status st = runtime.start(a, **server);
  if (!st.ok()) return fail(kExitInternal, st.error().to_string());
  lb::InvocationResult r = (*server)->invoke(*event, [&] { return runtime.alive(); });
  std::fwrite(r.body.data(), 1, r.body.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  runtime.stop();
  (*server)->stop();
  return report_failure(r, runtime.exit_status());
}

// ---- local serve: HTTP <-> API Gateway v2 ----

std::string base64_encode(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string base64_decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else continue;  // padding and whitespace
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool textual(const std::string* content_type) {
  if (content_type == nullptr) return true;
  std::string ct = *content_type;
  for (char& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ct.rfind("text/", 0) == 0 || ct.find("json") != std::string::npos ||
         ct.find("xml") != std::string::npos || ct.find("x-www-form-urlencoded") != std::string::npos ||
         ct.find("javascript") != std::string::npos;
}

// The API Gateway HTTP API (payload format 2.0) event for one request.
std::string api_gateway_v2_event(const lb::http::Head& rq, const std::string& body) {
  using rapidjson::StringRef;
  using rapidjson::Value;
  rapidjson::Document d;
  d.SetObject();
  auto& al = d.GetAllocator();
  auto str = [&](std::string_view s) { return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), al); };
  std::string_view target = rq.target;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  d.AddMember("version", "2.0", al);
  d.AddMember("routeKey", "$default", al);
  d.AddMember("rawPath", str(path), al);
  d.AddMember("rawQueryString", str(query), al);

  Value headers(rapidjson::kObjectType);
  Value cookies(rapidjson::kArrayType);
  std::vector<std::pair<std::string, std::string>> merged;
  for (const auto& h : rq.headers) {
    std::string name = h.name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "cookie") {
      std::string_view v = h.value;
      while (!v.empty()) {
        size_t semi = v.find(';');
        std::string_view c = v.substr(0, semi);
        while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
        if (!c.empty()) cookies.PushBack(str(c), al);
        if (semi == std::string_view::npos) break;
        v.remove_prefix(semi + 1);
      }
      continue;
    }
    bool found = false;
    for (auto& m : merged) {
      if (m.first == name) {
        m.second += "," + h.value;
        found = true;
      }
    }
    if (!found) merged.emplace_back(name, h.value);
  }
  for (auto& m : merged) headers.AddMember(str(m.first), str(m.second), al);
  if (!cookies.Empty()) d.AddMember("cookies", cookies, al);
  d.AddMember("headers", headers, al);

  if (!query.empty()) {
    std::vector<std::pair<std::string, std::string>> params;
    std::string_view rest = query;
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view kv = rest.substr(0, amp);
      size_t eq = kv.find('=');
      std::string k = percent_decode(kv.substr(0, eq));
      std::string v = eq == std::string_view::npos ? "" : percent_decode(kv.substr(eq + 1));
      bool found = false;
      for (auto& p : params) {
        if (p.first == k) {
          p.second += "," + v;
          found = true;
        }
      }
      if (!found && !k.empty()) params.emplace_back(k, v);
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    Value qs(rapidjson::kObjectType);
    for (auto& p : params) qs.AddMember(str(p.first), str(p.second), al);
    d.AddMember("queryStringParameters", qs, al);
  }

  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  Value http(rapidjson::kObjectType);
  http.AddMember("method", str(rq.method), al);
  http.AddMember("path", str(path), al);
  http.AddMember("protocol", "HTTP/1.1", al);
  http.AddMember("sourceIp", "127.0.0.1", al);
  const std::string* ua = rq.find("User-Agent");
  http.AddMember("userAgent", str(ua != nullptr ? *ua : ""), al);
  Value ctx(rapidjson::kObjectType);
  ctx.AddMember("accountId", "123456789012", al);
  ctx.AddMember("apiId", "local", al);
  ctx.AddMember("domainName", "localhost", al);
  ctx.AddMember("domainPrefix", "localhost", al);
  ctx.AddMember("http", http, al);
  ctx.AddMember("requestId", str(lb::random_uuid()), al);
  ctx.AddMember("routeKey", "$default", al);
  ctx.AddMember("stage", "$default", al);
  ctx.AddMember("timeEpoch", static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000, al);
  d.AddMember("requestContext", ctx, al);
  if (!body.empty()) {
    bool text = textual(rq.find("Content-Type"));
    d.AddMember("body", str(text ? body : base64_encode(body)), al);
    d.AddMember("isBase64Encoded", !text, al);
  } else {
    d.AddMember("isBase64Encoded", false, al);
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  d.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// The handler's result as API Gateway v2 turns it into HTTP.
std::string http_from_result(const lb::InvocationResult& r) {
  if (r.kind != lb::InvocationResult::Kind::kResponse) {
    return lb::http::make_response(502, "Content-Type: application/json\r\n",
                                   "{\"message\":\"Internal Server Error\"}");
  }
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("statusCode")) {
    // Not a response object: API Gateway sends the result itself as JSON.
    return lb::http::make_response(200, "Content-Type: application/json\r\n", r.body);
  }
  int status = d["statusCode"].IsInt() ? d["statusCode"].GetInt() : 500;
  if (status < 100 || status > 599) status = 500;
  std::string headers;
  bool has_type = false;
  if (d.HasMember("headers") && d["headers"].IsObject()) {
    for (auto& m : d["headers"].GetObject()) {
      std::string name = m.name.GetString();
      std::string value = m.value.IsString() ? m.value.GetString() : "";
      if (name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        continue;  // never let a handler split the response
      }
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection") continue;
      if (lower == "content-type") has_type = true;
      headers += name + ": " + value + "\r\n";
    }
  }
  if (d.HasMember("cookies") && d["cookies"].IsArray()) {
    for (auto& c : d["cookies"].GetArray()) {
      if (c.IsString() && std::strpbrk(c.GetString(), "\r\n") == nullptr) {
        headers += std::string("Set-Cookie: ") + c.GetString() + "\r\n";
      }
    }
  }
  if (!has_type) headers += "Content-Type: application/json\r\n";
  std::string body;
  if (d.HasMember("body") && d["body"].IsString()) {
    body.assign(d["body"].GetString(), d["body"].GetStringLength());
    if (d.HasMember("isBase64Encoded") && d["isBase64Encoded"].IsBool() &&
        d["isBase64Encoded"].GetBool()) {
      body = base64_decode(body);
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    lb::http::reason_phrase(status) + "\r\n" + headers + "Connection: close\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

// Set by SIGINT/SIGTERM, read by the accept loop and by the request
// threads: an atomic (lock-free, so async-signal-safe), not a volatile
// sig_atomic_t, which is only for the thread the handler interrupts.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);
void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

int local_serve(const LocalArgs& a) {
  auto server = lb::RuntimeApiServer::start(settings_for(a));
  if (!server.ok()) return fail(kExitInternal, server.error().to_string());
  uint16_t bound = 0;
  auto listen = lb::http::listen_loopback(static_cast<uint16_t>(a.port), &bound);
  if (!listen.ok()) return fail(kExitInternal, listen.error().to_string());
  Runtime runtime;
  Status st = runtime.start(a, **server);
  if (!st.ok()) return fail(kExitInternal, st.error().to_string());
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::fprintf(stderr, "fnguard: local: serving %s (%s) on http://127.0.0.1:%u/ (Ctrl-C stops)\n",
               a.handler.c_str(), a.runtime.c_str(), bound);
  std::mutex one_at_a_time;  // one runtime handles one invocation at a time, as in Lambda
  std::atomic<int> in_flight{0};  // request threads still running (they use the server)
  while (!g_stop.load(std::memory_order_relaxed)) {
    pollfd p{listen->get(), POLLIN, 0};
    int r = poll(&p, 1, 200);
    if (r <= 0) {
      if (!runtime.alive()) return fail(kExitInternal, "the runtime exited; see the messages above");
      continue;
    }
    int c = accept4(listen->get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ++in_flight;
    std::thread([&, c] {
      struct Done {
        std::atomic<int>& n;
        ~Done() { --n; }
      } done{in_flight};
      lb::http::UniqueFd conn(c);
      lb::http::Reader reader(c);
      lb::http::Limits limits;
      limits.max_body_bytes = 6 * 1024 * 1024;  // Lambda's synchronous payload limit
      auto head = reader.read_head(true, limits, {}, 30000);
      if (!head.ok() || !head->has_value()) {
        (void)lb::http::write_all(c, lb::http::make_response(400, "Connection: close\r\n", ""));
        return;
      }
      std::string body;
      if (!reader.read_body(**head, limits, nullptr, &body, 30000).ok()) {
        (void)lb::http::write_all(c, lb::http::make_response(413, "Connection: close\r\n", ""));
        return;
      }
      std::string event = api_gateway_v2_event(**head, body);
      lb::InvocationResult result;
      {
        std::lock_guard<std::mutex> lock(one_at_a_time);
        result = (*server)->invoke(event, [&] { return !g_stop.load(std::memory_order_relaxed); });
      }
      (void)lb::http::write_all(c, http_from_result(result));
    }).detach();
  }
  (*server)->stop();  // pending invocations end now (kStopped)
  for (int i = 0; i < 200 && in_flight.load() > 0; ++i) usleep(10000);
  runtime.stop();
  if (in_flight.load() > 0) std::_Exit(0);  // a request thread is stuck on its client: do not free under it
  return 0;
}

}  // namespace

int cmd_local(int argc, char** argv) {
  Result<LocalArgs> args = parse_args(argc, argv);
  if (!args.ok()) {
    if (args.error().message == "help") {
      std::fputs(kLocalUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "fnguard: local: %s\n%s", args.error().to_string().c_str(), kLocalUsage);
    return kExitUsage;
  }
  Status dir = check_dir(*args);
  if (!dir.ok()) return fail(kExitUsage, dir.error().to_string());
  return args->sub == "invoke" ? local_invoke(*args) : local_serve(*args);
}

}  // namespace fnguard::cli
