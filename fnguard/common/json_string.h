// One JSON string literal, appended to a std::string: for code outside the
// enforcer that builds JSON text (the policy's effective JSON, inspection's
// blocked responses). The enforcer and event paths use the no-allocation
// events::JsonWriter instead.
#pragma once

#include <string>
#include <string_view>

namespace fnguard {

// Appends `s` quoted: `"` and `\` escaped, \n \r \t by name, other control
// characters as \u00XX; bytes from 0x20 up (UTF-8 included) pass through.
void append_json_string(std::string& out, std::string_view s);

}  // namespace fnguard
