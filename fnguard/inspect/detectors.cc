// The four detectors. Each works on one value in three steps: the class mask
// says whether the detector's characters occur at all; the precise checks
// look at the places where they do (positions of '/', ';', quotes, "://");
// a match yields a rule name and an excerpt. See detectors.h for the limits.
#include "fnguard/inspect/detectors.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

#include "fnguard/inspect/hex.h"

// The class pass uses nibble table look-ups (PSHUFB on x86 with SSSE3,
// chosen at run time; TBL on arm64, always present); elsewhere, and for
// values shorter than one block, a byte table.
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "fnguard/common/cpu_features.h"
#define FNGUARD_CLASSES_SSSE3 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define FNGUARD_CLASSES_NEON 1
#endif

namespace fnguard::inspect {
namespace {

// ---- byte classes (the prefilter) -------------------------------------------

enum Class : uint32_t {
  kDot = 1 << 0,          // .
  kSlash = 1 << 1,        // /
  kBackslash = 1 << 2,    // backslash
  kPercent = 1 << 3,      // %
  kColon = 1 << 4,        // :
  kShell = 1 << 5,        // ; | & ` $ newline CR
  kQuote = 1 << 6,        // ' " `
  kSqlPunct = 1 << 7,     // = ( # - * ; @
  kSpace = 1 << 8,        // space tab + (form encoding)
  kBracket = 1 << 9,      // [ (IPv6 literals)
  kHigh = 1 << 10,        // bytes >= 0x80 (overlong UTF-8 after decoding)
  kU = 1 << 11,           // u U (UNION)
  kParen = 1 << 12,       // ( (SQL function calls)
  kUnderscore = 1 << 13,  // _ (information_schema, xp_cmdshell)
  kAt = 1 << 14,          // @ (@@version)
  kSemicolon = 1 << 15,   // the shell separators one by one, so each is looked
  kPipe = 1 << 16,        // for (with memchr) only when it occurs
  kAmp = 1 << 17,
  kNewline = 1 << 18,  // \n and \r
  kBacktick = 1 << 19,
  kDollar = 1 << 20,
};

constexpr std::array<uint32_t, 256> make_classes() {
  std::array<uint32_t, 256> t{};
  t['.'] = kDot;
  t['/'] = kSlash;
  t['\\'] = kBackslash;
  t['%'] = kPercent;
  t[':'] = kColon;
  for (unsigned char c : {';', '|', '&', '$', '\n', '\r'}) t[c] |= kShell;
  t['`'] = kShell | kQuote;
  t['\''] = kQuote;
  t['"'] = kQuote;
  for (unsigned char c : {'=', '(', '#', '-', '*', ';', '@'}) t[c] |= kSqlPunct;
  t[' '] = kSpace;
  t['\t'] = kSpace;
  t['+'] = kSpace;
  t['['] = kBracket;
  t['('] |= kParen;
  t['_'] |= kUnderscore;
  t['@'] |= kAt;
  t[';'] |= kSemicolon;
  t['|'] |= kPipe;
  t['&'] |= kAmp;
  t['\n'] |= kNewline;
  t['\r'] |= kNewline;
  t['`'] |= kBacktick;
  t['$'] |= kDollar;
  t['u'] = kU;
  t['U'] = kU;
  for (int c = 0x80; c < 0x100; ++c) t[c] = kHigh;
  return t;
}
constexpr std::array<uint32_t, 256> kClasses = make_classes();

uint32_t class_mask_scalar(const unsigned char* p, size_t n) {
  // Four accumulators so the loop is not one long dependency chain.
  uint32_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a |= kClasses[p[i]];
    b |= kClasses[p[i + 1]];
    c |= kClasses[p[i + 2]];
    d |= kClasses[p[i + 3]];
  }
  for (; i < n; ++i) a |= kClasses[p[i]];
  return static_cast<uint32_t>(a | b | c | d);
}

#if defined(FNGUARD_CLASSES_SSSE3) || defined(FNGUARD_CLASSES_NEON)
// The vector form of the same table. The bytes that have classes are given
// "present" bits: a bit stands for a set of bytes with the same classes whose
// high and low nibbles form a rectangle holding only such bytes (one byte, or
// '#' '*' '-', or all bytes >= 0x80). A bit is looked up as
// lo[byte & 15] & hi[byte >> 4]: set in lo at the rectangle's low nibbles and
// in hi at its high nibbles, so the AND is set exactly for the bytes in it.
// Three groups of eight bits cover them; each present bit then maps back to
// its classes, so the result equals class_mask_scalar's.
struct NibbleTables {
  uint8_t lo[4][16] = {};  // [group][nibble]: bits of the bytes with that low nibble
  uint8_t hi[4][16] = {};
  uint32_t bit_classes[32] = {};
  int bits = 0;
};

// Whether every byte hi x lo (nibble sets as bit masks) has the classes c.
constexpr bool rectangle_has_classes(uint32_t his, uint32_t los, uint32_t c) {
  for (int h = 0; h < 16; ++h)
    for (int l = 0; l < 16; ++l)
      if (((his >> h) & 1) && ((los >> l) & 1) && kClasses[h * 16 + l] != c) return false;
  return true;
}

constexpr NibbleTables make_nibble_tables() {
  NibbleTables t;
  uint32_t his[32] = {}, los[32] = {};
  auto add = [&](int byte) {
    uint32_t c = kClasses[byte];
    uint32_t h = 1u << (byte >> 4), l = 1u << (byte & 15);
    // Share a bit with bytes of the same classes when the nibble rectangle
    // they span still holds only such bytes ('#' '*' '-'; ' ' '+'; u U; CR LF).
    for (int bit = 0; bit < t.bits; ++bit) {
      if (t.bit_classes[bit] != c) continue;
      if (!rectangle_has_classes(his[bit] | h, los[bit] | l, c)) continue;
      his[bit] |= h;
      los[bit] |= l;
      return;
    }
    his[t.bits] = h;
    los[t.bits] = l;
    t.bit_classes[t.bits++] = c;
  };
  for (int b = 0; b < 0x80; ++b)
    if (kClasses[b] != 0) add(b);
  for (int b = 0x80; b < 0x100; ++b) add(b);  // all one bit: high nibble 8..15, any low
  for (int bit = 0; bit < t.bits; ++bit) {
    for (int n = 0; n < 16; ++n) {
      if ((los[bit] >> n) & 1) t.lo[bit / 8][n] |= static_cast<uint8_t>(1u << (bit % 8));
      if ((his[bit] >> n) & 1) t.hi[bit / 8][n] |= static_cast<uint8_t>(1u << (bit % 8));
    }
  }
  return t;
}
constexpr NibbleTables kNibbles = make_nibble_tables();
constexpr int kNibbleGroups = 3;
static_assert(kNibbles.bits <= 8 * kNibbleGroups,
              "the byte classes need more nibble groups than kNibbleGroups");

// For each group, the classes of every combination of its eight present bits.
using GroupClasses = std::array<std::array<uint32_t, 256>, kNibbleGroups>;
constexpr GroupClasses make_group_classes() {
  GroupClasses t{};
  for (int g = 0; g < kNibbleGroups; ++g)
    for (int v = 0; v < 256; ++v)
      for (int b = 0; b < 8; ++b)
        if ((v >> b) & 1) t[g][v] |= kNibbles.bit_classes[g * 8 + b];
  return t;
}
constexpr GroupClasses kGroupClasses = make_group_classes();

// ORs the 16 bytes of each group's accumulator into 8 bits, then maps them to classes.
uint32_t classes_of_present(const uint8_t (&acc)[kNibbleGroups][16]) {
  uint32_t mask = 0;
  for (int g = 0; g < kNibbleGroups; ++g) {
    uint64_t a, b;
    std::memcpy(&a, acc[g], 8);
    std::memcpy(&b, acc[g] + 8, 8);
    uint64_t x = a | b;
    x |= x >> 32;
    x |= x >> 16;
    x |= x >> 8;
    mask |= kGroupClasses[g][x & 0xff];
  }
  return mask;
}
#endif

#if defined(FNGUARD_CLASSES_SSSE3)
__attribute__((target("ssse3"))) uint32_t class_mask_vector(const unsigned char* p, size_t n) {
  __m128i lo_t[kNibbleGroups], hi_t[kNibbleGroups], acc[kNibbleGroups];
  for (int g = 0; g < kNibbleGroups; ++g) {
    lo_t[g] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.lo[g]));
    hi_t[g] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.hi[g]));
    acc[g] = _mm_setzero_si128();
  }
  const __m128i low4 = _mm_set1_epi8(0x0f);
  // n >= 16: the last block overlaps the one before it, which an OR of
  // classes does not mind.
  for (size_t i = 0; i < n; i += 16) {
    const unsigned char* block = i + 16 <= n ? p + i : p + n - 16;
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
    __m128i lo = _mm_and_si128(v, low4);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low4);
    for (int g = 0; g < kNibbleGroups; ++g)
      acc[g] = _mm_or_si128(acc[g], _mm_and_si128(_mm_shuffle_epi8(lo_t[g], lo),
                                                   _mm_shuffle_epi8(hi_t[g], hi)));
  }
  uint8_t out[kNibbleGroups][16];
  for (int g = 0; g < kNibbleGroups; ++g) _mm_storeu_si128(reinterpret_cast<__m128i*>(out[g]), acc[g]);
  return classes_of_present(out);
}

// The same with 32-byte blocks (VPSHUFB looks up within each 16-byte lane,
// so the tables are repeated in both lanes).
__attribute__((target("avx2"))) uint32_t class_mask_avx2(const unsigned char* p, size_t n) {
  __m256i lo_t[kNibbleGroups], hi_t[kNibbleGroups], acc[kNibbleGroups];
  for (int g = 0; g < kNibbleGroups; ++g) {
    lo_t[g] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.lo[g])));
    hi_t[g] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNibbles.hi[g])));
    acc[g] = _mm256_setzero_si256();
  }
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  // n >= 32: the last block overlaps the one before it.
  for (size_t i = 0; i < n; i += 32) {
    const unsigned char* block = i + 32 <= n ? p + i : p + n - 32;
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block));
    __m256i lo = _mm256_and_si256(v, low4);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    for (int g = 0; g < kNibbleGroups; ++g)
      acc[g] = _mm256_or_si256(acc[g], _mm256_and_si256(_mm256_shuffle_epi8(lo_t[g], lo),
                                                        _mm256_shuffle_epi8(hi_t[g], hi)));
  }
  uint8_t out[kNibbleGroups][16];
  for (int g = 0; g < kNibbleGroups; ++g) {
    __m128i both = _mm_or_si128(_mm256_castsi256_si128(acc[g]), _mm256_extracti128_si256(acc[g], 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[g]), both);
  }
  return classes_of_present(out);
}

enum class VectorLevel : uint8_t { kNone, kSsse3, kAvx2 };

// From glibc's CPU-feature table (fnguard/common/cpu_features.h), not
// __builtin_cpu_supports: that links libgcc's __cpu_indicator_init, a
// constructor that runs a dozen more CPUID traps at every start of the
// static fnguard binary.
VectorLevel detect_vector_level() {
  if (cpu::has_avx2()) return VectorLevel::kAvx2;
  return cpu::has_ssse3() ? VectorLevel::kSsse3 : VectorLevel::kNone;
}

VectorLevel vector_level() {
  static const VectorLevel level = detect_vector_level();
  return level;
}
#elif defined(FNGUARD_CLASSES_NEON)
uint32_t class_mask_vector(const unsigned char* p, size_t n) {
  uint8x16_t lo_t[kNibbleGroups], hi_t[kNibbleGroups], acc[kNibbleGroups];
  for (int g = 0; g < kNibbleGroups; ++g) {
    lo_t[g] = vld1q_u8(kNibbles.lo[g]);
    hi_t[g] = vld1q_u8(kNibbles.hi[g]);
    acc[g] = vdupq_n_u8(0);
  }
  const uint8x16_t low4 = vdupq_n_u8(0x0f);
  for (size_t i = 0; i < n; i += 16) {
    uint8x16_t v = vld1q_u8(i + 16 <= n ? p + i : p + n - 16);
    uint8x16_t lo = vandq_u8(v, low4);
    uint8x16_t hi = vshrq_n_u8(v, 4);
    for (int g = 0; g < kNibbleGroups; ++g)
      acc[g] = vorrq_u8(acc[g], vandq_u8(vqtbl1q_u8(lo_t[g], lo), vqtbl1q_u8(hi_t[g], hi)));
  }
  uint8_t out[kNibbleGroups][16];
  for (int g = 0; g < kNibbleGroups; ++g) vst1q_u8(out[g], acc[g]);
  return classes_of_present(out);
}


#endif

constexpr size_t kVectorClassesFrom = 64;

uint32_t class_mask(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  // On short values the table loop is as fast and has no set-up.
#if defined(FNGUARD_CLASSES_SSSE3)
  if (s.size() >= kVectorClassesFrom) {
    switch (vector_level()) {
      case VectorLevel::kAvx2:
        return class_mask_avx2(p, s.size());
      case VectorLevel::kSsse3:
        return class_mask_vector(p, s.size());
      case VectorLevel::kNone:
        break;
    }
  }
#elif defined(FNGUARD_CLASSES_NEON)
  if (s.size() >= kVectorClassesFrom) return class_mask_vector(p, s.size());
#endif
  return class_mask_scalar(p, s.size());
}

constexpr uint32_t kAllClasses = 0xffffffff;

// ---- small text helpers -----------------------------------------------------

inline char lower_c(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Searches with std::string_view::find's results, written out so they do
// not become library calls: on the short values events consist of, the call
// and set-up of memchr/memcmp cost more than the bytes they look at.
constexpr size_t kNpos = std::string_view::npos;

inline size_t find_char(std::string_view s, char c, size_t from = 0) {
  const char* p = s.data();
  size_t n = s.size(), i = from;
  if (i >= n) return kNpos;
#if defined(FNGUARD_CLASSES_SSSE3) && defined(__SSE2__)
  // Sixteen bytes at a time, never reading past the value's end.
  const __m128i needle = _mm_set1_epi8(c);
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    auto bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, needle)));
    if (bits != 0) return i + static_cast<size_t>(__builtin_ctz(bits));
  }
  if (i < n && n >= 16) {
    // The rest: the last 16 bytes of the value, ignoring those before i.
    size_t base = n - 16;
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + base));
    auto bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, needle)));
    bits &= ~0u << (i - base);
    return bits != 0 ? base + static_cast<size_t>(__builtin_ctz(bits)) : kNpos;
  }
  if (i < n) {
    const void* r = std::memchr(p + i, c, n - i);
    return r == nullptr ? kNpos : static_cast<size_t>(static_cast<const char*>(r) - p);
  }
  return kNpos;
#else
  if (n - i >= 32) {
    const void* r = std::memchr(p + i, c, n - i);
    return r == nullptr ? kNpos : static_cast<size_t>(static_cast<const char*>(r) - p);
  }
#endif
  for (; i < n; ++i)
    if (p[i] == c) return i;
  return kNpos;
}

// needle is not empty.
inline bool same_at(std::string_view s, size_t i, std::string_view needle) {
  if (i > s.size() || s.size() - i < needle.size()) return false;
  for (size_t k = 0; k < needle.size(); ++k)
    if (s[i + k] != needle[k]) return false;
  return true;
}

inline bool eq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && same_at(a, 0, b);
}

// needle is not empty. With SSE2, 16 starting positions at a time are
// tested on the needle's first and last bytes together (far fewer
// candidates than the first byte alone), then confirmed.
inline size_t find_str(std::string_view s, std::string_view needle, size_t from = 0) {
  if (from > s.size() || s.size() - from < needle.size()) return kNpos;
  const size_t m = needle.size(), n = s.size();
  [[maybe_unused]] const char* p = s.data();
  size_t i = from;
#if defined(FNGUARD_CLASSES_SSSE3) && defined(__SSE2__)
  if (m >= 2) {
    const __m128i first = _mm_set1_epi8(needle[0]), last = _mm_set1_epi8(needle[m - 1]);
    for (; i + m - 1 + 16 <= n; i += 16) {
      __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + m - 1));
      auto bits = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
      for (; bits != 0; bits &= bits - 1) {
        size_t k = i + static_cast<size_t>(__builtin_ctz(bits));
        if (same_at(s, k, needle)) return k;
      }
    }
  }
#endif
  size_t end = n - m;
  for (size_t k = find_char(s, needle[0], i); k != kNpos && k <= end;
       k = find_char(s, needle[0], k + 1)) {
    if (same_at(s, k, needle)) return k;
  }
  return kNpos;
}

// Case-insensitive prefix test; needle is lower case and not empty. The
// first byte is compared before anything else: most calls fail there.
inline bool starts_ci(std::string_view s, size_t i, std::string_view needle) {
  if (i >= s.size() || lower_c(s[i]) != needle[0]) return false;
  if (s.size() - i < needle.size()) return false;
  for (size_t k = 0; k < needle.size(); ++k)
    if (lower_c(s[i + k]) != needle[k]) return false;
  return true;
}

// starts_ci plus a word boundary after the needle.
inline bool word_at(std::string_view s, size_t i, std::string_view needle) {
  if (!starts_ci(s, i, needle)) return false;
  size_t e = i + needle.size();
  return e >= s.size() || !is_alnum(s[e]);
}

// Case-insensitive search; needle is lower case and starts with a letter or
// digit. Returns npos when absent.
size_t find_ci(std::string_view s, std::string_view needle, size_t from = 0) {
  if (needle.empty() || s.size() < needle.size()) return std::string_view::npos;
  char f = needle[0];
  char F = (f >= 'a' && f <= 'z') ? static_cast<char>(f - 32) : f;
  size_t last = s.size() - needle.size();
  for (size_t i = from; i <= last; ++i) {
    // memchr for the more common case of the two first characters is not
    // worth it here: values are short and the loop is branch-light.
    if ((s[i] == f || s[i] == F) && starts_ci(s, i, needle)) return i;
  }
  return std::string_view::npos;
}

// Exact search; glibc's memmem is vectorised, which is what keeps long
// values cheap.
size_t find_in(std::string_view hay, std::string_view needle, size_t from = 0) {
  if (from >= hay.size()) return std::string_view::npos;
  // memmem's set-up costs more than it saves on short values, and with SSE2
  // find_str is as fast on long ones.
#if defined(FNGUARD_CLASSES_SSSE3) && defined(__SSE2__)
  return find_str(hay, needle, from);
#endif
  if (hay.size() - from < 256) return find_str(hay, needle, from);
  const void* p = memmem(hay.data() + from, hay.size() - from, needle.data(), needle.size());
  return p == nullptr ? std::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - hay.data());
}

// The value lower-cased into a per-thread buffer (ASCII only; same length and
// offsets as the value). Written so the compiler vectorises it.
std::string_view lowered(std::string_view s, std::string& buf) {
  buf.resize(s.size());
  const char* in = s.data();
  char* out = buf.data();
  size_t n = s.size(), i = 0;
#if defined(FNGUARD_CLASSES_SSSE3) && defined(__SSE2__)
  // Sixteen bytes at a time (SSE2 is part of x86-64): signed compares, so
  // bytes >= 0x80 (negative) are never taken for upper case.
  const __m128i before_a = _mm_set1_epi8('A' - 1), after_z = _mm_set1_epi8('Z' + 1);
  const __m128i bit5 = _mm_set1_epi8(0x20);
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, before_a), _mm_cmplt_epi8(v, after_z));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_or_si128(v, _mm_and_si128(upper, bit5)));
  }
#elif defined(FNGUARD_CLASSES_NEON)
  const uint8x16_t a = vdupq_n_u8('A'), z = vdupq_n_u8('Z'), bit5 = vdupq_n_u8(0x20);
  for (; i + 16 <= n; i += 16) {
    uint8x16_t v = vld1q_u8(reinterpret_cast<const uint8_t*>(in + i));
    uint8x16_t upper = vandq_u8(vcgeq_u8(v, a), vcleq_u8(v, z));
    vst1q_u8(reinterpret_cast<uint8_t*>(out + i), vorrq_u8(v, vandq_u8(upper, bit5)));
  }
#endif
  // Eight bytes at a time: a byte is upper case when it is ASCII, >= 'A' and
  // <= 'Z'; those get 0x20 added (bit 5 set). Other bytes are untouched.
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    std::memcpy(&x, in + i, 8);
    uint64_t low7 = x & ~kHigh;
    uint64_t ge_a = low7 + kOnes * (0x80 - 'A');
    uint64_t gt_z = low7 + kOnes * (0x7f - 'Z');
    uint64_t upper = ge_a & ~gt_z & ~x & kHigh;
    x |= upper >> 2;
    std::memcpy(out + i, &x, 8);
  }
  for (; i < n; ++i) out[i] = lower_c(in[i]);
  return buf;
}

// A value and its lower-cased copy, made on first use: most values need no
// check that reads it.
class Lower {
 public:
  Lower(std::string_view s, std::string& buf) : s_(s), buf_(buf) {}
  std::string_view raw() const { return s_; }
  std::string_view get() {
    if (!made_) {
      view_ = lowered(s_, buf_);
      made_ = true;
    }
    return view_;
  }

 private:
  std::string_view s_, view_;
  std::string& buf_;
  bool made_ = false;
};

// Case-insensitive search for a lower-case needle, in the lower-cased copy
// (making the copy eight bytes at a time and searching it with memchr is
// faster than comparing both cases byte by byte).
size_t find_lower(Lower& lw, std::string_view needle, size_t from = 0) {
  return find_in(lw.get(), needle, from);
}

std::string excerpt(std::string_view s, size_t pos) {
  size_t begin = pos > 16 ? pos - 16 : 0;
  std::string out;
  size_t end = std::min(s.size(), begin + kMaxEvidence);
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
  }
  return out;
}

struct Hit {
  const char* rule = nullptr;
  size_t pos = 0;
  explicit operator bool() const { return rule != nullptr; }
};

// ---- decoding (for the second look at percent-encoded values) ---------------

// One round of percent-decoding, plus IIS-style %uXXXX for ASCII and the
// slash look-alikes. Returns false when nothing changed.
bool decode_round(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  bool changed = false;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 < in.size()) {
        int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
        if (hi >= 0 && lo >= 0) {
          out += static_cast<char>(hi * 16 + lo);
          i += 2;
          changed = true;
          continue;
        }
      }
      if (i + 1 < in.size() && (in[i + 1] == 'u' || in[i + 1] == 'U')) {
        int v = hex4(in, i + 2);
        if (v >= 0 && (v < 0x80 || v == 0x2215 || v == 0x2216)) {
          out += v == 0x2215 ? '/' : v == 0x2216 ? '\\' : static_cast<char>(v);
          i += 5;
          changed = true;
          continue;
        }
      }
    }
    out += in[i];
  }
  return changed;
}

// Overlong UTF-8 encodings of '.', '/' and '\' (the classic %c0%ae%c0%ae%c0%af)
// become the ASCII byte, as lenient decoders in some stacks do.
void fold_overlong(std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    if (u(i) == 0xc0 && i + 1 < s.size() && (u(i + 1) == 0xae || u(i + 1) == 0xaf)) {
      out += u(i + 1) == 0xae ? '.' : '/';
      ++i;
    } else if (u(i) == 0xc1 && i + 1 < s.size() && u(i + 1) == 0x9c) {
      out += '\\';
      ++i;
    } else if (u(i) == 0xe0 && i + 2 < s.size() && u(i + 1) == 0x80 &&
               (u(i + 2) == 0xae || u(i + 2) == 0xaf)) {
      out += u(i + 2) == 0xae ? '.' : '/';
      i += 2;
    } else {
      out += s[i];
    }
  }
  s.swap(out);
}

void put_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// One round of JSON string unescaping (\uXXXX with surrogate pairs, \/ \\ \"
// \n \r \t \b \f). A value reaches the detectors with JSON escapes still in
// it when the function parses text that fnguard could not take as JSON: a
// JSON body under another content type, a body with NaN or a lone surrogate
// (which Python's and Node's parsers accept), a message nested one level
// deeper than the decoder flattens. A lone surrogate becomes U+FFFD.
// Returns false when nothing changed.
bool json_unescape_round(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  bool changed = false;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    char e = in[i + 1];
    char simple = e == '/'    ? '/'
                  : e == '\\' ? '\\'
                  : e == '"'  ? '"'
                  : e == 'n'  ? '\n'
                  : e == 'r'  ? '\r'
                  : e == 't'  ? '\t'
                  : e == 'b'  ? '\b'
                  : e == 'f'  ? '\f'
                              : 0;
    if (simple != 0) {
      out += simple;
      ++i;
      changed = true;
      continue;
    }
    int cp = e == 'u' ? hex4(in, i + 2) : -1;
    if (cp < 0) {
      out += in[i];
      continue;
    }
    size_t used = 6;
    uint32_t code = static_cast<uint32_t>(cp);
    if (cp >= 0xd800 && cp <= 0xdbff) {
      int lo = i + 7 < in.size() && in[i + 6] == '\\' && in[i + 7] == 'u' ? hex4(in, i + 8) : -1;
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        code = 0x10000 + ((static_cast<uint32_t>(cp) - 0xd800) << 10) +
               (static_cast<uint32_t>(lo) - 0xdc00);
        used = 12;
      } else {
        code = 0xfffd;
      }
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      code = 0xfffd;
    }
    put_utf8(code, out);
    i += used - 1;
    changed = true;
  }
  return changed;
}

// The characters a URL parser's IDNA mapping (UTS #46, NFKC) turns into the
// ASCII of a host: the ideographic, fullwidth and halfwidth full stops;
// fullwidth digits, letters, ':' and '/'; circled digits (U+2460 "①" is
// "1", U+2469 "⑩" is "10") and letters (U+24B6 "Ⓐ"); superscript and
// subscript digits ("¹⁶⁹"); the mathematical alphanumerics ("𝟏", "𝐚").
// WHATWG URL parsers (Node's fetch and new URL) read "http://127。0。0。1/",
// "http://①②⑦.0.0.1/" and "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/" as loopback. Used for the
// SSRF detector only: shells and file systems do not fold. Returns the
// ASCII for code point `cp`, or nullptr.
const char* host_ascii(uint32_t cp) {
  static constexpr const char* kDigits[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  static constexpr const char* kLetters[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i",
                                             "j", "k", "l", "m", "n", "o", "p", "q", "r",
                                             "s", "t", "u", "v", "w", "x", "y", "z"};
  static constexpr const char* kTens[] = {"10", "11", "12", "13", "14", "15",
                                          "16", "17", "18", "19", "20"};
  static constexpr const char* kAscii[] = {
      "!", "\"", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",",  "-", ".", "/", "0",
      "1", "2",  "3", "4", "5", "6", "7", "8", "9", ":", ";", "<",  "=", ">", "?", "@",
      "a", "b",  "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",  "m", "n", "o", "p",
      "q", "r",  "s", "t", "u", "v", "w", "x", "y", "z", "[", "\\", "]", "^", "_", "`",
      "a", "b",  "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",  "m", "n", "o", "p",
      "q", "r",  "s", "t", "u", "v", "w", "x", "y", "z", "{", "|",  "}", "~"};
  if (cp == 0x3002 || cp == 0xff0e || cp == 0xff61) return ".";
  if (cp >= 0xff01 && cp <= 0xff5e) return kAscii[cp - 0xff01];  // fullwidth ASCII
  if (cp == 0xb9) return "1";
  if (cp == 0xb2) return "2";
  if (cp == 0xb3) return "3";
  if (cp == 0x2070) return "0";
  if (cp >= 0x2074 && cp <= 0x2079) return kDigits[cp - 0x2070];
  if (cp >= 0x2080 && cp <= 0x2089) return kDigits[cp - 0x2080];
  if (cp >= 0x2460 && cp <= 0x2468) return kDigits[cp - 0x2460 + 1];
  if (cp >= 0x2469 && cp <= 0x2473) return kTens[cp - 0x2469];
  if (cp >= 0x24b6 && cp <= 0x24cf) return kLetters[cp - 0x24b6];
  if (cp >= 0x24d0 && cp <= 0x24e9) return kLetters[cp - 0x24d0];
  if (cp == 0x24ea) return "0";
  if (cp >= 0x1d400 && cp <= 0x1d6a3) return kLetters[(cp - 0x1d400) % 52 % 26];
  if (cp >= 0x1d7ce && cp <= 0x1d7ff) return kDigits[(cp - 0x1d7ce) % 10];
  return nullptr;
}

// The code point of the UTF-8 sequence at s[i] and its length, or 0.
uint32_t utf8_at(std::string_view s, size_t i, size_t* len) {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (u(k) & 0xc0) == 0x80; };
  unsigned char b = u(i);
  if (b >= 0xc2 && b <= 0xdf && cont(i + 1)) {
    *len = 2;
    return ((b & 0x1fu) << 6) | (u(i + 1) & 0x3fu);
  }
  if (b >= 0xe0 && b <= 0xef && cont(i + 1) && cont(i + 2)) {
    *len = 3;
    return ((b & 0x0fu) << 12) | ((u(i + 1) & 0x3fu) << 6) | (u(i + 2) & 0x3fu);
  }
  if (b >= 0xf0 && b <= 0xf4 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
    *len = 4;
    return ((b & 0x07u) << 18) | ((u(i + 1) & 0x3fu) << 12) | ((u(i + 2) & 0x3fu) << 6) |
           (u(i + 3) & 0x3fu);
  }
  *len = 1;
  return 0;
}

// `in` with host_ascii applied. Returns false when nothing changed.
bool fold_host_lookalikes(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  bool changed = false;
  for (size_t i = 0; i < in.size();) {
    if (static_cast<unsigned char>(in[i]) < 0x80) {
      out += in[i++];
      continue;
    }
    size_t len = 1;
    uint32_t cp = utf8_at(in, i, &len);
    const char* ascii = cp != 0 ? host_ascii(cp) : nullptr;
    if (ascii != nullptr) {
      out += ascii;
      changed = true;
    } else {
      out.append(in.substr(i, len));
    }
    i += len;
  }
  return changed;
}

// Whether fold_host_lookalikes would change anything: looks only at the
// lead bytes of its sequences (C2, E2, E3, EF, F0; typographic quotes,
// E2 80 xx, are common in prose and map to nothing).
bool has_host_lookalike(std::string_view s) {
  for (char lead : {'\xc2', '\xe2', '\xe3', '\xef', '\xf0'}) {
    for (size_t i = find_char(s, lead); i != kNpos; i = find_char(s, lead, i + 1)) {
      size_t len = 1;
      uint32_t cp = utf8_at(s, i, &len);
      if (cp != 0 && host_ascii(cp) != nullptr) return true;
    }
  }
  return false;
}

// A path with its empty and "." segments dropped and "name/.." pairs
// resolved, as the kernel reads it: "/etc//passwd", "/etc/./passwd" and
// "/etc/x/../passwd" are /etc/passwd. Returns false when nothing changed.
bool squeeze_path(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  bool changed = false;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '/') {
      out += in[i];
      continue;
    }
    // At a '/': skip what follows that names the same directory.
    size_t j = i + 1;
    for (;;) {
      if (j < in.size() && in[j] == '/') {
        ++j;
      } else if (j + 1 < in.size() && in[j] == '.' && in[j + 1] == '/') {
        j += 2;
      } else if (j + 2 < in.size() && in[j] == '.' && in[j + 1] == '.' && in[j + 2] == '/') {
        // "name/../": drop the name written before this slash, if there is one.
        size_t start = out.rfind('/');
        std::string_view last =
            std::string_view(out).substr(start == std::string::npos ? 0 : start + 1);
        if (start == std::string::npos || last.empty() || last == "." || last == "..") break;
        out.resize(start);
        j += 2;  // the slash after ".." is this segment's separator
      } else {
        break;
      }
    }
    changed = changed || j != i + 1;
    out += '/';
    i = j - 1;
  }
  return changed;
}

// ---- path traversal / local file inclusion ----------------------------------

struct SensitivePath {
  std::string_view text;  // what follows a '/' (lower case when ci)
  bool ci;                // Windows names are case-insensitive
  bool prefix_only;       // a directory: anything may follow
};

// Checked at each '/' in the value; entries are the text after the slash.
constexpr SensitivePath kSensitive[] = {
    {"etc/passwd", false, false},     {"etc/shadow", false, false},
    {"etc/group", false, false},      {"etc/hosts", false, false},
    {"etc/issue", false, false},      {"etc/environment", false, false},
    {"etc/sudoers", false, false},    {"etc/crontab", false, false},
    {"etc/ssh/", false, true},        {"etc/hostname", false, false},
    {"etc/profile", false, false},    {"etc/os-release", false, false},
    {"proc/self/", false, true},      {"proc/thread-self/", false, true},
    {"proc/version", false, false},   {"proc/mounts", false, false},
    {"proc/net/", false, true},       {"var/task/", false, true},
    {"var/runtime/", false, true},    {"var/log/", false, true},
    {"opt/fnguard", false, true},     {"root/", false, true},
    {".aws/", false, true},           {".ssh/", false, true},
    {".bash_history", false, false},  {".env", false, false},
    {".git/", false, true},           {".htpasswd", false, false},
    {"dev/tcp/", false, true},        {"windows/win.ini", true, false},
    {"win.ini", true, false},         {"boot.ini", true, false},
    {"windows/system32", true, true},
};

// At a '/' followed by "proc/<digits>/": environ, cmdline, maps, fd/ of any process.
bool proc_pid_at(std::string_view s, size_t i) {
  if (!starts_ci(s, i, "proc/")) return false;
  size_t j = i + 5, d = j;
  while (j < s.size() && is_digit(s[j])) ++j;
  return j > d && j < s.size() && s[j] == '/';
}

// Only these letters start an entry (and "proc/<pid>/"), either case.
constexpr std::array<bool, 256> make_sensitive_first() {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view("epvord.wb")) {
    t[c] = true;
    if (c >= 'a' && c <= 'z') t[c - 32] = true;
  }
  return t;
}
constexpr std::array<bool, 256> kSensitiveFirst = make_sensitive_first();

// Past any empty and "." segments at j ("//", "./"): they name the same
// directory, so "/etc//passwd" and "/etc/./passwd" are /etc/passwd.
inline size_t skip_same_dir(std::string_view s, size_t j) {
  for (;;) {
    if (j < s.size() && s[j] == '/') {
      ++j;
    } else if (j + 1 < s.size() && s[j] == '.' && s[j + 1] == '/') {
      j += 2;
    } else {
      return j;
    }
  }
}

// Where `text` (a sensitive entry) ends when it matches at s[t], with empty
// and "." segments allowed after each of its slashes; kNpos when it does
// not match.
size_t entry_end(std::string_view s, size_t t, const SensitivePath& p) {
  size_t j = t;
  for (char c : p.text) {
    if (j >= s.size()) return kNpos;
    if (c == '/') {
      if (s[j] != '/') return kNpos;
      j = skip_same_dir(s, j + 1);
      continue;
    }
    if ((p.ci ? lower_c(s[j]) : s[j]) != c) return kNpos;
    ++j;
  }
  return j;
}

Hit sensitive_path(std::string_view s) {
  // The start of the value counts as after a slash for "etc/passwd" style
  // relative references ("....//etc/passwd" has its own slash).
  for (size_t i = 0; i < s.size();) {
    size_t t = s[i] == '/' ? skip_same_dir(s, i + 1) : i;
    // The slashes inside a run of "//" and "./" lead to the same t: the next
    // candidate is the first slash after it (else a run of slashes is
    // rescanned from each of them, quadratic).
    size_t next_from = t > i ? t : i + 1;
    if (t < s.size() && kSensitiveFirst[static_cast<unsigned char>(s[t])]) {
      char c = lower_c(s[t]);
      for (const SensitivePath& p : kSensitive) {
        if (p.text[0] != c) continue;
        size_t end = entry_end(s, t, p);
        if (end == kNpos) continue;
        if (!p.prefix_only) {
          size_t e = end;
          if (e < s.size() && (is_alnum(s[e]) || s[e] == '-'))
            continue;  // ".env" but not ".envoy", "/etc/hosts-like"
        }
        if (t == 0 && s[0] != '/' && find_char(p.text, '/') == kNpos) continue;
        return {"path.sensitive_file", i};
      }
      if (proc_pid_at(s, t)) return {"path.sensitive_file", i};
    }
    i = find_char(s, '/', next_from);
    if (i == kNpos) break;
  }
  return {};
}

Hit traversal(std::string_view s) {
  int count = 0;
  size_t first = std::string_view::npos;
  size_t j = 0;
  for (size_t i = find_str(s, ".."); i != std::string_view::npos; i = find_str(s, "..", j)) {
    j = i + 2;
    if (j < s.size() && s[j] == ';') ++j;  // "..;/" (servlet path parameters)
    bool sep_after = j >= s.size() || s[j] == '/' || s[j] == '\\';
    bool sep_before = i == 0 || s[i - 1] == '/' || s[i - 1] == '\\' || s[i - 1] == '.';
    if (sep_after && sep_before) {
      if (first == std::string_view::npos) first = i;
      ++count;
      // "../" as the whole start of a value, or twice anywhere.
      if (i == 0 && j + 1 < s.size()) return {"path.traversal", i};
      if (count >= 2) return {"path.traversal", first};
    }
  }
  if (count == 1 && sensitive_path(s.substr(first))) return {"path.traversal", first};
  // One "name/.." in front of a sensitive path: "/etc/x/../passwd".
  if (count == 1) {
    std::string squeezed;
    if (squeeze_path(s, squeezed) && sensitive_path(squeezed)) return {"path.traversal", first};
  }
  return {};
}

Hit file_scheme(std::string_view s) {
  static constexpr std::string_view kSchemes[] = {"file",   "php",  "phar", "zip",
                                                  "expect", "glob", "jar",  "netdoc"};
  for (size_t c = find_char(s, ':'); c != std::string_view::npos; c = find_char(s, ':', c + 1)) {
    size_t b = c;
    while (b > 0 && (is_alnum(s[b - 1]) || s[b - 1] == '+' || s[b - 1] == '-')) --b;
    std::string_view word = s.substr(b, c - b);
    if (word.empty() || word.size() > 6) continue;
    for (std::string_view scheme : kSchemes) {
      if (word.size() != scheme.size() || !starts_ci(s, b, scheme)) continue;
      // "file:/" and "file://"; the others need "://" (php://filter, zip://).
      bool slash = c + 1 < s.size() && s[c + 1] == '/';
      bool dslash = slash && c + 2 < s.size() && s[c + 2] == '/';
      if ((eq(scheme, "file") && slash) || dslash ||
          (eq(scheme, "jar") && starts_ci(s, c + 1, "file:")))
        return {"path.file_scheme", b};
    }
  }
  return {};
}

Hit detect_path(std::string_view raw, Lower&, uint32_t mask) {
  if (!(mask & (kSlash | kBackslash | kColon))) return {};
  std::string_view s = raw;
  std::string folded;
  if (mask & kBackslash) {
    folded.assign(raw);
    for (char& c : folded)
      if (c == '\\') c = '/';
    s = folded;
  }
  if (Hit h = traversal(s)) return h;
  if (Hit h = sensitive_path(s)) return h;
  if (mask & kColon)
    if (Hit h = file_scheme(s)) return h;
  return {};
}

// ---- command injection --------------------------------------------------------

// Programs an injected command names. Strong ones are flagged after any
// separator; weak ones are also English words ("cat", "sleep", "id") and need
// shell-looking arguments or nothing after them.
constexpr std::string_view kStrongCommands[] = {
    "whoami",  "uname",   "wget",     "curl",     "nc",       "ncat",       "netcat",
    "bash",    "sh",      "zsh",      "dash",     "ksh",      "csh",        "tcsh",
    "python",  "python2", "python3",  "perl",     "php",      "ruby",       "node",
    "lua",     "busybox", "socat",    "telnet",   "nslookup", "ifconfig",   "netstat",
    "chmod",   "chown",   "base64",   "xxd",      "printenv", "powershell", "pwsh",
    "cmd",     "mkfifo",  "nohup",    "crontab",  "useradd",  "sudo",       "passwd",
    "tftp",    "ssh",     "scp",      "awk",      "gawk",     "xterm",      "systemctl",
    "killall", "pkill",   "hostname", "ipconfig", "certutil", "bitsadmin",  "rm",
    "eval",    "exec",
};
constexpr std::string_view kWeakCommands[] = {
    "cat",  "ls",   "id",   "echo", "ping", "sleep", "env",  "touch",  "dig",   "kill", "cp", "mv",
    "head", "tail", "more", "less", "find", "grep",  "set",  "export", "cd",    "pwd",  "ps", "dir",
    "type", "ver",  "net",  "tee",  "time", "sort",  "uniq", "host",   "whois", "wc",   "od",
};

// Which (length, first letter) pairs occur in a command list: a token that
// matches none is no command, without comparing it against every entry.
struct CommandIndex {
  uint32_t first_letters[16] = {};  // by length: bit (letter - 'a')
  constexpr bool may_contain(std::string_view lower_word) const {
    if (lower_word.empty() || lower_word.size() >= 16) return false;
    char c = lower_word[0];
    if (c < 'a' || c > 'z') return false;
    return (first_letters[lower_word.size()] >> (c - 'a')) & 1u;
  }
};
template <size_t N>
constexpr CommandIndex make_command_index(const std::string_view (&list)[N]) {
  CommandIndex x;
  for (std::string_view c : list) x.first_letters[c.size()] |= 1u << (c[0] - 'a');
  return x;
}
constexpr CommandIndex kStrongIndex = make_command_index(kStrongCommands);
constexpr CommandIndex kWeakIndex = make_command_index(kWeakCommands);

bool is_meta(char c) {
  return c == ';' || c == '|' || c == '&' || c == '`' || c == '$' || c == ')' || c == '<' ||
         c == '>' || c == '\n' || c == '\r';
}

// Skips blanks and the ${IFS} / $IFS$9 blanks attackers use when spaces are filtered.
size_t skip_shell_blanks(std::string_view s, size_t i) {
  for (;;) {
    if (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
      ++i;
      continue;
    }
    if (same_at(s, i, "${IFS}")) {
      i += 6;
      continue;
    }
    if (same_at(s, i, "$IFS")) {
      i += 4;
      if (i + 1 < s.size() && s[i] == '$' && is_digit(s[i + 1])) i += 2;
      continue;
    }
    return i;
  }
}

// The command named at i (after a separator): returns its rule when it is one
// of the programs above with a plausible shell continuation.
Hit command_at(std::string_view s, size_t i, size_t report_pos, bool inside_substitution) {
  i = skip_shell_blanks(s, i);
  while (i < s.size() &&
         (s[i] == '{' || s[i] == '(' || s[i] == '\'' || s[i] == '"' || s[i] == '\\'))
    ++i;
  size_t b = i;
  while (i < s.size() && (is_alnum(s[i]) || s[i] == '/' || s[i] == '.' || s[i] == '-')) ++i;
  std::string_view token = s.substr(b, i - b);
  if (token.empty() || token.size() > 64) return {};
  // "/bin/cat", "/usr/bin/id", "./x": the program is the basename.
  size_t slash = token.rfind('/');
  if (slash != std::string_view::npos) token = token.substr(slash + 1);
  if (token.size() > 4 && starts_ci(token, token.size() - 4, ".exe")) token.remove_suffix(4);
  if (token.empty() || token.size() > 12) return {};
  char lc[16];
  for (size_t k = 0; k < token.size(); ++k) lc[k] = lower_c(token[k]);
  std::string_view word(lc, token.size());
  const bool strong = kStrongIndex.may_contain(word), weak = kWeakIndex.may_contain(word);
  if (!strong && !weak) return {};
  for (std::string_view c : kStrongCommands) {
    if (!strong) break;
    if (!eq(c, word)) continue;
    // "sh" and "rm" are also syllables; require a word end that shells accept.
    if (i < s.size() && !(is_ws(s[i]) || is_meta(s[i]) || s[i] == '$' || s[i] == '}' ||
                          s[i] == ',' || s[i] == '\'' || s[i] == '"'))
      return {};
    return {"cmd.separator_command", report_pos};
  }
  for (std::string_view c : kWeakCommands) {
    if (!weak) break;
    if (!eq(c, word)) continue;
    // Written as a Linux shell must run it: "Cat" in "Dog & Cat" is a word,
    // not cat(1) (the weak commands are English words too).
    if (!eq(token, word)) return {};
    if (i >= s.size() || is_meta(s[i]) || s[i] == '}' || s[i] == ',')
      return {"cmd.separator_command", report_pos};
    if (inside_substitution && (s[i] == ' ' || s[i] == '\t'))
      return {"cmd.separator_command", report_pos};
    size_t j = skip_shell_blanks(s, i);
    if (j == i) return {};  // "cats", "id=5": not a command word
    if (j >= s.size()) return {"cmd.separator_command", report_pos};
    char n = s[j];
    if (n == '-' || n == '/' || n == '.' || n == '~' || is_digit(n) || is_meta(n) || n == '\'' ||
        n == '"' || n == '{' || n == '*')
      return {"cmd.separator_command", report_pos};
    return {};
  }
  return {};
}

bool is_separator(char c) { return c == ';' || c == '|' || c == '&' || c == '\n' || c == '\r'; }

Hit detect_command(std::string_view s, Lower&, uint32_t mask) {
  if (mask & kSlash) {
    // bash's /dev/tcp and /dev/udp pseudo-files: the classic reverse shell.
    for (size_t p = find_in(s, "/dev/"); p != std::string_view::npos;
         p = find_in(s, "/dev/", p + 1)) {
      if (same_at(s, p + 5, "tcp/") || same_at(s, p + 5, "udp/"))
        return {"cmd.reverse_shell", p};
    }
  }
  if (!(mask & kShell)) return {};
  if (mask & kDollar) {
    for (size_t i = find_char(s, '$'); i != std::string_view::npos; i = find_char(s, '$', i + 1)) {
      // ${IFS} and $IFS: the blanks of space-filtered payloads.
      if (same_at(s, i + 1, "{IFS") || same_at(s, i + 1, "IFS")) return {"cmd.ifs", i};
      if (i + 1 < s.size() && s[i + 1] == '(')
        if (Hit h = command_at(s, i + 2, i, true)) return {"cmd.substitution", h.pos};
    }
  }
  if (mask & kBacktick) {
    for (size_t i = find_char(s, '`'); i != std::string_view::npos; i = find_char(s, '`', i + 1))
      if (Hit h = command_at(s, i + 1, i, true)) return {"cmd.substitution", h.pos};
  }
  struct Sep {
    char c;
    uint32_t bit;
  };
  static constexpr Sep kSeps[] = {
      {';', kSemicolon}, {'|', kPipe}, {'&', kAmp}, {'\n', kNewline}, {'\r', kNewline}};
  for (const Sep& sep : kSeps) {
    if (!(mask & sep.bit)) continue;
    for (size_t i = find_char(s, sep.c); i != std::string_view::npos; i = find_char(s, sep.c, i + 1)) {
      size_t b = i;  // the start of the separator run ("&&", ";\n", "||")
      while (b > 0 && is_separator(s[b - 1])) --b;
      size_t j = i;
      while (j < s.size() && is_separator(s[j])) ++j;
      if (Hit h = command_at(s, j, b, false)) return h;
      i = j - 1;
    }
  }
  return {};
}

// ---- SQL injection ----------------------------------------------------------------

constexpr size_t kCommentWindow = 512;  // longest /* comment */ or quoted operand looked through

// A byte table: true for the characters in `chars` (letters in both cases).
constexpr std::array<bool, 256> byte_set(std::string_view chars) {
  std::array<bool, 256> t{};
  for (char ch : chars) {
    auto c = static_cast<unsigned char>(ch);
    t[c] = true;
    if (c >= 'a' && c <= 'z') t[c - 32] = true;
  }
  return t;
}
// What may follow a quote in the checks of detect_sql: a comment, ';', an
// operator (or, and, xor, ||, &&) or a keyword (having, procedure, into,
// waitfor, order, group).
constexpr std::array<bool, 256> kAfterQuote = byte_set("-#/;|&oaxhpiwg");
// The first letters of the statements statement_at knows.
constexpr std::array<bool, 256> kStatementFirst = byte_set("ditusewca");

// Skips blanks, '+' (form-encoded space) and /* comments */ (the comment
// trick used to dodge space filters). Bounded by the value's length.
size_t skip_sql_blanks(std::string_view s, size_t i) {
  for (;;) {
    if (i < s.size() && (is_ws(s[i]) || s[i] == '+')) {
      ++i;
      continue;
    }
    if (i + 1 < s.size() && s[i] == '/' && s[i + 1] == '*') {
      // Look for the end of the comment within a window only: an unbounded
      // search from every quote of "'/*'/*'/*..." would be quadratic.
      size_t e = find_str(s.substr(0, std::min(s.size(), i + 2 + kCommentWindow)), "*/", i + 2);
      if (e == std::string_view::npos) return s.size() - i <= 2 + kCommentWindow ? s.size() : i;
      i = e + 2;
      continue;
    }
    return i;
  }
}

bool comment_or_end(std::string_view s, size_t i) {
  i = skip_sql_blanks(s, i);
  if (i >= s.size()) return true;
  if (s[i] == '#' || s[i] == ';') return true;
  if (s[i] == '-' && i + 1 < s.size() && s[i + 1] == '-') return true;
  if (s[i] == ')') return comment_or_end(s, i + 1);
  return false;
}

// A comparison operator at i ("=", "<>", "!=", "<", ">", LIKE, IS, IN, BETWEEN, RLIKE, REGEXP).
bool comparator_at(std::string_view s, size_t i) {
  if (i >= s.size()) return false;
  char c = s[i];
  if (c == '=' || c == '<' || c == '>') return true;
  if (c == '!' && i + 1 < s.size() && s[i + 1] == '=') return true;
  return word_at(s, i, "like") || word_at(s, i, "is") || word_at(s, i, "in") ||
         word_at(s, i, "between") || word_at(s, i, "rlike") || word_at(s, i, "regexp");
}

// After OR/AND: does an always-true/false or time-delay expression follow?
bool boolean_payload(std::string_view s, size_t i) {
  i = skip_sql_blanks(s, i);
  while (i < s.size() && s[i] == '(') i = skip_sql_blanks(s, i + 1);
  if (i >= s.size()) return false;
  for (std::string_view f : {"sleep", "benchmark", "pg_sleep", "exists", "select", "not", "ascii",
                             "substring", "substr", "length", "char", "ord", "if", "case",
                             "updatexml", "extractvalue", "waitfor", "dbms_pipe", "randomblob"}) {
    if (word_at(s, i, f)) return true;
  }
  size_t j = i;
  char c = s[i];
  bool unclosed = false;
  if (c == '\'' || c == '"') {
    // Bounded like comments: "' or '1" followed by a long padding without a
    // quote counts as unclosed (the application's own quote closes it).
    size_t e = find_char(s.substr(0, std::min(s.size(), i + 1 + kCommentWindow)), c, i + 1);
    if (e == std::string_view::npos) {
      unclosed = true;  // "' or '1": the application's own quote closes it
      j = s.size();
    } else {
      j = e + 1;
    }
  } else if (is_digit(c) || c == '-') {
    ++j;
    while (j < s.size() && (is_digit(s[j]) || s[j] == '.')) ++j;
    if (j < s.size() && is_alnum(s[j])) return false;
    if (comment_or_end(s, j)) return true;  // "' or 1--", "1 or 1"
  } else if (is_alnum(c)) {
    while (j < s.size() && (is_alnum(s[j]) || s[j] == '.')) ++j;
    std::string_view w = s.substr(i, j - i);
    if ((starts_ci(w, 0, "true") && w.size() == 4) || (starts_ci(w, 0, "false") && w.size() == 5)) {
      if (comment_or_end(s, j)) return true;
    }
  } else {
    return false;
  }
  if (unclosed) return true;
  j = skip_sql_blanks(s, j);
  while (j < s.size() && s[j] == ')') j = skip_sql_blanks(s, j + 1);
  return comparator_at(s, j);
}

// OR / AND / XOR / || / && at i.
size_t logic_operator_end(std::string_view s, size_t i) {
  if (word_at(s, i, "or")) return i + 2;
  if (word_at(s, i, "and")) return i + 3;
  if (word_at(s, i, "xor")) return i + 3;
  if (same_at(s, i, "||") || same_at(s, i, "&&")) return i + 2;
  return 0;
}

Hit union_select(std::string_view s, Lower& lw) {
  for (size_t u = find_lower(lw, "union"); u != std::string_view::npos;
       u = find_lower(lw, "union", u + 5)) {
    if (u > 0 && is_alnum(s[u - 1])) continue;
    size_t j = u + 5;
    size_t k = skip_sql_blanks(s, j);
    if (k == j && !(k < s.size() && s[k] == '(')) continue;  // "unions", "union_x"
    while (k < s.size() && s[k] == '(') k = skip_sql_blanks(s, k + 1);
    if (word_at(s, k, "all"))
      k = skip_sql_blanks(s, k + 3);
    else if (word_at(s, k, "distinct"))
      k = skip_sql_blanks(s, k + 8);
    while (k < s.size() && s[k] == '(') k = skip_sql_blanks(s, k + 1);
    if (word_at(s, k, "select")) return {"sqli.union_select", u};
  }
  return {};
}

// "; DROP TABLE", "; DELETE FROM", ... : a second statement after the first.
bool statement_at(std::string_view s, size_t i) {
  // Every statement below starts with one of these letters.
  if (i >= s.size() || !kStatementFirst[static_cast<unsigned char>(s[i])]) return false;
  auto next_word = [&](size_t from) { return skip_sql_blanks(s, from); };
  if (word_at(s, i, "drop")) {
    size_t k = next_word(i + 4);
    return word_at(s, k, "table") || word_at(s, k, "database") || word_at(s, k, "user") ||
           word_at(s, k, "procedure") || word_at(s, k, "function") || word_at(s, k, "view");
  }
  if (word_at(s, i, "delete")) return word_at(s, next_word(i + 6), "from");
  if (word_at(s, i, "insert")) return word_at(s, next_word(i + 6), "into");
  if (word_at(s, i, "truncate")) return word_at(s, next_word(i + 8), "table");
  if (word_at(s, i, "update")) {
    size_t k = next_word(i + 6);
    while (k < s.size() && (is_alnum(s[k]) || s[k] == '.' || s[k] == '`' || s[k] == '"')) ++k;
    return word_at(s, next_word(k), "set");
  }
  if (word_at(s, i, "select")) {
    size_t from = find_ci(s.substr(0, std::min(s.size(), i + 206)), "from", i + 6);
    return from != std::string_view::npos || starts_ci(s, next_word(i + 6), "@@") ||
           word_at(s, next_word(i + 6), "sleep") || word_at(s, next_word(i + 6), "pg_sleep");
  }
  if (word_at(s, i, "exec") || word_at(s, i, "execute")) {
    size_t k = next_word(i + (word_at(s, i, "exec") ? 4 : 7));
    return starts_ci(s, k, "xp_") || starts_ci(s, k, "sp_") || starts_ci(s, k, "master") ||
           (k < s.size() && s[k] == '(');
  }
  if (word_at(s, i, "shutdown")) return comment_or_end(s, i + 8);
  if (word_at(s, i, "waitfor")) return word_at(s, next_word(i + 7), "delay");
  if (word_at(s, i, "create") || word_at(s, i, "alter")) {
    size_t k = next_word(i + (word_at(s, i, "create") ? 6 : 5));
    return word_at(s, k, "table") || word_at(s, k, "user") || word_at(s, k, "procedure") ||
           word_at(s, k, "function") || word_at(s, k, "login");
  }
  if (word_at(s, i, "declare")) return next_word(i + 7) < s.size() && s[next_word(i + 7)] == '@';
  return false;
}

// The word (letters, digits, '_', '.') that ends right before position end,
// skipping blanks; empty when there is none.
std::string_view word_before(std::string_view lower, size_t end) {
  while (end > 0 && (lower[end - 1] == ' ' || lower[end - 1] == '\t' || lower[end - 1] == '+'))
    --end;
  size_t b = end;
  while (b > 0 && (is_alnum(lower[b - 1]) || lower[b - 1] == '.')) --b;
  return lower.substr(b, end - b);
}

// Function calls and catalog names that only SQL payloads use. Anchored on
// the rare characters they contain ('(', '_', '@') instead of one search per
// name, so the cost does not grow with the list.
Hit sql_functions(std::string_view s, Lower& lw, uint32_t mask) {
  if (mask & kParen) {
    std::string_view lower = lw.get();
    for (size_t p = find_char(lower, '('); p != std::string_view::npos; p = find_char(lower, '(', p + 1)) {
      std::string_view w = word_before(lower, p);
      if (w.empty()) continue;
      if (eq(w, "sleep") || eq(w, "benchmark")) {
        // "sleep(5)" with a number and nothing else: ordinary text ("sleep(8
        // hours)") rarely has that exact form.
        size_t k = skip_sql_blanks(s, p + 1);
        if (k >= s.size() || !is_digit(s[k])) continue;
        while (k < s.size() && (is_digit(s[k]) || s[k] == '.')) ++k;
        k = skip_sql_blanks(s, k);
        if (k < s.size() && s[k] != ')' && s[k] != ',') continue;
        return {"sqli.function", static_cast<size_t>(w.data() - lower.data())};
      }
      if (eq(w, "pg_sleep") || eq(w, "extractvalue") || eq(w, "updatexml") || eq(w, "load_file") ||
          eq(w, "dbms_pipe.receive_message") || eq(w, "utl_inaddr.get_host_name"))
        return {"sqli.function", static_cast<size_t>(w.data() - lower.data())};
    }
  }
  if (mask & kUnderscore) {
    std::string_view lower = lw.get();
    for (size_t p = find_char(lower, '_'); p != std::string_view::npos; p = find_char(lower, '_', p + 1)) {
      size_t b = p, e = p;
      while (b > 0 && is_alnum(lower[b - 1])) --b;
      while (e < lower.size() && is_alnum(lower[e])) ++e;
      std::string_view w = lower.substr(b, e - b);
      if (eq(w, "information_schema") || eq(w, "xp_cmdshell") || eq(w, "sqlite_master") ||
          eq(w, "pg_catalog") || eq(w, "dbms_pipe") || eq(w, "utl_inaddr") || eq(w, "sp_executesql"))
        return {"sqli.function", b};
      p = e;
      if (p >= lower.size()) break;
    }
  }
  if (mask & kAt) {
    size_t p = find_lower(lw, "@@version");
    if (p != std::string_view::npos) return {"sqli.function", p};
  }
  return {};
}

Hit detect_sql(std::string_view s, Lower& lw, uint32_t mask) {
  if (mask & kU)
    if (Hit h = union_select(s, lw)) return h;
  if (mask & kQuote) {
    for (size_t q = 0; q < s.size(); ++q) {
      char c = s[q];
      if (c != '\'' && c != '"' && c != '`') continue;
      // "waitfor delay '0:0:5'", "into outfile '/var/www/x.php'": the words before the quote.
      // "delay", "outfile" and "dumpfile" end in 'y' or 'e': look at the
      // words only when the byte before the quote (and its blanks) is one.
      size_t end = q;
      while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '+')) --end;
      char last = end > 0 ? lower_c(s[end - 1]) : '\0';
      std::string_view lower = (last == 'y' || last == 'e') ? lw.get() : std::string_view();
      std::string_view before = lower.empty() ? std::string_view() : word_before(lower, q);
      if (eq(before, "delay") || eq(before, "outfile") || eq(before, "dumpfile")) {
        std::string_view first =
            word_before(lower, static_cast<size_t>(before.data() - lower.data()));
        if ((eq(before, "delay") && eq(first, "waitfor")) ||
            (!eq(before, "delay") && eq(first, "into")))
          return {"sqli.function", static_cast<size_t>(first.data() - lower.data())};
      }
      size_t j = q + 1;
      while (j < s.size() && s[j] == ')') ++j;
      size_t k = skip_sql_blanks(s, j);
      if (k >= s.size()) continue;
      // Every check below starts with one of these characters at k.
      if (!kAfterQuote[static_cast<unsigned char>(s[k])]) continue;
      // admin'--, admin' #, '/*
      if (s[k] == '-' && k + 1 < s.size() && s[k + 1] == '-') {
        size_t e = k + 2;
        while (e < s.size() && (s[e] == '-' || s[e] == '+' || s[e] == ' ')) ++e;
        if (e >= s.size()) return {"sqli.comment", q};
      }
      if (s[k] == '#' && comment_or_end(s, k + 1)) return {"sqli.comment", q};
      if (s[k] == '/' && k + 1 < s.size() && s[k + 1] == '*' && k == j) return {"sqli.comment", q};
      if (s[k] == ';') {
        size_t t = skip_sql_blanks(s, k + 1);
        if (t >= s.size() || (s[t] == '-' && t + 1 < s.size() && s[t + 1] == '-') ||
            statement_at(s, t))
          return {"sqli.stacked_query", q};
      }
      if (size_t e = logic_operator_end(s, k); e) {
        // The operator follows the quote directly ("O'Brien or" has a word between).
        if (boolean_payload(s, e)) return {"sqli.tautology", q};
      }
      if (word_at(s, k, "having") || word_at(s, k, "procedure") || word_at(s, k, "into") ||
          word_at(s, k, "waitfor"))
        return {"sqli.keyword_after_quote", q};
      if ((word_at(s, k, "order") || word_at(s, k, "group"))) {
        size_t b = skip_sql_blanks(s, k + 5);
        if (word_at(s, b, "by")) {
          size_t d = skip_sql_blanks(s, b + 2);
          if (d < s.size() && is_digit(s[d])) return {"sqli.keyword_after_quote", q};
        }
      }
    }
  }
  {
    // Unquoted numeric injection: "1 OR 1=1", "5) and sleep(3)", "1||1".
    // Not behind a class: "1 or 1" and "1||1" have no SQL punctuation (the
    // prefilter used to skip them, found by the differential fuzz target),
    // and the check looks at the start of the value only.
    size_t i = skip_sql_blanks(s, 0);
    if (i < s.size() && (is_digit(s[i]) || s[i] == '-')) {
      size_t j = i + 1;
      while (j < s.size() && is_digit(s[j])) ++j;
      while (j < s.size() && s[j] == ')') ++j;
      size_t k = skip_sql_blanks(s, j);
      if (k > j || (k < s.size() && !is_alnum(s[k]))) {
        if (size_t e = logic_operator_end(s, k); e && boolean_payload(s, e))
          return {"sqli.tautology", i};
      }
    }
  }
  if (mask & kSqlPunct) {
    for (size_t p = find_char(s, ';'); p != std::string_view::npos; p = find_char(s, ';', p + 1)) {
      if (statement_at(s, skip_sql_blanks(s, p + 1))) return {"sqli.stacked_query", p};
    }
  }
  if (Hit h = sql_functions(s, lw, mask)) return h;
  return {};
}

// ---- SSRF -------------------------------------------------------------------------

enum class HostClass { kPublic, kMetadata, kLoopback, kUnspecified, kLinkLocal, kPrivate };

// inet_aton's forms: 1 to 4 parts, each decimal, octal (leading 0) or hex
// (0x); the last part fills the remaining bytes ("127.1", "2852039166",
// "0xa9fea9fe", "0251.0376.0251.0376").
bool parse_ipv4_loose(std::string_view h, uint32_t* out) {
  if (h.empty() || h.size() > 40) return false;
  uint64_t parts[4];
  int n = 0;
  size_t i = 0;
  while (true) {
    if (n == 4 || i >= h.size()) return false;
    uint64_t v = 0;
    int base = 10;
    size_t b = i;
    if (h[i] == '0' && i + 1 < h.size() && (h[i + 1] == 'x' || h[i + 1] == 'X')) {
      base = 16;
      i += 2;
      b = i;
    } else if (h[i] == '0' && i + 1 < h.size() && is_digit(h[i + 1])) {
      base = 8;
    }
    while (i < h.size() && h[i] != '.') {
      int d = hex_value(h[i]);
      if (d < 0 || d >= base) return false;
      v = v * base + d;
      if (v > 0xffffffffull) return false;
      ++i;
    }
    if (i == b && base != 16) return false;
    parts[n++] = v;
    if (i >= h.size()) break;
    ++i;  // '.'
    if (i >= h.size()) return false;
  }
  uint32_t addr = 0;
  for (int k = 0; k < n - 1; ++k) {
    if (parts[k] > 255) return false;
    addr |= static_cast<uint32_t>(parts[k]) << (24 - 8 * k);
  }
  uint64_t last = parts[n - 1];
  int rest_bits = 32 - 8 * (n - 1);
  if (rest_bits < 32 && last >= (1ull << rest_bits)) return false;
  addr |= static_cast<uint32_t>(last);
  *out = addr;
  return true;
}

HostClass classify_v4(uint32_t a) {
  if (a == 0xa9fea9fe || a == 0xa9feaa02 || a == 0x646464c8)
    return HostClass::kMetadata;  // 169.254.169.254, 169.254.170.2, 100.100.100.200
  if ((a >> 24) == 127) return HostClass::kLoopback;
  if ((a >> 24) == 0) return HostClass::kUnspecified;
  if ((a >> 16) == 0xa9fe) return HostClass::kLinkLocal;
  if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 || (a >> 22) == (0x64 << 2 | 1))
    return HostClass::kPrivate;  // 10/8, 172.16/12, 192.168/16, 100.64/10
  return HostClass::kPublic;
}

HostClass classify_v6(std::string_view h) {
  size_t pct = h.find('%');  // zone id
  if (pct != std::string_view::npos) h = h.substr(0, pct);
  if (h.size() >= 64) return HostClass::kPublic;
  char buf[64];
  std::memcpy(buf, h.data(), h.size());
  buf[h.size()] = '\0';
  unsigned char a[16];
  if (inet_pton(AF_INET6, buf, a) != 1) return HostClass::kPublic;
  static constexpr unsigned char kMeta[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                              0,    0,    0,    0,    0, 0, 0x02, 0x54};
  if (std::memcmp(a, kMeta, 16) == 0) return HostClass::kMetadata;
  bool zero10 = true;
  for (int i = 0; i < 10; ++i) zero10 &= a[i] == 0;
  if (zero10 && a[10] == 0xff && a[11] == 0xff) {  // ::ffff:a.b.c.d
    return classify_v4(static_cast<uint32_t>(a[12]) << 24 | a[13] << 16 | a[14] << 8 | a[15]);
  }
  bool zero15 = zero10 && a[10] == 0 && a[11] == 0 && a[12] == 0 && a[13] == 0 && a[14] == 0;
  if (zero15 && a[15] == 1) return HostClass::kLoopback;
  if (zero15 && a[15] == 0) return HostClass::kUnspecified;
  if ((a[0] & 0xfe) == 0xfc) return HostClass::kPrivate;
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return HostClass::kLinkLocal;
  return HostClass::kPublic;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && same_at(s, s.size() - suffix.size(), suffix);
}

// host is lower case, without port or brackets.
HostClass classify_host(std::string_view host, bool bracketed) {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return HostClass::kPublic;
  if (bracketed || find_char(host, ':') != std::string_view::npos) return classify_v6(host);
  uint32_t v4;
  if (parse_ipv4_loose(host, &v4)) return classify_v4(v4);
  if (eq(host, "metadata.google.internal") || eq(host, "metadata") || eq(host, "instance-data") ||
      eq(host, "instance-data.ec2.internal") || eq(host, "metadata.azure.com"))
    return HostClass::kMetadata;
  if (eq(host, "localhost") || ends_with(host, ".localhost") || eq(host, "localhost.localdomain") ||
      eq(host, "ip6-localhost") || eq(host, "localtest.me") || ends_with(host, ".localtest.me") ||
      eq(host, "lvh.me") || ends_with(host, ".lvh.me"))
    return HostClass::kLoopback;
  // Wildcard DNS that answers with the address written in the name.
  static constexpr std::string_view kWildcardDns[] = {".nip.io", ".sslip.io", ".xip.io"};
  for (std::string_view svc : kWildcardDns) {
    if (!ends_with(host, svc)) continue;
    std::string_view name = host.substr(0, host.size() - svc.size());
    // The last four dotted labels, or the last label with dashes.
    size_t cut = name.size();
    int dots = 0;
    while (cut > 0 && dots < 4) {
      if (name[cut - 1] == '.' && ++dots == 4) break;
      --cut;
    }
    std::string_view tail = name.substr(cut);
    std::string dashed(
        name.substr(name.rfind('.') == std::string_view::npos ? 0 : name.rfind('.') + 1));
    for (char& c : dashed)
      if (c == '-') c = '.';
    uint32_t a;
    if (parse_ipv4_loose(tail, &a) || parse_ipv4_loose(dashed, &a)) return classify_v4(a);
  }
  if (ends_with(host, ".internal")) return HostClass::kPrivate;  // AWS/GCP private DNS
  return HostClass::kPublic;
}

const char* ssrf_rule(HostClass c) {
  switch (c) {
    case HostClass::kMetadata:
      return "ssrf.metadata";
    case HostClass::kLoopback:
      return "ssrf.loopback";
    case HostClass::kUnspecified:
      return "ssrf.unspecified";
    case HostClass::kLinkLocal:
      return "ssrf.link_local";
    case HostClass::kPrivate:
      return "ssrf.private_network";
    case HostClass::kPublic:
      break;
  }
  return nullptr;
}

// Splits an authority ("user@host:port") and classifies the host.
HostClass authority_class(std::string_view auth) {
  size_t at = auth.rfind('@');
  if (at != std::string_view::npos) auth = auth.substr(at + 1);
  if (auth.size() > 255) return HostClass::kPublic;
  std::string_view raw;
  bool bracketed = false;
  if (!auth.empty() && auth[0] == '[') {
    size_t close = find_char(auth, ']');
    if (close == std::string_view::npos) return HostClass::kPublic;
    raw = auth.substr(1, close - 1);
    bracketed = true;
  } else {
    size_t colon = find_char(auth, ':');
    // Two or more colons without brackets: a bare IPv6 literal.
    if (colon != std::string_view::npos && find_char(auth, ':', colon + 1) != std::string_view::npos)
      raw = auth;
    else
      raw = auth.substr(0, colon);
  }
  // Lower-cased on the stack (at most 255 bytes, checked above).
  char host[256];
  for (size_t k = 0; k < raw.size(); ++k) host[k] = lower_c(raw[k]);
  return classify_host(std::string_view(host, raw.size()), bracketed);
}

Hit detect_ssrf(std::string_view s, Lower& lw, uint32_t mask) {
  if (!(mask & (kDot | kColon | kBracket))) {
    // A bare "localhost" has neither.
    if (s.size() == 9 && starts_ci(s, 0, "localhost")) return {"ssrf.loopback", 0};
    return {};
  }
  // Cloud metadata addresses anywhere in the value.
  if (mask & kDot) {
    // Digits and dots: no case to fold.
    for (size_t p = find_in(s, "169.254.1"); p != std::string_view::npos;
         p = find_in(s, "169.254.1", p + 1)) {
      if (same_at(s, p + 9, "69.254") || same_at(s, p + 9, "70.2")) return {"ssrf.metadata", p};
    }
    size_t g = find_lower(lw, "metadata.google.internal");
    if (g != std::string_view::npos) return {"ssrf.metadata", g};
  }
  if (mask & kColon) {
    size_t p = find_lower(lw, "fd00:ec2::254");
    if (p != std::string_view::npos) return {"ssrf.metadata", p};
  }
  // URLs: every "://" (and a leading "//", protocol-relative).
  // The end of the run of authority characters from b. Runs do not overlap,
  // so the last scan's run answers for any b inside it: "http:http:..."
  // (every colon a candidate) stays linear instead of rescanning the rest
  // of the value from each one.
  size_t run_begin = kNpos, run_end = 0, run_last_at = kNpos;
  auto authority_end = [&](size_t b) {
    if (run_begin != kNpos && b >= run_begin && b <= run_end) return run_end;
    size_t e = b, at = kNpos;
    while (e < s.size() && s[e] != '/' && s[e] != '?' && s[e] != '#' && s[e] != '\\' &&
           !is_ws(s[e]) && s[e] != '"' && s[e] != '\'' && s[e] != '<' && s[e] != '>') {
      if (s[e] == '@') at = e;
      ++e;
    }
    run_begin = b;
    run_end = e;
    run_last_at = at;
    return e;
  };
  // authority_class of the authority from b, looking only at what follows
  // its last '@' (the same answer; the userinfo before it may be long, and
  // a host longer than 255 bytes is no address).
  auto authority_rule = [&](size_t b) -> const char* {
    size_t e = authority_end(b);
    size_t h = run_last_at != kNpos && run_last_at >= b ? run_last_at + 1 : b;
    if (e - h > 255) return nullptr;
    return ssrf_rule(authority_class(s.substr(h, e - h)));
  };
  if (mask & kColon) {
    for (size_t p = find_str(s, "://"); p != std::string_view::npos; p = find_str(s, "://", p + 3)) {
      size_t b = p;
      while (b > 0 && (is_alnum(s[b - 1]) || s[b - 1] == '+' || s[b - 1] == '-' || s[b - 1] == '.'))
        --b;
      if (b == p || starts_ci(s, b, "file")) continue;  // file:// is the path detector's
      if (const char* r = authority_rule(p + 3)) return {r, b};
    }
    // The special schemes of the WHATWG URL standard (what Node's fetch and
    // new URL follow) take any run of '/' and '\' after the colon, none
    // included: "http:\\127.0.0.1\", "http:/127.0.0.1/" and
    // "http:127.0.0.1" all name 127.0.0.1.
    static constexpr std::string_view kSpecial[] = {"https", "http", "wss", "ws", "ftp"};
    for (size_t c = find_char(s, ':'); c != std::string_view::npos; c = find_char(s, ':', c + 1)) {
      size_t b = c;
      while (b > 0 && is_alnum(s[b - 1])) --b;
      if (c - b < 2 || c - b > 5 ||
          (b > 0 && (s[b - 1] == '+' || s[b - 1] == '-' || s[b - 1] == '.')))
        continue;
      bool special = false;
      for (std::string_view scheme : kSpecial)
        special = special || (c - b == scheme.size() && starts_ci(s, b, scheme));
      if (!special) continue;
      size_t a = c + 1;
      while (a < s.size() && (s[a] == '/' || s[a] == '\\')) ++a;
      if (a - (c + 1) == 2 && s[c + 1] == '/' && s[c + 2] == '/') continue;  // "://", above
      size_t e = authority_end(a);
      if (e == a) continue;
      // With no slash at all, only what reads as a host ("http:80" is a
      // ratio before it is 0.0.0.80); looked at over the host's length only.
      if (a == c + 1) {
        std::string_view head = s.substr(a, std::min<size_t>(e - a, 300));
        if (find_char(head, '.') == kNpos && find_char(head, '[') == kNpos &&
            !starts_ci(head, 0, "localhost"))
          continue;
      }
      if (const char* r = authority_rule(a)) return {r, b};
    }
  }
  // A bare host: the whole value (trimmed) is host[:port][/path]. Only the
  // unambiguous kinds count here (loopback, metadata, unspecified written as
  // dotted quad or a name); a bare private address is too common in ordinary
  // data (logs, forms) to be treated as a target.
  size_t b = 0, e = s.size();
  while (b < e && is_ws(s[b])) ++b;
  while (e > b && is_ws(s[e - 1])) --e;
  std::string_view v = s.substr(b, e - b);
  if (v.size() >= 2 && v[0] == '/' && v[1] == '/') v.remove_prefix(2);
  if (v.empty() || v.size() > 300) return {};
  size_t end = authority_end(0 + (v.data() - s.data())) - (v.data() - s.data());
  std::string_view auth = v.substr(0, std::min(end, v.size()));
  if (auth.empty() || find_char(auth, ' ') != std::string_view::npos) return {};
  // Dotted quads only (four decimal parts): "10" or "2130706433" alone are
  // ordinary numbers.
  std::string_view hostpart = auth;
  if (hostpart[0] != '[') {
    size_t colon = find_char(hostpart, ':');
    if (colon != std::string_view::npos && find_char(hostpart, ':', colon + 1) == std::string_view::npos)
      hostpart = hostpart.substr(0, colon);
  }
  bool is_ip_literal = hostpart[0] == '[' || find_char(hostpart, ':') != std::string_view::npos;
  if (!is_ip_literal) {
    int dots = 0;
    bool digits_only = true;
    for (char c : hostpart) {
      if (c == '.')
        ++dots;
      else if (!is_digit(c))
        digits_only = false;
    }
    bool name = !digits_only;
    if (digits_only && dots != 3) return {};
    if (name && find_char(hostpart, '.') == std::string_view::npos) {
      if (!starts_ci(hostpart, 0, "localhost")) return {};
      // A value without '.', ':' or '[' counts only when it is exactly
      // "localhost", the rule at the top of this function: "localhost is a
      // word" is prose, not a host. Without this the check differed with
      // the prefilter off (found by the differential fuzz target).
      if (find_char(s, '.') == std::string_view::npos &&
          find_char(s, ':') == std::string_view::npos &&
          find_char(s, '[') == std::string_view::npos)
        return s.size() == 9 && starts_ci(s, 0, "localhost") ? Hit{"ssrf.loopback", 0} : Hit{};
    }
  }
  HostClass c = authority_class(auth);
  if (c == HostClass::kMetadata || c == HostClass::kLoopback || c == HostClass::kUnspecified)
    return {ssrf_rule(c), static_cast<size_t>(v.data() - s.data())};
  return {};
}

using DetectFn = Hit (*)(std::string_view, Lower&, uint32_t);
constexpr DetectFn kDetectFns[kDetectorCount] = {detect_path, detect_command, detect_sql,
                                                 detect_ssrf};

}  // namespace

const char* detector_name(Detector d) {
  switch (d) {
    case Detector::kPathTraversal:
      return "path_traversal";
    case Detector::kCommandInjection:
      return "command_injection";
    case Detector::kSqlInjection:
      return "sql_injection";
    case Detector::kSsrf:
      return "ssrf";
  }
  return "unknown";
}

Result<Detector> parse_detector(std::string_view name) {
  for (int i = 0; i < kDetectorCount; ++i) {
    auto d = static_cast<Detector>(i);
    if (name == detector_name(d)) return d;
  }
  return make_error("unknown detector \"" + std::string(name) + "\"",
                    "use path_traversal, command_injection, sql_injection or ssrf");
}

void scan_value(std::string_view value, const ScanOptions& options, std::vector<Match>& out) {
  if (value.empty()) return;
  thread_local std::string lower_buf;
  uint32_t mask = options.prefilter ? class_mask(value) : kAllClasses;
  // The lower-cased copy is made only if a check reads it.
  Lower lower(value, lower_buf);
  DetectorSet found = 0;
  for (int i = 0; i < kDetectorCount; ++i) {
    auto d = static_cast<Detector>(i);
    if (!(options.detectors & detector_bit(d))) continue;
    if (Hit h = kDetectFns[i](value, lower, mask)) {
      out.push_back(Match{d, h.rule, excerpt(value, h.pos), false});
      found |= detector_bit(d);
    }
  }
  DetectorSet remaining = options.detectors & static_cast<DetectorSet>(~found);
  if (!remaining || !(mask & (kPercent | kBackslash | kHigh))) return;
  // Second look after decoding: up to three rounds of percent-decoding and
  // JSON unescaping (double and triple encoding, either inside the other).
  // `cur` holds the value only once a round changed it; the searches (and,
  // in the first round, the class mask) only skip copies that would change
  // nothing.
  std::string cur, next;
  std::string_view view = value;
  bool changed = false;
  for (int round = 0; round < 3; ++round) {
    bool step = false;
    bool first = round == 0;
    if ((!first || (mask & kPercent)) && find_char(view, '%') != kNpos &&
        decode_round(view, next)) {
      cur.swap(next);
      view = cur;
      step = true;
    }
    if ((!first || step || (mask & kBackslash)) && find_char(view, '\\') != kNpos &&
        json_unescape_round(view, next)) {
      cur.swap(next);
      view = cur;
      step = true;
    }
    if (!step) break;
    changed = true;
  }
  uint32_t vmask = mask;  // the classes of `view`
  if (changed) {
    fold_overlong(cur);
    view = cur;
    uint32_t dmask = options.prefilter ? class_mask(cur) : kAllClasses;
    vmask = dmask;
    Lower dlower(cur, lower_buf);
    for (int i = 0; i < kDetectorCount; ++i) {
      auto d = static_cast<Detector>(i);
      if (!(remaining & detector_bit(d))) continue;
      if (Hit h = kDetectFns[i](cur, dlower, dmask)) {
        out.push_back(Match{d, h.rule, excerpt(cur, h.pos), true});
        remaining &= static_cast<DetectorSet>(~detector_bit(d));
      }
    }
  }
  // Hosts written with look-alike dots and digits (IDNA folds them).
  constexpr DetectorSet kSsrfBit = detector_bit(Detector::kSsrf);
  if (!(remaining & kSsrfBit) || !(vmask & kHigh) || !has_host_lookalike(view)) return;
  if (!fold_host_lookalikes(view, next)) return;
  uint32_t fmask = options.prefilter ? class_mask(next) : kAllClasses;
  Lower flower(next, lower_buf);
  if (Hit h = detect_ssrf(next, flower, fmask))
    out.push_back(Match{Detector::kSsrf, h.rule, excerpt(next, h.pos), true});
}

}  // namespace fnguard::inspect
