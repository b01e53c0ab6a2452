// Model to image. Rules keep their user index so events can name them
// ("files.read.rules[2]"); resolved symlink variants share the index.
#include "fnguard/policy/compile.h"

#include <climits>
#include <cstdlib>
#include <string>
#include <unordered_map>

#include "fnguard/common/glob.h"
#include "fnguard/common/path.h"
#include "fnguard/image/builder.h"
#include "fnguard/policy/json_value.h"

namespace fnguard::policy {
namespace {

using image::Control;
using image::Mode;
using image::Verdict;

const char* verdict_name(Verdict v) { return v == Verdict::kAllow ? "allow" : "deny"; }

const char* phase_name(image::Phase p) {
  switch (p) {
    case image::Phase::kInit:
      return "init";
    case image::Phase::kInvoke:
      return "invoke";
    default:
      return "any";
  }
}

// Escapes glob metacharacters in a literal path that realpath() returned.
std::string escape_glob(const std::string& literal) {
  std::string out;
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == '\\' || c == ']') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return {};
  return buf;
}

// The glob with symbolic links resolved in its literal part, or empty when
// resolution changes nothing (or the path does not exist here).
std::string resolved_variant(const std::string& glob) {
  if (glob_is_literal(glob.c_str())) {
    std::string whole = real_path(glob);
    if (!whole.empty()) return whole != glob ? escape_glob(whole) : std::string();
  }
  size_t prefix = glob_literal_dir_prefix(glob.c_str());
  if (prefix == 0) return {};
  std::string dir = glob.substr(0, prefix);
  std::string real = real_path(dir);
  if (real.empty() || real == dir) return {};
  std::string variant = escape_glob(real) + glob.substr(prefix);
  // realpath() output is normal; the suffix already was. "/" + "/x" is the
  // one join that could double a slash.
  if (variant.rfind("//", 0) == 0) variant.erase(0, 1);
  return variant;
}

class Compiler {
 public:
  Compiler(const PolicyModel& model, std::string_view source, const CompileOptions& options)
      : model_(model), options_(options) {
    out_.source = std::string(source);
  }

  LoadedPolicy run() {
    Mode top = options_.mode_override.value_or(model_.top_mode);
    out_.top_mode = top;
    out_.require_preload = model_.require_preload;
    out_.require_kernel = model_.require_kernel;
    builder_.set_top_mode(top);
    builder_.set_task_root(options_.task_root);

    json_ = JsonValue::object();
    json_.set("version", JsonValue::number(1));
    json_.set("source", JsonValue::string(out_.source));
    json_.set("mode", JsonValue::string(image::mode_name(top)));
    if (options_.mode_override) {
      json_.set("mode_override", JsonValue::string(image::mode_name(*options_.mode_override)));
    }

    JsonValue files = JsonValue::object();
    files.set("read", rule_control(Control::kFilesRead, model_.files_read, {}));
    files.set("write", rule_control(Control::kFilesWrite, model_.files_write, {}));
    json_.set("files", std::move(files));

    JsonValue network = JsonValue::object();
    network.set("outbound",
                rule_control(Control::kNetOutbound, model_.net_outbound, builtin_net_rules()));
    network.set("inbound", rule_control(Control::kNetInbound, model_.net_inbound, {}));
    json_.set("network", std::move(network));

    JsonValue process = JsonValue::object();
    process.set("exec", rule_control(Control::kProcessExec, model_.process_exec, {}));
    process.set("exec_from_writable", writable());
    json_.set("process", std::move(process));

    uint32_t flags = 0;
    if (model_.require_preload) flags |= image::kRequirePreload;
    if (model_.require_kernel) flags |= image::kRequireKernel;

    JsonValue inspect = JsonValue::object();
    inspect.set("configured", JsonValue::boolean(model_.inspect_present));
    if (model_.inspect_present) {
      flags |= image::kInspectConfigured;
      Mode m = options_.mode_override.value_or(model_.inspect_mode.value_or(top));
      out_.inspect = {true, m, model_.inspect_detectors};
      inspect.set("mode", JsonValue::string(image::mode_name(m)));
      JsonValue detectors = JsonValue::array();
      for (const std::string& d : model_.inspect_detectors) detectors.push(JsonValue::string(d));
      inspect.set("detectors", std::move(detectors));
      // Enforced by the Runtime API proxy on every invocation event (the
      // Lambda wrapper, fnguard local); `fnguard run` alone has no events.
      inspect.set("enforced", JsonValue::boolean(true));
    }
    json_.set("inspect", std::move(inspect));

    JsonValue honeypots = JsonValue::object();
    honeypots.set("configured", JsonValue::boolean(model_.honeypots_present));
    if (model_.honeypots_present) {
      flags |= image::kHoneypotsConfigured;
      honeypots.set("env", JsonValue::boolean(model_.honeypot_env));
      JsonValue files_list = JsonValue::array();
      for (const std::string& f : model_.honeypot_files) files_list.push(JsonValue::string(f));
      honeypots.set("files", std::move(files_list));
      honeypots.set("enforced", JsonValue::boolean(true));
      // The built-in rules they became, first in each file control.
      if (!honeypot_rules_.is_null()) honeypots.set("rules", std::move(honeypot_rules_));
      bool read_off = control_mode(model_.files_read) == Mode::kOff;
      bool write_off = control_mode(model_.files_write) == Mode::kOff;
      if (read_off && write_off) {
        // Nothing would see a touch (`--mode off`, FNGUARD_MODE=off): plant nothing.
        out_.warnings.push_back(Warning{
            Location{out_.source, 0, 0},
            "honeypots: files.read and files.write are off, so no decoy is planted"});
      } else {
        out_.honeypots.env = model_.honeypot_env;
        // Plain paths (collect refuses glob characters, escaped or not).
        out_.honeypots.files = model_.honeypot_files;
        if (read_off) {
          out_.warnings.push_back(Warning{
              Location{out_.source, 0, 0},
              "honeypots: files.read is off, so reading a decoy is not seen; set files.read.mode "
              "to monitor or block"});
        }
      }
    }
    json_.set("honeypots", std::move(honeypots));

    JsonValue require = JsonValue::object();
    require.set("preload", JsonValue::boolean(model_.require_preload));
    require.set("kernel", JsonValue::boolean(model_.require_kernel));
    json_.set("require", std::move(require));

    JsonValue vars = JsonValue::object();
    vars.set("TASK_ROOT", JsonValue::string(options_.task_root));
    vars.set("RUNTIME_DIR", JsonValue::string(options_.runtime_dir));
    vars.set("TMP", JsonValue::string(options_.tmp));
    vars.set("HOME", JsonValue::string(options_.home));
    json_.set("variables", std::move(vars));

    builder_.set_flags(flags);
    out_.image = builder_.finish();
    if (options_.effective_json) out_.effective_json = json_.pretty();
    return std::move(out_);
  }

 private:
  Mode control_mode(const ControlModel& c) const {
    if (options_.mode_override) return *options_.mode_override;
    return c.mode.value_or(model_.top_mode);
  }

  // Adds `glob` and, when symbolic links resolve it differently, its
  // resolved form. Returns the resolved form (or empty) for the JSON.
  std::string add_path_rule(Control control, const image::RuleSpec& base, const std::string& glob) {
    image::RuleSpec spec = base;
    spec.kind = image::MatchKind::kPathGlob;
    spec.pattern = glob;
    builder_.add_rule(control, spec);
    std::string variant = cached_resolved_variant(glob);
    size_t offset = 0;
    if (!variant.empty() && glob_validate(variant.c_str(), &offset) == nullptr) {
      spec.pattern = variant;
      builder_.add_rule(control, spec);
      return variant;
    }
    return {};
  }

  // resolved_variant(), once per glob per compile: the same locations come
  // up in files.write and in the writable list (each resolution is one
  // readlink per path component).
  std::string cached_resolved_variant(const std::string& glob) {
    auto it = resolved_.find(glob);
    if (it == resolved_.end()) it = resolved_.emplace(glob, resolved_variant(glob)).first;
    return it->second;
  }

  JsonValue builtin_net_rules() {
    JsonValue list = JsonValue::array();
    auto add = [&](const std::string& text, uint16_t port, const char* label) {
      ParsedNetTarget target;
      std::string message, hint;
      if (!parse_net_target(text, &target, &message, &hint)) {
        out_.warnings.push_back(Warning{Location{out_.source, 0, 0},
                                        std::string("the built-in '") + label + "' rule for '" +
                                            text + "' was not added: " + message});
        return;
      }
      if (port != 0) target.net.port = port;
      image::RuleSpec spec;
      spec.verdict = Verdict::kAllow;
      spec.kind = image::MatchKind::kNetTarget;
      spec.source_index = image::kBuiltinRule;
      spec.label = label;
      spec.pattern = target.pattern;
      spec.net = target.net;
      builder_.add_rule(Control::kNetOutbound, spec);
      JsonValue rule = JsonValue::object();
      rule.set("allow", JsonValue::string(net_target_to_string(target)));
      rule.set("name", JsonValue::string(label));
      list.push(std::move(rule));
    };
    if (!options_.runtime_api.empty()) add(options_.runtime_api, 0, "runtime_api");
    for (std::string ns : options_.nameservers) {
      // "fe80::1%eth0": the scope does not take part in matching.
      size_t pct = ns.find('%');
      if (pct != std::string::npos) ns.erase(pct);
      bool v6 = ns.find(':') != std::string::npos;
      add(v6 ? "[" + ns + "]:53" : ns + ":53", 53, "nameserver");
    }
    return list;
  }

  JsonValue rule_control(Control control, const ControlModel& c, JsonValue builtin) {
    Mode mode = control_mode(c);
    Mode taint = c.taint;
    if (taint != Mode::kOff) {
      taint_configured_ = true;
      if (options_.mode_override) taint = *options_.mode_override;
    }
    builder_.set_control(control, mode, c.default_verdict, taint);

    JsonValue json = JsonValue::object();
    json.set("mode", JsonValue::string(image::mode_name(mode)));
    json.set("default", JsonValue::string(verdict_name(c.default_verdict)));
    if (control == Control::kNetInbound) return json;
    json.set("taint", JsonValue::string(image::mode_name(taint)));
    if (control == Control::kNetOutbound) json.set("builtin", std::move(builtin));

    if (control == Control::kFilesRead || control == Control::kFilesWrite)
      add_honeypot_rules(control);

    JsonValue rules = JsonValue::array();
    for (const RuleModel& r : c.rules) {
      image::RuleSpec spec;
      spec.verdict = r.verdict;
      spec.phase = r.phase;
      spec.source_index = r.index;
      JsonValue rule = JsonValue::object();
      std::string resolved;
      switch (r.kind) {
        case RuleModel::Kind::kPathGlob:
          resolved = add_path_rule(control, spec, r.glob);
          if (control == Control::kProcessExec) {
            JsonValue m = JsonValue::object();
            m.set("path", JsonValue::string(r.glob));
            rule.set(verdict_name(r.verdict), std::move(m));
          } else {
            rule.set(verdict_name(r.verdict), JsonValue::string(r.glob));
          }
          break;
        case RuleModel::Kind::kExecNames: {
          // One image rule per name, all with the user's index: a list of
          // names is one rule to the user.
          JsonValue names = JsonValue::array();
          for (const std::string& name : r.names) {
            spec.kind = image::MatchKind::kExecName;
            spec.pattern = name;
            builder_.add_rule(control, spec);
            names.push(JsonValue::string(name));
          }
          JsonValue m = JsonValue::object();
          m.set("name", std::move(names));
          rule.set(verdict_name(r.verdict), std::move(m));
          break;
        }
        case RuleModel::Kind::kExecSha256: {
          spec.kind = image::MatchKind::kExecSha256;
          spec.sha256 = r.sha256;
          builder_.add_rule(control, spec);
          JsonValue m = JsonValue::object();
          m.set("sha256", JsonValue::string(r.sha256_hex));
          rule.set(verdict_name(r.verdict), std::move(m));
          break;
        }
        case RuleModel::Kind::kNetTarget:
          spec.kind = image::MatchKind::kNetTarget;
          spec.pattern = r.target.pattern;
          spec.net = r.target.net;
          builder_.add_rule(control, spec);
          rule.set(verdict_name(r.verdict), JsonValue::string(net_target_to_string(r.target)));
          break;
      }
      if (r.phase != image::Phase::kAny) rule.set("phase", JsonValue::string(phase_name(r.phase)));
      if (!resolved.empty()) rule.set("resolved", JsonValue::string(resolved));
      rules.push(std::move(rule));
    }
    json.set("rules", std::move(rules));
    return json;
  }

  // The decoys come first in files.read and files.write, so that no rule of
  // the user's (an allow of /tmp/** say) lets a touch of one through
  // unreported. Built-in rules named "honeypot": events about them are of
  // kind "honeypot" (image::is_honeypot).
  void add_honeypot_rules(Control control) {
    if (!model_.honeypots_present) return;
    std::vector<std::string> globs = model_.honeypot_files;
    // With decoy credentials in the environment, reading a process's
    // environment reads them.
    if (model_.honeypot_env && control == Control::kFilesRead) globs.push_back("/proc/**/environ");
    JsonValue list = JsonValue::array();
    for (const std::string& glob : globs) {
      image::RuleSpec spec;
      spec.verdict = Verdict::kDeny;
      spec.source_index = image::kBuiltinRule;
      spec.label = image::kHoneypotLabel;
      add_path_rule(control, spec, glob);
      list.push(JsonValue::string(glob));
    }
    if (honeypot_rules_.is_null()) honeypot_rules_ = JsonValue::object();
    honeypot_rules_.set(control == Control::kFilesRead ? "read" : "write", std::move(list));
  }

  JsonValue writable() {
    Mode mode = options_.mode_override.value_or(model_.exec_from_writable.value_or(Mode::kOff));
    builder_.set_control(Control::kExecFromWritable, mode, Verdict::kDeny);
    builder_.set_control(Control::kWritable, mode, Verdict::kDeny);

    std::vector<std::pair<std::string, std::string>> locations;  // glob, label
    auto add = [&](const std::string& glob, const std::string& label) {
      for (const auto& [g, l] : locations) {
        if (g == glob) return;
      }
      locations.emplace_back(glob, label);
    };
    for (const char* dir : {"/tmp/**", "/var/tmp/**", "/dev/shm/**"}) add(dir, "temporary");
    if (!options_.tmp.empty()) {
      char buf[PATH_MAX];
      long len = normalize_path("/", options_.tmp.c_str(), buf, sizeof buf);
      if (len > 0) {
        std::string tmp(buf, static_cast<size_t>(len));
        add(escape_glob(tmp) + (tmp == "/" ? "**" : "/**"), "temporary");
      }
    }
    for (const RuleModel& r : model_.files_write.rules) {
      if (r.verdict == Verdict::kAllow && r.kind == RuleModel::Kind::kPathGlob) {
        add(r.glob, "files.write.rules[" + std::to_string(r.index) + "]");
      }
    }
    JsonValue json = JsonValue::object();
    json.set("mode", JsonValue::string(image::mode_name(mode)));
    JsonValue list = JsonValue::array();
    for (const auto& [glob, label] : locations) {
      image::RuleSpec spec;
      spec.verdict = Verdict::kAllow;
      spec.source_index = image::kBuiltinRule;
      spec.label = label;
      std::string resolved = add_path_rule(Control::kWritable, spec, glob);
      list.push(JsonValue::string(glob));
      if (!resolved.empty()) list.push(JsonValue::string(resolved));
    }
    json.set("writable_locations", std::move(list));
    return json;
  }

  const PolicyModel& model_;
  const CompileOptions& options_;
  LoadedPolicy out_;
  image::Builder builder_;
  JsonValue json_;
  std::unordered_map<std::string, std::string> resolved_;  // glob -> its variant ("" if none)
  bool taint_configured_ = false;
  JsonValue honeypot_rules_;  // {"read": [...], "write": [...]} when honeypots are configured
};

}  // namespace

LoadedPolicy compile_policy(const PolicyModel& model, std::string_view source_name,
                            const CompileOptions& options) {
  return Compiler(model, source_name, options).run();
}

}  // namespace fnguard::policy
