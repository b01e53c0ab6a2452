// The event sink: where every event ends up. The supervisor hands it the
// datagrams the enforcers send (one JSON object each) and the lifecycle events
// it writes itself; the sink checks, compacts, folds repeats and writes JSON
// lines to stderr, stdout or a file.
//
// Folding (docs/EVENTS.md): two events are identical when their JSON is equal
// apart from the top-level "time" member. The first occurrence is written at
// once. Repeats within the fold window (1 s) are counted, not written; when the
// window closes, one line stands for them: the last repeat (see sink.cc on
// its time) with "count":N
// added (N repeats, the first occurrence not included). The entry then stays
// for another window, so a loop yields one line per window, not one per call;
// a window that closes without repeats forgets the entry. flush() closes every
// window at once (at exit).
//
// Limits, stated plainly: the datagrams come from inside the protected
// process, so code there can send anything, including forged events. The sink
// therefore never forwards bytes it has not parsed: a datagram that is not one
// well-formed JSON object (or nests deeper than 32 levels, or is larger than
// the receive buffer) is counted as malformed and dropped. Memory is bounded:
// the fold table holds at most Options::max_entries events and
// Options::max_bytes of text; when full, the oldest entry is closed early
// (its pending count written) to make room, so nothing is lost, only folded
// less.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fnguard/common/result.h"

namespace fnguard::events {

struct SinkStats {
  uint64_t received = 0;   // datagrams submitted
  uint64_t written = 0;    // lines written (events, count lines, lifecycle)
  uint64_t folded = 0;     // repeats folded into a count line
  uint64_t malformed = 0;  // datagrams that were not one JSON object
  uint64_t dropped = 0;    // events lost: malformed, oversized, the output failed, or
                           // reported by an enforcer as "dropped":N (its socket was full)
  uint64_t evicted = 0;    // fold entries closed early because the table was full
};

// Checks that `text` is exactly one JSON object (RFC 8259, nesting at most
// `max_depth`), and returns it compacted (no whitespace outside strings, so it
// is one line). On failure returns false and leaves `out` unspecified.
bool compact_json_object(std::string_view text, std::string* out, int max_depth = 32);

class Sink {
 public:
  struct Options {
    int64_t window_ms = 1000;
    size_t max_entries = 1024;
    size_t max_bytes = 4u << 20;
  };
  // Writes one or more complete lines, separated by '\n', without the final
  // newline (the writer adds it); false when the output failed. More than
  // one line arrives only between begin_batch() and end_batch().
  using LineWriter = std::function<bool(std::string_view lines)>;
  // A batch is written in pieces of at most this many bytes, so that a piece
  // stays one atomic write on a pipe shared with the program (PIPE_BUF).
  static constexpr size_t kBatchBytes = 4000;

  explicit Sink(LineWriter writer) : Sink(std::move(writer), Options{}) {}
  Sink(LineWriter writer, Options options);

  // "" writes to stderr, "-" to stdout, anything else is a file opened for
  // append (created 0600 if missing).
  static Result<std::unique_ptr<Sink>> open(const std::string& destination, Options options);
  static Result<std::unique_ptr<Sink>> open(const std::string& destination) {
    return open(destination, Options{});
  }

  // One datagram from an enforcer, received at `now_ms` (monotonic).
  // Enforcer hello datagrams are recognised and ignored.
  void submit(std::string_view datagram, int64_t now_ms);
  // An event the supervisor composed itself (already one JSON object):
  // written at once, never folded.
  void write_own(std::string_view json);
  // Closes the windows that ended at or before `now_ms`.
  void expire(int64_t now_ms);
  // When the next window closes (monotonic ms), or -1 when none is open.
  int64_t next_expiry_ms() const;
  // Closes every window: pending counts are written now.
  void flush();
  // Events lost elsewhere (e.g. a datagram truncated on receive).
  void count_dropped(uint64_t n) { stats_.dropped += n; }
  void count_malformed(uint64_t n) {
    stats_.malformed += n;
    stats_.dropped += n;
  }

  // Between these, lines are collected and written together (fewer system
  // calls when the supervisor drains a burst of datagrams); end_batch()
  // writes what is pending. Order is kept.
  void begin_batch() { batching_ = true; }
  void end_batch();

  const SinkStats& stats() const { return stats_; }
  // The fold table's current size (entries, bytes of event text); bounded by Options.
  size_t table_entries() const { return table_.size(); }
  size_t table_bytes() const { return table_bytes_; }

 private:
  struct Entry {
    std::string last;      // the last repeat's compact JSON (with its time)
    uint64_t repeats = 0;  // since the last line written for this entry
    int64_t window_end = 0;
    std::list<std::string>::iterator order;  // position in order_ (oldest first)
  };
  using Table = std::unordered_map<std::string, Entry>;

  void write_line(std::string_view line);
  // Writes the pending count; keeps the entry for another window (from
  // now_ms) only when there were repeats and `keep` is set.
  void close_window(Table::iterator it, bool keep, int64_t now_ms);
  void make_room(size_t incoming);

  void flush_batch();

  LineWriter writer_;
  Options options_;
  bool batching_ = false;
  std::string batch_;  // pending lines, '\n'-separated
  uint64_t batch_lines_ = 0;
  Table table_;
  std::list<std::string> order_;  // keys, oldest first
  size_t table_bytes_ = 0;
  SinkStats stats_;
};

}  // namespace fnguard::events
