// Hex digits, for the decoders of the inspection library (percent escapes,
// IIS %uXXXX, JSON \uXXXX). Internal to fnguard/inspect.
#pragma once

#include <cstddef>
#include <string_view>

namespace fnguard::inspect {

// The value of one hex digit, or -1.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at s[i] as a number, or -1 (also when s ends first).
inline int hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    int h = hex_value(s[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

}  // namespace fnguard::inspect
