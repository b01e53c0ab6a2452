// Event sink: validation and compaction of datagrams, repeat folding with a
// bounded table, and line output. See sink.h for the folding rules.
#include "fnguard/events/sink.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "fnguard/enforcer/protocol.h"

namespace fnguard::events {

namespace {

// A recursive-descent JSON checker that copies its input without the
// whitespace between tokens. It also notes where the top-level "time" and
// "count" members sit in the compacted text, which folding needs.
class Compactor {
 public:
  Compactor(std::string_view in, std::string* out, int max_depth)
      : in_(in), out_(out), max_depth_(max_depth) {}

  bool run() {
    out_->clear();
    out_->reserve(in_.size());
    skip_ws();
    if (peek() != '{') return false;
    if (!value(0)) return false;
    skip_ws();
    return pos_ == in_.size();
  }

  // [begin, end) of the top-level "time" member in the output, including one
  // adjacent comma, or begin == end when absent.
  size_t time_begin = 0, time_end = 0;
  bool has_count = false;
  uint64_t dropped = 0;  // a top-level "dropped":N (events the enforcer could not send)

 private:
  char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(const char* word) {
    size_t n = std::strlen(word);
    if (in_.substr(pos_, n) != word) return false;
    out_->append(word);
    pos_ += n;
    return true;
  }

  bool string(std::string* decoded_key) {
    // Opening quote at pos_.
    out_->push_back('"');
    ++pos_;
    while (pos_ < in_.size()) {
      unsigned char c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        out_->push_back('"');
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;  // raw control characters (newlines) are not JSON
      if (c == '\\') {
        if (pos_ + 1 >= in_.size()) return false;
        char e = in_[pos_ + 1];
        if (e == 'u') {
          if (pos_ + 6 > in_.size()) return false;
          for (size_t i = pos_ + 2; i < pos_ + 6; ++i) {
            if (!std::isxdigit(static_cast<unsigned char>(in_[i]))) return false;
          }
          out_->append(in_.substr(pos_, 6));
          if (decoded_key != nullptr) decoded_key->push_back('?');
          pos_ += 6;
          continue;
        }
        if (std::strchr("\"\\/bfnrt", e) == nullptr || e == '\0') return false;
        out_->push_back('\\');
        out_->push_back(e);
        if (decoded_key != nullptr) decoded_key->push_back(e);
        pos_ += 2;
        continue;
      }
      out_->push_back(static_cast<char>(c));
      if (decoded_key != nullptr) decoded_key->push_back(static_cast<char>(c));
      ++pos_;
    }
    return false;
  }

  bool number() {
    size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    } else {
      return false;
    }
    if (peek() == '.') {
      ++pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    }
    out_->append(in_.substr(start, pos_ - start));
    return true;
  }

  bool value(int depth) {
    skip_ws();
    char c = peek();
    if (c == '{' || c == '[') {
      if (depth >= max_depth_) return false;
      return c == '{' ? object(depth + 1) : array(depth + 1);
    }
    if (c == '"') return string(nullptr);
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    return number();
  }

  bool object(int depth) {
    out_->push_back('{');
    ++pos_;
    skip_ws();
    if (peek() == '}') {
      out_->push_back('}');
      ++pos_;
      return true;
    }
    bool first = true;
    while (true) {
      skip_ws();
      if (peek() != '"') return false;
      size_t member_begin = out_->size();
      std::string key;
      if (!string(depth == 1 ? &key : nullptr)) return false;
      skip_ws();
      if (peek() != ':') return false;
      out_->push_back(':');
      ++pos_;
      size_t value_begin = out_->size();
      if (!value(depth)) return false;
      if (depth == 1 && key == "dropped") {
        std::string_view v(out_->data() + value_begin, out_->size() - value_begin);
        if (!v.empty() && v.size() <= 19 &&
            v.find_first_not_of("0123456789") == std::string_view::npos)
          dropped = std::stoull(std::string(v));
      }
      if (depth == 1) {
        if (key == "time" && time_begin == time_end) {
          // Take the comma before the member, or the one after it when first.
          time_begin = first ? member_begin : member_begin - 1;
          time_end = out_->size();
          time_is_first_ = first;
        }
        if (key == "count") has_count = true;
      }
      skip_ws();
      if (peek() == ',') {
        out_->push_back(',');
        ++pos_;
        if (depth == 1 && time_is_first_ && time_end == out_->size() - 1) time_end++;
        first = false;
        continue;
      }
      if (peek() == '}') {
        out_->push_back('}');
        ++pos_;
        return true;
      }
      return false;
    }
  }

  bool array(int depth) {
    out_->push_back('[');
    ++pos_;
    skip_ws();
    if (peek() == ']') {
      out_->push_back(']');
      ++pos_;
      return true;
    }
    while (true) {
      if (!value(depth)) return false;
      skip_ws();
      if (peek() == ',') {
        out_->push_back(',');
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        out_->push_back(']');
        ++pos_;
        return true;
      }
      return false;
    }
  }

  std::string_view in_;
  std::string* out_;
  int max_depth_;
  size_t pos_ = 0;
  bool time_is_first_ = false;
};

bool write_fd_line(int fd, std::string_view line) {
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  // One write per line so that lines from concurrent writers (O_APPEND) do
  // not interleave.
  const char* p = buf.data();
  size_t left = buf.size();
  int waits = 0;
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits < 10) {
      // stderr/stdout may be a pipe shared with the program, and Node
      // (libuv) sets O_NONBLOCK on it: wait for room (up to ~5 s in all)
      // rather than lose the event.
      pollfd pfd{fd, POLLOUT, 0};
      poll(&pfd, 1, 500);
      ++waits;
      continue;
    }
    if (n <= 0) return false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool compact_json_object(std::string_view text, std::string* out, int max_depth) {
  Compactor c(text, out, max_depth);
  return c.run();
}

Sink::Sink(LineWriter writer, Options options) : writer_(std::move(writer)), options_(options) {
  if (options_.max_entries == 0) options_.max_entries = 1;
}

Result<std::unique_ptr<Sink>> Sink::open(const std::string& destination, Options options) {
  if (destination.empty()) {
    return std::make_unique<Sink>([](std::string_view l) { return write_fd_line(2, l); }, options);
  }
  if (destination == "-") {
    return std::make_unique<Sink>([](std::string_view l) { return write_fd_line(1, l); }, options);
  }
  int fd = ::open(destination.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error("cannot open the events file " + destination + ": " + std::strerror(errno),
                      "pass a writable path to --events, or '-' for stdout");
  }
  // The descriptor lives as long as the writer (shared so the lambda is copyable).
  auto owner = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  return std::make_unique<Sink>([owner](std::string_view l) { return write_fd_line(*owner, l); },
                                options);
}

void Sink::write_line(std::string_view line) {
  if (batching_) {
    if (!batch_.empty() && batch_.size() + 1 + line.size() > kBatchBytes) flush_batch();
    if (!batch_.empty()) batch_.push_back('\n');
    batch_.append(line);
    batch_lines_++;
    return;
  }
  if (writer_(line)) {
    stats_.written++;
  } else {
    stats_.dropped++;
  }
}

void Sink::flush_batch() {
  if (batch_lines_ == 0) return;
  if (writer_(batch_)) {
    stats_.written += batch_lines_;
  } else {
    stats_.dropped += batch_lines_;
  }
  batch_.clear();
  batch_lines_ = 0;
}

void Sink::end_batch() {
  flush_batch();
  batching_ = false;
}

void Sink::write_own(std::string_view json) { write_line(json); }

void Sink::submit(std::string_view datagram, int64_t now_ms) {
  stats_.received++;
  if (datagram.substr(0, std::strlen(enforcer::kHelloPrefix)) == enforcer::kHelloPrefix) return;

  std::string compact;
  Compactor c(datagram, &compact, 32);
  if (!c.run()) {
    count_malformed(1);
    return;
  }
  // The enforcer could not send some earlier events (its socket was full)
  // and says so on the next one that got through.
  stats_.dropped += c.dropped;
  // An event that already carries a count was folded upstream: pass it on.
  if (c.has_count) {
    write_line(compact);
    return;
  }
  std::string key = compact;
  key.erase(c.time_begin, c.time_end - c.time_begin);

  auto it = table_.find(key);
  if (it != table_.end()) {
    Entry& e = it->second;
    // The count line carries the last repeat's time. Repeats differ only in
    // "time", whose length is fixed in fnguard's own events; a repeat whose
    // time has another length (forged) keeps the stored text, so a repeat
    // can never grow the table past its byte cap.
    if (compact.size() == e.last.size()) e.last = std::move(compact);
    e.repeats++;
    stats_.folded++;
    if (now_ms >= e.window_end) close_window(it, /*keep=*/true, now_ms);
    return;
  }
  size_t size = key.size() + compact.size();
  make_room(size);
  write_line(compact);
  order_.push_back(key);
  Entry e;
  e.last = std::move(compact);
  e.window_end = now_ms + options_.window_ms;
  e.order = std::prev(order_.end());
  table_bytes_ += key.size() + e.last.size();
  table_.emplace(std::move(key), std::move(e));
}

void Sink::close_window(Table::iterator it, bool keep, int64_t now_ms) {
  Entry& e = it->second;
  bool had_repeats = e.repeats > 0;
  if (had_repeats) {
    std::string line = e.last;
    line.pop_back();                   // the closing brace
    if (line.size() > 1) line += ',';  // "{}" has no member to follow
    line += "\"count\":" + std::to_string(e.repeats) + "}";
    write_line(line);
    e.repeats = 0;
  }
  if (keep && had_repeats) {
    e.window_end = now_ms + options_.window_ms;
    return;
  }
  table_bytes_ -= it->first.size() + e.last.size();
  order_.erase(e.order);
  table_.erase(it);
}

void Sink::make_room(size_t incoming) {
  while (!order_.empty() && (table_.size() + 1 > options_.max_entries ||
                             table_bytes_ + incoming > options_.max_bytes)) {
    auto it = table_.find(order_.front());
    stats_.evicted++;
    close_window(it, /*keep=*/false, 0);
  }
}

void Sink::expire(int64_t now_ms) {
  for (auto it = table_.begin(); it != table_.end();) {
    auto next = std::next(it);
    if (it->second.window_end <= now_ms) close_window(it, /*keep=*/true, now_ms);
    it = next;
  }
}

int64_t Sink::next_expiry_ms() const {
  int64_t best = -1;
  for (const auto& [key, e] : table_) {
    if (best < 0 || e.window_end < best) best = e.window_end;
  }
  return best;
}

void Sink::flush() {
  while (!order_.empty()) close_window(table_.find(order_.front()), /*keep=*/false, 0);
}

}  // namespace fnguard::events
