// The compiled policy image: the only form of a policy that the in-process
// enforcer ever sees. The supervisor parses and validates YAML/JSON, compiles
// it into this flat, position-independent blob, writes it to a memfd and seals
// it (no write, grow, shrink or further sealing), and the enforcer maps it
// read-only. Code inside the protected process therefore cannot reconfigure
// protection: there is nothing to parse and nothing writable.
//
// Layout: Header, then `rule_count` Rule records, then a string table. Every
// reference is an offset from the start of the image, checked by
// image_validate() before use, so a truncated or hostile image is refused
// rather than read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fnguard::image {

inline constexpr uint32_t kMagic = 0x31474e46;  // "FNG1" little-endian
inline constexpr uint32_t kVersion = 1;

enum class Mode : uint8_t { kOff = 0, kMonitor = 1, kBlock = 2 };
enum class Verdict : uint8_t { kAllow = 0, kDeny = 1 };
enum class Phase : uint8_t { kAny = 0, kInit = 1, kInvoke = 2 };

// The controls, in the order of Header::controls. kWritable is not a control
// users set directly: its rules are the locations `exec_from_writable`
// treats as writable (the built-in temporary directories plus the allow globs
// of files.write).
enum class Control : uint8_t {
  kFilesRead = 0,
  kFilesWrite,
  kNetOutbound,
  kNetInbound,
  kProcessExec,
  kExecFromWritable,
  kWritable,
  kCount
};
inline constexpr size_t kControlCount = static_cast<size_t>(Control::kCount);

// How a rule matches its subject.
enum class MatchKind : uint8_t {
  kPathGlob = 0,   // pattern is a glob over normal absolute paths
  kExecName = 1,   // pattern is a basename (exact)
  kExecSha256 = 2, // sha256 holds the 32-byte digest of the file's content
  kNetTarget = 3,  // net holds the address/domain/port
};

enum class NetKind : uint8_t {
  kAnyHost = 0,     // "*" or ":PORT" only
  kDomain = 1,      // exact domain, pattern lower-case
  kDomainSuffix = 2,// "*.example.com": pattern is ".example.com"
  kIpv4 = 3,        // addr[0..4), prefix_len 0..32
  kIpv6 = 4,        // addr[0..16), prefix_len 0..128
};

struct StrRef {
  uint32_t offset;  // from the start of the image; the string is NUL-terminated
  uint32_t length;  // without the NUL
};

struct NetTarget {
  NetKind kind;
  uint8_t prefix_len;
  uint16_t port;  // host byte order; 0 = any port
  uint8_t addr[16];
};

// Where a rule came from, so events can name it: files.read.rules[2]. Rules
// that fnguard adds itself (the Runtime API endpoint, the nameservers) have
// kBuiltinRule as source_index and their name in `label`.
inline constexpr uint32_t kBuiltinRule = 0xffffffffu;
// The label of the built-in rules that honeypots.files (and, with
// honeypots.env, /proc/**/environ) become: a touch is a `honeypot` event.
inline constexpr const char kHoneypotLabel[] = "honeypot";

struct Rule {
  Verdict verdict;
  MatchKind kind;
  Phase phase;
  uint8_t reserved;
  uint32_t source_index;  // index in the user's rule list, or kBuiltinRule
  StrRef pattern;         // glob, basename, or domain (see MatchKind/NetKind)
  StrRef label;           // builtin rules: their name ("runtime_api"); else empty
  NetTarget net;
  uint8_t sha256[32];
};

struct ControlEntry {
  Mode mode;               // effective mode after top-level default applied
  Verdict default_verdict; // when no rule matches
  Mode taint_mode;         // kOff unless the policy says `taint: monitor|block`
  uint8_t reserved;
  uint32_t first_rule;     // index into the rule array
  uint32_t rule_count;
};

// Header::flags bits.
inline constexpr uint32_t kRequirePreload = 1u << 0;
inline constexpr uint32_t kRequireKernel = 1u << 1;
inline constexpr uint32_t kInspectConfigured = 1u << 2;   // the policy has an inspect section
inline constexpr uint32_t kHoneypotsConfigured = 1u << 3;  // decoys: rules labelled kHoneypotLabel

struct Header {
  uint32_t magic;
  uint32_t version;
  uint32_t total_size;  // bytes, including the string table
  uint32_t flags;
  Mode top_mode;
  uint8_t reserved[3];
  uint32_t rule_count;
  uint32_t rules_offset;    // offset of Rule[rule_count]
  uint32_t strings_offset;  // offset of the string table
  uint32_t strings_size;
  StrRef task_root;         // $TASK_ROOT as compiled, for events and docs
  ControlEntry controls[kControlCount];
};

// Checks that `size` bytes at `data` form a well-formed image: magic,
// version, sizes, every offset and string in bounds and NUL-terminated, every
// enum in range. No allocation. Returns nullptr when valid, else a static
// description of the first problem.
const char* image_validate(const void* data, size_t size);

// Accessors over a validated image. No allocation, no locks.
class View {
 public:
  View() = default;
  View(const void* data, size_t size)
      : base_(static_cast<const uint8_t*>(data)), size_(size) {}

  bool valid() const { return base_ != nullptr; }
  const Header& header() const { return *reinterpret_cast<const Header*>(base_); }
  const ControlEntry& control(Control c) const {
    return header().controls[static_cast<size_t>(c)];
  }
  const Rule& rule(uint32_t index) const {
    return reinterpret_cast<const Rule*>(base_ + header().rules_offset)[index];
  }
  const char* str(StrRef ref) const { return reinterpret_cast<const char*>(base_ + ref.offset); }
  const uint8_t* data() const { return base_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

const char* mode_name(Mode m);        // "off" | "monitor" | "block"
const char* control_name(Control c);  // "files.read", "network.outbound", ...

}  // namespace fnguard::image
