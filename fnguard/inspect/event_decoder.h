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
// with RapidJSON's iterative SAX reader, so invalid UTF-8 and truncated JSON
// are errors too. Bodies with other encodings (multipart, XML) are scanned as plain text.
#pragma once

#include <cstddef>
#include <cstdint>
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

struct Field {
  std::string path;   // "queryStringParameters.file", "headers.user-agent", "body.items[2].name"
  std::string value;  // decoded once (URL, base64, JSON escapes) as the function would see it
  FieldSource source = FieldSource::kGeneric;
};

struct DecodeLimits {
  size_t max_event_bytes = 8u << 20;  // Lambda's synchronous payload limit is 6 MB
  uint32_t max_depth = 64;            // JSON nesting, for the event and for a JSON body
  size_t max_fields = 8192;           // values extracted from one event
  size_t max_path_bytes = 256;        // a longer field path is cut (the value is still kept)
};

struct DecodedEvent {
  EventShape shape = EventShape::kGeneric;
  std::string method;  // HTTP method when the event carries one
  std::vector<Field> fields;
};

// Decodes one event. Errors (one sentence each): not JSON / truncated /
// invalid UTF-8 (with the byte offset), too deep, too many values, too large.
// The body of an HTTP event that claims JSON but does not parse is kept as one
// plain-text "body" field rather than failing the whole event.
Result<DecodedEvent> decode_event(std::string_view raw_json, const DecodeLimits& limits = {});

// Helpers shared with the detectors and tests.
// Percent-decoding; invalid escapes are kept as they are. With plus_as_space,
// '+' becomes ' ' (query strings and form bodies).
std::string url_decode(std::string_view in, bool plus_as_space);
// Standard or URL-safe base64, padding optional, whitespace ignored. Fails on
// any other character.
Result<std::string> base64_decode(std::string_view in);

}  // namespace fnguard::inspect
