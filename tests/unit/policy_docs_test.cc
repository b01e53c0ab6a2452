// docs/POLICY.md cannot drift from the parser: every key the parser accepts
// (schema_keys(), from which the parser derives its unknown-key checks) and
// every detector name must appear in the reference, in backquotes.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "fnguard/policy/policy.h"

namespace fnguard::policy {
namespace {

std::string read_doc() {
  std::string file = __FILE__;
  std::string path = file.substr(0, file.rfind("/tests/unit/")) + "/docs/POLICY.md";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PolicyDocs, EveryAcceptedKeyIsDocumented) {
  std::string doc = read_doc();
  ASSERT_FALSE(doc.empty()) << "docs/POLICY.md is missing";
  ASSERT_GT(schema_keys().size(), 30u);
  for (const std::string& key : schema_keys()) {
    EXPECT_NE(doc.find("`" + key + "`"), std::string::npos)
        << "docs/POLICY.md does not name `" << key << "`";
  }
  for (const std::string& d : detector_names()) {
    EXPECT_NE(doc.find("`" + d + "`"), std::string::npos) << d;
  }
}

TEST(PolicyDocs, TheBuiltInDefaultShownInTheDocsIsTheRealOne) {
  std::string doc = read_doc();
  EXPECT_NE(doc.find(default_policy_text()), std::string::npos)
      << "copy default_policy_text() (fnguard/policy/policy.cc) into docs/POLICY.md";
}

}  // namespace
}  // namespace fnguard::policy
