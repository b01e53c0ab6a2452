// Event decoding: turns the raw JSON body of a Lambda invocation event (the
// bytes the Runtime API returns from /invocation/next) into the list of values
// an attacker could have chosen, each with a field path such as
// "queryStringParameters.file" or "body.user.name".
//
// Recognised shapes: API Gateway REST (v1), HTTP API (v2), Lambda function URLs
// (the v2 shape with a lambda-url domain), Application Load Balancer, and any
// other JSON (generic: every string leaf with its dotted path, and a string
// that holds JSON flattened one level more). For HTTP shapes
// only the request parts the client controls are taken: query string (also
// rawQueryString, parsed and URL-decoded), path, path parameters, headers
// (multi-value too), cookies and the body (JSON leaves, form fields, base64
// decoded when isBase64Encoded, else plain text). requestContext, stage
// variables and other fields AWS fills in are not attacker-reachable and are
// skipped.
//
// Security limits, stated plainly: hostile input is bounded, not trusted.
// Nesting deeper than DecodeLimits::max_depth, more than max_fields values or
// an event larger than max_event_bytes is an error (the caller decides whether
// an event it could not inspect is refused), never a crash, a deep recursion
// or an unbounded allocation. UTF-8 is validated first, then JSON is parsed
// with RapidJSON's SAX reader (its recursion stops at max_depth; above a
// limit of 256 the iterative reader is used), so invalid UTF-8 and truncated
// JSON are errors too. Bodies with other encodings (multipart, XML) are scanned as plain text.
//
// Memory: every field is a pair of string_views into the DecodedEvent's
// TextArena, which holds the event's copy (the JSON unescaped in place in
// it), a JSON body's copy, the paths and the values that needed URL or
// base64 decoding. So a field costs no allocation of its own; the views stay
// valid while the DecodedEvent lives, also after it is moved, and do not
// depend on the raw event buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fnguard/common/result.h"

namespace fnguard::inspect {

enum class EventShape : uint8_t {
  kGeneric = 0,       // any other JSON event (SQS, S3, custom): every string leaf
  kApiGatewayV1 = 1,  // API Gateway REST API (payload format 1.0)
  kApiGatewayV2 = 2,  // API Gateway HTTP API (payload format 2.0)
  kFunctionUrl = 3,   // Lambda function URL (v2 shape, lambda-url domain)
  kAlb = 4,           // Application Load Balancer target
};

// "apigateway_v1", "apigateway_v2", "function_url", "alb", "generic".
const char* shape_name(EventShape shape);

// True for the shapes whose response is an HTTP response (a 403 can be sent).
inline bool is_http_shape(EventShape shape) { return shape != EventShape::kGeneric; }

// Where a value came from; used to rank taints (request parameters first).
enum class FieldSource : uint8_t {
  kQuery,
  kPath,
  kPathParameter,
  kBody,
  kCookie,
  kHeader,
  kGeneric,
};

// Byte storage whose blocks never move: views into it stay valid while the
// arena lives, however often it grows or is moved. Move-only, so a copy that
// would leave views pointing into another object's storage cannot be made.
class TextArena {
 public:
  TextArena() = default;
  // first_block: bytes of the first block (later blocks double).
  explicit TextArena(size_t first_block) : next_block_(first_block) {}
  // The moved-from arena is empty (it does not hand out bytes of the blocks it gave away).
  TextArena(TextArena&& other) noexcept { *this = std::move(other); }
  TextArena& operator=(TextArena&& other) noexcept;

  // n uninitialised bytes (no alignment: text only).
  char* allocate(size_t n);
  // A copy of s that lives as long as the arena.
  std::string_view copy(std::string_view s);
  // a + b in one piece.
  std::string_view join(std::string_view a, std::string_view b);
  // Gives back the unused tail of the last allocate(n) once only `used` of it
  // was written (a decoder that allocated its worst case).
  void shrink_last(char* start, size_t used);

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
  size_t next_block_ = 0;
};

// One value taken from the event. Both views point into the DecodedEvent
// that produced the field (see "Memory" above): a Field must not outlive it.
// Tests and benchmarks that build fields by hand keep the bytes alive themselves.
struct Field {
  // "queryStringParameters.file", "headers.user-agent", "body.items[2].name"
  std::string_view path;
  // Decoded once (URL, base64, JSON escapes) as the function would see it.
  std::string_view value;
  FieldSource source = FieldSource::kGeneric;
};

struct DecodeLimits {
  size_t max_event_bytes = 8u << 20;  // Lambda's synchronous payload limit is 6 MB
  uint32_t max_depth = 64;            // JSON nesting, for the event and for a JSON body
  size_t max_fields = 8192;           // values extracted from one event
  size_t max_path_bytes = 256;        // a longer field path is cut (the value is still kept)
};

// Move-only: `fields` view `storage`.
struct DecodedEvent {
  EventShape shape = EventShape::kGeneric;
  std::string method;  // HTTP method when the event carries one
  std::vector<Field> fields;
  // The bytes the fields view: the event's unescaped copy, paths, decoded values.
  TextArena storage;
};

// Decodes one event. Errors (one sentence each): not JSON / truncated /
// invalid UTF-8 (with the byte offset), too deep, too many values, too large.
// The body of an HTTP event that claims JSON but does not parse is kept as one
// plain-text "body" field rather than failing the whole event.
// `shape_seen`, when given, receives the event's shape also when decoding
// fails later (a request body over the limits): a caller that refuses such an
// event can still answer it in the event's own format.
Result<DecodedEvent> decode_event(std::string_view raw_json, const DecodeLimits& limits = {},
                                  EventShape* shape_seen = nullptr);

// Helpers shared with the detectors and tests.
// Percent-decoding; invalid escapes are kept as they are. With plus_as_space,
// '+' becomes ' ' (query strings and form bodies).
std::string url_decode(std::string_view in, bool plus_as_space);
// The same into `storage`; returns `in` itself when there is nothing to decode.
std::string_view url_decode(std::string_view in, bool plus_as_space, TextArena& storage);
// Standard or URL-safe base64, padding optional, whitespace ignored. Fails on
// any other character.
Result<std::string> base64_decode(std::string_view in);

}  // namespace fnguard::inspect
