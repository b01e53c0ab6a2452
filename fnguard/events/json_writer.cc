// Escaping follows RFC 8259: quote, backslash and control characters are
// escaped; bytes >= 0x80 pass through, except that invalid UTF-8 is replaced
// by \ufffd so that a hostile file name cannot break the event stream.
#include "fnguard/events/json_writer.h"

namespace fnguard::events {

void JsonWriter::put(char c) {
  if (len_ + 1 < cap_) {
    buf_[len_++] = c;
    buf_[len_] = '\0';
  } else {
    overflow_ = true;
  }
}

void JsonWriter::put(const char* s) {
  while (*s != '\0') put(*s++);
}

void JsonWriter::comma() {
  if (need_comma_) put(',');
  need_comma_ = true;
}

void JsonWriter::key(const char* k) {
  comma();
  if (k != nullptr) {
    put('"');
    put(k);
    put("\":");
  }
}

void JsonWriter::begin_object(const char* k) {
  if (len_ == 0 && k == nullptr) {
    put('{');
  } else {
    key(k);
    put('{');
  }
  need_comma_ = false;
}

void JsonWriter::end_object() {
  put('}');
  need_comma_ = true;
}

void JsonWriter::begin_array(const char* k) {
  key(k);
  put('[');
  need_comma_ = false;
}

void JsonWriter::end_array() {
  put(']');
  need_comma_ = true;
}

namespace {

// Length of a valid UTF-8 sequence at s (n bytes available), or 0.
size_t utf8_length(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (len == 0 || c > 0xf4 || len > n) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xc0) != 0x80) return 0;
  }
  if (len == 3 && c == 0xe0 && s[1] < 0xa0) return 0;  // overlong
  if (len == 3 && c == 0xed && s[1] >= 0xa0) return 0; // surrogate
  if (len == 4 && c == 0xf0 && s[1] < 0x90) return 0;  // overlong
  if (len == 4 && c == 0xf4 && s[1] >= 0x90) return 0; // > U+10FFFF
  return len;
}

}  // namespace

void JsonWriter::put_escaped(const char* s, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  put('"');
  const auto* u = reinterpret_cast<const unsigned char*>(s);
  for (size_t i = 0; i < n;) {
    unsigned char c = u[i];
    if (c == '"' || c == '\\') {
      put('\\');
      put(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      switch (c) {
        case '\n': put("\\n"); break;
        case '\r': put("\\r"); break;
        case '\t': put("\\t"); break;
        default:
          put("\\u00");
          put(kHex[c >> 4]);
          put(kHex[c & 0xf]);
      }
      ++i;
    } else if (c < 0x80) {
      put(static_cast<char>(c));
      ++i;
    } else {
      size_t len = utf8_length(u + i, n - i);
      if (len == 0) {
        put("\\ufffd");
        ++i;
      } else {
        for (size_t k = 0; k < len; ++k) put(static_cast<char>(u[i + k]));
        i += len;
      }
    }
  }
  put('"');
}

void JsonWriter::field(const char* k, const char* value) {
  size_t n = 0;
  while (value[n] != '\0') ++n;
  field(k, value, n);
}

void JsonWriter::field(const char* k, const char* value, size_t length) {
  key(k);
  put_escaped(value, length);
}

void JsonWriter::element(const char* value) {
  comma();
  size_t n = 0;
  while (value[n] != '\0') ++n;
  put_escaped(value, n);
}

void JsonWriter::field_int(const char* k, int64_t value) {
  key(k);
  char digits[24];
  int n = 0;
  uint64_t v = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  if (value < 0) put('-');
  while (n > 0) put(digits[--n]);
}

void JsonWriter::field_bool(const char* k, bool value) {
  key(k);
  put(value ? "true" : "false");
}

void JsonWriter::field_raw(const char* k, const char* json) {
  key(k);
  put(json);
}

void format_utc(int64_t seconds, int32_t nanoseconds, char out[32]) {
  // Days since the epoch to a civil date (Howard Hinnant's algorithm).
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  int64_t fields[] = {year, month, day, rem / 3600, rem / 60 % 60, rem % 60, nanoseconds / 1000000};
  const int widths[] = {4, 2, 2, 2, 2, 2, 3};
  const char seps[] = {'-', '-', 'T', ':', ':', '.', 'Z'};
  int pos = 0;
  for (int f = 0; f < 7; ++f) {
    int64_t v = fields[f];
    for (int w = widths[f] - 1; w >= 0; --w) {
      out[pos + w] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    pos += widths[f];
    out[pos++] = seps[f];
  }
  out[pos] = '\0';
}

}  // namespace fnguard::events
