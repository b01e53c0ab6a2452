// The strict HTTP/1.1 parser: what it accepts, how it frames bodies, and that
// malformed or oversized input is an error (never a guess, never a crash).
#include "fnguard/lambda/http.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "fnguard/lambda/http_io.h"

namespace fnguard::lambda::http {
namespace {

Head parse_ok(const std::string& text, bool request, std::string_view method = {}) {
  Head h;
  Limits limits;
  auto r = parse_head(text, request, limits, &h, method);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (r.ok()) {
    EXPECT_TRUE(r->has_value());
  }
  return h;
}

std::string parse_error(const std::string& text, bool request, Limits limits = {}) {
  Head h;
  auto r = parse_head(text, request, limits, &h);
  if (r.ok()) return r->has_value() ? "<parsed>" : "<incomplete>";
  return r.error().message;
}

TEST(LambdaHttp, ParsesNextRequestAndKeepsRawBytes) {
  std::string text =
      "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"
      "User-Agent: x\r\n\r\nEXTRA";
  Head h;
  auto r = parse_head(text, true, Limits{}, &h);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, text.size() - 5);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/2018-06-01/runtime/invocation/next");
  EXPECT_EQ(h.raw, text.substr(0, text.size() - 5));
  EXPECT_EQ(h.framing, Framing::kNone);
  EXPECT_TRUE(h.keep_alive);
  ASSERT_NE(h.find("host"), nullptr);
  EXPECT_EQ(*h.find("HOST"), "127.0.0.1:9001");
}

TEST(LambdaHttp, ResponseFramingFollowsTheRfc) {
  Head h = parse_ok("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", false);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.framing, Framing::kLength);
  EXPECT_EQ(h.content_length, 12u);
  EXPECT_EQ(parse_ok("HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n", false).framing,
            Framing::kChunked);
  EXPECT_EQ(parse_ok("HTTP/1.1 204 No Content\r\n\r\n", false).framing, Framing::kNone);
  EXPECT_EQ(parse_ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, "HEAD").framing,
            Framing::kNone);
  Head close = parse_ok("HTTP/1.1 200 OK\r\n\r\n", false);
  EXPECT_EQ(close.framing, Framing::kUntilClose);
  EXPECT_FALSE(close.keep_alive);
  EXPECT_FALSE(parse_ok("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
  EXPECT_FALSE(parse_ok("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", true).keep_alive);
  EXPECT_EQ(parse_ok("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false).reason, "");
}

TEST(LambdaHttp, IncompleteHeadAsksForMore) {
  EXPECT_EQ(parse_error("GET / HTTP/1.1\r\nHost: x\r\n", true), "<incomplete>");
  EXPECT_EQ(parse_error("", true), "<incomplete>");
}

TEST(LambdaHttp, RefusesMalformedHeads) {
  EXPECT_NE(parse_error("GET / HTTP/1.1\nHost: x\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("GET  / HTTP/1.1\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("GET / HTTP/2.0\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("GET / HTTP/1.1\r\nHost : x\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("GET / HTTP/1.1\r\nNoColon\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("HTTP/1.1 2x0 OK\r\n\r\n", false), "<parsed>");
  EXPECT_NE(parse_error("HTTP/1.1 099 X\r\n\r\n", false), "<parsed>");
  EXPECT_NE(parse_error("HTTP/1.1 2000 OK\r\n\r\n", false), "<parsed>");
}

TEST(LambdaHttp, RefusesAmbiguousFramingThatEnablesSmuggling) {
  EXPECT_NE(parse_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                        true),
            "<parsed>");
  EXPECT_NE(parse_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", true),
            "<parsed>");
  EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", true),
            "<parsed>");
  EXPECT_NE(parse_error("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", true), "<parsed>");
  EXPECT_NE(parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", true),
            "<parsed>");
}

TEST(LambdaHttp, EnforcesLimits) {
  Limits small;
  small.max_head_bytes = 64;
  small.max_header_count = 2;
  small.max_body_bytes = 100;
  EXPECT_NE(parse_error("GET / HTTP/1.1\r\nA: " + std::string(100, 'x') + "\r\n\r\n", true, small),
            "<parsed>");
  // No terminator yet, but already past the limit: an error, not a wait.
  EXPECT_NE(parse_error("GET / HTTP/1.1\r\nA: " + std::string(100, 'x'), true, small),
            "<incomplete>");
  EXPECT_NE(parse_error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", true, small), "<parsed>");
  EXPECT_NE(parse_error("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", true, small),
            "<parsed>");
}

TEST(LambdaHttp, ChunkedDecoderFindsTheEndAndKeepsTrailers) {
  std::string body =
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
      "Lambda-Runtime-Function-Error-Type: Oops\r\n\r\nNEXT";
  ChunkedDecoder dec(Limits{});
  std::string out;
  // Byte by byte: the state machine must not depend on how reads split.
  size_t used = 0;
  for (size_t i = 0; i < body.size() && !dec.done(); ++i) {
    auto r = dec.feed(std::string_view(body).substr(i, 1), &out);
    ASSERT_TRUE(r.ok()) << r.error().message;
    used += *r;
  }
  EXPECT_TRUE(dec.done());
  EXPECT_EQ(used, body.size() - 4);
  EXPECT_EQ(out, "hello world");
  ASSERT_EQ(dec.trailers().size(), 1u);
  EXPECT_EQ(dec.trailers()[0].value, "Oops");
}

TEST(LambdaHttp, ChunkedDecoderRefusesBadInput) {
  for (const char* bad : {"zz\r\n", "5\r\nhelloX\r\n", "5\nhello", "\r\n",
                          "ffffffffffffffffff\r\n", "0\r\nbad trailer\r\n\r\n"}) {
    ChunkedDecoder dec(Limits{});
    auto r = dec.feed(bad, nullptr);
    EXPECT_FALSE(r.ok()) << bad;
  }
  Limits small;
  small.max_body_bytes = 4;
  ChunkedDecoder dec(small);
  EXPECT_FALSE(dec.feed("5\r\nhello\r\n", nullptr).ok());
}

TEST(LambdaHttp, EncodeChunkRoundTrips) {
  std::string wire = encode_chunk("abc") + encode_chunk(std::string(300, 'z')) + encode_chunk("");
  ChunkedDecoder dec(Limits{});
  std::string out;
  auto r = dec.feed(wire, &out);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(dec.done());
  EXPECT_EQ(out, "abc" + std::string(300, 'z'));
}

// A head and a body written together (one sendmsg when the socket takes
// both) arrive complete and in order, also when the socket buffer is small
// and every write is partial, cutting inside the head or the body.
TEST(LambdaHttp, TwoPartWriteDeliversHeadThenBodyThroughPartialWrites) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n";
  std::string body(3000000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 131) ^ (i >> 9));
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int small = 4096;
  ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  std::string got;
  std::thread reader([&] {
    char buf[1000];  // small reads, so the writer keeps hitting a full buffer
    for (;;) {
      ssize_t n = ::recv(sv[1], buf, sizeof buf, 0);
      if (n <= 0) return;
      got.append(buf, static_cast<size_t>(n));
    }
  });
  Status w = write_all(sv[0], head, body);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE(write_all(sv[0], "tail", "").ok());
  ::shutdown(sv[0], SHUT_WR);
  reader.join();
  ::close(sv[0]);
  ::close(sv[1]);
  EXPECT_TRUE(got == head + body + "tail") << "got " << got.size() << " bytes";
}

}  // namespace
}  // namespace fnguard::lambda::http
