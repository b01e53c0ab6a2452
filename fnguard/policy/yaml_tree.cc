// The read stage: libyaml's event stream folded into a Node tree with an
// explicit stack (no recursion, so deep input cannot exhaust the C stack).
#include "fnguard/policy/yaml_tree.h"

#include <yaml.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>

#include "fnguard/common/sha256.h"

namespace fnguard::policy {
namespace {

Location location(std::string_view file, const yaml_mark_t& mark) {
  return Location{std::string(file), static_cast<int>(mark.line) + 1,
                  static_cast<int>(mark.column) + 1};
}

// Returns the byte offset of the first invalid UTF-8 sequence, or npos.
// Rejects overlong forms, surrogates and code points above U+10FFFF, as
// RFC 3629 requires.
size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static const uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

// Line and column (1-based, counting bytes) of a byte offset, for errors
// found before libyaml sees the text.
Location location_of_offset(std::string_view file, std::string_view text, size_t offset) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return Location{std::string(file), line, column};
}

// JSON allows tabs between tokens; YAML's flow style, as libyaml implements
// it, rejects some of them. For input that looks like JSON, replace by a
// space each tab that separates tokens: outside quoted strings, in a run of
// blanks that starts a line or follows one of "{[,:" or ends the line or
// precedes one of "}],:". A tab inside a plain value ("a<TAB>b") is kept, so
// no value changes. Same length, so every line:col stays true.
std::string untab_json(std::string_view text) {
  std::string out(text);
  size_t first = out.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || (out[first] != '{' && out[first] != '[')) return out;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  char quote = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (quote == '"') {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quote = 0;
      }
      continue;
    }
    if (quote == '\'') {
      if (c == '\'' && i + 1 < out.size() && out[i + 1] == '\'') {
        ++i;
      } else if (c == '\'') {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      continue;
    }
    if (!blank(c)) continue;
    size_t run_end = i;
    while (run_end < out.size() && blank(out[run_end])) ++run_end;
    size_t before = i;
    while (before > 0 && blank(out[before - 1])) --before;
    char prev = before == 0 ? '\n' : out[before - 1];
    char next = run_end == out.size() ? '\n' : out[run_end];
    auto separates = [](char ch, const char* set) {
      for (const char* p = set; *p != '\0'; ++p) {
        if (*p == ch) return true;
      }
      return false;
    };
    if (separates(prev, "{[,:\n\r") || separates(next, "}],:\n\r#")) {
      for (size_t k = i; k < run_end; ++k) out[k] = ' ';
    }
    i = run_end - 1;
  }
  return out;
}

struct Frame {
  Node node;
  bool have_key = false;
  Node key;
  std::set<std::string> keys;
};

class EventGuard {
 public:
  explicit EventGuard(yaml_event_t* e) : e_(e) {}
  ~EventGuard() { yaml_event_delete(e_); }
  EventGuard(const EventGuard&) = delete;
  EventGuard& operator=(const EventGuard&) = delete;

 private:
  yaml_event_t* e_;
};

}  // namespace

const Node* Node::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.text == key) return &v;
  }
  return nullptr;
}

Location Node::at_offset(size_t offset) const {
  Location at = where;
  if (kind == Kind::kScalar && verbatim && offset <= text.size()) {
    at.column += static_cast<int>(offset) + (quoted ? 1 : 0);
  }
  return at;
}

const char* Node::kind_name() const {
  switch (kind) {
    case Kind::kScalar:
      return is_null() ? "nothing (null)" : "a single value";
    case Kind::kSequence:
      return "a list";
    case Kind::kMapping:
      return "a mapping";
  }
  return "a value";
}

bool Node::is_null() const {
  return kind == Kind::kScalar && !quoted &&
         (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL");
}

ReadResult read_yaml_tree(std::string_view raw_text, std::string_view source_name) {
  ReadResult result;
  auto fail = [&](std::string message, std::string hint, Location where) {
    result.errors.push_back(make_error(std::move(message), std::move(hint), std::move(where)));
    return std::move(result);  // result is captured by reference
  };
  if (raw_text.size() > kMaxPolicyBytes) {
    return fail("the policy is larger than 1 MiB",
                "a policy this large is a mistake; split out generated rules",
                Location{std::string(source_name), 0, 0});
  }
  size_t bad = find_invalid_utf8(raw_text);
  if (bad != std::string_view::npos) {
    return fail("the policy is not valid UTF-8", "save the file as UTF-8",
                location_of_offset(source_name, raw_text, bad));
  }
  size_t nul = raw_text.find('\0');
  if (nul != std::string_view::npos) {
    return fail("the policy contains a NUL byte", "save the file as UTF-8 text",
                location_of_offset(source_name, raw_text, nul));
  }
  std::string text = untab_json(raw_text);

  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) {
    return fail("cannot initialise the YAML parser", "this is out of memory; retry", {});
  }
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser_guard(&parser,
                                                                        yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

  std::vector<Frame> stack;
  bool have_root = false;
  int documents = 0;
  bool structural_error = false;

  // Attaches a finished node to its parent (or makes it the root).
  auto attach = [&](Node node) {
    if (stack.empty()) {
      result.root = std::move(node);
      have_root = true;
      return;
    }
    Frame& top = stack.back();
    if (top.node.kind == Node::Kind::kSequence) {
      top.node.items.push_back(std::move(node));
      return;
    }
    if (!top.have_key) {
      if (node.kind != Node::Kind::kScalar) {
        result.errors.push_back(
            make_error("a mapping key must be a plain name, not " + std::string(node.kind_name()),
                       "write keys as simple words", node.where));
        structural_error = true;
      }
      top.key = std::move(node);
      top.have_key = true;
      return;
    }
    if (!top.keys.insert(top.key.text).second) {
      result.errors.push_back(make_error("duplicate key '" + top.key.text + "'",
                                         "each key may appear once in a mapping; merge the two",
                                         top.key.where));
      structural_error = true;
    }
    top.node.entries.push_back(MapEntry{std::move(top.key), std::move(node)});
    top.key = Node{};
    top.have_key = false;
  };

  auto check_anchor_tag = [&](const unsigned char* anchor, const unsigned char* tag, bool implicit,
                              const Location& where) {
    if (anchor != nullptr) {
      result.errors.push_back(make_error(
          "anchors ('&" + std::string(reinterpret_cast<const char*>(anchor)) +
              "') are not supported in policies",
          "write the value out in full; quote values that start with '&' or '*'", where));
      structural_error = true;
    }
    if (tag != nullptr && !implicit) {
      result.errors.push_back(
          make_error("tags ('" + std::string(reinterpret_cast<const char*>(tag)) +
                         "') are not supported in policies",
                     "remove the tag; quote values that start with '!'", where));
      structural_error = true;
    }
  };

  while (true) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      std::string problem = parser.problem != nullptr ? parser.problem : "syntax error";
      std::string message = "YAML syntax error: " + problem;
      if (parser.context != nullptr) message += " " + std::string(parser.context);
      std::string context = parser.context != nullptr ? parser.context : "";
      std::string hint = "check indentation, quoting and brackets near here";
      if (problem.find("tab") != std::string::npos) hint = "indent with spaces, not tabs";
      if (context.find("alias") != std::string::npos ||
          context.find("anchor") != std::string::npos) {
        hint = "quote values that start with '*' or '&', e.g. \"*.example.com:443\"";
      }
      Location where = location(source_name, parser.problem_mark);
      result.errors.push_back(make_error(std::move(message), std::move(hint), where));
      return result;
    }
    EventGuard guard(&event);
    Location where = location(source_name, event.start_mark);
    switch (event.type) {
      case YAML_STREAM_START_EVENT:
      case YAML_NO_EVENT:
        break;
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1) {
          result.errors.push_back(make_error("the policy has more than one YAML document",
                                             "keep one document per file (remove the '---')",
                                             where));
          return result;
        }
        break;
      case YAML_DOCUMENT_END_EVENT:
        break;
      case YAML_STREAM_END_EVENT:
        if (!have_root) {
          result.errors.push_back(make_error("the policy is empty", "start with 'version: 1'",
                                             Location{std::string(source_name), 0, 0}));
        }
        return result;
      case YAML_ALIAS_EVENT:
        result.errors.push_back(make_error(
            "aliases ('*" + std::string(reinterpret_cast<const char*>(event.data.alias.anchor)) +
                "') are not supported in policies",
            "write the value out in full; quote values that start with '*', e.g. \"*:443\"",
            where));
        return result;
      case YAML_SCALAR_EVENT: {
        check_anchor_tag(event.data.scalar.anchor, event.data.scalar.tag,
                         event.data.scalar.plain_implicit || event.data.scalar.quoted_implicit,
                         where);
        Node node;
        node.kind = Node::Kind::kScalar;
        node.where = where;
        node.text.assign(reinterpret_cast<const char*>(event.data.scalar.value),
                         event.data.scalar.length);
        node.quoted = event.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                      event.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        // Raw NUL bytes are refused above; an escape ("\0", "\u0000") can
        // still put one into a string, and no path, name, address or digest
        // can hold it (the compiled image's strings are NUL-terminated).
        if (node.text.find('\0') != std::string::npos) {
          result.errors.push_back(make_error("a string contains a NUL character (from an escape "
                                             "such as \\0 or \\u0000)",
                                             "remove the escape; no path, name, address or "
                                             "digest can contain one",
                                             where));
        }
        bool ascii = true;
        for (char c : node.text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
        size_t written = event.end_mark.index - event.start_mark.index;
        node.verbatim = ascii && event.start_mark.line == event.end_mark.line &&
                        (event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE || node.quoted) &&
                        written == node.text.size() + (node.quoted ? 2 : 0);
        attach(std::move(node));
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        bool seq = event.type == YAML_SEQUENCE_START_EVENT;
        if (seq) {
          check_anchor_tag(event.data.sequence_start.anchor, event.data.sequence_start.tag,
                           event.data.sequence_start.implicit, where);
        } else {
          check_anchor_tag(event.data.mapping_start.anchor, event.data.mapping_start.tag,
                           event.data.mapping_start.implicit, where);
        }
        if (static_cast<int>(stack.size()) >= kMaxDepth) {
          result.errors.push_back(
              make_error("the policy nests deeper than " + std::to_string(kMaxDepth) + " levels",
                         "no policy key needs this; check the brackets", where));
          return result;
        }
        Frame frame;
        frame.node.kind = seq ? Node::Kind::kSequence : Node::Kind::kMapping;
        frame.node.where = where;
        stack.push_back(std::move(frame));
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Node done = std::move(stack.back().node);
        stack.pop_back();
        attach(std::move(done));
        break;
      }
    }
    if (structural_error && result.errors.size() > 100) return result;
  }
}

// ---- The tree in a file ------------------------------------------------------
//
// Layout (integers little-endian):
//   "FNGTREE1"                 magic and format version
//   32 bytes                   SHA-256 of the policy text
//   32 bytes                   SHA-256 of the body
//   body                       the root node
// A node: kind (u8: 0 scalar, 1 sequence, 2 mapping), flags (u8: 1 quoted,
// 2 verbatim), line (u32), column (u32), text length (u32) and text; then a
// sequence's item count (u32) and items, or a mapping's entry count (u32)
// and key, value pairs.

namespace {

constexpr char kTreeMagic[8] = {'F', 'N', 'G', 'T', 'R', 'E', 'E', '1'};
constexpr size_t kTreeHeader = sizeof kTreeMagic + 32 + 32;
constexpr size_t kMinNodeBytes = 1 + 1 + 4 + 4 + 4;

void put_u32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void encode(const Node& n, std::string* out) {
  out->push_back(static_cast<char>(n.kind));
  out->push_back(static_cast<char>((n.quoted ? 1 : 0) | (n.verbatim ? 2 : 0)));
  put_u32(out, static_cast<uint32_t>(n.where.line));
  put_u32(out, static_cast<uint32_t>(n.where.column));
  put_u32(out, static_cast<uint32_t>(n.text.size()));
  out->append(n.text);
  if (n.kind == Node::Kind::kSequence) {
    put_u32(out, static_cast<uint32_t>(n.items.size()));
    for (const Node& item : n.items) encode(item, out);
  } else if (n.kind == Node::Kind::kMapping) {
    put_u32(out, static_cast<uint32_t>(n.entries.size()));
    for (const MapEntry& e : n.entries) {
      encode(e.key, out);
      encode(e.value, out);
    }
  }
}

class Decoder {
 public:
  explicit Decoder(std::string_view body) : in_(body) {}

  bool node(Node* n, int depth) {
    if (depth > kMaxDepth + 1) return false;
    uint8_t kind = 0, flags = 0;
    uint32_t line = 0, column = 0, length = 0;
    if (!u8(&kind) || !u8(&flags) || !u32(&line) || !u32(&column) || !u32(&length)) return false;
    if (kind > 2 || flags > 3 || line > kMaxPolicyBytes || column > kMaxPolicyBytes) return false;
    if (length > in_.size() - pos_) return false;
    std::string_view text = in_.substr(pos_, length);
    pos_ += length;
    if (text.find('\0') != std::string_view::npos ||
        find_invalid_utf8(text) != std::string_view::npos) {
      return false;
    }
    n->kind = static_cast<Node::Kind>(kind);
    n->quoted = (flags & 1) != 0;
    n->verbatim = (flags & 2) != 0;
    n->where.line = static_cast<int>(line);
    n->where.column = static_cast<int>(column);
    n->text.assign(text);
    if (n->kind == Node::Kind::kScalar) return true;
    uint32_t count = 0;
    if (!u32(&count)) return false;
    size_t per = n->kind == Node::Kind::kSequence ? kMinNodeBytes : 2 * kMinNodeBytes;
    if (count > (in_.size() - pos_) / per) return false;  // cannot fit: no huge reserve
    if (n->kind == Node::Kind::kSequence) {
      n->items.resize(count);
      for (Node& item : n->items) {
        if (!node(&item, depth + 1)) return false;
      }
      return true;
    }
    n->entries.resize(count);
    std::vector<std::string_view> keys;
    keys.reserve(count);
    for (MapEntry& e : n->entries) {
      if (!node(&e.key, depth + 1) || e.key.kind != Node::Kind::kScalar) return false;
      if (!node(&e.value, depth + 1)) return false;
      keys.push_back(e.key.text);
    }
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
  }

  bool at_end() const { return pos_ == in_.size(); }

 private:
  bool u8(uint8_t* v) {
    if (pos_ >= in_.size()) return false;
    *v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool u32(uint32_t* v) {
    if (in_.size() - pos_ < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 4;
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

void digest(std::string_view bytes, uint8_t out[32]) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  h.finish(out);
}

}  // namespace

std::string write_tree_file(const Node& root, std::string_view text) {
  std::string body;
  encode(root, &body);
  uint8_t text_digest[32], body_digest[32];
  digest(text, text_digest);
  digest(body, body_digest);
  std::string out(kTreeMagic, sizeof kTreeMagic);
  out.append(reinterpret_cast<const char*>(text_digest), 32);
  out.append(reinterpret_cast<const char*>(body_digest), 32);
  out += body;
  return out;
}

std::optional<Node> read_tree_file(std::string_view file, std::string_view text) {
  if (file.size() < kTreeHeader || std::memcmp(file.data(), kTreeMagic, sizeof kTreeMagic) != 0) {
    return std::nullopt;
  }
  uint8_t want[32];
  digest(text, want);
  if (std::memcmp(file.data() + sizeof kTreeMagic, want, 32) != 0) return std::nullopt;
  std::string_view body = file.substr(kTreeHeader);
  digest(body, want);
  if (std::memcmp(file.data() + sizeof kTreeMagic + 32, want, 32) != 0) return std::nullopt;
  return decode_tree_body(body);
}

std::optional<Node> decode_tree_body(std::string_view body) {
  Decoder d(body);
  Node root;
  if (!d.node(&root, 0) || !d.at_end()) return std::nullopt;
  return root;
}

}  // namespace fnguard::policy
