// A small JSON value with ordered object keys and a pretty printer, for the
// effective policy (`fnguard policy show`). It runs in the CLI and the
// supervisor, never in the enforcer, so it allocates freely. Output is
// stable: keys in insertion order, two-space indent, one trailing newline.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fnguard/common/json_string.h"

namespace fnguard::policy {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;
  static JsonValue boolean(bool b);
  static JsonValue number(int64_t n);
  static JsonValue string(std::string s);
  static JsonValue array();
  static JsonValue object();

  // Arrays: append. Objects: add a key (no duplicate check; callers add each once).
  JsonValue& push(JsonValue v);
  JsonValue& set(std::string key, JsonValue v);

  std::string pretty() const;
  bool is_null() const { return kind_ == Kind::kNull; }

 private:
  void write(std::string& out, int indent) const;
  // Scalars only, or arrays of scalars, or one-member objects of those.
  bool is_flat() const;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  int64_t number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

// JSON string literals: fnguard::append_json_string (fnguard/common/json_string.h).

}  // namespace fnguard::policy
