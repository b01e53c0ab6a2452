// libFuzzer target for the strict HTTP/1.1 parser of the Runtime API proxy:
// heads (as request and as response) and chunked bodies fed in pieces. The
// parser must never crash, hang or read out of bounds, and a chunked body
// decoded in one piece must equal the same body decoded byte-split.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fnguard/lambda/http.h"

using fnguard::lambda::http::ChunkedDecoder;
using fnguard::lambda::http::Head;
using fnguard::lambda::http::Limits;
using fnguard::lambda::http::parse_head;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_head_bytes = 4096;
  limits.max_body_bytes = 1 << 20;
  for (bool request : {true, false}) {
    Head head;
    auto r = parse_head(in, request, limits, &head, request ? "" : "GET");
    if (r.ok() && r->has_value()) {
      size_t used = **r;
      if (used > in.size() || head.raw != in.substr(0, used)) __builtin_trap();
      if (head.framing == fnguard::lambda::http::Framing::kChunked) {
        std::string_view body = in.substr(used);
        ChunkedDecoder whole(limits), split(limits);
        std::string a, b;
        auto ra = whole.feed(body, &a);
        size_t pos = 0;
        bool split_ok = true;
        while (pos < body.size() && !split.done()) {
          size_t step = 1 + (pos % 7);
          if (step > body.size() - pos) step = body.size() - pos;
          auto rb = split.feed(body.substr(pos, step), &b);
          if (!rb.ok()) {
            split_ok = false;
            break;
          }
          if (*rb < step && !split.done()) __builtin_trap();  // stops only at the end
          pos += *rb;
          if (*rb < step) break;
        }
        if (ra.ok() != split_ok) __builtin_trap();
        if (ra.ok() && whole.done() != split.done()) __builtin_trap();
        if (ra.ok() && whole.done() && a != b) __builtin_trap();
      }
    }
  }
  return 0;
}
