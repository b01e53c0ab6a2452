// fnguard::append_json_string: the JSON string literal the policy's effective
// JSON and inspection's blocked responses are built with.
#include <gtest/gtest.h>

#include <string>

#include "fnguard/common/json_string.h"

namespace fnguard {
namespace {

std::string as_literal(std::string_view s) {
  std::string out = "x=";
  append_json_string(out, s);
  return out;
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(as_literal("plain"), "x=\"plain\"");
  EXPECT_EQ(as_literal("a\"b\\c"), "x=\"a\\\"b\\\\c\"");
  EXPECT_EQ(as_literal("l1\nl2\r\tend"), "x=\"l1\\nl2\\r\\tend\"");
  EXPECT_EQ(as_literal(std::string("\x01\x1f", 2)), "x=\"\\u0001\\u001f\"");
  EXPECT_EQ(as_literal(std::string("nul\0in", 6)), "x=\"nul\\u0000in\"");
}

TEST(JsonString, Utf8PassesThrough) {
  EXPECT_EQ(as_literal("caf\xc3\xa9 \xe2\x82\xac"), "x=\"caf\xc3\xa9 \xe2\x82\xac\"");
  EXPECT_EQ(as_literal(""), "x=\"\"");
}

}  // namespace
}  // namespace fnguard
