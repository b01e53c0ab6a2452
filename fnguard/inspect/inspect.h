// Payload inspection: the one call the Runtime API proxy makes for each
// invocation event, and the helpers it needs to act on the answer.
//
//   Result<InspectionResult> r = inspect_event(body_of_invocation_next, options);
//   if (!r) { /* not inspectable: r.error().message says why; the proxy decides */ }
//   for (const Finding& f : r->findings) { /* one `detection` event each */ }
//   fill_context_taints(r->taints, page);              // inside the page's seqlock write
//   if (block && !r->findings.empty())
//     answer = r->http ? blocked_response(r->shape, request_id) : blocked_error(request_id);
//
// This library has no I/O, no global state and no dependency on the proxy; it
// allocates (it runs in the supervisor, not inside the function's process),
// but not per value: taints are views into the decoded event the result
// owns, and the only copy of their bytes is the one into the context page.
//
// Lifetimes: a Taint views bytes owned by the InspectionResult it came from
// (InspectionResult::decoded); it is valid while that result lives, also
// after the result is moved, and never depends on the raw event buffer.
// Findings own their strings (they are rare).
// Security limits: see event_decoder.h (bounded decoding, what counts as
// attacker-reachable) and detectors.h (signatures, not full parsers).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/context.h"
#include "fnguard/inspect/detectors.h"
#include "fnguard/inspect/event_decoder.h"

namespace fnguard::inspect {

struct InspectOptions {
  DetectorSet detectors = kAllDetectors;  // from the policy's inspect.detectors
  bool prefilter = true;                  // off only for benchmarks
  DecodeLimits limits;
  size_t max_findings = 32;           // per event; later findings are counted, not kept
  size_t max_value_in_finding = 512;  // Finding::value is cut to this many bytes
};

struct Finding {
  Detector detector;
  const char* rule;      // static: "path.traversal", "sqli.union_select", ...
  std::string field;     // "queryStringParameters.file"
  std::string evidence;  // short printable excerpt around the match
  std::string
      value;     // the field's value, cut to max_value_in_finding, invalid UTF-8 replaced by '?'
  bool decoded;  // matched only after percent-decoding
  size_t field_index;  // into the fields that were scanned (DecodedEvent::fields order)
};

// A value to publish to the enforcer. Views: see "Lifetimes" above.
struct Taint {
  std::string_view field;
  std::string_view value;
};

struct InspectionResult {
  EventShape shape = EventShape::kGeneric;
  bool http = false;   // the response is an HTTP response: blocked_response() applies
  std::string method;  // HTTP method when known
  std::vector<Finding> findings;
  size_t findings_dropped = 0;  // beyond max_findings
  // Ranked, fits a ContextPage (see select_taints); views into `decoded`.
  std::vector<Taint> taints;
  size_t fields = 0;         // values extracted from the event
  size_t bytes_scanned = 0;  // their total length
  DecodedEvent decoded;      // the fields that were scanned and the bytes taints view
};

// Decodes and scans one event. An error means the event could not be decoded
// (not JSON, too deep, too many values, too large); nothing was scanned.
// `shape_seen`: as for decode_event.
Result<InspectionResult> inspect_event(std::string_view raw_event_json,
                                       const InspectOptions& options = {},
                                       EventShape* shape_seen = nullptr);

// Scans already-decoded fields (inspect_event's second half; the benchmark
// uses it to time the detectors alone).
void scan_fields(const std::vector<Field>& fields, const InspectOptions& options,
                 InspectionResult& result);

// Chooses the values to publish to the enforcer: strings of at least 3 bytes
// that are not only digits or one repeated character, de-duplicated; values
// with a finding first (with their decoded form too), then request parameters
// (query, path parameters, body, cookies, path) before headers, longer first;
// at most image::kMaxTaints entries whose field and value bytes fit
// ContextPage::taint_data. A value longer than kMaxTaintValue is cut to its
// prefix: a prefix still occurs wherever the whole value does, so a
// "contains" check stays correct (it can only match more).
// The taints view the fields' bytes and, for decoded forms, `storage`: they
// are valid while both live.
inline constexpr size_t kMaxTaintValue = 1024;
inline constexpr size_t kMaxTaintField = 128;
std::vector<Taint> select_taints(const std::vector<Field>& fields,
                                 const std::vector<Finding>& findings, TextArena& storage);

// Writes taints into the page's taint_count/taints/taint_data and nothing
// else (the caller holds the page's sequence lock). Entries that do not fit
// are left out. Returns how many were written.
size_t fill_context_taints(const std::vector<Taint>& taints, image::ContextPage& page);

struct BlockResponseOptions {
  int status_code = 403;
  std::string message = "Forbidden";
  bool include_request_id = true;  // adds "requestId" so a user can quote it to support
};

// The Lambda response that answers a blocked HTTP-shaped invocation:
// {"statusCode":403,"headers":{"content-type":"application/json"},
//  "body":"{\"message\":\"Forbidden\",\"requestId\":\"...\"}","isBase64Encoded":false}
// ALB responses also carry "statusDescription" ("403 Forbidden").
std::string blocked_response(EventShape shape, std::string_view request_id,
                             const BlockResponseOptions& options = {});

// For non-HTTP events: the body to POST to /invocation/{id}/error.
std::string blocked_error(std::string_view request_id);

}  // namespace fnguard::inspect
