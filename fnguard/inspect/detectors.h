// Attack detectors for single values taken from an invocation event: path
// traversal / local file inclusion, OS command injection, SQL injection and
// server-side request forgery (cloud metadata, loopback and internal targets).
//
// How a value is scanned: one pass classifies its bytes (a 256-entry table
// ORed into a mask: dots, slashes, quotes, shell metacharacters, '%', ...);
// each detector runs its precise checks only when the characters it needs are
// present, so ordinary words, numbers and ids cost one table pass. Values with
// percent escapes or backslashes are also scanned after decoding (up to three
// rounds of percent-decoding and JSON unescaping, which catches double and
// triple encoding, JSON escapes left in text, and overlong UTF-8 forms of '.',
// '/' and '\'); SSRF also looks at hosts written with IDNA look-alikes. The choice of this
// hand-written prefilter over Hyperscan/Vectorscan, with the measurements, is in
// docs/INSPECTION.md.
//
// Security limits, stated plainly: these are signatures, not parsers of every
// shell and SQL dialect. They aim at the payloads attackers actually send
// (OWASP/PayloadsAllTheThings-style), with checks that keep ordinary text
// ("O'Brien", "SELECT a plan", "Tom & Jerry") quiet. An attacker who knows the
// rules can find an encoding they do not cover; the enforcer's policy and taint
// checks are the layer that does not depend on recognising the payload.
// SSRF is judged on the literal host only (no DNS resolution): a public name
// that resolves to an internal address is the network policy's job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fnguard/common/result.h"

namespace fnguard::inspect {

enum class Detector : uint8_t {
  kPathTraversal = 0,
  kCommandInjection = 1,
  kSqlInjection = 2,
  kSsrf = 3,
};
inline constexpr int kDetectorCount = 4;

// A set of detectors as a bit mask (bit = 1 << Detector).
using DetectorSet = uint8_t;
inline constexpr DetectorSet kAllDetectors = 0x0f;
inline constexpr DetectorSet detector_bit(Detector d) {
  return static_cast<DetectorSet>(1u << static_cast<unsigned>(d));
}

// The policy names: "path_traversal", "command_injection", "sql_injection", "ssrf".
const char* detector_name(Detector d);
Result<Detector> parse_detector(std::string_view name);

struct Match {
  Detector detector;
  const char* rule;  // static, e.g. "sqli.union_select", "ssrf.metadata"
  std::string
      evidence;  // a short excerpt (at most kMaxEvidence bytes) around the match, printable ASCII
  bool decoded;  // found only after percent-decoding the value
};
inline constexpr size_t kMaxEvidence = 64;

struct ScanOptions {
  DetectorSet detectors = kAllDetectors;
  // Off runs every precise check on every value (the benchmark's baseline;
  // the results are the same, only slower).
  bool prefilter = true;
};

// Scans one value; appends at most one match per detector. Never allocates
// more than a few copies of the value; linear in its length.
void scan_value(std::string_view value, const ScanOptions& options, std::vector<Match>& out);

}  // namespace fnguard::inspect
