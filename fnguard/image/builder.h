// Builds a compiled policy image (see format.h) from rules the policy
// compiler hands over. Runs in the supervisor and the CLI, never in the
// enforcer, so it may allocate.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fnguard/image/format.h"

namespace fnguard::image {

struct RuleSpec {
  Verdict verdict = Verdict::kDeny;
  MatchKind kind = MatchKind::kPathGlob;
  Phase phase = Phase::kAny;
  uint32_t source_index = kBuiltinRule;
  std::string pattern;  // glob, basename or domain (".example.com" for "*.example.com")
  std::string label;    // builtin rules only
  NetTarget net{};
  std::array<uint8_t, 32> sha256{};
};

class Builder {
 public:
  void set_top_mode(Mode mode) { top_mode_ = mode; }
  void set_flags(uint32_t flags) { flags_ = flags; }
  void set_task_root(std::string task_root) { task_root_ = std::move(task_root); }
  void set_control(Control control, Mode mode, Verdict default_verdict,
                   Mode taint_mode = Mode::kOff);
  // Rules are kept per control in the order added: first match wins.
  void add_rule(Control control, RuleSpec rule);

  // The image bytes; passes image_validate().
  std::vector<uint8_t> finish() const;

 private:
  struct ControlSpec {
    Mode mode = Mode::kOff;
    Verdict default_verdict = Verdict::kAllow;
    Mode taint_mode = Mode::kOff;
    std::vector<RuleSpec> rules;
  };
  Mode top_mode_ = Mode::kMonitor;
  uint32_t flags_ = 0;
  std::string task_root_;
  std::array<ControlSpec, kControlCount> controls_{};
};

}  // namespace fnguard::image
