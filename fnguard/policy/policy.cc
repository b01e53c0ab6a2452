// The policy API: the three stages strung together (read -> collect ->
// compile), the compile options taken from the environment, and the built-in
// default policy.
#include "fnguard/policy/policy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "fnguard/image/builder.h"
#include "fnguard/policy/collect.h"
#include "fnguard/policy/compile.h"
#include "fnguard/policy/yaml_tree.h"

namespace fnguard::policy {
namespace {

// The built-in default, used when there is no policy at all. It watches and
// blocks nothing in its own mode (monitor), so adding fnguard never breaks a
// function: every control allows by default, and the few deny rules only
// produce events. Kept free of variables so that it compiles everywhere.
constexpr const char* kDefaultPolicy = R"(version: 1
mode: monitor
files:
  read:
    default: allow
    rules:
      - deny: /etc/shadow
      - deny: /etc/gshadow
      - deny: /proc/**/environ
  write:
    default: allow
network:
  outbound:
    default: allow
  inbound: allow
process:
  exec:
    default: allow
    rules:
      - deny: {name: [xmrig, nc, ncat, netcat, socat, nmap]}
  exec_from_writable: monitor
require:
  preload: true
  kernel: false
)";

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  if (v != nullptr && v[0] != '\0') return v;
  return fallback != nullptr ? fallback : "";
}

}  // namespace

// "nameserver ADDR" lines. read(2) and a hand-made split rather than
// iostreams: this runs at every start of the Lambda wrapper, and the first
// stream would construct the C++ locales (tens of microseconds, cold).
std::vector<std::string> read_nameservers(const char* path) {
  std::vector<std::string> out;
  std::string text;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || text.size() > (1u << 20)) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    size_t i = 0;
    while (i < line.size() && blank(line[i])) ++i;
    size_t key_end = i;
    while (key_end < line.size() && !blank(line[key_end])) ++key_end;
    if (line.substr(i, key_end - i) != "nameserver") continue;
    size_t v = key_end;
    while (v < line.size() && blank(line[v])) ++v;
    size_t v_end = v;
    while (v_end < line.size() && !blank(line[v_end])) ++v_end;
    if (v_end > v) out.emplace_back(line.substr(v, v_end - v));
  }
  return out;
}

CompileOptions compile_options_from_environment() {
  CompileOptions o;
  o.task_root = env_or("LAMBDA_TASK_ROOT", nullptr);
  if (o.task_root.empty()) {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) != nullptr) o.task_root = cwd;
  }
  o.runtime_dir = env_or("LAMBDA_RUNTIME_DIR", nullptr);
  o.tmp = env_or("TMPDIR", "/tmp");
  o.home = env_or("HOME", nullptr);
  o.runtime_api = env_or("AWS_LAMBDA_RUNTIME_API", nullptr);
  o.nameservers = read_nameservers("/etc/resolv.conf");
  // mode_override stays unset: --mode and FNGUARD_MODE belong to the caller,
  // which must refuse a bad value rather than ignore it.
  return o;
}

namespace {

// Stages 2 and 3 over a tree read without errors.
CheckResult check_policy_tree(const Node& root, std::string_view source_name,
                              const CompileOptions& options) {
  CheckResult result;
  CollectResult collected = collect_policy(root, options);
  if (!collected.errors.empty()) {
    // Source order, whatever order the checks ran in.
    std::stable_sort(collected.errors.begin(), collected.errors.end(),
                     [](const Error& a, const Error& b) {
                       return a.where.line != b.where.line ? a.where.line < b.where.line
                                                           : a.where.column < b.where.column;
                     });
    result.errors = std::move(collected.errors);
    return result;
  }
  LoadedPolicy policy = compile_policy(collected.model, source_name, options);
  policy.warnings.insert(policy.warnings.begin(), collected.warnings.begin(),
                         collected.warnings.end());
  result.policy = std::move(policy);
  return result;
}

// The file at `path`, read until its end or until more than `limit` bytes
// are in (the caller refuses such a file). On failure, the error's message
// and hint.
bool read_whole_file(const std::string& path, size_t limit, std::string* text, std::string* message,
                     std::string* hint) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    *message = std::string("cannot open the policy file: ") + std::strerror(err);
    *hint = err == ENOENT ? "check the path" : "check the file's permissions";
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    *message = "the policy path is not a regular file";
    *hint = "name a .yaml or .json file";
    return false;
  }
  char buf[65536];
  while (text->size() <= limit) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      *message = std::string("cannot read the policy file: ") + std::strerror(err);
      *hint = "check the file";
      return false;
    }
    if (n == 0) break;
    text->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

}  // namespace

CheckResult check_policy_text(std::string_view text, std::string_view source_name,
                              const CompileOptions& options) {
  ReadResult tree = read_yaml_tree(text, source_name);
  if (!tree.errors.empty()) {
    CheckResult result;
    result.errors = std::move(tree.errors);
    return result;
  }
  return check_policy_tree(tree.root, source_name, options);
}

CheckResult check_policy_file(const std::string& path, const CompileOptions& options) {
  CheckResult result;
  std::string text, message, hint;
  if (!read_whole_file(path, kMaxPolicyBytes, &text, &message, &hint)) {
    result.errors.push_back(make_error(std::move(message), std::move(hint), Location{path, 0, 0}));
    return result;
  }
  if (text.size() > kMaxPolicyBytes) {
    result.errors.push_back(make_error("the policy file is larger than 1 MiB",
                                       "a policy this large is a mistake", Location{path, 0, 0}));
    return result;
  }
  return check_policy_text(text, path, options);
}

namespace {

Result<LoadedPolicy> first_error(CheckResult&& checked) {
  if (checked.policy) return std::move(*checked.policy);
  Error e = checked.errors.front();
  if (checked.errors.size() > 1) {
    e.message += " (and " + std::to_string(checked.errors.size() - 1) + " more problem" +
                 (checked.errors.size() > 2 ? "s" : "") +
                 "; 'fnguard policy check' lists them all)";
  }
  return e;
}

}  // namespace

Result<LoadedPolicy> load_policy_text(std::string_view text, std::string_view source_name,
                                      const CompileOptions& options) {
  return first_error(check_policy_text(text, source_name, options));
}

Result<LoadedPolicy> load_policy_setting(std::string_view setting, const CompileOptions& options) {
  size_t first = setting.find_first_not_of(" \t\r\n");
  bool inline_text = setting.find('\n') != std::string_view::npos ||
                     (first != std::string_view::npos && setting[first] == '{');
  if (inline_text) return load_policy_text(setting, "<FNGUARD_POLICY>", options);
  return load_policy_file(std::string(setting), options);
}

Result<LoadedPolicy> load_policy_file(const std::string& path, const CompileOptions& options) {
  return first_error(check_policy_file(path, options));
}

Result<LoadedPolicy> load_policy_file_prepared(const std::string& path,
                                               const std::string& tree_path,
                                               const CompileOptions& options) {
  std::string text, tree_file, message, hint;
  if (!read_whole_file(path, kMaxPolicyBytes, &text, &message, &hint) ||
      text.size() > kMaxPolicyBytes) {
    return load_policy_file(path, options);  // says what is wrong with it
  }
  // A tree file is a little larger than its text; 8 times is far more.
  constexpr size_t kMaxTreeBytes = 8 * kMaxPolicyBytes;
  std::optional<Node> root;
  if (read_whole_file(tree_path, kMaxTreeBytes, &tree_file, &message, &hint) &&
      tree_file.size() <= kMaxTreeBytes) {
    root = read_tree_file(tree_file, text);
  }
  if (!root) return first_error(check_policy_text(text, path, options));
  CheckResult checked = check_policy_tree(*root, path, options);
  // The tree's locations name no file (read_tree_file): this is the file.
  for (Error& e : checked.errors) {
    if (e.where.file.empty()) e.where.file = path;
  }
  if (checked.policy) {
    for (Warning& w : checked.policy->warnings) {
      if (w.where.file.empty()) w.where.file = path;
    }
    checked.policy->prepared = true;
  }
  return first_error(std::move(checked));
}

LoadedPolicy default_policy(const CompileOptions& options) {
  CheckResult checked = check_policy_text(kDefaultPolicy, "<default>", options);
  if (checked.policy) return std::move(*checked.policy);
  // Unreachable with a correct build (a unit test loads the default); if it
  // ever happens, fall back to an image that allows and watches everything
  // rather than running with no image at all.
  LoadedPolicy fallback;
  fallback.source = "<default>";
  image::Builder builder;
  builder.set_top_mode(image::Mode::kMonitor);
  builder.set_flags(image::kRequirePreload);
  for (size_t c = 0; c < image::kControlCount; ++c) {
    builder.set_control(static_cast<image::Control>(c), image::Mode::kMonitor,
                        image::Verdict::kAllow);
  }
  fallback.image = builder.finish();
  fallback.effective_json = "{\"version\": 1, \"source\": \"<default>\", \"mode\": \"monitor\"}\n";
  return fallback;
}

std::optional<image::Mode> parse_mode(std::string_view text) {
  if (text == "off") return image::Mode::kOff;
  if (text == "monitor") return image::Mode::kMonitor;
  if (text == "block") return image::Mode::kBlock;
  return std::nullopt;
}

const char* default_policy_text() { return kDefaultPolicy; }

}  // namespace fnguard::policy
