// First-match evaluation over the compiled rule arrays.
#include "fnguard/image/decide.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "fnguard/common/glob.h"
#include "fnguard/common/path.h"

namespace fnguard::image {
namespace {

bool phase_applies(Phase rule_phase, Phase current) {
  // kAny as the current phase means no lifecycle is known (plain
  // `fnguard run`): every rule applies.
  return rule_phase == Phase::kAny || current == Phase::kAny || rule_phase == current;
}

template <typename Match>
Decision first_match(const View& view, Control control, Phase phase, Match&& match) {
  const ControlEntry& entry = view.control(control);
  Decision d;
  d.control = control;
  d.mode = entry.mode;
  d.verdict = entry.default_verdict;
  for (uint32_t i = 0; i < entry.rule_count; ++i) {
    uint32_t index = entry.first_rule + i;
    const Rule& rule = view.rule(index);
    if (!phase_applies(rule.phase, phase)) continue;
    if (match(rule)) {
      d.verdict = rule.verdict;
      d.rule = index;
      return d;
    }
  }
  return d;
}

bool str_eq(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

// "api.example.com" ends with ".example.com" (suffix includes the dot).
bool ends_with(const char* s, const char* suffix, uint32_t suffix_len) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  if (n <= suffix_len) return false;
  return str_eq(s + n - suffix_len, suffix);
}

bool prefix_match(const uint8_t* a, const uint8_t* b, unsigned prefix_bits) {
  unsigned full = prefix_bits / 8;
  for (unsigned i = 0; i < full; ++i) {
    if (a[i] != b[i]) return false;
  }
  unsigned rest = prefix_bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

// True when the glob's leading literal characters already differ from the
// path, so it cannot match. Most rules of a policy fail here, on the first
// characters ("/etc/..." against "/usr/..."), without a call into the
// matcher. Stops (answering false) at the first wildcard or escape, and at
// the end of either string ("/tmp/**" also matches "/tmp": the matcher
// decides those).
inline bool literal_head_differs(const char* glob, const char* path) {
  for (;; ++glob, ++path) {
    char g = *glob;
    if (g == '*' || g == '?' || g == '[' || g == '\\' || g == '\0' || *path == '\0') return false;
    if (g != *path) return true;
  }
}

Decision decide_path(const View& view, Control control, const char* path, Phase phase) {
  return first_match(view, control, phase, [&](const Rule& rule) {
    if (rule.kind != MatchKind::kPathGlob) return false;
    const char* glob = view.str(rule.pattern);
    return !literal_head_differs(glob, path) && glob_match(glob, path);
  });
}

UnverifiableDecision decide_unverifiable(const View& view, bool exec_applies) {
  Mode exec = exec_applies ? view.control(Control::kProcessExec).mode : Mode::kOff;
  Mode writable = view.control(Control::kExecFromWritable).mode;
  UnverifiableDecision u;
  u.decision.verdict = Verdict::kDeny;
  u.decision.rule = kNoRule;
  if (exec >= writable) {
    u.decision.control = Control::kProcessExec;
    u.decision.mode = exec;
    u.rule = "process.exec.unverifiable";
  } else {
    u.decision.control = Control::kExecFromWritable;
    u.decision.mode = writable;
    u.rule = "process.exec_from_writable.unverifiable";
  }
  return u;
}

Decision decide_inside(const View& view, Control control, const char* dir_slash, Phase phase) {
  const ControlEntry& entry = view.control(control);
  Decision d;
  d.control = control;
  d.mode = entry.mode;
  d.verdict = Verdict::kAllow;
  for (uint32_t i = 0; i < entry.rule_count; ++i) {
    uint32_t index = entry.first_rule + i;
    const Rule& rule = view.rule(index);
    if (rule.verdict != Verdict::kDeny || rule.kind != MatchKind::kPathGlob) continue;
    if (!phase_applies(rule.phase, phase)) continue;
    if (glob_match_prefix(view.str(rule.pattern), dir_slash)) {
      d.verdict = Verdict::kDeny;
      d.rule = index;
      return d;
    }
  }
  return d;
}

Decision decide_exec(const View& view, const ExecSubject& subject, Phase phase) {
  const char* resolved_name = path_basename(subject.resolved);
  const char* invoked_name =
      subject.invoked != nullptr ? path_basename(subject.invoked) : resolved_name;
  bool hashed = false;
  bool hash_ok = false;
  uint8_t digest[32];
  return first_match(view, Control::kProcessExec, phase, [&](const Rule& rule) {
    switch (rule.kind) {
      case MatchKind::kPathGlob:
        return glob_match(view.str(rule.pattern), subject.resolved);
      case MatchKind::kExecName: {
        const char* name = view.str(rule.pattern);
        if (str_eq(name, resolved_name) || str_eq(name, invoked_name)) return true;
        for (size_t i = 0; i < subject.link_name_count; ++i) {
          if (str_eq(name, subject.link_names[i])) return true;
        }
        return false;
      }
      case MatchKind::kExecSha256:
        if (!hashed) {
          hashed = true;
          hash_ok = subject.hash != nullptr && subject.hash(subject.hash_ctx, digest);
        }
        // A file that cannot be hashed (unreadable: a mode 0111 copy; not a
        // regular file; too large) fails closed: it matches a deny rule and
        // no allow rule, so a renamed copy of a denied binary is not let
        // through because we could not read it.
        if (!hash_ok) return rule.verdict == Verdict::kDeny;
        for (int i = 0; i < 32; ++i) {
          if (digest[i] != rule.sha256[i]) return false;
        }
        return true;
      default:
        return false;
    }
  });
}

Decision decide_net(const View& view, Control control, const NetSubject& subject, Phase phase) {
  // Treat ::ffff:a.b.c.d as a.b.c.d so one IPv4 rule covers both forms.
  static const uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  int family = subject.family;
  const uint8_t* addr = subject.addr;
  if (family == AF_INET6 && prefix_match(addr, kMappedPrefix, 96)) {
    family = AF_INET;
    addr += 12;
  }
  return first_match(view, control, phase, [&](const Rule& rule) {
    if (rule.kind != MatchKind::kNetTarget) return false;
    const NetTarget& t = rule.net;
    if (t.port != 0 && t.port != subject.port) return false;
    switch (t.kind) {
      case NetKind::kAnyHost:
        return true;
      case NetKind::kIpv4:
        return family == AF_INET && prefix_match(addr, t.addr, t.prefix_len);
      case NetKind::kIpv6:
        return family == AF_INET6 && prefix_match(addr, t.addr, t.prefix_len);
      case NetKind::kDomain:
      case NetKind::kDomainSuffix:
        for (size_t i = 0; i < subject.name_count; ++i) {
          const char* name = subject.names[i];
          if (t.kind == NetKind::kDomain ? str_eq(view.str(rule.pattern), name)
                                         : ends_with(name, view.str(rule.pattern),
                                                     rule.pattern.length)) {
            return true;
          }
        }
        return false;
    }
    return false;
  });
}

bool is_writable_location(const View& view, const char* path) {
  // The compiler gives kWritable a default of deny and only allow rules.
  return decide_path(view, Control::kWritable, path, Phase::kAny).verdict == Verdict::kAllow;
}

namespace {

size_t append(char* out, size_t cap, size_t len, const char* s) {
  while (*s != '\0' && len + 1 < cap) out[len++] = *s++;
  if (cap > 0) out[len < cap ? len : cap - 1] = '\0';
  return len;
}

size_t append_uint(char* out, size_t cap, size_t len, uint32_t v) {
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  char text[12];
  for (int i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
  text[n] = '\0';
  return append(out, cap, len, text);
}

}  // namespace

bool is_honeypot(const View& view, const Decision& decision) {
  if (decision.rule == kNoRule || decision.rule == kTaintRule) return false;
  if (decision.rule >= view.header().rule_count) return false;
  const Rule& rule = view.rule(decision.rule);
  return rule.source_index == kBuiltinRule && strcmp(view.str(rule.label), kHoneypotLabel) == 0;
}

size_t rule_name(const View& view, const Decision& decision, char* out, size_t cap) {
  if (cap == 0) return 0;
  out[0] = '\0';
  size_t len = append(out, cap, 0, control_name(decision.control));
  if (decision.rule == kNoRule) return append(out, cap, len, ".default");
  if (decision.rule == kTaintRule) return append(out, cap, len, ".taint");
  const Rule& rule = view.rule(decision.rule);
  if (rule.source_index == kBuiltinRule) {
    len = append(out, cap, len, ".builtin.");
    return append(out, cap, len, view.str(rule.label));
  }
  len = append(out, cap, len, ".rules[");
  len = append_uint(out, cap, len, rule.source_index);
  return append(out, cap, len, "]");
}

}  // namespace fnguard::image
