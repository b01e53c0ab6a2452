// inspect_event and its helpers: scan the decoded fields, rank the taints,
// fill the context page, build the answer for a blocked invocation.
#include "fnguard/inspect/inspect.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "fnguard/common/json_string.h"

namespace fnguard::inspect {
namespace {

// Headers that legitimately name hosts (the API's own, the client's origin,
// the proxy chain) would make the SSRF detector fire on every local test
// ("Origin: http://localhost:3000"); SSRF is about URLs the function fetches,
// which come from parameters and bodies. The other detectors still scan them.
bool host_bearing_header(std::string_view field) {
  static constexpr std::string_view kHeaders[] = {
      "headers.host",
      "headers.origin",
      "headers.referer",
      "headers.x-forwarded-for",
      "headers.x-forwarded-host",
      "headers.x-real-ip",
      "headers.forwarded",
      "headers.via",
  };
  for (std::string_view h : kHeaders)
    if (field == h) return true;
  return false;
}

// Keeps valid UTF-8, replaces every other byte with '?', so events stay valid JSON.
std::string sanitize_utf8(std::string_view s, size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max));
  size_t i = 0;
  while (i < s.size() && out.size() < max) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= s.size() && (len == 1 || c >= 0xc2);
    for (size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (!ok || out.size() + len > max) {
      if (!ok) {
        out += '?';
        ++i;
        continue;
      }
      break;
    }
    out.append(s, i, len);
    i += len;
  }
  return out;
}

int source_rank(FieldSource s) {
  switch (s) {
    case FieldSource::kQuery:
      return 0;
    case FieldSource::kPathParameter:
      return 1;
    case FieldSource::kBody:
      return 2;
    case FieldSource::kGeneric:
      return 2;
    case FieldSource::kCookie:
      return 3;
    case FieldSource::kPath:
      return 4;
    case FieldSource::kHeader:
      return 5;
  }
  return 6;
}

// Shorter than 3 bytes, only digits, or one character repeated. The repeat
// test is one memcmp of the value against itself shifted by a byte (every
// byte equals the next), which is vectorised: a byte loop over a long run of
// one character (padding, a filler body) was a tenth of the proxy's time.
bool trivial(std::string_view v) {
  if (v.size() < 3) return true;
  if (std::memcmp(v.data(), v.data() + 1, v.size() - 1) == 0) return true;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 406:
      return "Not Acceptable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "Blocked";
}

}  // namespace

void scan_fields(const std::vector<Field>& fields, const InspectOptions& options,
                 InspectionResult& result) {
  ScanOptions scan;
  scan.prefilter = options.prefilter;
  std::vector<Match> matches;
  for (size_t index = 0; index < fields.size(); ++index) {
    const Field& f = fields[index];
    scan.detectors = options.detectors;
    if (f.source == FieldSource::kHeader && host_bearing_header(f.path))
      scan.detectors &= static_cast<DetectorSet>(~detector_bit(Detector::kSsrf));
    matches.clear();
    scan_value(f.value, scan, matches);
    result.bytes_scanned += f.value.size();
    for (Match& m : matches) {
      if (result.findings.size() >= options.max_findings) {
        ++result.findings_dropped;
        continue;
      }
      result.findings.push_back(
          Finding{m.detector, m.rule, std::string(f.path), std::move(m.evidence),
                  sanitize_utf8(f.value, options.max_value_in_finding), m.decoded, index});
    }
  }
  result.fields += fields.size();
}

Result<InspectionResult> inspect_event(std::string_view raw_event_json,
                                       const InspectOptions& options, EventShape* shape_seen) {
  Result<DecodedEvent> decoded = decode_event(raw_event_json, options.limits, shape_seen);
  if (!decoded.ok()) return decoded.error();
  InspectionResult result;
  // Moving the event keeps every view into it valid (its storage's blocks stay put).
  result.decoded = std::move(decoded.value());
  result.shape = result.decoded.shape;
  result.http = is_http_shape(result.decoded.shape);
  result.method = result.decoded.method;
  scan_fields(result.decoded.fields, options, result);
  result.taints = select_taints(result.decoded.fields, result.findings, result.decoded.storage);
  return result;
}

std::vector<Taint> select_taints(const std::vector<Field>& fields,
                                 const std::vector<Finding>& findings, TextArena& storage) {
  // Which fields have a finding, and whether one was only seen decoded: one
  // pass over the findings instead of one per field.
  constexpr uint8_t kSuspicious = 1, kDecoded = 2;
  std::vector<uint8_t> marks(fields.size(), 0);
  for (const Finding& fi : findings) {
    if (fi.field_index < fields.size() && fi.field == fields[fi.field_index].path)
      marks[fi.field_index] |= static_cast<uint8_t>(kSuspicious | (fi.decoded ? kDecoded : 0));
  }
  // Candidates are small plain records: a decoded form (in `storage`) is
  // viewed from `decoded_values`, referenced by index. Sorting with the
  // insertion order as the last key gives stable_sort's order without its
  // scratch buffer.
  struct Candidate {
    uint32_t field;
    int32_t decoded;  // index into decoded_values, or -1 for the field's own value
    uint32_t order;
    bool suspicious;
    uint8_t rank;
    size_t length;
  };
  std::vector<Candidate> candidates;
  candidates.reserve(fields.size());
  std::vector<std::string_view> decoded_values;
  for (size_t index = 0; index < fields.size(); ++index) {
    const Field& f = fields[index];
    if (trivial(f.value)) continue;
    uint8_t m = marks[index];
    candidates.push_back(Candidate{static_cast<uint32_t>(index), -1,
                                   static_cast<uint32_t>(candidates.size()), (m & kSuspicious) != 0,
                                   static_cast<uint8_t>(source_rank(f.source)), f.value.size()});
    if (m & kDecoded) {
      // What the function sees after it decodes the value itself.
      std::string_view v = f.value;
      for (int i = 0; i < 3; ++i) {
        std::string_view next = url_decode(v, false, storage);
        if (next == v) break;
        v = next;
      }
      if (v != f.value && !trivial(v)) {
        size_t length = v.size();
        decoded_values.push_back(v);
        candidates.push_back(Candidate{static_cast<uint32_t>(index),
                                       static_cast<int32_t>(decoded_values.size() - 1),
                                       static_cast<uint32_t>(candidates.size()), true, 0, length});
      }
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.suspicious != b.suspicious) return a.suspicious;
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.length != b.length) return a.length > b.length;
    return a.order < b.order;
  });
  std::vector<Taint> out;
  out.reserve(std::min(candidates.size(), image::kMaxTaints));
  size_t bytes = 0;
  constexpr size_t kData = sizeof(image::ContextPage::taint_data);
  std::string_view taken[image::kMaxTaints];  // out[i].value, packed for the dedup look
  uint64_t lengths[4] = {0, 0, 0, 0};         // bit (size % 256) of every taken value
  for (const Candidate& c : candidates) {
    if (out.size() >= image::kMaxTaints) break;
    const Field& f = fields[c.field];
    std::string_view value =
        c.decoded < 0 ? f.value : decoded_values[static_cast<size_t>(c.decoded)];
    value = value.substr(0, kMaxTaintValue);
    std::string_view field = f.path.substr(0, kMaxTaintField);
    // De-duplicated against what was taken so far: at most kMaxTaints
    // entries, compared by length first, so a linear look is cheaper than
    // hashing every candidate.
    // A 256-bit filter on the length skips the look when no taken value has
    // this length modulo 256 (the common case).
    bool seen = false;
    const size_t bucket = value.size() & 255;
    const uint64_t bit = uint64_t{1} << (bucket & 63);
    if (lengths[bucket >> 6] & bit) {
      for (size_t i = 0; i < out.size(); ++i) {
        if (taken[i].size() == value.size() && taken[i] == value) {
          seen = true;
          break;
        }
      }
    }
    if (seen) continue;
    if (bytes + value.size() + field.size() > kData) continue;  // a shorter one may still fit
    bytes += value.size() + field.size();
    taken[out.size()] = value;
    out.push_back(Taint{field, value});
    lengths[bucket >> 6] |= bit;
  }
  return out;
}

size_t fill_context_taints(const std::vector<Taint>& taints, image::ContextPage& page) {
  constexpr size_t kData = sizeof(page.taint_data);
  size_t used = 0, n = 0;
  for (const Taint& t : taints) {
    if (n >= image::kMaxTaints) break;
    size_t f = std::min(t.field.size(), kMaxTaintField);
    size_t v = std::min(t.value.size(), kMaxTaintValue);
    if (used + f + v > kData) continue;
    image::TaintValue& slot = page.taints[n++];
    slot.field_offset = static_cast<uint16_t>(used);
    slot.field_length = static_cast<uint16_t>(f);
    std::memcpy(page.taint_data + used, t.field.data(), f);
    used += f;
    slot.value_offset = static_cast<uint16_t>(used);
    slot.value_length = static_cast<uint16_t>(v);
    std::memcpy(page.taint_data + used, t.value.data(), v);
    used += v;
  }
  for (size_t i = n; i < image::kMaxTaints; ++i) page.taints[i] = image::TaintValue{};
  page.taint_count = static_cast<uint32_t>(n);
  return n;
}

std::string blocked_response(EventShape shape, std::string_view request_id,
                             const BlockResponseOptions& options) {
  std::string body = "{\"message\":";
  append_json_string(body, options.message);
  if (options.include_request_id && !request_id.empty()) {
    body += ",\"requestId\":";
    append_json_string(body, request_id);
  }
  body += '}';
  std::string out = "{\"statusCode\":" + std::to_string(options.status_code);
  if (shape == EventShape::kAlb) {
    out += ",\"statusDescription\":";
    append_json_string(
        out, std::to_string(options.status_code) + " " + reason_phrase(options.status_code));
  }
  out += ",\"headers\":{\"content-type\":\"application/json\"},\"body\":";
  append_json_string(out, body);
  out += ",\"isBase64Encoded\":false}";
  return out;
}

std::string blocked_error(std::string_view request_id) {
  std::string out = "{\"errorMessage\":";
  append_json_string(out, "fnguard blocked this invocation: its event carried an attack (request " +
                              std::string(request_id) + ")");
  out += ",\"errorType\":\"FnguardBlocked\"}";
  return out;
}

}  // namespace fnguard::inspect
