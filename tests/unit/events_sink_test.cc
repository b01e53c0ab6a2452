// The event sink: what reaches the log for a stream of datagrams. Folding of
// repeats (one line, then one "count" line per window), rejection of
// anything that is not one JSON object, and bounded memory.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fnguard/events/sink.h"

namespace fnguard::events {
namespace {

struct Captured {
  std::vector<std::string> lines;
  Sink::LineWriter writer() {
    return [this](std::string_view l) {
      lines.emplace_back(l);
      return true;
    };
  }
};

std::string event(const std::string& target, const std::string& time = "2026-11-22T10:00:00.000Z") {
  return R"({"fnguard":1,"time":")" + time +
         R"(","kind":"violation","control":"files.read","action":"blocked","target":")" + target +
         R"("})";
}

TEST(EventsSink, FirstOccurrenceIsWrittenAtOnce) {
  Captured out;
  Sink sink(out.writer());
  sink.submit(event("/etc/shadow"), 0);
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0], event("/etc/shadow"));
}

TEST(EventsSink, ThousandRepeatsBecomeOneEventAndOneCount) {
  Captured out;
  Sink sink(out.writer());
  for (int i = 0; i < 1000; ++i) {
    // Different times: folding ignores "time".
    sink.submit(event("/etc/shadow", "2026-11-22T10:00:00." + std::to_string(100 + i % 900) + "Z"),
                i % 500);
  }
  EXPECT_EQ(out.lines.size(), 1u);
  sink.flush();
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_TRUE(out.lines[1].ends_with(",\"count\":999}")) << out.lines[1];
  EXPECT_NE(out.lines[1].find("\"target\":\"/etc/shadow\""), std::string::npos);
  EXPECT_EQ(sink.stats().folded, 999u);
}

TEST(EventsSink, DifferentEventsAreNotFolded) {
  Captured out;
  Sink sink(out.writer());
  sink.submit(event("/a"), 0);
  sink.submit(event("/b"), 0);
  sink.submit(event("/a"), 1);
  sink.flush();
  ASSERT_EQ(out.lines.size(), 3u);
  EXPECT_NE(out.lines[2].find("\"target\":\"/a\""), std::string::npos);
  EXPECT_NE(out.lines[2].find("\"count\":1"), std::string::npos);
}

TEST(EventsSink, WindowCloseWritesCountAndKeepsFolding) {
  Captured out;
  Sink sink(out.writer(), Sink::Options{.window_ms = 1000});
  sink.submit(event("/x"), 0);
  sink.submit(event("/x"), 10);
  sink.submit(event("/x"), 20);
  EXPECT_EQ(sink.next_expiry_ms(), 1000);
  sink.expire(999);
  EXPECT_EQ(out.lines.size(), 1u);
  sink.expire(1000);
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_NE(out.lines[1].find("\"count\":2}"), std::string::npos);
  // Still inside a fold: the next repeat is counted, not written.
  sink.submit(event("/x"), 1500);
  EXPECT_EQ(out.lines.size(), 2u);
  sink.expire(2000);
  ASSERT_EQ(out.lines.size(), 3u);
  EXPECT_NE(out.lines[2].find("\"count\":1}"), std::string::npos);
  // A window without repeats forgets the entry: the next one is new.
  sink.expire(3000);
  EXPECT_EQ(sink.next_expiry_ms(), -1);
  sink.submit(event("/x"), 3100);
  ASSERT_EQ(out.lines.size(), 4u);
  EXPECT_EQ(out.lines[3].find("count"), std::string::npos);
}

TEST(EventsSink, MalformedDatagramsAreCountedNotForwarded) {
  Captured out;
  Sink sink(out.writer());
  const char* bad[] = {
      "",
      "not json",
      "[1,2,3]",
      "\"a string\"",
      "{\"a\":1",
      "{\"a\":1}}",
      "{\"a\":1}\n{\"b\":2}",
      "{\"a\":\"line\nbreak\"}",
      "{\"a\":tru}",
      "{\"a\":01}",
      "{\"a\":\"\\x\"}",
      "{a:1}",
  };
  for (const char* b : bad) sink.submit(b, 0);
  EXPECT_TRUE(out.lines.empty()) << out.lines[0];
  EXPECT_EQ(sink.stats().malformed, sizeof bad / sizeof bad[0]);
  EXPECT_EQ(sink.stats().dropped, sizeof bad / sizeof bad[0]);
}

TEST(EventsSink, DeepNestingIsRefused) {
  Captured out;
  Sink sink(out.writer());
  std::string deep = "{\"a\":";
  for (int i = 0; i < 10000; ++i) deep += "[";
  for (int i = 0; i < 10000; ++i) deep += "]";
  deep += "}";
  sink.submit(deep, 0);
  EXPECT_TRUE(out.lines.empty());
  EXPECT_EQ(sink.stats().malformed, 1u);
}

TEST(EventsSink, WhitespaceIsCompactedToOneLine) {
  Captured out;
  Sink sink(out.writer());
  sink.submit("{ \"a\" :\n [ 1 , 2 ] ,\r\n \"b\" : \"x y\" }", 0);
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0], "{\"a\":[1,2],\"b\":\"x y\"}");
}

TEST(EventsSink, HelloDatagramsAreIgnored) {
  Captured out;
  Sink sink(out.writer());
  sink.submit("{\"fnguard_hello\":1,\"pid\":42}", 0);
  EXPECT_TRUE(out.lines.empty());
  EXPECT_EQ(sink.stats().malformed, 0u);
}

TEST(EventsSink, TimeFirstOrLastFoldsTheSame) {
  Captured out;
  Sink sink(out.writer());
  sink.submit(R"({"time":"t1","kind":"violation","target":"/a"})", 0);
  sink.submit(R"({"time":"t2","kind":"violation","target":"/a"})", 1);
  sink.submit(R"({"kind":"violation","target":"/b","time":"t1"})", 2);
  sink.submit(R"({"kind":"violation","target":"/b","time":"t2"})", 3);
  sink.flush();
  ASSERT_EQ(out.lines.size(), 4u);
  // The count line carries the last repeat's time.
  EXPECT_EQ(out.lines[2], R"({"time":"t2","kind":"violation","target":"/a","count":1})");
  EXPECT_EQ(out.lines[3], R"({"kind":"violation","target":"/b","time":"t2","count":1})");
}

TEST(EventsSink, FullTableEvictsOldestWithoutLosingCounts) {
  Captured out;
  Sink sink(out.writer(), Sink::Options{.window_ms = 1000, .max_entries = 4});
  for (int i = 0; i < 4; ++i) {
    sink.submit(event("/f" + std::to_string(i)), 0);
    sink.submit(event("/f" + std::to_string(i)), 0);  // one repeat each
  }
  EXPECT_EQ(out.lines.size(), 4u);
  sink.submit(event("/new"), 0);  // evicts /f0: its count is written first
  ASSERT_EQ(out.lines.size(), 6u);
  EXPECT_NE(out.lines[4].find("\"target\":\"/f0\""), std::string::npos);
  EXPECT_NE(out.lines[4].find("\"count\":1"), std::string::npos);
  EXPECT_EQ(sink.stats().evicted, 1u);
  // Many distinct events never grow the table past its cap.
  for (int i = 0; i < 5000; ++i) sink.submit(event("/g" + std::to_string(i)), 0);
  sink.flush();
  uint64_t total = 0;
  for (const auto& l : out.lines) {
    size_t c = l.find("\"count\":");
    total += c == std::string::npos ? 1 : std::stoull(l.substr(c + 8));
  }
  EXPECT_EQ(total, 8u + 1u + 5000u);  // every occurrence is accounted for
}

TEST(EventsSink, ByteCapBoundsMemory) {
  Captured out;
  Sink sink(out.writer(), Sink::Options{.window_ms = 1000, .max_entries = 1000, .max_bytes = 1000});
  std::string big(300, 'x');
  for (int i = 0; i < 10; ++i) sink.submit(event("/" + big + std::to_string(i)), 0);
  EXPECT_GE(sink.stats().evicted, 7u);
  EXPECT_EQ(out.lines.size(), 10u);
}

TEST(EventsSink, EmptyObjectFoldsToValidJson) {
  Captured out;
  Sink sink(out.writer());
  sink.submit("{}", 0);
  sink.submit("{ }", 0);
  sink.flush();
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[1], R"({"count":1})");
}

TEST(EventsSink, ForgedLongTimeCannotGrowTheTable) {
  Captured out;
  Sink sink(out.writer());
  sink.submit(event("/a"), 0);
  size_t bytes = sink.table_bytes();
  sink.submit(event("/a", std::string(60000, '9')), 1);  // a repeat apart from "time"
  EXPECT_EQ(sink.table_bytes(), bytes);
  EXPECT_EQ(sink.stats().folded, 1u);
}

TEST(EventsSink, EventWithCountPassesThrough) {
  Captured out;
  Sink sink(out.writer());
  sink.submit(R"({"kind":"violation","count":5})", 0);
  sink.submit(R"({"kind":"violation","count":5})", 0);
  EXPECT_EQ(out.lines.size(), 2u);
}

TEST(EventsSink, FailedOutputIsCountedAsDropped) {
  Sink sink([](std::string_view) { return false; });
  sink.submit(event("/a"), 0);
  sink.write_own(R"({"kind":"lifecycle"})");
  EXPECT_EQ(sink.stats().dropped, 2u);
  EXPECT_EQ(sink.stats().written, 0u);
}

TEST(EventsSink, DroppedReportedByEnforcerIsCounted) {
  Captured out;
  Sink sink(out.writer());
  sink.submit(R"({"kind":"violation","target":"/a","dropped":7})", 0);
  sink.submit(R"({"kind":"violation","target":"/b","detail":{"dropped":100}})", 0);
  EXPECT_EQ(sink.stats().dropped, 7u);  // only the top-level member counts
  EXPECT_EQ(out.lines.size(), 2u);
}

TEST(EventsSink, BatchKeepsOrderAndSplitsAtPipeBuf) {
  std::vector<std::string> writes;
  Sink sink([&](std::string_view l) {
    writes.emplace_back(l);
    return true;
  });
  sink.begin_batch();
  for (int i = 0; i < 100; ++i) sink.submit(event("/f" + std::to_string(i)), 0);
  size_t during = writes.size();  // full pieces go out while the batch runs
  sink.end_batch();
  EXPECT_EQ(writes.size(), during + 1);  // the rest at the end
  std::string all;
  for (const auto& w : writes) {
    EXPECT_LE(w.size(), Sink::kBatchBytes);
    all += w + "\n";
  }
  EXPECT_GT(writes.size(), 1u);
  EXPECT_LT(writes.size(), 100u);
  std::string want;
  for (int i = 0; i < 100; ++i) want += event("/f" + std::to_string(i)) + "\n";
  EXPECT_EQ(all, want);
  EXPECT_EQ(sink.stats().written, 100u);
  // Outside a batch, lines are written one by one again.
  writes.clear();
  sink.submit(event("/g"), 0);
  EXPECT_EQ(writes.size(), 1u);
}

TEST(EventsSink, FailedBatchCountsEveryLineDropped) {
  Sink sink([](std::string_view) { return false; });
  sink.begin_batch();
  for (int i = 0; i < 5; ++i) sink.submit(event("/f" + std::to_string(i)), 0);
  sink.end_batch();
  EXPECT_EQ(sink.stats().dropped, 5u);
  EXPECT_EQ(sink.stats().written, 0u);
}

TEST(EventsSink, OpenFileAppends) {
  char path[] = "/tmp/fnguard-sink-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "old\n", 4), 4);
  close(fd);
  {
    auto sink = Sink::open(path);
    ASSERT_TRUE(sink.ok());
    (*sink)->submit(event("/a"), 0);
  }
  FILE* f = fopen(path, "r");
  char buf[512] = {};
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  unlink(path);
  EXPECT_EQ(std::string(buf, n), "old\n" + event("/a") + "\n");
}

TEST(EventsSink, FullNonBlockingPipeWaitsForRoom) {
  // stdout is a full pipe marked O_NONBLOCK (as Node leaves a shared pipe):
  // the event must still arrive once the reader makes room, not be dropped.
  int p[2];
  ASSERT_EQ(pipe2(p, O_NONBLOCK), 0);
  char junk[4096];
  std::memset(junk, 'j', sizeof junk);
  while (write(p[1], junk, sizeof junk) > 0) {
  }
  std::string received;
  std::thread reader([&] {
    // Starts reading only after the sink has met the full pipe.
    usleep(100000);
    char buf[65536];
    while (received.find("/late\"") == std::string::npos) {
      pollfd pfd{p[0], POLLIN, 0};
      if (poll(&pfd, 1, 10000) <= 0) return;
      ssize_t n = read(p[0], buf, sizeof buf);
      if (n > 0) received.append(buf, static_cast<size_t>(n));
    }
  });
  fflush(stdout);
  int saved = dup(1);
  dup2(p[1], 1);
  {
    auto sink = Sink::open("-");
    ASSERT_TRUE(sink.ok());
    (*sink)->submit(event("/late"), 0);
    dup2(saved, 1);
    EXPECT_EQ((*sink)->stats().written, 1u);
    EXPECT_EQ((*sink)->stats().dropped, 0u);
  }
  reader.join();
  close(saved);
  close(p[0]);
  close(p[1]);
  EXPECT_NE(received.find(event("/late") + "\n"), std::string::npos);
}

TEST(EventsSink, OpenUnwritableFileIsAnError) {
  auto sink = Sink::open("/nonexistent-dir/events.log");
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.error().message.find("/nonexistent-dir/events.log"), std::string::npos);
}

}  // namespace
}  // namespace fnguard::events
