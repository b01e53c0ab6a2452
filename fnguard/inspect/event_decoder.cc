// Event decoding: RapidJSON's SAX reader turns the event into leaves (path,
// scalar), then the shape decides which leaves are attacker-reachable and how
// they are decoded (URL, base64, form, nested JSON body). See event_decoder.h.
// Every byte a field views lives in the DecodedEvent's TextArena: the JSON is
// copied there once and unescaped in place, paths and decoded values are
// appended; a value that needs no decoding is viewed where it lies.
#include "fnguard/inspect/event_decoder.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

// RapidJSON's internal assertions must never abort the host process: a failed
// one becomes a parse error path instead (they only guard internal invariants
// of the reader, which SAX use with a memory stream does not break).
#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x) ((void)0)
#endif
// On x86_64 RapidJSON copies unescaped string runs 16 bytes at a time with
// SSE2 (only for NUL-terminated StringStream input, hence the copy below).
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "fnguard/inspect/hex.h"

namespace fnguard::inspect {
namespace {

enum class LeafKind : uint8_t { kString, kNumber, kBool, kNull };

// A leaf's value points into the parse buffer (RapidJSON parses in situ) and
// its path next to it in the same TextArena, so collecting a leaf allocates
// nothing of its own, and both stay where they are for the fields that view them.
struct Leaf {
  std::string_view path;
  std::string_view value;
  LeafKind kind = LeafKind::kString;
  bool flag = false;  // the value of a bool leaf
  // Boundaries of the first two path segments ("headers" and "accept" in
  // "headers.accept[0]"), so shapes can be matched without re-parsing paths.
  uint32_t seg0_end = 0, seg1_begin = 0, seg1_end = 0;
  uint32_t depth = 0;

  std::string_view seg0() const { return path.substr(0, seg0_end); }
  std::string_view seg1() const { return path.substr(seg1_begin, seg1_end - seg1_begin); }
};

constexpr size_t kMaxSegmentBytes = 96;  // a key longer than this is cut in the path

// Collects leaves from one JSON text. Returning false from a callback stops
// the parse (RapidJSON then reports kParseErrorTermination); error_ says why.
class LeafCollector : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, LeafCollector> {
 public:
  LeafCollector(std::string root, const DecodeLimits& limits, size_t field_budget,
                bool strings_only, std::vector<Leaf>& out, TextArena& arena)
      : path_(std::move(root)),
        limits_(limits),
        budget_(field_budget),
        strings_only_(strings_only),
        out_(out),
        arena_(arena) {
    path_.reserve(256);  // grows past this only for deep or long-keyed paths
    stack_.reserve(16);
  }

  bool Null() { return scalar(LeafKind::kNull, {}, false); }
  bool Bool(bool b) { return scalar(LeafKind::kBool, {}, b); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return scalar(LeafKind::kNumber, std::string_view(s, n), false);
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return scalar(LeafKind::kString, std::string_view(s, n), false);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    // Points into the parse buffer, where in-situ parsing leaves each key in place.
    key_ = std::string_view(s, std::min<size_t>(n, kMaxSegmentBytes));
    return true;
  }
  bool StartObject() { return open(false); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(true); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  const std::string& error() const { return error_; }

 private:
  struct Frame {
    size_t path_len;  // length of path_ before this container's segment
    bool is_array;
    uint32_t next_index;
  };

  // Appends the segment for the next value (key or [index]); returns the old length.
  size_t push_segment() {
    size_t old = path_.size();
    if (stack_.empty()) return old;  // the root value: path is the root name
    Frame& top = stack_.back();
    if (top.is_array) {
      char digits[16];
      digits[0] = '[';
      char* end = std::to_chars(digits + 1, digits + sizeof digits - 1, top.next_index++).ptr;
      *end++ = ']';
      path_.append(digits, end);
    } else {
      if (!path_.empty()) path_ += '.';
      path_ += key_;
    }
    return old;
  }

  bool open(bool is_array) {
    if (stack_.size() >= limits_.max_depth) {
      error_ = "the JSON nests deeper than " + std::to_string(limits_.max_depth) +
               " levels; raise DecodeLimits::max_depth if such events are expected";
      return false;
    }
    size_t old = push_segment();
    stack_.push_back(Frame{old, is_array, 0});
    return true;
  }

  bool close() {
    if (stack_.empty()) return true;
    path_.resize(stack_.back().path_len);
    stack_.pop_back();
    return true;
  }

  bool scalar(LeafKind kind, std::string_view text, bool flag) {
    if (strings_only_ && kind != LeafKind::kString) {
      if (!stack_.empty() && stack_.back().is_array) stack_.back().next_index++;
      return true;
    }
    if (out_.size() >= budget_) {
      error_ = "the event has more than " + std::to_string(limits_.max_fields) +
               " values; raise DecodeLimits::max_fields if such events are expected";
      return false;
    }
    size_t old = push_segment();
    // Filled where it lies in the list: building it on the stack and copying
    // it in stalled on store forwarding (a fifth of the decoding time).
    Leaf& leaf = out_.emplace_back();
    size_t plen = std::min(path_.size(), limits_.max_path_bytes);
    leaf.path = arena_.copy(std::string_view(path_).substr(0, plen));
    leaf.value = text;
    leaf.kind = kind;
    leaf.flag = flag;
    leaf.depth = static_cast<uint32_t>(stack_.size());  // 1 for a top-level key
    mark_segments(leaf, old);
    path_.resize(old);
    return true;
  }

  // Records where the first two segments end. Segment 0 is the top-level key;
  // segment 1 the second-level key or index. Keys may contain '.', so this is
  // computed from the frame stack (where each container's segment started),
  // not by searching the string.
  void mark_segments(Leaf& leaf, size_t leaf_start) const {
    size_t b[3];
    int m = 0;
    for (size_t i = 1; i < stack_.size() && m < 3; ++i) b[m++] = stack_[i].path_len;
    if (m < 3) b[m++] = leaf_start;
    while (m < 3) b[m++] = path_.size();
    std::string_view path = leaf.path;
    size_t n = path.size();
    for (size_t& x : b) x = std::min(x, n);
    leaf.seg0_end = static_cast<uint32_t>(b[1]);
    size_t s1 = b[1] < n && path[b[1]] == '.' ? b[1] + 1 : b[1];
    leaf.seg1_begin = static_cast<uint32_t>(std::min(s1, b[2]));
    leaf.seg1_end = static_cast<uint32_t>(b[2]);
  }

  std::string path_;
  std::string_view key_;
  std::vector<Frame> stack_;
  const DecodeLimits& limits_;
  size_t budget_;
  bool strings_only_;
  std::vector<Leaf>& out_;
  TextArena& arena_;
  std::string error_;
};

// UTF-8 is validated by utf8_error_offset below (RapidJSON's own check goes
// one character at a time and was a third of the decoding time).
// NaN, Infinity and -Infinity are accepted because Python's json.loads
// accepts them: a body the function parses must not fall back to plain text
// here (where JSON escapes would hide a payload).
constexpr unsigned kParseFlags = rapidjson::kParseNumbersAsStringsFlag |
                                 rapidjson::kParseInsituFlag | rapidjson::kParseNanAndInfFlag;
// RapidJSON's recursive reader is faster than its iterative one (a tenth of
// the decoding time goes to the iterative state machine), and its recursion
// is bounded by the collector: StartObject/StartArray refuse to open a level
// past DecodeLimits::max_depth before the reader descends into it. Up to this
// depth the recursive reader is used (a few hundred bytes of stack per
// level); a caller who allows deeper nesting gets the iterative one, whose
// stack use does not grow with the input.
constexpr uint32_t kMaxRecursiveDepth = 256;

// Offset of the first byte that is not well-formed UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos. Runs of
// ASCII are checked 32 bytes at a time, then eight.
size_t utf8_error_offset(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  while (i < n) {
    if (i + 32 <= n) {
      uint64_t w[4];
      std::memcpy(w, p + i, 32);
      if (((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull) == 0) {
        i += 32;
        continue;
      }
    }
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf)
      len = 2;
    else if (c == 0xe0) {
      len = 3;
      lo = 0xa0;
    } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
      len = 3;
    else if (c == 0xed) {
      len = 3;
      hi = 0x9f;
    } else if (c == 0xf0) {
      len = 4;
      lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3)
      len = 4;
    else if (c == 0xf4) {
      len = 4;
      hi = 0x8f;
    } else
      return i;
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if ((p[i + k] & 0xc0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

// Parses text under root into out, with a copy of the text (parsed in place)
// and the leaves' paths in arena. Returns an empty string on success, else
// the error sentence. limit_hit tells a limit error from a syntax error.
std::string parse_leaves(std::string_view text, std::string root, const DecodeLimits& limits,
                         size_t budget, bool strings_only, std::vector<Leaf>& out, TextArena& arena,
                         bool* limit_hit) {
  *limit_hit = false;
  if (size_t bad = utf8_error_offset(text); bad != std::string_view::npos)
    return "the JSON is not valid UTF-8 at byte offset " + std::to_string(bad);
  // A NUL-terminated copy with 16 spare bytes: the in-situ stream stops at the
  // first NUL (the end, or a NUL byte inside the text, caught below), and the
  // SSE2 loop reads whole aligned 16-byte blocks, which must stay inside the
  // allocation.
  char* buffer = arena.allocate(text.size() + 16);
  if (!text.empty()) std::memcpy(buffer, text.data(), text.size());
  std::memset(buffer + text.size(), 0, 16);
  out.reserve(text.size() / 32 + 8);  // about one leaf per 32 bytes of JSON
  LeafCollector collector(std::move(root), limits, budget, strings_only, out, arena);
  rapidjson::InsituStringStream stream(buffer);
  rapidjson::Reader reader;
  rapidjson::ParseResult ok =
      limits.max_depth <= kMaxRecursiveDepth
          ? reader.Parse<kParseFlags>(stream, collector)
          : reader.Parse<kParseFlags | rapidjson::kParseIterativeFlag>(stream, collector);
  if (ok) {
    // The reader stopped before the end: trailing bytes, or a NUL byte.
    if (stream.Tell() < text.size()) {
      return "the JSON has unexpected bytes after the value at offset " +
             std::to_string(stream.Tell());
    }
    return {};
  }
  if (ok.Code() == rapidjson::kParseErrorTermination && !collector.error().empty()) {
    *limit_hit = true;
    return collector.error();
  }
  return std::string("the JSON is invalid at byte offset ") + std::to_string(ok.Offset()) + ": " +
         rapidjson::GetParseError_En(ok.Code());
}

// `text` with every "\uD800"-"\uDFFF" escape that is not half of a pair
// written as "\uFFFD" (the same length), in `out` (text.size() bytes).
// Python's json.loads and JSON.parse accept lone surrogates, RapidJSON does
// not: without this such a body would be scanned as text. Returns false when
// there is none.
bool replace_lone_surrogates(std::string_view text, char* out) {
  std::memcpy(out, text.data(), text.size());
  bool changed = false;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '\\') continue;
    if (text[i + 1] != 'u') {
      ++i;  // an escaped character: "\\u" is a backslash, then "u"
      continue;
    }
    int cp = hex4(text, i + 2);
    if (cp < 0xd800 || cp > 0xdfff) {
      i += 1;
      continue;
    }
    bool paired = false;
    if (cp <= 0xdbff && i + 7 < text.size() && text[i + 6] == '\\' && text[i + 7] == 'u') {
      int lo = hex4(text, i + 8);
      paired = lo >= 0xdc00 && lo <= 0xdfff;
    }
    if (paired) {
      i += 11;
      continue;
    }
    std::memcpy(out + i + 2, "FFFD", 4);
    changed = true;
    i += 5;
  }
  return changed;
}

// parse_leaves, and once more with lone surrogates replaced when that was
// what failed (any other error stands).
std::string parse_leaves_lenient(std::string_view text, const std::string& root,
                                 const DecodeLimits& limits, size_t budget, bool strings_only,
                                 std::vector<Leaf>& out, TextArena& arena, bool* limit_hit) {
  size_t first = out.size();
  std::string err = parse_leaves(text, root, limits, budget, strings_only, out, arena, limit_hit);
  if (err.empty() || *limit_hit || text.find("\\u") == std::string_view::npos) return err;
  char* copy = arena.allocate(text.size());
  if (!replace_lone_surrogates(text, copy)) return err;
  out.resize(first);
  return parse_leaves(std::string_view(copy, text.size()), root, limits, budget, strings_only, out,
                      arena, limit_hit);
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Whether `needle` (lower case) occurs in `haystack` ignoring ASCII case.
bool contains_lower(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() && lower(haystack[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A cheap 64-bit hash of a string: its length and its first and last 16
// bytes (strings that differ only in the middle share a bucket and are told
// apart by comparing them). Two independent multiply chains, so it costs a
// few multiplies' latency per string. Not keyed: FieldSink bounds the work
// that hostile collisions can cause instead.
inline uint64_t mix(uint64_t h, uint64_t w) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;
  h = (h ^ w) * kMul;
  return h ^ (h >> 29);
}

inline uint64_t load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

inline uint64_t load32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// The first n < 8 bytes of p as a little-endian word, zero above them.
inline uint64_t load_short(const char* p, size_t n) {
  if (n >= 4) return load32(p) | ((load32(p + n - 4) >> (8 * (8 - n))) << 32);
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return w;
}

// Words 0-1 are the first 16 bytes (zero-padded), words 2-3 the last 16
// (zero for a shorter string). Read with word loads straight from the string:
// copying the bytes to a stack array and reading that back stalled on store
// forwarding (a tenth of the decoding time). Little-endian words, so the
// hashes are those of a byte copy.
uint64_t hash_sample(std::string_view s, uint64_t seed) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t w0, w1 = 0, w2 = 0, w3 = 0;
  if (n >= 16) {
    w0 = load64(p);
    w1 = load64(p + 8);
    w2 = load64(p + n - 16);
    w3 = load64(p + n - 8);
  } else if (n >= 8) {
    w0 = load64(p);
    if (n > 8) w1 = load64(p + n - 8) >> (8 * (16 - n));
  } else {
    w0 = load_short(p, n);
  }
  uint64_t a = mix(mix(seed, w0), w2);
  uint64_t b = mix(mix(seed ^ n, w1), w3);
  return mix(a, b);
}

// Collects fields and drops exact (path, value) repeats: v1 events carry every
// header and query parameter twice (single- and multi-value maps). The index
// is an open-addressing table of field numbers (kept at most half full), so
// adding a field allocates nothing but the field itself.
//
// Security limit: the hash is not keyed, so an event can be built whose
// values all collide; each collision costs a comparison of the values. The
// bytes compared are bounded (kCompareBudget per byte of fields added); past
// the bound, repeats are kept instead of dropped, which costs a second scan
// of the same value and never hides one.
class FieldSink {
 public:
  FieldSink(std::vector<Field>& out, size_t max_path, size_t expected)
      : out_(out), max_path_(max_path) {
    out_.reserve(expected);
    hashes_.reserve(expected);
    size_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    slots_.assign(cap, 0);
  }

  // path and value must live as long as the fields (the event's TextArena).
  void add(std::string_view path, std::string_view value, FieldSource source) {
    if (path.size() > max_path_) path = path.substr(0, max_path_);
    size_t h = hash_sample(value, hash_sample(path, 0x2545f4914f6cdd1dull));
    size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    budget_ += kCompareBudget * (path.size() + value.size() + 1);
    for (; slots_[i] != 0; i = (i + 1) & mask) {
      size_t k = slots_[i] - 1;
      if (hashes_[k] != h) continue;
      const Field& f = out_[k];
      if (f.path.size() != path.size() || f.value.size() != value.size()) continue;
      size_t cost = path.size() + value.size() + 1;
      if (cost > budget_) continue;  // past the bound: keep it (see above)
      budget_ -= cost;
      if (f.path == path && f.value == value) return;
    }
    slots_[i] = static_cast<uint32_t>(out_.size() + 1);
    hashes_.push_back(h);
    out_.push_back(Field{path, value, source});
    if (out_.size() * 2 > slots_.size()) grow();
  }
  size_t size() const { return out_.size(); }

 private:
  void grow() {
    slots_.assign(slots_.size() * 2, 0);
    size_t mask = slots_.size() - 1;
    for (size_t k = 0; k < hashes_.size(); ++k) {
      size_t i = hashes_[k] & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = static_cast<uint32_t>(k + 1);
    }
  }

  static constexpr size_t kCompareBudget = 4;

  std::vector<Field>& out_;
  size_t max_path_;
  size_t budget_ = 0;            // bytes the remaining comparisons may look at
  std::vector<size_t> hashes_;   // per field: its hash
  std::vector<uint32_t> slots_;  // field index + 1, 0 = empty; size a power of two
};

// "a=1&b=2" (query strings, form bodies): each pair URL-decoded with '+' as
// space. A part without '=' is a value of its own (under bare_path). text
// must live as long as the fields; decoded parts and paths go to arena.
void add_pairs(std::string_view text, char separator, std::string_view prefix,
               std::string_view bare_path, FieldSource source, FieldSink& sink, TextArena& arena) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    if (separator == ';') part = trim(part);
    if (!part.empty()) {
      size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        sink.add(bare_path, url_decode(part, true, arena), source);
      } else {
        std::string_view name = url_decode(part.substr(0, eq), true, arena);
        std::string_view value = url_decode(part.substr(eq + 1), separator == '&', arena);
        sink.add(arena.join(prefix, name), value, source);
      }
    }
    if (end == text.size()) break;
    start = end + 1;
  }
}

EventShape detect_shape(const std::vector<Leaf>& leaves) {
  bool v2 = false, raw_path = false, route_key = false, elb = false, http_method = false;
  bool resource_or_path = false, lambda_url = false;
  for (const Leaf& l : leaves) {
    std::string_view k = l.seg0();
    if (l.depth == 1) {
      if (k == "version" && l.kind == LeafKind::kString && l.value == "2.0")
        v2 = true;
      else if (k == "rawPath")
        raw_path = true;
      else if (k == "routeKey")
        route_key = true;
      else if (k == "httpMethod")
        http_method = true;
      else if (k == "resource" || k == "path")
        resource_or_path = true;
    } else if (k == "requestContext") {
      std::string_view s1 = l.seg1();
      if (s1 == "elb") elb = true;
      if (s1 == "domainName" && l.value.find(".lambda-url.") != std::string::npos)
        lambda_url = true;
    }
  }
  if (v2 && (raw_path || route_key))
    return lambda_url ? EventShape::kFunctionUrl : EventShape::kApiGatewayV2;
  if (elb && http_method) return EventShape::kAlb;
  if (http_method && resource_or_path) return EventShape::kApiGatewayV1;
  return EventShape::kGeneric;
}

// Percent-decodes in into out (room for in.size() bytes); returns the length.
// Invalid escapes are kept as they are.
size_t url_decode_to(std::string_view in, bool plus_as_space, char* out) {
  size_t n = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out[n++] = (plus_as_space && c == '+') ? ' ' : c;
  }
  return n;
}

// Base64 (standard or URL-safe, padding optional, whitespace ignored) into out
// (room for in.size() / 4 * 3 + 3 bytes). Returns the length, or nullptr in
// *error with the reason.
size_t base64_decode_to(std::string_view in, char* out, const char** error) {
  *error = nullptr;
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=') {
      padding = true;
      continue;
    } else if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
      continue;
    else {
      *error = "the body is marked isBase64Encoded but is not base64";
      return 0;
    }
    if (padding) {
      *error = "the body is marked isBase64Encoded but has data after its padding";
      return 0;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return n;
}

size_t base64_capacity(std::string_view in) { return in.size() / 4 * 3 + 3; }

Status decode_body(std::string_view body, bool is_base64, std::string_view content_type,
                   const DecodeLimits& limits, FieldSink& sink, TextArena& arena) {
  // `decoded` views the body where it lies (in the event's parse buffer) and
  // only a base64 body is written out again.
  std::string_view decoded = body;
  if (is_base64) {
    char* out = arena.allocate(base64_capacity(body));
    const char* error = nullptr;
    size_t n = base64_decode_to(body, out, &error);
    // A body that claims base64 but is not: scan it as it is, since that is
    // what reached the function.
    if (error == nullptr) decoded = std::string_view(out, n);
    arena.shrink_last(out, error == nullptr ? n : 0);
  }
  if (decoded.empty()) return Ok{};
  size_t first = decoded.find_first_not_of(" \t\r\n");
  bool looks_json =
      first != std::string_view::npos && (decoded[first] == '{' || decoded[first] == '[');
  const bool form = contains_lower(content_type, "application/x-www-form-urlencoded");
  // A body that looks like JSON is parsed as JSON whatever its content type
  // says: handlers call json.loads / JSON.parse without looking at it. Under
  // a form content type it is split into pairs as well (parse_qs reads
  // ["&h=1;id&"] as h=1;id).
  if (looks_json || contains_lower(content_type, "json")) {
    std::vector<Leaf> leaves;
    bool limit_hit = false;
    size_t budget = limits.max_fields > sink.size() ? limits.max_fields - sink.size() : 0;
    std::string err =
        parse_leaves_lenient(decoded, "body", limits, budget, true, leaves, arena, &limit_hit);
    if (err.empty()) {
      for (const Leaf& l : leaves) sink.add(l.path, l.value, FieldSource::kBody);
      if (form) add_pairs(decoded, '&', "body.", "body", FieldSource::kBody, sink, arena);
      return Ok{};
    }
    // Nesting or size past the limits is an error: falling back to plain text
    // would let JSON escapes (\u0027) hide an attack from the detectors.
    if (limit_hit) return make_error("the request body: " + err);
    // Otherwise the body is scanned as text below, where the detectors'
    // second look undoes JSON escapes.
  }
  if (form) {
    add_pairs(decoded, '&', "body.", "body", FieldSource::kBody, sink, arena);
    return Ok{};
  }
  sink.add("body", decoded, FieldSource::kBody);
  return Ok{};
}

// prefix + name with name's ASCII letters lower-cased ("headers.user-agent").
std::string_view join_lower(std::string_view prefix, std::string_view name, TextArena& arena) {
  char* p = arena.allocate(prefix.size() + name.size());
  std::memcpy(p, prefix.data(), prefix.size());
  for (size_t i = 0; i < name.size(); ++i) p[prefix.size() + i] = lower(name[i]);
  return std::string_view(p, prefix.size() + name.size());
}

Status extract_http(EventShape shape, std::vector<Leaf>& leaves, const DecodeLimits& limits,
                    DecodedEvent& event) {
  TextArena& arena = event.storage;
  // Room for the event's leaves and a JSON or form body's fields (about one
  // per 16 bytes), so the list is not moved while it fills.
  size_t expected = leaves.size() + 8;
  for (const Leaf& l : leaves)
    if (l.depth == 1 && l.seg0() == "body") expected += l.value.size() / 16;
  FieldSink sink(event.fields, limits.max_path_bytes,
                 std::min(expected, limits.max_fields + size_t{8}));
  const bool alb = shape == EventShape::kAlb;  // ALB passes query parameters still encoded
  const Leaf* body = nullptr;
  bool is_base64 = false;
  std::string_view content_type;
  for (Leaf& l : leaves) {
    std::string_view k = l.seg0();
    if (k == "isBase64Encoded" && l.kind == LeafKind::kBool) is_base64 = l.flag;
    if (l.kind != LeafKind::kString) continue;
    if (l.depth == 1) {
      if (k == "body")
        body = &l;
      else if (k == "path" || k == "rawPath")
        sink.add(k, url_decode(l.value, false, arena), FieldSource::kPath);
      else if (k == "rawQueryString")
        add_pairs(l.value, '&', "queryStringParameters.", "queryString", FieldSource::kQuery, sink,
                  arena);
      else if (k == "httpMethod")
        event.method = std::string(l.value);
      continue;
    }
    std::string_view name = l.seg1();
    if (k == "requestContext") {
      // requestContext.http.method (v2); everything else there is AWS's.
      if (l.path == "requestContext.http.method") event.method = std::string(l.value);
      continue;
    }
    if (k == "queryStringParameters" || k == "multiValueQueryStringParameters") {
      sink.add(arena.join("queryStringParameters.", alb ? url_decode(name, true, arena) : name),
               alb ? url_decode(l.value, true, arena) : l.value, FieldSource::kQuery);
    } else if (k == "pathParameters") {
      sink.add(arena.join("pathParameters.", name), l.value, FieldSource::kPathParameter);
    } else if (k == "headers" || k == "multiValueHeaders") {
      std::string_view path = join_lower("headers.", name, arena);
      std::string_view n = path.substr(8);
      if (n == "cookie") {
        add_pairs(l.value, ';', "cookies.", "cookies", FieldSource::kCookie, sink, arena);
        continue;
      }
      if (n == "content-type") content_type = l.value;
      sink.add(path, l.value, FieldSource::kHeader);
    } else if (k == "cookies") {
      add_pairs(l.value, ';', "cookies.", "cookies", FieldSource::kCookie, sink, arena);
    }
  }
  if (body != nullptr)
    return decode_body(body->value, is_base64, content_type, limits, sink, arena);
  return Ok{};
}

}  // namespace

TextArena& TextArena::operator=(TextArena&& other) noexcept {
  if (this != &other) {
    blocks_ = std::move(other.blocks_);
    other.blocks_.clear();
    next_ = std::exchange(other.next_, nullptr);
    left_ = std::exchange(other.left_, 0);
    next_block_ = other.next_block_;
  }
  return *this;
}

char* TextArena::allocate(size_t n) {
  if (n > left_) {
    // A new block; the rest of the current one is left unused. Blocks double
    // from the first size, and a request larger than that gets its own.
    size_t base = std::max<size_t>(next_block_, 1024);
    size_t size = std::max(n, base);
    next_block_ = base * 2;
    blocks_.push_back(std::unique_ptr<char[]>(new char[size]));  // not zero-filled
    next_ = blocks_.back().get();
    left_ = size;
  }
  char* p = next_;
  next_ += n;
  left_ -= n;
  return p;
}

std::string_view TextArena::copy(std::string_view s) {
  char* p = allocate(s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return std::string_view(p, s.size());
}

std::string_view TextArena::join(std::string_view a, std::string_view b) {
  char* p = allocate(a.size() + b.size());
  if (!a.empty()) std::memcpy(p, a.data(), a.size());
  if (!b.empty()) std::memcpy(p + a.size(), b.data(), b.size());
  return std::string_view(p, a.size() + b.size());
}

void TextArena::shrink_last(char* start, size_t used) {
  // Only the latest allocation of the current block can give bytes back.
  if (blocks_.empty() || start < blocks_.back().get() || start + used > next_) return;
  left_ += static_cast<size_t>(next_ - (start + used));
  next_ = start + used;
}

const char* shape_name(EventShape shape) {
  switch (shape) {
    case EventShape::kApiGatewayV1:
      return "apigateway_v1";
    case EventShape::kApiGatewayV2:
      return "apigateway_v2";
    case EventShape::kFunctionUrl:
      return "function_url";
    case EventShape::kAlb:
      return "alb";
    case EventShape::kGeneric:
      break;
  }
  return "generic";
}

std::string url_decode(std::string_view in, bool plus_as_space) {
  std::string out(in.size(), '\0');
  out.resize(url_decode_to(in, plus_as_space, out.data()));
  return out;
}

std::string_view url_decode(std::string_view in, bool plus_as_space, TextArena& storage) {
  // Most values carry no escape at all: they are their own decoded form.
  if ((plus_as_space ? in.find_first_of("%+") : in.find('%')) == std::string_view::npos) return in;
  char* out = storage.allocate(in.size());
  size_t n = url_decode_to(in, plus_as_space, out);
  storage.shrink_last(out, n);
  return std::string_view(out, n);
}

Result<std::string> base64_decode(std::string_view in) {
  std::string out(base64_capacity(in), '\0');
  const char* error = nullptr;
  out.resize(base64_decode_to(in, out.data(), &error));
  if (error != nullptr) return make_error(error);
  return out;
}

Result<DecodedEvent> decode_event(std::string_view raw_json, const DecodeLimits& limits,
                                  EventShape* shape_seen) {
  if (raw_json.size() > limits.max_event_bytes) {
    return make_error("the event is " + std::to_string(raw_json.size()) + " bytes, more than the " +
                          std::to_string(limits.max_event_bytes) + " bytes inspection accepts",
                      "raise DecodeLimits::max_event_bytes if such events are expected");
  }
  // One block holds, for a typical event, the parse copy, the leaves' paths,
  // a JSON body's copy and the decoded values; more blocks follow if needed.
  DecodedEvent event;
  event.storage = TextArena(2 * raw_json.size() + 2048);
  std::vector<Leaf> leaves;
  bool limit_hit = false;
  std::string err = parse_leaves(raw_json, std::string(), limits, limits.max_fields, false, leaves,
                                 event.storage, &limit_hit);
  if (!err.empty()) return make_error("the event cannot be inspected: " + err);

  event.shape = detect_shape(leaves);
  if (shape_seen != nullptr) *shape_seen = event.shape;
  if (is_http_shape(event.shape)) {
    Status st = extract_http(event.shape, leaves, limits, event);
    if (!st.ok()) return make_error("the event cannot be inspected: " + st.error().message);
    return event;
  }
  event.fields.reserve(leaves.size());
  std::vector<Leaf> inner;
  for (Leaf& l : leaves) {
    if (l.kind != LeafKind::kString) continue;
    std::string_view path = l.path.empty() ? std::string_view("event") : l.path;
    // A string that holds JSON (an SQS or SNS message body, an EventBridge
    // detail passed along as text) is also flattened one level, so JSON
    // escapes inside it (\u002e\u002e/) cannot hide a payload. The string
    // itself is kept as well: the function may use it as text.
    size_t first = l.value.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && (l.value[first] == '{' || l.value[first] == '[')) {
      inner.clear();
      bool inner_limit = false;
      size_t budget = limits.max_fields > event.fields.size() + leaves.size()
                          ? limits.max_fields - event.fields.size() - leaves.size()
                          : 0;
      std::string inner_err = parse_leaves_lenient(l.value, std::string(path), limits, budget, true,
                                                   inner, event.storage, &inner_limit);
      if (inner_limit) {
        return make_error("the event cannot be inspected: " + std::string(path) + ": " + inner_err);
      }
      if (inner_err.empty())
        for (const Leaf& il : inner)
          event.fields.push_back(Field{il.path, il.value, FieldSource::kGeneric});
    }
    event.fields.push_back(Field{path, l.value, FieldSource::kGeneric});
  }
  return event;
}

}  // namespace fnguard::inspect
