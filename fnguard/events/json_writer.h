// A JSON object writer into a caller's fixed buffer. No allocation, no
// locale, no libc state: the enforcer builds events with it inside hooks,
// signal handlers and vfork children. On overflow the writer marks itself
// truncated and keeps the output a valid prefix; finish() then reports false.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fnguard::events {

class JsonWriter {
 public:
  JsonWriter(char* buf, size_t cap) : buf_(buf), cap_(cap) {}

  void begin_object(const char* key = nullptr);  // nested when key given
  void end_object();
  void begin_array(const char* key);
  void end_array();
  void field(const char* key, const char* value);  // string, escaped
  void field(const char* key, const char* value, size_t length);
  void field_int(const char* key, int64_t value);
  void field_bool(const char* key, bool value);
  void field_raw(const char* key, const char* json);  // already-valid JSON
  void element(const char* value);                    // string inside an array

  // Length written. False when something did not fit.
  size_t length() const { return len_; }
  bool ok() const { return !overflow_; }
  const char* data() const { return buf_; }

 private:
  void comma();
  void key(const char* k);
  void put(char c);
  void put(const char* s);
  void put_escaped(const char* s, size_t n);

  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
  bool need_comma_ = false;
};

// ISO 8601 UTC with milliseconds ("2026-11-22T10:00:00.123Z") from a realtime
// clock reading, without gmtime (which takes a lock in glibc). out needs 25 bytes.
void format_utc(int64_t seconds, int32_t nanoseconds, char out[32]);

}  // namespace fnguard::events
