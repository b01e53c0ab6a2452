// Lays out header, rules and strings; see format.h for the layout.
#include "fnguard/image/builder.h"

#include <cstring>

namespace fnguard::image {

void Builder::set_control(Control control, Mode mode, Verdict default_verdict, Mode taint_mode) {
  ControlSpec& spec = controls_[static_cast<size_t>(control)];
  spec.mode = mode;
  spec.default_verdict = default_verdict;
  spec.taint_mode = taint_mode;
}

void Builder::add_rule(Control control, RuleSpec rule) {
  controls_[static_cast<size_t>(control)].rules.push_back(std::move(rule));
}

std::vector<uint8_t> Builder::finish() const {
  size_t rule_count = 0;
  for (const ControlSpec& c : controls_) rule_count += c.rules.size();

  std::string strings(1, '\0');  // offset 0 of the table is the empty string
  auto intern = [&strings](const std::string& s) {
    uint32_t at = static_cast<uint32_t>(strings.size());
    strings += s;
    strings.push_back('\0');
    return std::pair<uint32_t, uint32_t>(at, static_cast<uint32_t>(s.size()));
  };

  Header header{};
  header.magic = kMagic;
  header.version = kVersion;
  header.flags = flags_;
  header.top_mode = top_mode_;
  header.rule_count = static_cast<uint32_t>(rule_count);
  header.rules_offset = sizeof(Header);
  header.strings_offset = static_cast<uint32_t>(sizeof(Header) + rule_count * sizeof(Rule));

  std::vector<Rule> rules;
  rules.reserve(rule_count);
  for (size_t c = 0; c < kControlCount; ++c) {
    const ControlSpec& spec = controls_[c];
    ControlEntry& entry = header.controls[c];
    entry.mode = spec.mode;
    entry.default_verdict = spec.default_verdict;
    entry.taint_mode = spec.taint_mode;
    entry.first_rule = static_cast<uint32_t>(rules.size());
    entry.rule_count = static_cast<uint32_t>(spec.rules.size());
    for (const RuleSpec& r : spec.rules) {
      Rule rule{};
      rule.verdict = r.verdict;
      rule.kind = r.kind;
      rule.phase = r.phase;
      rule.source_index = r.source_index;
      auto [poff, plen] = intern(r.pattern);
      auto [loff, llen] = intern(r.label);
      rule.pattern = {header.strings_offset + poff, plen};
      rule.label = {header.strings_offset + loff, llen};
      rule.net = r.net;
      std::memcpy(rule.sha256, r.sha256.data(), 32);
      rules.push_back(rule);
    }
  }
  auto [toff, tlen] = intern(task_root_);
  header.task_root = {header.strings_offset + toff, tlen};
  header.strings_size = static_cast<uint32_t>(strings.size());
  header.total_size = header.strings_offset + header.strings_size;

  std::vector<uint8_t> out(header.total_size);
  std::memcpy(out.data(), &header, sizeof header);
  if (!rules.empty()) {
    std::memcpy(out.data() + header.rules_offset, rules.data(), rules.size() * sizeof(Rule));
  }
  std::memcpy(out.data() + header.strings_offset, strings.data(), strings.size());
  return out;
}

}  // namespace fnguard::image
