// Stage 1 of policy loading ("read"): YAML or JSON text to a tree of nodes,
// each remembering the file, line and column where it started, so that later
// stages can point at the exact spot of a problem.
//
// libyaml reads JSON as YAML flow style, so both inputs share this code. The
// reader refuses what the policy language does not use, rather than giving
// it a meaning by accident: anchors and aliases, tags, more than one
// document, complex (non-scalar) mapping keys, duplicate keys, text that is
// not UTF-8, and nesting deeper than kMaxDepth.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fnguard/common/result.h"

namespace fnguard::policy {

struct MapEntry;

struct Node {
  enum class Kind { kScalar, kSequence, kMapping };
  Kind kind = Kind::kScalar;
  Location where;       // 1-based line and column of the node's first character
  std::string text;     // scalars: the value
  bool quoted = false;  // scalars: written in quotes (so "1" is a string, 1 a number)
  // Scalars: true when the value sits on one line exactly as written (no
  // escapes, no folding), so an offset into `text` maps to a column.
  bool verbatim = false;
  std::vector<Node> items;        // sequences
  std::vector<MapEntry> entries;  // mappings, in source order

  // The value of `key` in a mapping, or nullptr.
  const Node* find(std::string_view key) const;
  // Where the character at `offset` of a verbatim scalar sits; the node's
  // start otherwise.
  Location at_offset(size_t offset) const;
  // "a string", "a list", "a mapping" for messages.
  const char* kind_name() const;
  bool is_null() const;  // plain "", "~", "null"
};

struct MapEntry {
  Node key;  // always a scalar
  Node value;
};

inline constexpr int kMaxDepth = 32;
inline constexpr size_t kMaxPolicyBytes = 1 << 20;

// Parses the document in `text`. On success the root node; otherwise every
// problem found (libyaml stops at its first syntax error, so a syntax error
// comes alone; the structural checks above are all reported).
struct ReadResult {
  Node root;
  std::vector<Error> errors;
};
ReadResult read_yaml_tree(std::string_view text, std::string_view source_name);

// A parsed tree in a file, so that the policy a layer ships is parsed once,
// by `fnguard layer build`, and not again at every cold start. The file
// holds the SHA-256 of the policy text it was made from and of its own
// body; read_tree_file() returns the tree only when the text is the same
// and the body intact (another text, a damaged or truncated file, another
// format version: nullopt, and the caller parses the text). The tree must
// come from read_yaml_tree() with no errors. Lines and columns are kept;
// the file name of every location is left empty (one string per node less
// to make and free at a cold start): whoever reports a problem found in the
// tree fills it in.
std::string write_tree_file(const Node& root, std::string_view text);
std::optional<Node> read_tree_file(std::string_view file, std::string_view text);
// The body alone (no digests checked), with every rule read_yaml_tree
// enforces that survives parsing (scalar keys, no duplicate key, nesting
// depth, UTF-8 without NUL): for the fuzz target.
std::optional<Node> decode_tree_body(std::string_view body);

}  // namespace fnguard::policy
