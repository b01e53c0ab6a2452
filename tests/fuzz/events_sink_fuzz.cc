// Fuzz target for the event sink (fnguard/events/sink.h). Its input comes
// from inside the protected process, so it is hostile by assumption. The
// input is split at 0xff bytes into datagrams, submitted at increasing times
// to a sink with a tiny fold table (so eviction runs), then flushed.
// Properties checked (a violation traps):
//   - every line written is one JSON object, and compacting it again yields
//     the same text (the sink never forwards unparsed bytes); batched writes
//     are whole lines, at most kBatchBytes unless one line is longer;
//   - the sink's statistics match what it wrote and what it received;
//   - the fold table never exceeds its caps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fnguard/events/sink.h"

using fnguard::events::Sink;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t lines = 0;
  Sink sink(
      [&](std::string_view text) {
        if (text.size() > Sink::kBatchBytes && text.find('\n') != std::string_view::npos)
          __builtin_trap();  // a batch piece larger than an atomic pipe write
        while (true) {
          size_t nl = text.find('\n');
          std::string_view line = text.substr(0, nl);
          std::string again;
          if (!fnguard::events::compact_json_object(line, &again) || again != line)
            __builtin_trap();
          ++lines;
          if (nl == std::string_view::npos) break;
          text.remove_prefix(nl + 1);
        }
        return true;
      },
      Sink::Options{.window_ms = 5, .max_entries = 3, .max_bytes = 512});

  std::string_view input(reinterpret_cast<const char*>(data), size);
  int64_t now = 0;
  uint64_t submitted = 0;
  // Datagrams go in bursts (batched, as the supervisor drains them) and alone.
  bool batching = false;
  while (true) {
    if (!batching && now % 10 == 0) {
      sink.begin_batch();
      batching = true;
    } else if (batching && now % 10 == 8) {
      sink.end_batch();
      batching = false;
    }
    size_t cut = input.find('\xff');
    sink.submit(input.substr(0, cut), now);
    ++submitted;
    // A single event larger than max_bytes is still tracked alone.
    if (sink.table_entries() > 3) __builtin_trap();
    if (sink.table_entries() > 1 && sink.table_bytes() > 512) __builtin_trap();
    now += 2;
    if (now % 6 == 0) sink.expire(now);
    if (cut == std::string_view::npos) break;
    input.remove_prefix(cut + 1);
  }
  sink.flush();
  if (batching) sink.end_batch();
  if (sink.next_expiry_ms() != -1) __builtin_trap();
  const auto& s = sink.stats();
  if (s.written != lines) __builtin_trap();
  if (s.received != submitted) __builtin_trap();
  return 0;
}
