// Validation of untrusted image bytes and the names of enums.
#include "fnguard/image/format.h"

#include <cstring>

namespace fnguard::image {
namespace {

bool str_ok(const Header& h, size_t size, const uint8_t* base, StrRef ref) {
  uint64_t end = static_cast<uint64_t>(ref.offset) + ref.length;
  if (ref.offset < h.strings_offset || end >= static_cast<uint64_t>(h.strings_offset) + h.strings_size)
    return false;
  if (end >= size) return false;
  if (base[end] != '\0') return false;
  return std::memchr(base + ref.offset, '\0', ref.length) == nullptr;
}

}  // namespace

const char* image_validate(const void* data, size_t size) {
  if (data == nullptr || size < sizeof(Header)) return "image is shorter than its header";
  const auto* base = static_cast<const uint8_t*>(data);
  Header h;
  std::memcpy(&h, base, sizeof h);
  if (h.magic != kMagic) return "image has a wrong magic number";
  if (h.version != kVersion) return "image version is not supported";
  if (h.total_size != size) return "image size does not match its header";
  if (static_cast<uint8_t>(h.top_mode) > 2) return "image top-level mode out of range";
  if (h.rules_offset != sizeof(Header)) return "image rules offset is wrong";
  uint64_t rules_end = static_cast<uint64_t>(h.rules_offset) + uint64_t{h.rule_count} * sizeof(Rule);
  if (rules_end != h.strings_offset) return "image rule table size is wrong";
  if (uint64_t{h.strings_offset} + h.strings_size != size || h.strings_size == 0)
    return "image string table is out of bounds";
  if (base[size - 1] != '\0') return "image string table is not terminated";
  if (!str_ok(h, size, base, h.task_root)) return "image task root string is out of bounds";
  for (size_t c = 0; c < kControlCount; ++c) {
    const ControlEntry& e = h.controls[c];
    if (static_cast<uint8_t>(e.mode) > 2 || static_cast<uint8_t>(e.taint_mode) > 2 ||
        static_cast<uint8_t>(e.default_verdict) > 1)
      return "image control field out of range";
    if (uint64_t{e.first_rule} + e.rule_count > h.rule_count) return "image control rules out of range";
  }
  for (uint32_t i = 0; i < h.rule_count; ++i) {
    Rule r;
    std::memcpy(&r, base + h.rules_offset + i * sizeof(Rule), sizeof r);
    if (static_cast<uint8_t>(r.verdict) > 1 || static_cast<uint8_t>(r.kind) > 3 ||
        static_cast<uint8_t>(r.phase) > 2)
      return "image rule field out of range";
    if (!str_ok(h, size, base, r.pattern) || !str_ok(h, size, base, r.label))
      return "image rule string is out of bounds";
    if (r.kind == MatchKind::kNetTarget) {
      if (static_cast<uint8_t>(r.net.kind) > 4) return "image network target kind out of range";
      if ((r.net.kind == NetKind::kIpv4 && r.net.prefix_len > 32) ||
          (r.net.kind == NetKind::kIpv6 && r.net.prefix_len > 128))
        return "image network prefix out of range";
    }
  }
  return nullptr;
}

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kOff:
      return "off";
    case Mode::kMonitor:
      return "monitor";
    case Mode::kBlock:
      return "block";
  }
  return "unknown";
}

const char* control_name(Control c) {
  switch (c) {
    case Control::kFilesRead:
      return "files.read";
    case Control::kFilesWrite:
      return "files.write";
    case Control::kNetOutbound:
      return "network.outbound";
    case Control::kNetInbound:
      return "network.inbound";
    case Control::kProcessExec:
      return "process.exec";
    case Control::kExecFromWritable:
      return "process.exec_from_writable";
    case Control::kWritable:
      return "writable_locations";
    case Control::kCount:
      break;
  }
  return "unknown";
}

}  // namespace fnguard::image
