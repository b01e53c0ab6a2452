// Path glob matching, shared by the policy compiler (validation) and the
// in-process enforcer (matching). No allocation, no locks, no libc state: safe
// in signal handlers and in a vfork child.
//
// Grammar (also in docs/POLICY.md):
//   glob    := item*
//   item    := "**" | "*" | "?" | class | "\" any | literal
//   class   := "[" "!"? (char | char "-" char)+ "]"
// "*" matches any run of characters within one path segment (never "/"),
// "**" any run across segments, "?" exactly one character other than "/".
// A trailing "/**" also matches the directory itself: "/tmp/**" matches
// "/tmp" and everything below it.
#pragma once

#include <cstddef>

namespace fnguard {

// Checks glob syntax. Returns nullptr when valid, else a static message and
// sets *error_offset to the 0-based offset of the problem.
const char* glob_validate(const char* glob, size_t* error_offset);

// True when the whole of `text` matches `glob`. `glob` must be valid.
bool glob_match(const char* glob, const char* text);

// True when some string that starts with `text` matches `glob` (`text` is
// a prefix of a match): with text "DIR/", whether the glob can match
// something inside DIR. `glob` must be valid.
bool glob_match_prefix(const char* glob, const char* text);

// True when the glob has no wildcard (it matches one string only).
bool glob_is_literal(const char* glob);

// Length of the longest prefix of `glob` that has no wildcard and ends at a
// "/" boundary ("/var/task/**" -> "/var/task"). Used to resolve symbolic links
// in the literal part of a rule at compile time.
size_t glob_literal_dir_prefix(const char* glob);

}  // namespace fnguard
