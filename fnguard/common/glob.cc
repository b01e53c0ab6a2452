// Iterative glob matcher with backtracking for "*" and "**". Worst case is
// O(len(glob) * len(text)) because only the most recent star is retried,
// which is correct for these semantics: a later star can absorb whatever an
// earlier one would have.
#include "fnguard/common/glob.h"

namespace fnguard {
namespace {

// Matches a character class starting at glob[0] == '['. Returns the length of
// the class in the glob (so the caller can skip it) and sets *matched.
size_t match_class(const char* glob, char c, bool* matched) {
  size_t i = 1;
  bool negate = false;
  if (glob[i] == '!' || glob[i] == '^') {
    negate = true;
    ++i;
  }
  bool hit = false;
  bool first = true;
  while (glob[i] != '\0' && (glob[i] != ']' || first)) {
    first = false;
    // Bytes compare as unsigned, so ranges over UTF-8 bytes (>= 0x80) keep
    // their natural order whatever the signedness of char.
    auto lo = static_cast<unsigned char>(glob[i]);
    if (lo == '\\' && glob[i + 1] != '\0') lo = static_cast<unsigned char>(glob[++i]);
    unsigned char hi = lo;
    if (glob[i + 1] == '-' && glob[i + 2] != ']' && glob[i + 2] != '\0') {
      hi = static_cast<unsigned char>(glob[i + 2]);
      if (hi == '\\' && glob[i + 3] != '\0') {
        hi = static_cast<unsigned char>(glob[i + 3]);
        ++i;
      }
      i += 2;
    }
    auto byte = static_cast<unsigned char>(c);
    if (byte >= lo && byte <= hi) hit = true;
    ++i;
  }
  *matched = (c != '/') && (hit != negate);
  return glob[i] == ']' ? i + 1 : i;
}

}  // namespace

const char* glob_validate(const char* glob, size_t* error_offset) {
  for (size_t i = 0; glob[i] != '\0'; ++i) {
    char c = glob[i];
    if (c == '\\') {
      if (glob[i + 1] == '\0') {
        *error_offset = i;
        return "a backslash at the end escapes nothing";
      }
      ++i;
    } else if (c == '[') {
      size_t j = i + 1;
      if (glob[j] == '!' || glob[j] == '^') ++j;
      if (glob[j] == ']') ++j;  // a leading "]" is literal
      while (glob[j] != '\0' && glob[j] != ']') {
        if (glob[j] == '\\' && glob[j + 1] != '\0') ++j;
        ++j;
      }
      if (glob[j] != ']') {
        *error_offset = i;
        return "a character class \"[\" is not closed by \"]\"";
      }
      if (j == i + 1 || (j == i + 2 && (glob[i + 1] == '!' || glob[i + 1] == '^'))) {
        *error_offset = i;
        return "a character class is empty";
      }
      i = j;
    } else if (c == '*' && glob[i + 1] == '*' && glob[i + 2] == '*') {
      *error_offset = i;
      return "\"***\" is not a wildcard; use \"**\" to cross directories";
    }
  }
  return nullptr;
}

namespace {

// glob_match, or with `prefix`, whether some string that starts with
// `text` matches: the text running out before the glob is then a success
// (whatever is left of the glob can match some continuation).
bool match(const char* glob, const char* text, bool prefix) {
  const char* g = glob;
  const char* t = text;
  // Backtracking state: the most recent star of any kind, and the most
  // recent "**". When a single "*" cannot absorb more (it reached a "/"), the
  // match may still succeed by letting the last "**" absorb one more.
  const char* star_g = nullptr;
  const char* star_t = nullptr;
  bool star_crosses = false;
  const char* dstar_g = nullptr;
  const char* dstar_t = nullptr;

  while (true) {
    if (*g == '*') {
      bool crosses = g[1] == '*';
      g += crosses ? 2 : 1;
      // "/**" at the end also matches the directory itself: handled by
      // letting "**" match the empty string and by the special case below.
      // A star that ends the glob matches the rest at once: "**" anything,
      // "*" anything without a "/". This is the common "/dir/**" rule, and
      // answering here keeps it from backtracking over every character.
      if (*g == '\0') {
        if (crosses) return true;
        while (*t != '\0' && *t != '/') ++t;
        if (*t == '\0') return true;
      }
      star_g = g;
      star_t = t;
      star_crosses = crosses;
      if (crosses) {
        dstar_g = g;
        dstar_t = t;
      }
      continue;
    }
    if (*t == '\0') {
      if (prefix) return true;
      // Trailing "/**": "/tmp" against "/tmp/**".
      if (g[0] == '/' && g[1] == '*' && g[2] == '*' && g[3] == '\0') return true;
      if (*g == '\0') return true;
    } else if (*g != '\0') {
      bool matched = false;
      size_t glen = 1;
      if (*g == '?') {
        matched = *t != '/';
      } else if (*g == '[') {
        glen = match_class(g, *t, &matched);
      } else if (*g == '\\' && g[1] != '\0') {
        matched = g[1] == *t;
        glen = 2;
      } else {
        matched = *g == *t;
      }
      if (matched) {
        g += glen;
        ++t;
        continue;
      }
    }
    // Mismatch: let the last star absorb one more character, if it may,
    // else fall back to the last "**".
    if (star_g != nullptr && *star_t != '\0' && (star_crosses || *star_t != '/')) {
      ++star_t;
      g = star_g;
      t = star_t;
      continue;
    }
    if (dstar_g == nullptr || *dstar_t == '\0') return false;
    ++dstar_t;
    star_g = g = dstar_g;
    star_t = t = dstar_t;
    star_crosses = true;
  }
}

}  // namespace

bool glob_match(const char* glob, const char* text) { return match(glob, text, false); }

bool glob_match_prefix(const char* glob, const char* text) { return match(glob, text, true); }

bool glob_is_literal(const char* glob) {
  for (const char* p = glob; *p != '\0'; ++p) {
    if (*p == '*' || *p == '?' || *p == '[' || *p == '\\') return false;
  }
  return true;
}

size_t glob_literal_dir_prefix(const char* glob) {
  size_t last_slash = 0;
  for (size_t i = 0; glob[i] != '\0'; ++i) {
    char c = glob[i];
    if (c == '*' || c == '?' || c == '[' || c == '\\') return last_slash;
    if (c == '/') last_slash = i;
  }
  return last_slash;
}

}  // namespace fnguard
