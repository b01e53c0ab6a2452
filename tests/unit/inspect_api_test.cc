// The proxy-facing API: findings name the field and evidence, taints are
// ranked and fit the context page, a blocked HTTP invocation gets a 403.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstring>
#include <memory>
#include <string>

#include "fnguard/inspect/inspect.h"

namespace fnguard::inspect {
namespace {

const char kLfiEvent[] =
    R"({"version":"2.0","routeKey":"$default","rawPath":"/read","rawQueryString":"file=%2Fetc%2Fpasswd&lang=en",
  "headers":{"user-agent":"curl/8.4.0","host":"abc.execute-api.us-east-1.amazonaws.com","origin":"http://localhost:3000"},
  "requestContext":{"http":{"method":"GET"},"domainName":"abc.execute-api.us-east-1.amazonaws.com"},"isBase64Encoded":false})";

TEST(InspectApi, FindingNamesFieldRuleAndEvidence) {
  Result<InspectionResult> r = inspect_event(kLfiEvent);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->http);
  EXPECT_EQ(r->shape, EventShape::kApiGatewayV2);
  EXPECT_EQ(r->method, "GET");
  ASSERT_EQ(r->findings.size(), 1u) << "the Origin header's localhost is not an SSRF finding";
  const Finding& f = r->findings[0];
  EXPECT_EQ(f.detector, Detector::kPathTraversal);
  EXPECT_EQ(f.field, "queryStringParameters.file");
  EXPECT_EQ(f.value, "/etc/passwd");
  EXPECT_NE(f.evidence.find("/etc/passwd"), std::string::npos);
  EXPECT_GT(r->bytes_scanned, 0u);
}

// Taints are views into the result: they must not depend on the raw event
// buffer, and moving the result (into the proxy's outcome) keeps them valid.
TEST(InspectApi, TaintsOutliveTheEventBufferAndMoveWithTheResult) {
  std::string event = kLfiEvent;
  Result<InspectionResult> r = inspect_event(event);
  ASSERT_TRUE(r.ok());
  event.assign(event.size(), 'X');
  event = std::string();
  InspectionResult moved = std::move(r.value());
  InspectionResult again = std::move(moved);
  ASSERT_FALSE(again.taints.empty());
  EXPECT_EQ(again.taints[0].field, "queryStringParameters.file");
  EXPECT_EQ(again.taints[0].value, "/etc/passwd");
  bool agent = false;
  for (const Taint& t : again.taints)
    agent |= t.field == "headers.user-agent" && t.value == "curl/8.4.0";
  EXPECT_TRUE(agent);
  auto page = std::make_unique<image::ContextPage>();
  ASSERT_EQ(fill_context_taints(again.taints, *page), again.taints.size());
  EXPECT_EQ(
      std::string(page->taint_data + page->taints[0].value_offset, page->taints[0].value_length),
      "/etc/passwd");
}

TEST(InspectApi, DisabledDetectorsFindNothing) {
  InspectOptions o;
  o.detectors = detector_bit(Detector::kSqlInjection);
  Result<InspectionResult> r = inspect_event(kLfiEvent, o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->findings.empty());
}

TEST(InspectApi, TaintsPutTheSuspiciousValueFirstAndSkipTrivialOnes) {
  Result<InspectionResult> r = inspect_event(kLfiEvent);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->taints.empty());
  EXPECT_EQ(r->taints[0].field, "queryStringParameters.file");
  EXPECT_EQ(r->taints[0].value, "/etc/passwd");
  for (const Taint& t : r->taints)
    EXPECT_NE(t.value, "en") << "values shorter than 3 bytes are not taints";
}

TEST(InspectApi, DoubleEncodedValueAlsoPublishesItsDecodedForm) {
  std::vector<Field> fields = {
      {"queryStringParameters.f", "..%252f..%252fetc%252fpasswd", FieldSource::kQuery}};
  InspectionResult res;
  scan_fields(fields, InspectOptions{}, res);
  ASSERT_FALSE(res.findings.empty());
  TextArena storage;
  std::vector<Taint> t = select_taints(fields, res.findings, storage);
  bool decoded = false;
  for (const Taint& x : t) decoded |= x.value == "../../etc/passwd";
  EXPECT_TRUE(decoded);
}

TEST(InspectApi, SuspiciousBinaryValueStillRanksFirst) {
  // The finding's copy of the value has its invalid UTF-8 replaced; the taint
  // ranking must still tie the finding to its field.
  const std::string long_value = std::string(500, 'h') + "-plain";
  const std::string binary_value = "\xff\xfe;cat /etc/passwd";
  std::vector<Field> fields = {
      {"headers.x-long", long_value, FieldSource::kHeader},
      {"body", binary_value, FieldSource::kBody},
  };
  InspectionResult res;
  scan_fields(fields, InspectOptions{}, res);
  ASSERT_FALSE(res.findings.empty());
  EXPECT_EQ(res.findings[0].field_index, 1u);
  TextArena storage;
  std::vector<Taint> t = select_taints(fields, res.findings, storage);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t[0].field, "body");
  EXPECT_EQ(t[0].value, fields[1].value) << "the taint is the raw value, not the sanitised copy";
}

TEST(InspectApi, TaintsAreBoundedAndDeduplicated) {
  TextArena storage;  // the fields' bytes
  std::vector<Field> fields;
  for (int i = 0; i < 200; ++i)
    fields.push_back({storage.copy("body.k" + std::to_string(i)),
                      storage.copy("value-" + std::to_string(i % 100) + std::string(100, 'x')),
                      FieldSource::kBody});
  fields.push_back(
      {"body.huge", storage.copy(std::string(20000, 'z') + "end"), FieldSource::kBody});
  std::vector<Taint> t = select_taints(fields, {}, storage);
  EXPECT_LE(t.size(), image::kMaxTaints);
  size_t bytes = 0;
  for (const Taint& x : t) {
    bytes += x.field.size() + x.value.size();
    EXPECT_LE(x.value.size(), kMaxTaintValue);
  }
  EXPECT_LE(bytes, sizeof(image::ContextPage::taint_data));
  for (size_t i = 0; i < t.size(); ++i)
    for (size_t j = i + 1; j < t.size(); ++j) EXPECT_NE(t[i].value, t[j].value);
  EXPECT_EQ(t[0].field, "body.huge") << "longest first among equals; cut to a prefix";
}

TEST(InspectApi, FillContextTaintsWritesOnlyTheTaintPart) {
  auto page = std::make_unique<image::ContextPage>();
  std::memset(static_cast<void*>(page.get()), 0, sizeof *page);
  std::strcpy(page->request_id, "req-1");
  std::vector<Taint> taints = {{"queryStringParameters.file", "/etc/passwd"},
                               {"body.name", "O'Brien"}};
  ASSERT_EQ(fill_context_taints(taints, *page), 2u);
  EXPECT_EQ(page->taint_count, 2u);
  const image::TaintValue& a = page->taints[0];
  EXPECT_EQ(std::string(page->taint_data + a.field_offset, a.field_length),
            "queryStringParameters.file");
  EXPECT_EQ(std::string(page->taint_data + a.value_offset, a.value_length), "/etc/passwd");
  const image::TaintValue& b = page->taints[1];
  EXPECT_EQ(std::string(page->taint_data + b.value_offset, b.value_length), "O'Brien");
  EXPECT_STREQ(page->request_id, "req-1");
  // A later, shorter invocation leaves no stale entries behind.
  ASSERT_EQ(fill_context_taints({}, *page), 0u);
  EXPECT_EQ(page->taint_count, 0u);
  EXPECT_EQ(page->taints[1].value_length, 0u);
}

TEST(InspectApi, BlockedResponseIsA403LambdaProxyResponse) {
  for (EventShape shape :
       {EventShape::kApiGatewayV1, EventShape::kApiGatewayV2, EventShape::kAlb}) {
    std::string out = blocked_response(shape, "8f5e\"x");
    rapidjson::Document d;
    d.Parse(out.c_str());
    ASSERT_FALSE(d.HasParseError()) << out;
    EXPECT_EQ(d["statusCode"].GetInt(), 403);
    EXPECT_FALSE(d["isBase64Encoded"].GetBool());
    EXPECT_EQ(d.HasMember("statusDescription"), shape == EventShape::kAlb);
    rapidjson::Document body;
    body.Parse(d["body"].GetString());
    ASSERT_FALSE(body.HasParseError());
    EXPECT_STREQ(body["requestId"].GetString(), "8f5e\"x");
    EXPECT_STREQ(body["message"].GetString(), "Forbidden");
  }
  BlockResponseOptions o;
  o.status_code = 406;
  o.message = "Not here";
  o.include_request_id = false;
  std::string out = blocked_response(EventShape::kAlb, "r", o);
  EXPECT_NE(out.find("\"statusCode\":406"), std::string::npos);
  EXPECT_NE(out.find("406 Not Acceptable"), std::string::npos);
  EXPECT_EQ(out.find("requestId"), std::string::npos);
  rapidjson::Document e;
  e.Parse(blocked_error("r-9").c_str());
  ASSERT_FALSE(e.HasParseError());
  EXPECT_STREQ(e["errorType"].GetString(), "FnguardBlocked");
}

TEST(InspectApi, SixMegabyteHostileBodyIsInspected) {
  std::string body;
  while (body.size() < (6u << 20)) body += "a'/*;|../%2 ";
  body += "x' UNION SELECT password FROM users--";
  std::string ev =
      R"({"version":"2.0","rawPath":"/","routeKey":"$default","headers":{"content-type":"text/plain"},"body":")" +
      body + R"(","isBase64Encoded":false})";
  Result<InspectionResult> r = inspect_event(ev);
  ASSERT_TRUE(r.ok()) << r.error().message;
  bool sql = false;
  for (const Finding& f : r->findings)
    sql |= f.detector == Detector::kSqlInjection && f.field == "body";
  EXPECT_TRUE(sql);
  for (const Finding& f : r->findings)
    EXPECT_LE(f.value.size(), InspectOptions{}.max_value_in_finding);
}

TEST(InspectApi, UndecodableEventIsAnError) {
  Result<InspectionResult> r = inspect_event("{\"version\":\"2.0\",");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot be inspected"), std::string::npos);
}

}  // namespace
}  // namespace fnguard::inspect
