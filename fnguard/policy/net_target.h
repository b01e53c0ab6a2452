// Network target syntax for network.outbound rules (and the built-in rules):
//
//   target  := "*" [":" port] | ":" port
//            | ipv4 ["/" prefix] [":" port]
//            | "[" ipv6 ["/" prefix] "]" [":" port] | ipv6 ["/" prefix]
//            | ["*."] domain [":" port]
//   port    := 1..65535
//
// Domains are lower-cased and may end with a dot (dropped). "*.example.com"
// matches every name below example.com, not example.com itself. A CIDR whose
// host bits are set (10.0.0.1/8) is refused: it almost always means a typo.
#pragma once

#include <string>
#include <string_view>

#include "fnguard/image/format.h"

namespace fnguard::policy {

struct ParsedNetTarget {
  image::NetTarget net{};
  std::string pattern;  // domains: "example.com" or ".example.com"; else empty
};

// On failure returns false and sets `message` (one sentence) and `hint`.
bool parse_net_target(std::string_view text, ParsedNetTarget* out, std::string* message,
                      std::string* hint);

// The canonical text of a parsed target, for the effective policy.
std::string net_target_to_string(const ParsedNetTarget& target);

}  // namespace fnguard::policy
