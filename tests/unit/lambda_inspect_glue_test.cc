// The proxy's inspector (fnguard/lambda/inspect_glue.h): what the proxy gets
// for an attack event, and that the taint values it publishes stay intact
// after the event buffer is gone and the outcome is copied (they are views
// kept alive by the outcome), and that an event it cannot decode is refused
// rather than passed on unseen.
#include <gtest/gtest.h>

#include <string>

#include "fnguard/lambda/inspect_glue.h"
#include "fnguard/policy/policy.h"

namespace fnguard::lambda {
namespace {

const char kLfiEvent[] =
    R"({"version":"2.0","routeKey":"$default","rawPath":"/read","rawQueryString":"file=%2Fetc%2Fpasswd&lang=en",
  "headers":{"user-agent":"curl/8.4.0","host":"abc.execute-api.us-east-1.amazonaws.com"},
  "requestContext":{"http":{"method":"GET"},"domainName":"abc.execute-api.us-east-1.amazonaws.com"},"isBase64Encoded":false})";

TEST(LambdaInspectGlue, AttackEventGivesFindingTaintsAndA403) {
  Result<InspectFn> inspect = make_inspector(InspectSettings{});
  ASSERT_TRUE(inspect.ok()) << inspect.error().message;
  InspectOutcome kept;
  {
    std::string event = kLfiEvent;
    InspectOutcome outcome = (*inspect)(event);
    event.assign(event.size(), 'X');  // the raw event is overwritten and freed
    event = std::string();
    kept = outcome;  // the proxy may copy the outcome; the copy shares the taints' bytes
  }
  ASSERT_EQ(kept.findings.size(), 1u);
  EXPECT_EQ(kept.findings[0].detector, "path_traversal");
  EXPECT_EQ(kept.findings[0].field, "queryStringParameters.file");
  ASSERT_FALSE(kept.taints.empty());
  EXPECT_EQ(kept.taints[0].field, "queryStringParameters.file");
  EXPECT_EQ(kept.taints[0].value, "/etc/passwd");
  bool agent = false;
  for (const Taint& t : kept.taints)
    agent |= t.field == "headers.user-agent" && t.value == "curl/8.4.0";
  EXPECT_TRUE(agent) << "other request values are published too";
  EXPECT_TRUE(kept.http_shaped);
  ASSERT_TRUE(kept.blocked_response);
  EXPECT_NE(kept.blocked_response("req-1").find("\"statusCode\":403"), std::string::npos);
}

TEST(LambdaInspectGlue, PolicyDetectorListIsApplied) {
  InspectSettings only_sql;
  only_sql.detectors = std::vector<std::string>{"sql_injection"};
  Result<InspectFn> inspect = make_inspector(only_sql);
  ASSERT_TRUE(inspect.ok()) << inspect.error().message;
  InspectOutcome outcome = (*inspect)(kLfiEvent);
  EXPECT_TRUE(outcome.findings.empty()) << "path traversal is not among the policy's detectors";
  ASSERT_FALSE(outcome.taints.empty()) << "taints are published whatever the detectors";
  EXPECT_EQ(outcome.taints[0].value, "/etc/passwd");

  InspectSettings unknown;
  unknown.detectors = std::vector<std::string>{"xss"};
  EXPECT_FALSE(make_inspector(unknown).ok());
}

// What the wrapper builds from a policy: its inspect section, into the
// proxy's inspector.
InspectOutcome inspect_with_policy(const std::string& policy_text, policy::LoadedPolicy* loaded) {
  auto p = policy::load_policy_text(policy_text, "p.yaml", policy::CompileOptions{});
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  if (!p.ok()) return {};
  *loaded = std::move(*p);
  Result<InspectFn> inspect = make_inspector(inspect_settings(loaded->inspect, loaded->top_mode));
  EXPECT_TRUE(inspect.ok());
  return inspect.ok() ? (*inspect)(kLfiEvent) : InspectOutcome{};
}

TEST(LambdaInspectGlue, AnInspectSectionWithoutADetectorListRunsEveryDetector) {
  // `inspect: {mode: block}` asks for inspection; it must not turn detection off.
  policy::LoadedPolicy loaded;
  InspectOutcome outcome = inspect_with_policy("version: 1\ninspect:\n  mode: block\n", &loaded);
  ASSERT_EQ(outcome.findings.size(), 1u);
  EXPECT_EQ(outcome.findings[0].detector, "path_traversal");
  EXPECT_TRUE(loaded.warnings.empty());

  // An explicit empty list is taken at its word, and said to be odd.
  InspectOutcome none =
      inspect_with_policy("version: 1\ninspect:\n  mode: block\n  detectors: []\n", &loaded);
  EXPECT_TRUE(none.findings.empty());
  ASSERT_EQ(loaded.warnings.size(), 1u);
  EXPECT_NE(loaded.warnings[0].message.find("'inspect.detectors' is empty"), std::string::npos);
}

TEST(LambdaInspectGlue, AnEventTheDecoderRefusesIsAFindingOfItsOwn) {
  // Padding a request past the decoder's limits (here a JSON body nested 100
  // levels deep) must not switch inspection off for the rest of it: the
  // event is refused in block mode and reported in monitor mode, answered in
  // its own HTTP shape.
  Result<InspectFn> inspect = make_inspector(InspectSettings{});
  ASSERT_TRUE(inspect.ok());
  std::string deep = std::string(100, '[') + std::string(100, ']');
  std::string event =
      R"({"version":"2.0","rawPath":"/","rawQueryString":"file=/etc/passwd",)"
      R"("headers":{"host":"x","content-type":"application/json"},)"
      R"("requestContext":{"http":{"method":"POST"}},"isBase64Encoded":false,"body":")" +
      deep + R"("})";
  InspectOutcome outcome = (*inspect)(event);
  ASSERT_EQ(outcome.findings.size(), 1u);
  EXPECT_EQ(outcome.findings[0].detector, "undecodable");
  EXPECT_EQ(outcome.findings[0].rule, "inspect.limits");
  EXPECT_NE(outcome.findings[0].evidence.find("nests deeper than 64 levels"), std::string::npos)
      << outcome.findings[0].evidence;
  EXPECT_TRUE(outcome.taints.empty());
  EXPECT_TRUE(outcome.http_shaped);
  ASSERT_TRUE(outcome.blocked_response);

  // Not JSON at all: refused too, answered as a non-HTTP event.
  InspectOutcome truncated = (*inspect)("{\"truncated\":");
  ASSERT_EQ(truncated.findings.size(), 1u);
  EXPECT_EQ(truncated.findings[0].rule, "inspect.limits");
  EXPECT_FALSE(truncated.http_shaped);
}

}  // namespace
}  // namespace fnguard::lambda
