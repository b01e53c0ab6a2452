// A small, strict HTTP/1.1 message parser for the Lambda Runtime API proxy and
// the local Runtime API server. It parses heads (request line or status line
// plus headers) and works out how the body is framed (Content-Length,
// chunked, until close, none); ChunkedDecoder walks a chunked body (with
// extensions and trailers) and says exactly where the message ends.
//
// Why our own and not a library: the proxy forwards bytes exactly as they
// arrived, so it needs the raw head and exact message boundaries rather than
// a callback-driven re-serialisation; Debian 12 ships nodejs/http-parser 2.9,
// whose upstream is archived, and does not package llhttp as a C library.
// See docs/LAMBDA.md.
//
// Strictness (each is a clear error, never a guess): CRLF line ends only; no
// obsolete line folding; no whitespace before a header's colon; header names
// are tokens; values contain no control characters but HT; Content-Length is
// digits only and repeated copies must agree; Transfer-Encoding must be exactly
// "chunked" and may not come with Content-Length (request smuggling); chunk
// sizes are hex without overflow. Every size is bounded by Limits.
//
// Pure functions over bytes: no I/O here (see http_io.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fnguard/common/result.h"

namespace fnguard::lambda::http {

struct Limits {
  size_t max_head_bytes = 64 * 1024;              // request/status line + headers
  size_t max_header_count = 128;
  uint64_t max_body_bytes = 64ull * 1024 * 1024;  // Lambda's own limits are 6 MB/20 MB
  size_t max_chunk_line = 4096;                   // chunk size + extensions, one trailer line
};

enum class Framing : uint8_t {
  kNone,        // no body (request without length, 1xx/204/304, response to HEAD)
  kLength,      // Content-Length bytes
  kChunked,     // Transfer-Encoding: chunked
  kUntilClose,  // a response without length: the body ends when the peer closes
};

struct Header {
  std::string name;   // as sent
  std::string value;  // without surrounding whitespace
};

struct Head {
  bool is_request = true;
  std::string method;   // requests
  std::string target;   // requests: "/2018-06-01/runtime/invocation/next"
  int status = 0;       // responses
  std::string reason;   // responses
  int minor_version = 1;  // HTTP/1.<minor>
  std::vector<Header> headers;
  std::string raw;      // the exact bytes of the head, final CRLF CRLF included

  Framing framing = Framing::kNone;
  uint64_t content_length = 0;  // with Framing::kLength
  bool keep_alive = true;

  // First header with this name (case-insensitive), or nullptr.
  const std::string* find(std::string_view name) const;
};

// Parses a head at the start of `data`. Returns the number of bytes the head
// took (its raw copy is in out->raw), std::nullopt when `data` does not hold a
// whole head yet, or an Error when it is malformed or exceeds the limits.
// `request_method` (responses only): the method of the request this answers,
// so a response to HEAD has no body.
Result<std::optional<size_t>> parse_head(std::string_view data, bool is_request,
                                         const Limits& limits, Head* out,
                                         std::string_view request_method = {});

// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

// Walks a chunked body. feed() consumes bytes up to the end of the message at
// most (so bytes of a following pipelined message are left alone), appends
// the decoded data to `decoded` when given, and reports errors. Trailer
// fields are kept in trailers().
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(const Limits& limits) : limits_(limits) {}

  // Returns how many bytes of `in` belong to this body.
  Result<size_t> feed(std::string_view in, std::string* decoded);
  bool done() const { return state_ == State::kDone; }
  uint64_t decoded_size() const { return total_; }
  const std::vector<Header>& trailers() const { return trailers_; }

 private:
  enum class State : uint8_t { kSizeLine, kData, kDataCr, kDataLf, kTrailerLine, kDone };
  Result<bool> finish_size_line();
  Result<bool> finish_trailer_line();

  Limits limits_;
  State state_ = State::kSizeLine;
  std::string line_;        // the line being collected (size line or trailer)
  bool line_cr_ = false;    // saw CR, expecting LF
  uint64_t remaining_ = 0;  // data bytes left in the current chunk
  uint64_t total_ = 0;
  size_t trailer_bytes_ = 0;
  std::vector<Header> trailers_;
};

// Encodes `body` as one chunk (or the last chunk when empty), for the local
// server's streaming support and tests.
std::string encode_chunk(std::string_view body);

// "200 OK"-style reason phrases for the statuses fnguard sends itself.
const char* reason_phrase(int status);

}  // namespace fnguard::lambda::http
