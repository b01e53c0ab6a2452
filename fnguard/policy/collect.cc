// The collect stage. One Collector walks the tree once; each check that fails
// records an error and carries on with the next item, so a user sees every
// problem in one run of `fnguard policy check`.
#include "fnguard/policy/collect.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>

#include "fnguard/common/glob.h"
#include "fnguard/common/path.h"

namespace fnguard::policy {
namespace {

constexpr const char* kRuleControls[] = {"files.read", "files.write", "network.outbound",
                                         "process.exec"};

std::vector<std::string> build_schema() {
  std::vector<std::string> keys = {"version",
                                   "mode",
                                   "files",
                                   "files.read",
                                   "files.write",
                                   "network",
                                   "network.outbound",
                                   "network.inbound",
                                   "process",
                                   "process.exec",
                                   "process.exec_from_writable",
                                   "inspect",
                                   "honeypots",
                                   "require"};
  for (const char* c : kRuleControls) {
    for (const char* k :
         {"mode", "default", "taint", "rules", "rules[].allow", "rules[].deny", "rules[].phase"}) {
      keys.push_back(std::string(c) + "." + k);
    }
  }
  for (const char* k : {"network.inbound.mode", "network.inbound.default",
                        "process.exec.target.name", "process.exec.target.sha256",
                        "process.exec.target.path", "inspect.mode", "inspect.detectors",
                        "honeypots.env", "honeypots.files", "require.preload", "require.kernel"}) {
    keys.emplace_back(k);
  }
  return keys;
}

// The key that schema entry `entry` names in a mapping at `path` ("" for
// the top level): "read" for "files.read" under "files"; empty when the
// entry is not directly under `path`. The schema list is the one source, so
// the parser and the documentation test read the same keys.
std::string_view child_key(const std::string& entry, const std::string& path) {
  const size_t skip = path.empty() ? 0 : path.size() + 1;  // "path."
  if (entry.size() <= skip) return {};
  if (skip > 0 && (entry.compare(0, path.size(), path) != 0 || entry[path.size()] != '.')) return {};
  if (entry.find('.', skip) != std::string::npos) return {};
  return std::string_view(entry).substr(skip);
}

// The keys a mapping at `path` accepts, for wording an error.
std::vector<std::string_view> keys_under(const std::string& path) {
  std::vector<std::string_view> out;
  for (const std::string& entry : schema_keys()) {
    if (std::string_view key = child_key(entry, path); !key.empty()) out.push_back(key);
  }
  return out;
}

// Whether `key` is accepted in a mapping at `path`, compared in place (no
// list built, nothing allocated): this runs for every key of every policy
// load, the wrapper's among them. A dotted key never matches: child keys
// hold no dot.
bool schema_has(const std::string& path, std::string_view key) {
  if (key.empty()) return false;
  for (const std::string& entry : schema_keys()) {
    if (child_key(entry, path) == key) return true;
  }
  return false;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string suggest(const std::string& word, const std::vector<std::string>& choices) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const std::string& c : choices) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(1, std::min<size_t>(3, word.size() / 2));
  if (best_distance <= limit) return best;
  return {};
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string hint_for(const std::string& word, const std::vector<std::string>& choices) {
  std::string best = suggest(word, choices);
  if (!best.empty()) return "did you mean '" + best + "'?";
  return "expected one of: " + join(choices, ", ");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Collector {
 public:
  Collector(const CompileOptions& options) : options_(options) {}

  CollectResult run(const Node& root) {
    if (root.kind != Node::Kind::kMapping) {
      error(root, "the policy must be a mapping of keys, not " + std::string(root.kind_name()),
            "start the file with 'version: 1'");
      return std::move(out_);
    }
    check_keys(root, "");
    const Node* version = root.find("version");
    if (version == nullptr) {
      error(root, "the policy has no 'version' key", "add 'version: 1' at the top");
    } else if (version->kind != Node::Kind::kScalar || version->quoted || version->text != "1") {
      if (version->kind == Node::Kind::kScalar && !version->quoted &&
          std::all_of(version->text.begin(), version->text.end(),
                      [](char c) { return c >= '0' && c <= '9'; }) &&
          !version->text.empty()) {
        error(*version, "policy version " + version->text + " is not supported",
              "this fnguard reads version 1 policies; write 'version: 1'");
      } else {
        error(*version, "'version' must be the number 1", "write 'version: 1' (no quotes)");
      }
    }
    if (const Node* mode = root.find("mode")) {
      if (auto m = get_mode(*mode, "mode")) out_.model.top_mode = *m;
    }
    if (const Node* files = section(root, "files")) {
      check_keys(*files, "files");
      if (const Node* n = section(*files, "read")) control(*n, "files.read", out_.model.files_read);
      if (const Node* n = section(*files, "write"))
        control(*n, "files.write", out_.model.files_write);
    }
    if (const Node* net = section(root, "network")) {
      check_keys(*net, "network");
      if (const Node* n = section(*net, "outbound")) {
        control(*n, "network.outbound", out_.model.net_outbound);
      }
      if (const Node* n = net->find("inbound")) inbound(*n);
    }
    if (const Node* proc = section(root, "process")) {
      check_keys(*proc, "process");
      if (const Node* n = section(*proc, "exec"))
        control(*n, "process.exec", out_.model.process_exec);
      if (const Node* n = proc->find("exec_from_writable")) {
        out_.model.exec_from_writable = get_mode(*n, "process.exec_from_writable");
      }
    }
    if (const Node* n = section(root, "inspect")) inspect(*n);
    if (const Node* n = section(root, "honeypots")) honeypots(*n);
    if (const Node* req = section(root, "require")) {
      check_keys(*req, "require");
      if (const Node* n = req->find("preload")) {
        if (auto b = get_bool(*n, "require.preload")) out_.model.require_preload = *b;
      }
      if (const Node* n = req->find("kernel")) {
        if (auto b = get_bool(*n, "require.kernel")) out_.model.require_kernel = *b;
      }
    }
    return std::move(out_);
  }

 private:
  // At most kMaxErrors are kept (a generated or corrupt file could produce
  // thousands), and one last line says that more were left out.
  static constexpr size_t kMaxErrors = 100;

  void error(const Node& at, std::string message, std::string hint) {
    error_at(at.where, std::move(message), std::move(hint));
  }
  void error_at(Location where, std::string message, std::string hint) {
    if (out_.errors.size() > kMaxErrors) return;
    if (out_.errors.size() == kMaxErrors) {
      out_.errors.push_back(make_error(
          "more than " + std::to_string(kMaxErrors) + " problems; the rest are not listed",
          "fix these and check again", std::move(where)));
      return;
    }
    out_.errors.push_back(make_error(std::move(message), std::move(hint), std::move(where)));
  }
  void warn(const Node& at, std::string message) {
    out_.warnings.push_back(Warning{at.where, std::move(message)});
  }

  // Reports every key of `map` that the schema does not know at `path`.
  void check_keys(const Node& map, const std::string& path) {
    for (const auto& [key, value] : map.entries) {
      if (schema_has(path, key.text)) continue;
      std::vector<std::string_view> allowed = keys_under(path);
      std::string where = path.empty() ? "at the top level" : "in " + path;
      error(key, "unknown key '" + key.text + "' " + where,
            hint_for(key.text, std::vector<std::string>(allowed.begin(), allowed.end())));
    }
  }

  // A sub-mapping that must be a mapping when present.
  const Node* section(const Node& parent, const char* key) {
    const Node* n = parent.find(key);
    if (n == nullptr) return nullptr;
    if (n->kind != Node::Kind::kMapping) {
      error(*n, "'" + std::string(key) + "' must be a mapping, not " + n->kind_name(),
            n->is_null() ? "remove the key or give it content" : "indent its keys below it");
      return nullptr;
    }
    return n;
  }

  const std::string* get_string(const Node& n, const std::string& what) {
    if (n.kind != Node::Kind::kScalar || n.is_null()) {
      error(n, "'" + what + "' must be a single value, not " + n.kind_name(),
            "write one value after the colon");
      return nullptr;
    }
    return &n.text;
  }

  std::optional<image::Mode> get_mode(const Node& n, const std::string& what) {
    const std::string* s = get_string(n, what);
    if (s == nullptr) return std::nullopt;
    if (auto m = parse_mode(*s)) return m;
    error(n, "'" + *s + "' is not a valid mode for '" + what + "'",
          hint_for(*s, {"off", "monitor", "block"}));
    return std::nullopt;
  }

  std::optional<image::Verdict> get_verdict(const Node& n, const std::string& what) {
    const std::string* s = get_string(n, what);
    if (s == nullptr) return std::nullopt;
    if (*s == "allow") return image::Verdict::kAllow;
    if (*s == "deny") return image::Verdict::kDeny;
    error(n, "'" + *s + "' is not a valid verdict for '" + what + "'",
          hint_for(*s, {"allow", "deny"}));
    return std::nullopt;
  }

  std::optional<bool> get_bool(const Node& n, const std::string& what) {
    if (n.kind == Node::Kind::kScalar && !n.quoted && (n.text == "true" || n.text == "false")) {
      return n.text == "true";
    }
    error(n, "'" + what + "' must be true or false",
          "write true or false without quotes; yes, no, on and off are not booleans here");
    return std::nullopt;
  }

  // Expands $NAME and ${NAME}. Returns false (after reporting) on an unknown
  // or unset variable. Backslash escapes are kept for the glob matcher.
  bool expand(const Node& n, std::string* out, bool* expanded) {
    out->clear();
    *expanded = false;
    const std::string& s = n.text;
    struct Var {
      const char* name;
      const std::string* value;
      const char* source;
    };
    const Var kVars[] = {
        {"TASK_ROOT", &options_.task_root, "LAMBDA_TASK_ROOT or the launch directory"},
        {"RUNTIME_DIR", &options_.runtime_dir, "LAMBDA_RUNTIME_DIR"},
        {"TMP", &options_.tmp, "TMPDIR or /tmp"},
        {"HOME", &options_.home, "HOME"},
    };
    bool ok = true;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\\' && i + 1 < s.size()) {
        out->push_back(c);
        out->push_back(s[++i]);
        continue;
      }
      if (c != '$') {
        out->push_back(c);
        continue;
      }
      size_t start = i;
      std::string name;
      bool braced = i + 1 < s.size() && s[i + 1] == '{';
      size_t j = i + (braced ? 2 : 1);
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) {
        name.push_back(s[j++]);
      }
      if (braced) {
        if (j >= s.size() || s[j] != '}') {
          error_at(n.at_offset(start), "'${' is not closed by '}'", "write ${NAME} or $NAME");
          return false;
        }
        ++j;
      }
      i = j - 1;
      const Var* var = nullptr;
      for (const Var& v : kVars) {
        if (name == v.name) var = &v;
      }
      if (var == nullptr) {
        std::vector<std::string> known;
        for (const Var& v : kVars) known.emplace_back(v.name);
        std::string hint = "the variables are $TASK_ROOT, $RUNTIME_DIR, $TMP and $HOME";
        if (name.empty()) hint += "; write '\\$' for a literal dollar sign";
        if (std::string best = suggest(name, known); !name.empty() && !best.empty()) {
          hint = "did you mean '$" + best + "'?";
        }
        error_at(n.at_offset(start), "unknown variable '$" + name + "'", hint);
        ok = false;
        continue;
      }
      if (var->value->empty()) {
        error_at(n.at_offset(start), "variable $" + name + " is not set here",
                 std::string("it comes from ") + var->source + "; set it or write the path out");
        ok = false;
        continue;
      }
      *out += *var->value;
      *expanded = true;
    }
    return ok;
  }

  // A path glob: variables expanded, absolute, valid, normalised.
  std::optional<std::string> get_glob(const Node& n, const std::string& what, bool literal_only) {
    if (n.kind == Node::Kind::kSequence) {
      error(n, "'" + what + "' takes one path, not a list", "write one rule per path");
      return std::nullopt;
    }
    const std::string* s = get_string(n, what);
    if (s == nullptr) return std::nullopt;
    std::string expanded;
    bool used_vars = false;
    if (!expand(n, &expanded, &used_vars)) return std::nullopt;
    if (expanded.empty() || expanded[0] != '/') {
      error(n, "the path '" + *s + "' in " + what + " is not absolute",
            expanded.rfind("**", 0) == 0 ? "write '/**' to mean every path"
                                         : "start it with '/' or a variable like $TASK_ROOT");
      return std::nullopt;
    }
    size_t offset = 0;
    if (const char* problem = glob_validate(expanded.c_str(), &offset)) {
      error_at(used_vars ? n.where : n.at_offset(offset),
               "bad glob '" + *s + "' in " + what + ": " + problem,
               "see the glob grammar in docs/POLICY.md; escape a literal character with '\\'");
      return std::nullopt;
    }
    if (literal_only && !glob_is_literal(expanded.c_str())) {
      error(n, "'" + *s + "' in " + what + " must be a plain path, not a glob",
            "name each file in full");
      return std::nullopt;
    }
    char buf[PATH_MAX];
    long len = normalize_path(nullptr, expanded.c_str(), buf, sizeof buf);
    if (len < 0) {
      error(n, "the path '" + *s + "' in " + what + " is too long",
            "paths longer than 4095 bytes cannot match anything");
      return std::nullopt;
    }
    std::string normal(buf, static_cast<size_t>(len));
    if (glob_validate(normal.c_str(), &offset) != nullptr) {
      error(n,
            "the glob '" + *s + "' in " + what + " is not valid once normalised ('" + normal + "')",
            "remove the '\\' before '/' and the empty or '.' segments");
      return std::nullopt;
    }
    return normal;
  }

  void control(const Node& map, const std::string& path, ControlModel& c) {
    c.present = true;
    check_keys(map, path);
    if (const Node* n = map.find("mode")) c.mode = get_mode(*n, path + ".mode");
    if (const Node* n = map.find("default")) {
      if (auto v = get_verdict(*n, path + ".default")) c.default_verdict = *v;
    }
    if (const Node* n = map.find("taint")) {
      if (auto m = get_mode(*n, path + ".taint")) c.taint = *m;
    }
    const Node* rules = map.find("rules");
    if (rules == nullptr) return;
    if (rules->kind != Node::Kind::kSequence) {
      error(*rules, "'" + path + ".rules' must be a list, not " + rules->kind_name(),
            "write each rule on its own line starting with '- allow:' or '- deny:'");
      return;
    }
    bool warned = false;
    for (size_t i = 0; i < rules->items.size(); ++i) {
      size_t before = c.rules.size();
      bool catch_all_before = !c.rules.empty() && matches_everything(c.rules.back());
      rule(rules->items[i], path, static_cast<uint32_t>(i), c);
      if (catch_all_before && c.rules.size() > before && !warned) {
        warned = true;
        warn(rules->items[i], path + ".rules[" + std::to_string(i) +
                                  "] is never reached: the rule before it matches everything");
      }
    }
  }

  // A rule that matches every subject in every phase ("/**", "*").
  static bool matches_everything(const RuleModel& r) {
    if (r.phase != image::Phase::kAny) return false;
    if (r.kind == RuleModel::Kind::kPathGlob) return r.glob == "/**";
    if (r.kind == RuleModel::Kind::kNetTarget) {
      return r.target.net.kind == image::NetKind::kAnyHost && r.target.net.port == 0;
    }
    return false;
  }

  void rule(const Node& item, const std::string& path, uint32_t index, ControlModel& c) {
    std::string name = path + ".rules[" + std::to_string(index) + "]";
    if (item.kind != Node::Kind::kMapping) {
      error(item, name + " must be a mapping like {allow: X} or {deny: X}, not " + item.kind_name(),
            "write '- allow: X' or '- deny: X'");
      return;
    }
    check_keys(item, path + ".rules[]");
    const Node* allow = item.find("allow");
    const Node* deny = item.find("deny");
    if (allow != nullptr && deny != nullptr) {
      error(item, name + " has both 'allow' and 'deny'", "split it into two rules");
      return;
    }
    if (allow == nullptr && deny == nullptr) {
      error(item, name + " has neither 'allow' nor 'deny'", "write '- allow: X' or '- deny: X'");
      return;
    }
    RuleModel r;
    r.index = index;
    r.where = item.where;
    r.verdict = allow != nullptr ? image::Verdict::kAllow : image::Verdict::kDeny;
    const Node& value = allow != nullptr ? *allow : *deny;
    std::string what = name + "." + (allow != nullptr ? "allow" : "deny");
    bool ok = true;
    if (const Node* phase = item.find("phase")) {
      const std::string* s = get_string(*phase, name + ".phase");
      if (s == nullptr) {
        ok = false;
      } else if (*s == "init") {
        r.phase = image::Phase::kInit;
      } else if (*s == "invoke") {
        r.phase = image::Phase::kInvoke;
      } else {
        error(*phase, "'" + *s + "' is not a phase",
              hint_for(*s, {"init", "invoke"}) + "; leave 'phase' out for both");
        ok = false;
      }
    }
    if (path == "network.outbound") {
      const std::string* s = get_string(value, what);
      if (s == nullptr) return;
      std::string message, hint;
      if (!parse_net_target(*s, &r.target, &message, &hint)) {
        if (!s->empty() &&
            std::all_of(s->begin(), s->end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          message = "'" + *s + "' is a port without a host";
          hint = "to mean any host on that port, write \"*:" + *s + "\" in quotes";
        }
        error(value, message + " in " + what, hint);
        return;
      }
      r.kind = RuleModel::Kind::kNetTarget;
    } else if (path == "process.exec" && value.kind == Node::Kind::kMapping) {
      if (!exec_target(value, what, r)) return;
    } else {
      auto glob = get_glob(value, what, false);
      if (!glob) return;
      r.kind = RuleModel::Kind::kPathGlob;
      r.glob = *glob;
      // /proc/PID/X of a process is also /proc/PID/task/TID/X (each
      // thread's view of it): a deny written for the first name misses the
      // second.
      if (r.verdict == image::Verdict::kDeny && glob->rfind("/proc/*/", 0) == 0 &&
          glob->rfind("/proc/*/task/", 0) != 0) {
        std::string rest = glob->substr(std::strlen("/proc/*/"));
        warn(value, what + ": " + *glob + " does not match /proc/PID/task/TID/" + rest +
                        ", another name of the same file; write /proc/**/" + rest +
                        " to deny both");
      }
    }
    if (ok) c.rules.push_back(std::move(r));
  }

  bool exec_target(const Node& map, const std::string& what, RuleModel& r) {
    check_keys(map, "process.exec.target");
    const Node* name = map.find("name");
    const Node* sha = map.find("sha256");
    const Node* path = map.find("path");
    int count = (name != nullptr) + (sha != nullptr) + (path != nullptr);
    if (count != 1) {
      error(map, what + " must have exactly one of 'name', 'sha256' or 'path'",
            "write one matcher per rule, e.g. {name: [nc, socat]}");
      return false;
    }
    if (path != nullptr) {
      auto glob = get_glob(*path, what + ".path", false);
      if (!glob) return false;
      r.kind = RuleModel::Kind::kPathGlob;
      r.glob = *glob;
      return true;
    }
    if (sha != nullptr) {
      const std::string* s = get_string(*sha, what + ".sha256");
      if (s == nullptr) return false;
      bool hex = s->size() == 64 &&
                 std::all_of(s->begin(), s->end(), [](char ch) { return hex_value(ch) >= 0; });
      if (!hex) {
        error(*sha, "'" + *s + "' is not a SHA-256 digest",
              "write the 64 hex digits that sha256sum prints for the file");
        return false;
      }
      for (size_t i = 0; i < 32; ++i) {
        r.sha256[i] =
            static_cast<uint8_t>(hex_value((*s)[2 * i]) * 16 + hex_value((*s)[2 * i + 1]));
        r.sha256_hex.push_back(
            static_cast<char>(std::tolower(static_cast<unsigned char>((*s)[2 * i]))));
        r.sha256_hex.push_back(
            static_cast<char>(std::tolower(static_cast<unsigned char>((*s)[2 * i + 1]))));
      }
      r.kind = RuleModel::Kind::kExecSha256;
      return true;
    }
    std::vector<const Node*> items;
    if (name->kind == Node::Kind::kSequence) {
      if (name->items.empty()) {
        error(*name, what + ".name is an empty list", "name at least one program");
        return false;
      }
      for (const Node& n : name->items) items.push_back(&n);
    } else {
      items.push_back(name);
    }
    bool ok = true;
    for (const Node* n : items) {
      const std::string* s = get_string(*n, what + ".name");
      if (s == nullptr) {
        ok = false;
        continue;
      }
      if (s->empty() || *s == "." || *s == ".." || s->find('/') != std::string::npos) {
        error(*n, "'" + *s + "' is not a program name",
              "a name is a file name without directories; use {path: GLOB} for paths");
        ok = false;
        continue;
      }
      r.names.push_back(*s);
    }
    r.kind = RuleModel::Kind::kExecNames;
    return ok;
  }

  void inbound(const Node& n) {
    ControlModel& c = out_.model.net_inbound;
    c.present = true;
    if (n.kind == Node::Kind::kScalar) {
      if (auto v = get_verdict(n, "network.inbound")) c.default_verdict = *v;
      return;
    }
    if (n.kind != Node::Kind::kMapping) {
      error(n,
            "'network.inbound' must be allow, deny or a mapping, not " + std::string(n.kind_name()),
            "write 'inbound: deny' or 'inbound: {mode: block, default: deny}'");
      return;
    }
    check_keys(n, "network.inbound");
    if (const Node* m = n.find("mode")) c.mode = get_mode(*m, "network.inbound.mode");
    if (const Node* d = n.find("default")) {
      if (auto v = get_verdict(*d, "network.inbound.default")) c.default_verdict = *v;
    }
  }

  void inspect(const Node& map) {
    out_.model.inspect_present = true;
    check_keys(map, "inspect");
    if (const Node* m = map.find("mode")) out_.model.inspect_mode = get_mode(*m, "inspect.mode");
    const Node* d = map.find("detectors");
    if (d == nullptr) {
      // Asking for inspection without naming detectors means all of them,
      // never none: `inspect: {mode: block}` must not turn detection off.
      out_.model.inspect_detectors = detector_names();
      return;
    }
    if (d->kind != Node::Kind::kSequence) {
      error(*d, "'inspect.detectors' must be a list, not " + std::string(d->kind_name()),
            "write detectors: [" + join(detector_names(), ", ") + "]");
      return;
    }
    for (const Node& item : d->items) {
      const std::string* s = get_string(item, "inspect.detectors[]");
      if (s == nullptr) continue;
      const auto& known = detector_names();
      if (std::find(known.begin(), known.end(), *s) == known.end()) {
        error(item, "unknown detector '" + *s + "'", hint_for(*s, known));
        continue;
      }
      auto& list = out_.model.inspect_detectors;
      if (std::find(list.begin(), list.end(), *s) != list.end()) {
        warn(item, "detector '" + *s + "' is listed twice");
        continue;
      }
      list.push_back(*s);
    }
    if (d->items.empty()) {
      warn(*d, "'inspect.detectors' is empty: events are decoded for their taint values, but no "
               "attack is detected (leave the key out for every detector)");
    }
  }

  void honeypots(const Node& map) {
    out_.model.honeypots_present = true;
    check_keys(map, "honeypots");
    if (const Node* e = map.find("env")) {
      if (auto b = get_bool(*e, "honeypots.env")) out_.model.honeypot_env = *b;
    }
    const Node* f = map.find("files");
    if (f == nullptr) return;
    if (f->kind != Node::Kind::kSequence) {
      error(*f, "'honeypots.files' must be a list, not " + std::string(f->kind_name()),
            "write files: [/tmp/.aws/credentials]");
      return;
    }
    for (const Node& item : f->items) {
      if (auto p = get_glob(item, "honeypots.files[]", true)) {
        out_.model.honeypot_files.push_back(*p);
      }
    }
  }

  const CompileOptions& options_;
  CollectResult out_;
};

}  // namespace

const std::vector<std::string>& schema_keys() {
  static const std::vector<std::string> kKeys = build_schema();
  return kKeys;
}

const std::vector<std::string>& detector_names() {
  static const std::vector<std::string> kNames = {"path_traversal", "command_injection",
                                                  "sql_injection", "ssrf"};
  return kNames;
}

CollectResult collect_policy(const Node& root, const CompileOptions& options) {
  return Collector(options).run(root);
}

}  // namespace fnguard::policy
