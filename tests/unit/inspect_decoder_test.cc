// Event decoding: each shape yields the values an attacker controls, under
// the field names the events and taints use; hostile input is an error value.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fnguard/inspect/event_decoder.h"

namespace fnguard::inspect {
namespace {

std::multimap<std::string, std::string> fields_of(const DecodedEvent& e) {
  std::multimap<std::string, std::string> m;
  for (const Field& f : e.fields) m.emplace(f.path, f.value);
  return m;
}

bool has(const DecodedEvent& e, const std::string& path, const std::string& value) {
  for (const Field& f : e.fields)
    if (f.path == path && f.value == value) return true;
  return false;
}

DecodedEvent decode_ok(const std::string& json) {
  Result<DecodedEvent> r = decode_event(json);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r.value()) : DecodedEvent{};
}

TEST(InspectDecoder, ApiGatewayV1QueryHeadersMultiValueAndPathParameters) {
  DecodedEvent e =
      decode_ok(R"({"resource":"/files/{name}","path":"/files/a%20b","httpMethod":"GET",
    "headers":{"Accept":"text/html","Cookie":"session=abc123; theme=dark"},
    "multiValueHeaders":{"Accept":["text/html"],"X-Tag":["one","two"]},
    "queryStringParameters":{"file":"/etc/passwd"},
    "multiValueQueryStringParameters":{"file":["/etc/passwd"],"tag":["x","y"]},
    "pathParameters":{"name":"report.pdf"},"stageVariables":{"env":"prod"},
    "requestContext":{"identity":{"sourceIp":"10.0.0.1"},"requestId":"r-1"},
    "body":null,"isBase64Encoded":false})");
  EXPECT_EQ(e.shape, EventShape::kApiGatewayV1);
  EXPECT_EQ(e.method, "GET");
  EXPECT_TRUE(has(e, "queryStringParameters.file", "/etc/passwd"));
  EXPECT_TRUE(has(e, "queryStringParameters.tag", "x"));
  EXPECT_TRUE(has(e, "queryStringParameters.tag", "y"));
  EXPECT_TRUE(has(e, "headers.accept", "text/html"));
  EXPECT_TRUE(has(e, "headers.x-tag", "two"));
  EXPECT_TRUE(has(e, "cookies.session", "abc123"));
  EXPECT_TRUE(has(e, "cookies.theme", "dark"));
  EXPECT_TRUE(has(e, "pathParameters.name", "report.pdf"));
  EXPECT_TRUE(has(e, "path", "/files/a b"));
  auto m = fields_of(e);
  EXPECT_EQ(m.count("queryStringParameters.file"), 1u)
      << "single- and multi-value maps are de-duplicated";
  EXPECT_EQ(m.count("headers.accept"), 1u);
  EXPECT_EQ(m.count("stageVariables.env"), 0u) << "AWS-set values are not attacker-reachable";
  EXPECT_EQ(m.count("requestContext.identity.sourceIp"), 0u);
}

TEST(InspectDecoder, ApiGatewayV2RawQueryStringCookiesAndJsonBody) {
  DecodedEvent e = decode_ok(R"({"version":"2.0","routeKey":"POST /users","rawPath":"/users",
    "rawQueryString":"q=a%27+OR+1%3D1&flag&q=second",
    "cookies":["sid=xyz%3D%3D","pref=1"],
    "headers":{"content-type":"application/json","user-agent":"curl/8.0"},
    "queryStringParameters":{"q":"a' OR 1=1,second"},
    "requestContext":{"http":{"method":"POST","path":"/users"},"domainName":"abc.execute-api.us-east-1.amazonaws.com"},
    "body":"{\"user\":{\"name\":\"O'Brien\",\"tags\":[\"a\",\"bb\"],\"age\":41}}","isBase64Encoded":false})");
  EXPECT_EQ(e.shape, EventShape::kApiGatewayV2);
  EXPECT_EQ(e.method, "POST");
  EXPECT_TRUE(has(e, "queryStringParameters.q", "a' OR 1=1"));
  EXPECT_TRUE(has(e, "queryStringParameters.q", "second"));
  EXPECT_TRUE(has(e, "queryString", "flag"));
  EXPECT_TRUE(has(e, "cookies.sid", "xyz=="));
  EXPECT_TRUE(has(e, "rawPath", "/users"));
  EXPECT_TRUE(has(e, "body.user.name", "O'Brien"));
  EXPECT_TRUE(has(e, "body.user.tags[1]", "bb"));
  EXPECT_EQ(fields_of(e).count("body.user.age"), 0u) << "numbers are not string leaves";
  EXPECT_EQ(fields_of(e).count("body"), 0u);
}

TEST(InspectDecoder, FunctionUrlIsTheV2ShapeWithALambdaUrlDomain) {
  DecodedEvent e = decode_ok(
      R"({"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"url=http%3A%2F%2F169.254.169.254%2F",
    "requestContext":{"domainName":"xyz.lambda-url.eu-west-1.on.aws","http":{"method":"GET"}},"isBase64Encoded":false})");
  EXPECT_EQ(e.shape, EventShape::kFunctionUrl);
  EXPECT_TRUE(is_http_shape(e.shape));
  EXPECT_TRUE(has(e, "queryStringParameters.url", "http://169.254.169.254/"));
}

TEST(InspectDecoder, AlbQueryParametersAreStillEncodedAndGetDecoded) {
  DecodedEvent e = decode_ok(
      R"({"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1"}},
    "httpMethod":"GET","path":"/lambda","queryStringParameters":{"cmd":"a%3Bcat+%2Fetc%2Fpasswd"},
    "headers":{"host":"lb.example.com"},"body":"","isBase64Encoded":false})");
  EXPECT_EQ(e.shape, EventShape::kAlb);
  EXPECT_TRUE(has(e, "queryStringParameters.cmd", "a;cat /etc/passwd"));
  EXPECT_TRUE(has(e, "headers.host", "lb.example.com"));
}

TEST(InspectDecoder, Base64FormBodyIsDecodedIntoFields) {
  // "user=admin%27--&next=%2Fhome" in base64.
  DecodedEvent e = decode_ok(R"({"version":"2.0","rawPath":"/login","routeKey":"POST /login",
    "headers":{"content-type":"application/x-www-form-urlencoded"},
    "body":"dXNlcj1hZG1pbiUyNy0tJm5leHQ9JTJGaG9tZQ==","isBase64Encoded":true})");
  EXPECT_TRUE(has(e, "body.user", "admin'--"));
  EXPECT_TRUE(has(e, "body.next", "/home"));
}

TEST(InspectDecoder, PlainTextAndInvalidJsonBodiesStayOneField) {
  DecodedEvent e = decode_ok(R"({"version":"2.0","rawPath":"/","routeKey":"$default",
    "headers":{"content-type":"application/json"},"body":"{not json; rm -rf /","isBase64Encoded":false})");
  EXPECT_TRUE(has(e, "body", "{not json; rm -rf /"));
  DecodedEvent t = decode_ok(R"({"version":"2.0","rawPath":"/","routeKey":"$default",
    "headers":{"content-type":"text/plain"},"body":"hello world","isBase64Encoded":false})");
  EXPECT_TRUE(has(t, "body", "hello world"));
}

// Handlers call json.loads / JSON.parse on the body whatever its content
// type says, and Python's json.loads takes NaN and Infinity.
TEST(InspectDecoder, JsonLookingBodiesAreParsedWhateverTheContentType) {
  for (const char* ct : {"application/octet-stream", "text/html",
                         "application/x-www-form-urlencoded", "text/plain", ""}) {
    std::string ev =
        std::string(R"({"version":"2.0","rawPath":"/","routeKey":"$default",
      "headers":{"content-type":")") +
        ct + R"("},"body":"{\"file\":\"\\u002fetc\\u002fpasswd\"}","isBase64Encoded":false})";
    DecodedEvent e = decode_ok(ev);
    EXPECT_TRUE(has(e, "body.file", "/etc/passwd")) << "content type " << ct;
  }
  DecodedEvent nan = decode_ok(R"({"version":"2.0","rawPath":"/","routeKey":"$default",
    "headers":{"content-type":"application/json"},"body":"{\"n\":NaN,\"m\":-Infinity,\"file\":\"x\"}","isBase64Encoded":false})");
  EXPECT_TRUE(has(nan, "body.file", "x"));
  // A form body that does not look like JSON is still split into pairs.
  DecodedEvent form = decode_ok(R"({"version":"2.0","rawPath":"/","routeKey":"$default",
    "headers":{"content-type":"application/x-www-form-urlencoded"},"body":"a=1&file=%2Fetc%2Fpasswd","isBase64Encoded":false})");
  EXPECT_TRUE(has(form, "body.file", "/etc/passwd"));
}

// Python's json.loads and JSON.parse take a lone surrogate; RapidJSON does
// not, so such a body is parsed again with it replaced, not scanned as text.
TEST(InspectDecoder, ALoneSurrogateDoesNotTurnAJsonBodyIntoText) {
  DecodedEvent e = decode_ok(R"({"version":"2.0","rawPath":"/","routeKey":"$default",
    "headers":{"content-type":"application/json"},"body":"{\"n\":\"\\ud800\",\"host\":\"127.0.0.1\\u003b id\",\"ok\":\"\\ud83d\\ude00\",\"bs\":\"\\\\ud800\"}","isBase64Encoded":false})");
  EXPECT_TRUE(has(e, "body.host", "127.0.0.1; id"));
  EXPECT_TRUE(has(e, "body.n", "\xef\xbf\xbd"));
  EXPECT_TRUE(has(e, "body.ok", "\xf0\x9f\x98\x80")) << "a pair stays a pair";
  EXPECT_TRUE(has(e, "body.bs", "\\ud800")) << "an escaped backslash is no escape";
  DecodedEvent sqs = decode_ok(
      R"({"Records":[{"body":"{\"n\":\"\\ud800\",\"file\":\"\\u002fetc\\u002fpasswd\"}"}]})");
  EXPECT_TRUE(has(sqs, "Records[0].body.file", "/etc/passwd"));
}

// A form body that is also JSON is read both ways: a handler may parse it
// either way.
TEST(InspectDecoder, AFormBodyThatIsAlsoJsonIsSplitIntoPairsToo) {
  DecodedEvent e = decode_ok(R"({"version":"2.0","rawPath":"/","routeKey":"$default",
    "headers":{"content-type":"application/x-www-form-urlencoded"},"body":"[\"&h=127.0.0.1;+id&\"]","isBase64Encoded":false})");
  EXPECT_TRUE(has(e, "body.h", "127.0.0.1; id"));
  EXPECT_TRUE(has(e, "body[0]", "&h=127.0.0.1;+id&"));
}

TEST(InspectDecoder, GenericEventsYieldEveryStringLeafWithItsPath) {
  DecodedEvent e = decode_ok(
      R"({"Records":[{"eventSource":"aws:sqs","body":"hello","attrs":{"n":5,"s":"x.y"}}],"flag":true})");
  EXPECT_EQ(e.shape, EventShape::kGeneric);
  EXPECT_FALSE(is_http_shape(e.shape));
  EXPECT_TRUE(has(e, "Records[0].body", "hello"));
  EXPECT_TRUE(has(e, "Records[0].eventSource", "aws:sqs"));
  EXPECT_TRUE(has(e, "Records[0].attrs.s", "x.y"));
  EXPECT_EQ(e.fields.size(), 3u);
  DecodedEvent s = decode_ok(R"("just a string")");
  EXPECT_TRUE(has(s, "event", "just a string"));
}

TEST(InspectDecoder, JsonInsideAGenericStringIsFlattenedToo) {
  DecodedEvent e = decode_ok(
      R"({"Records":[{"body":"{\"file\":\"\\u002e\\u002e/\\u002e\\u002e/etc/passwd\",\"n\":1}"}]})");
  EXPECT_TRUE(has(e, "Records[0].body.file", "../../etc/passwd"));
  EXPECT_EQ(fields_of(e).count("Records[0].body"), 1u) << "the raw string stays a field";
  DecodedEvent bad = decode_ok(R"({"Records":[{"body":"{not json"}]})");
  EXPECT_TRUE(has(bad, "Records[0].body", "{not json"));
}

// Up to a max_depth of 256 the recursive reader is used (its depth bounded by
// the limit), above it the iterative one: both keep the limit and find the
// value at the bottom.
TEST(InspectDecoder, NestingLimitHoldsWithEitherReader) {
  for (uint32_t max_depth : {64u, 256u, 3000u}) {
    DecodeLimits limits;
    limits.max_depth = max_depth;
    for (uint32_t depth : {max_depth, max_depth + 1}) {
      std::string ev;  // `depth` nested objects
      for (uint32_t i = 0; i < depth; ++i) ev += "{\"k\":";
      ev += "\"../../etc/passwd\"";
      ev.append(depth, '}');
      Result<DecodedEvent> r = decode_event(ev, limits);
      if (depth <= max_depth) {
        ASSERT_TRUE(r.ok()) << max_depth << ": " << r.error().message;
        ASSERT_EQ(r->fields.size(), 1u);
        EXPECT_EQ(r->fields[0].value, "../../etc/passwd");
      } else {
        ASSERT_FALSE(r.ok()) << max_depth;
        EXPECT_NE(r.error().message.find("deeper than " + std::to_string(max_depth)),
                  std::string::npos)
            << r.error().message;
      }
    }
  }
}

TEST(InspectDecoder, JsonEscapesAreDecoded) {
  DecodedEvent e = decode_ok(R"({"a":"\u002e\u002e\u002f\u002e\u002e\u002fetc"})");
  EXPECT_TRUE(has(e, "a", "../../etc"));
}

TEST(InspectDecoder, HostileInputIsAnErrorNotACrash) {
  EXPECT_FALSE(decode_event("{\"a\":").ok()) << "truncated";
  EXPECT_FALSE(decode_event("").ok());
  EXPECT_FALSE(decode_event("{\"a\":1} trailing").ok());
  EXPECT_FALSE(decode_event(std::string("{\"a\":\"\xff\xfe\"}")).ok()) << "invalid UTF-8";
  EXPECT_FALSE(decode_event(std::string("{\"a\":\"\xc0\xaf\"}")).ok()) << "overlong '/'";
  EXPECT_FALSE(decode_event(std::string("{\"a\":\"\xed\xa0\x80\"}")).ok()) << "UTF-16 surrogate";
  EXPECT_FALSE(decode_event(std::string("{\"a\":\"\xe2\x82\"}")).ok()) << "truncated sequence";
  EXPECT_TRUE(decode_event("{\"a\":\"M\xc3\xbcller \xf0\x9f\x8e\x89 \xe6\x97\xa5\"}").ok())
      << "valid multi-byte";
  EXPECT_FALSE(decode_event(std::string("{\"a\":\"x\"}\0{", 10)).ok()) << "embedded NUL";
  std::string deep(100000, '[');
  Result<DecodedEvent> r = decode_event(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("deeper than 64"), std::string::npos) << r.error().message;
  std::string many = "[";
  for (int i = 0; i < 10000; ++i) many += "\"v\",";
  many += "\"v\"]";
  Result<DecodedEvent> m = decode_event(many);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("more than 8192 values"), std::string::npos);
  DecodeLimits small;
  small.max_event_bytes = 10;
  EXPECT_FALSE(decode_event("{\"abcdefghij\":1}", small).ok());
}

TEST(InspectDecoder, DeeplyNestedJsonBodyIsAnErrorNotPlainText) {
  std::string body;
  for (int i = 0; i < 80; ++i) body += "{\\\"a\\\":";
  body += "1";
  for (int i = 0; i < 80; ++i) body += "}";
  std::string ev =
      R"({"version":"2.0","rawPath":"/","routeKey":"$default","headers":{"content-type":"application/json"},"body":")" +
      body + R"(","isBase64Encoded":false})";
  Result<DecodedEvent> r = decode_event(ev);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("request body"), std::string::npos) << r.error().message;
}

TEST(InspectDecoder, SixMegabyteBodyDecodes) {
  std::string big(6u << 20, 'a');
  std::string ev = R"({"version":"2.0","rawPath":"/","routeKey":"$default","body":")" + big +
                   R"(","isBase64Encoded":false})";
  DecodedEvent e = decode_ok(ev);
  ASSERT_EQ(e.fields.size(), 2u);
  EXPECT_TRUE(has(e, "body", big));
}

TEST(InspectDecoder, UrlAndBase64Helpers) {
  EXPECT_EQ(url_decode("a%2Fb+c%zz%4", true), "a/b c%zz%4");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(base64_decode("aGVsbG8=").value(), "hello");
  EXPECT_EQ(base64_decode("aGVsbG8").value(), "hello");
  EXPECT_FALSE(base64_decode("a*b").ok());
}

}  // namespace
}  // namespace fnguard::inspect
