// The strict HTTP/1.1 head parser and chunked-body walker (see http.h).
#include "fnguard/lambda/http.h"

#include <cstdio>
#include <cstring>

namespace fnguard::lambda::http {
namespace {

// RFC 9110 tchar: digits, letters and !#$%&'*+-.^_`|~, as a table (header
// names are full of '-', which a strchr() per byte made the parser's
// costliest step).
struct TcharTable {
  bool ok[256] = {};
  constexpr TcharTable() {
    for (int c = '0'; c <= '9'; ++c) ok[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) ok[c] = ok[c - 32] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) ok[static_cast<unsigned char>(c)] = true;
  }
};
constexpr TcharTable kTchar;

bool is_tchar(unsigned char c) { return kTchar.ok[c]; }

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

// Field values: visible characters, SP, HT and obs-text; no other control characters.
bool is_field_value(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Error malformed(const std::string& what) {
  return make_error("malformed HTTP message: " + what,
                    "the peer does not speak HTTP/1.1 as expected; check what is listening");
}

bool parse_version(std::string_view v, int* minor) {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1.") return false;
  if (v[7] != '0' && v[7] != '1') return false;
  *minor = v[7] - '0';
  return true;
}

// Parses a decimal Content-Length value, digits only.
bool parse_length(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// Whether a comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim_ows(list.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

const std::string* Head::find(std::string_view name) const {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

Result<std::optional<size_t>> parse_head(std::string_view data, bool is_request,
                                         const Limits& limits, Head* out,
                                         std::string_view request_method) {
  // Leading empty lines before a request are tolerated by RFC 9112 2.2, but
  // nothing we talk to sends them: refuse, as everything else that is odd.
  size_t end = data.find("\r\n\r\n");
  // A bare LF anywhere in the head is an error now, not after the limit: a
  // peer that ends lines with LF alone would otherwise wait forever.
  size_t scan_end = end == std::string_view::npos ? data.size() : end;
  for (const char* p = data.data();
       (p = static_cast<const char*>(std::memchr(p, '\n', data.data() + scan_end - p))) != nullptr;
       ++p) {
    if (p == data.data() || p[-1] != '\r') return malformed("bare LF in the head");
  }
  if (end == std::string_view::npos) {
    if (data.size() > limits.max_head_bytes) {
      return malformed("the head is larger than " + std::to_string(limits.max_head_bytes) +
                       " bytes");
    }
    return std::optional<size_t>{};
  }
  size_t head_size = end + 4;
  if (head_size > limits.max_head_bytes) {
    return malformed("the head is larger than " + std::to_string(limits.max_head_bytes) +
                     " bytes");
  }
  std::string_view head = data.substr(0, end + 2);  // every line ends in CRLF
  Head h;
  h.headers.reserve(16);  // one allocation for a typical head instead of five
  h.is_request = is_request;
  h.raw.assign(data.data(), head_size);

  size_t line_end = head.find("\r\n");
  std::string_view first = head.substr(0, line_end);
  if (first.find('\n') != std::string_view::npos || first.find('\r') != std::string_view::npos) {
    return malformed("bare CR or LF in the first line");
  }
  if (is_request) {
    size_t sp1 = first.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : first.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || first.find(' ', sp2 + 1) != std::string_view::npos) {
      return malformed("the request line is not 'METHOD TARGET HTTP/1.x'");
    }
    std::string_view method = first.substr(0, sp1);
    std::string_view target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    if (!is_token(method)) return malformed("the method is not a token");
    if (target.empty()) return malformed("the request target is empty");
    for (unsigned char c : target) {
      if (c <= 0x20 || c == 0x7f) return malformed("the request target has a control character");
    }
    if (!parse_version(first.substr(sp2 + 1), &h.minor_version)) {
      return malformed("unsupported HTTP version in the request line");
    }
    h.method = method;
    h.target = target;
  } else {
    if (first.size() < 12 || !parse_version(first.substr(0, 8), &h.minor_version) ||
        first[8] != ' ') {
      return malformed("the status line is not 'HTTP/1.x CODE REASON'");
    }
    std::string_view code = first.substr(9, 3);
    for (char c : code) {
      if (c < '0' || c > '9') return malformed("the status code is not three digits");
    }
    if (first.size() > 12 && first[12] != ' ') return malformed("the status code is not three digits");
    h.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    if (h.status < 100) return malformed("the status code is below 100");
    if (first.size() > 13) h.reason = first.substr(13);
    if (!is_field_value(h.reason)) return malformed("the reason phrase has a control character");
  }

  // Header lines.
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    // No LF: every LF in the head ends a line (the bare-LF check above).
    if (line.find('\r') != std::string_view::npos)
      return malformed("bare CR or LF in a header line");
    if (line.front() == ' ' || line.front() == '\t') {
      return malformed("obsolete line folding in the headers");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return malformed("a header line has no colon");
    std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return malformed("a header name is not a token (whitespace before ':'?)");
    std::string_view value = trim_ows(line.substr(colon + 1));
    if (!is_field_value(value)) return malformed("the header '" + std::string(name) +
                                                 "' has a control character");
    if (h.headers.size() >= limits.max_header_count) {
      return malformed("more than " + std::to_string(limits.max_header_count) + " headers");
    }
    h.headers.push_back(Header{std::string(name), std::string(value)});
  }

  // Framing (RFC 9112 section 6).
  bool have_length = false, chunked = false;
  for (const Header& hd : h.headers) {
    if (iequals(hd.name, "Content-Length")) {
      uint64_t v = 0;
      if (!parse_length(hd.value, &v)) return malformed("Content-Length is not a number");
      if (have_length && v != h.content_length) return malformed("conflicting Content-Length headers");
      have_length = true;
      h.content_length = v;
    } else if (iequals(hd.name, "Transfer-Encoding")) {
      if (chunked || !iequals(hd.value, "chunked")) {
        return malformed("Transfer-Encoding other than a single 'chunked' is not supported");
      }
      chunked = true;
    }
  }
  if (chunked && have_length) return malformed("both Transfer-Encoding and Content-Length are set");
  if (have_length && h.content_length > limits.max_body_bytes) {
    return malformed("the body is larger than " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  bool bodiless_response =
      !is_request && (h.status < 200 || h.status == 204 || h.status == 304 ||
                      iequals(request_method, "HEAD"));
  if (bodiless_response) {
    h.framing = Framing::kNone;
  } else if (chunked) {
    h.framing = Framing::kChunked;
  } else if (have_length) {
    h.framing = h.content_length > 0 ? Framing::kLength : Framing::kNone;
  } else {
    h.framing = is_request ? Framing::kNone : Framing::kUntilClose;
  }

  const std::string* connection = h.find("Connection");
  if (h.minor_version == 0) {
    h.keep_alive = connection != nullptr && has_token(*connection, "keep-alive");
  } else {
    h.keep_alive = connection == nullptr || !has_token(*connection, "close");
  }
  if (h.framing == Framing::kUntilClose) h.keep_alive = false;

  *out = std::move(h);
  return std::optional<size_t>{head_size};
}

Result<bool> ChunkedDecoder::finish_size_line() {
  std::string_view line = line_;
  size_t semi = line.find(';');
  std::string_view size = trim_ows(line.substr(0, semi));
  if (semi != std::string_view::npos && !is_field_value(line.substr(semi))) {
    return malformed("a chunk extension has a control character");
  }
  if (size.empty() || size.size() > 15) return malformed("a chunk size is empty or too long");
  uint64_t v = 0;
  for (char c : size) {
    int d = hex_value(c);
    if (d < 0) return malformed("a chunk size is not hexadecimal");
    v = v * 16 + static_cast<uint64_t>(d);
  }
  if (total_ + v > limits_.max_body_bytes) {
    return malformed("the chunked body is larger than " + std::to_string(limits_.max_body_bytes) +
                     " bytes");
  }
  remaining_ = v;
  line_.clear();
  state_ = v == 0 ? State::kTrailerLine : State::kData;
  return true;
}

Result<bool> ChunkedDecoder::finish_trailer_line() {
  if (line_.empty()) {
    state_ = State::kDone;
    return true;
  }
  std::string_view line = line_;
  if (line.front() == ' ' || line.front() == '\t') return malformed("obsolete line folding in trailers");
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    return malformed("a trailer line is not 'name: value'");
  }
  std::string_view value = trim_ows(line.substr(colon + 1));
  if (!is_field_value(value)) return malformed("a trailer value has a control character");
  if (trailers_.size() >= limits_.max_header_count) return malformed("too many trailer fields");
  trailers_.push_back(Header{std::string(line.substr(0, colon)), std::string(value)});
  line_.clear();
  return true;
}

Result<size_t> ChunkedDecoder::feed(std::string_view in, std::string* decoded) {
  size_t i = 0;
  while (i < in.size() && state_ != State::kDone) {
    char c = in[i];
    switch (state_) {
      case State::kSizeLine:
      case State::kTrailerLine: {
        ++i;
        if (line_cr_) {
          if (c != '\n') return malformed("CR without LF in a chunk line");
          line_cr_ = false;
          Result<bool> r = state_ == State::kSizeLine ? finish_size_line() : finish_trailer_line();
          if (!r.ok()) return r.error();
          break;
        }
        if (c == '\r') {
          line_cr_ = true;
          break;
        }
        if (c == '\n') return malformed("bare LF in a chunk line");
        if (line_.size() >= limits_.max_chunk_line) return malformed("a chunk line is too long");
        if (state_ == State::kTrailerLine) {
          if (++trailer_bytes_ > limits_.max_head_bytes) return malformed("the trailers are too large");
        }
        line_.push_back(c);
        break;
      }
      case State::kData: {
        size_t take = in.size() - i;
        if (take > remaining_) take = static_cast<size_t>(remaining_);
        if (decoded != nullptr) decoded->append(in.data() + i, take);
        i += take;
        remaining_ -= take;
        total_ += take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return malformed("a chunk is longer than its size says");
        ++i;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return malformed("CR without LF after a chunk");
        ++i;
        state_ = State::kSizeLine;
        break;
      case State::kDone:
        break;
    }
  }
  return i;
}

std::string encode_chunk(std::string_view body) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", body.size());
  std::string out(size);
  out.append(body);
  out.append("\r\n");
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

}  // namespace fnguard::lambda::http
