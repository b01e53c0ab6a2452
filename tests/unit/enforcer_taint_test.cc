// Taint: with `taint: block` on a control, an operation whose argument
// carries a value from the current invocation's event (published by the
// Runtime API proxy in the context page) is refused, while the same kind of
// operation on the function's own paths and commands goes on untouched.
#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "tests/unit/enforcer_harness.h"

namespace fnguard::testing {
namespace {

// A context page holding one taint value, as the proxy would publish it.
std::function<void(image::ContextPage*)> with_taint(const std::string& field,
                                                   const std::string& value) {
  return [field, value](image::ContextPage* page) {
    page->phase = image::Phase::kInvoke;
    std::strcpy(page->request_id, "req-taint-1");
    std::memcpy(page->taint_data, field.data(), field.size());
    std::memcpy(page->taint_data + 128, value.data(), value.size());
    page->taints[0] = {0, static_cast<uint16_t>(field.size()), 128,
                       static_cast<uint16_t>(value.size())};
    page->taint_count = 1;
  };
}

// Rules allow everything; only the taint setting can refuse.
std::vector<uint8_t> taint_policy(Control control, Mode taint_mode) {
  image::Builder b;
  for (size_t c = 0; c < image::kControlCount; ++c) {
    b.set_control(static_cast<Control>(c), Mode::kOff, Verdict::kAllow);
  }
  b.set_control(control, Mode::kMonitor, Verdict::kAllow, taint_mode);
  return b.finish();
}

TEST(EnforcerTaint, ReadOfAPathFromTheEventIsBlockedAndOwnReadsAreNot) {
  TempDir dir;
  dir.write("own.txt", "OWN");
  dir.write("leak.txt", "LEAKED");
  mkdir((dir / "sub").c_str(), 0755);
  RunOptions options;
  // The event asked for "../leak.txt"; the handler joined it to its own directory.
  options.context = with_taint("queryStringParameters.file", "../leak.txt");
  RunResult r = run_protected(taint_policy(Control::kFilesRead, Mode::kBlock),
                              {probe_path(), "read", dir / "own.txt", "read", dir / "sub/../leak.txt"},
                              options);
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_NE(r.out.find("read ok OWN"), std::string::npos) << r.dump();
  EXPECT_EQ(r.out.find("LEAKED"), std::string::npos) << r.dump();
  auto events = r.find_events({"\"control\":\"files.read\"", "\"action\":\"blocked\"",
                               "\"rule\":\"files.read.taint\"",
                               "\"target\":\"" + dir / "leak.txt" + "\"",
                               "\"taint\":{\"field\":\"queryStringParameters.file\","
                               "\"value\":\"../leak.txt\"}",
                               "\"request_id\":\"req-taint-1\""});
  EXPECT_EQ(events.size(), 1u) << r.dump();
  EXPECT_TRUE(r.find_events({"\"target\":\"" + dir / "own.txt" + "\""}).empty()) << r.dump();
}

TEST(EnforcerTaint, MonitorTaintReportsAndLetsTheReadHappen) {
  TempDir dir;
  dir.write("leak.txt", "LEAKED");
  RunOptions options;
  options.context = with_taint("body.path", dir / "leak.txt");
  RunResult r = run_protected(taint_policy(Control::kFilesRead, Mode::kMonitor),
                              {probe_path(), "read", dir / "leak.txt"}, options);
  EXPECT_EQ(r.line("read"), "read ok LEAKED") << r.dump();
  EXPECT_TRUE(r.has_event({"\"action\":\"allowed\"", "\"rule\":\"files.read.taint\""})) << r.dump();
}

TEST(EnforcerTaint, InjectedCommandIsBlockedWhileTheFunctionsOwnExecRuns) {
  TempDir dir;
  std::string marker = dir / "injected";
  // The function runs `sh -c "echo <param>"` with an event value that smuggles
  // a second command; it also runs its own fixed command.
  std::string injected = "x; touch " + marker;
  dir.write("app.py",
            "import subprocess, sys\n"
            "own = subprocess.run(['/bin/echo', 'own-ok'], capture_output=True, text=True)\n"
            "print('own', own.returncode, own.stdout.strip())\n"
            "inj = subprocess.run('echo ' + sys.argv[1], shell=True)\n"
            "print('injected', inj.returncode)\n");
  RunOptions options;
  options.context = with_taint("queryStringParameters.name", injected);
  RunResult r = run_protected(taint_policy(Control::kProcessExec, Mode::kBlock),
                              {"/usr/bin/python3", dir / "app.py", injected}, options);
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.line("own"), "own 0 own-ok") << r.dump();
  EXPECT_NE(r.line("injected"), "injected 0") << r.dump();
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "the injected command ran";
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", "\"action\":\"blocked\"",
                           "\"rule\":\"process.exec.taint\"",
                           "\"field\":\"queryStringParameters.name\""}))
      << r.dump();
}

TEST(EnforcerTaint, WithoutTaintValuesNothingIsRefused) {
  TempDir dir;
  dir.write("leak.txt", "LEAKED");
  RunResult r = run_protected(taint_policy(Control::kFilesRead, Mode::kBlock),
                              {probe_path(), "read", dir / "leak.txt"});
  EXPECT_EQ(r.line("read"), "read ok LEAKED") << r.dump();
  EXPECT_TRUE(r.events.empty() || r.find_events({"\"kind\":\"violation\""}).empty()) << r.dump();
}

// Monitor mode's background inspection (fnguard/lambda/proxy.h): the proxy
// hands the event over with `taints_pending` set. An event the enforcer
// writes meanwhile waits for the taint values.

// A read that monitor mode reports (deny rule, no taint mode).
std::vector<uint8_t> report_reads_of(const std::string& path) {
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kMonitor).deny(path);
  return policy.build();
}

// The pid of a child of this process whose thread is blocked in futex(2),
// or 0 (reads /proc/PID/syscall, where a blocked thread shows its call).
pid_t child_waiting_in_futex() {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  pid_t found = 0;
  while (dirent* e = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream status("/proc/" + std::string(e->d_name) + "/status");
    std::string line;
    pid_t ppid = 0;
    while (std::getline(status, line)) {
      if (line.rfind("PPid:", 0) == 0) ppid = static_cast<pid_t>(std::atoi(line.c_str() + 5));
    }
    if (ppid != getpid()) continue;
    std::ifstream sc("/proc/" + std::string(e->d_name) + "/syscall");
    long nr = -1;
    if (sc >> nr && nr == SYS_futex) {
      found = pid;
      break;
    }
  }
  closedir(proc);
  return found;
}

TEST(EnforcerTaint, AReportedOperationWaitsForTaintsStillBeingComputed) {
  TempDir dir;
  dir.write("leak.txt", "LEAKED");
  std::atomic<image::ContextPage*> page{nullptr};
  RunOptions options;
  options.context = [&page](image::ContextPage* p) {
    p->phase = image::Phase::kInvoke;
    std::strcpy(p->request_id, "req-pending-1");
    p->taints_pending.store(1);
    page.store(p);
  };
  // Plays the proxy's inspection thread: once the enforcer is seen waiting,
  // publish the taint value (under the sequence lock) and wake it.
  std::atomic<bool> published{false};
  std::atomic<bool> done{false};
  std::string value = dir / "leak.txt";
  std::thread proxy([&] {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done.load() && std::chrono::steady_clock::now() < until) {
      image::ContextPage* p = page.load();
      if (p != nullptr && child_waiting_in_futex() != 0) {
        p->seq.fetch_add(1);
        std::strcpy(p->taint_data, "body.path");
        std::memcpy(p->taint_data + 128, value.data(), value.size());
        p->taints[0] = {0, 9, 128, static_cast<uint16_t>(value.size())};
        p->taint_count = 1;
        p->taints_pending.store(0);
        p->seq.fetch_add(1);
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&p->taints_pending), FUTEX_WAKE, 16,
                nullptr, nullptr, 0);
        published.store(true);
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  RunResult r = run_protected(report_reads_of(dir / "leak.txt"),
                              {probe_path(), "read", dir / "leak.txt"}, options);
  done.store(true);
  proxy.join();
  EXPECT_TRUE(published.load()) << "the enforcer never waited for the pending taints";
  EXPECT_EQ(r.line("read"), "read ok LEAKED") << r.dump();
  EXPECT_EQ(r.find_events({"\"action\":\"allowed\"", "\"request_id\":\"req-pending-1\"",
                           "\"taint\":{\"field\":\"body.path\",\"value\":\"" + value + "\"}"})
                .size(),
            1u)
      << r.dump();
}

TEST(EnforcerTaint, TaintsThatNeverArriveDelayTheEventOnlyBriefly) {
  // A stalled proxy: the event goes out without taint after the bound, and
  // the operation itself is never held (monitor mode lets the read happen).
  TempDir dir;
  dir.write("leak.txt", "LEAKED");
  RunOptions options;
  options.context = [](image::ContextPage* p) {
    p->phase = image::Phase::kInvoke;
    std::strcpy(p->request_id, "req-stalled-1");
    p->taints_pending.store(1);
  };
  options.timeout_ms = 20000;
  RunResult r = run_protected(report_reads_of(dir / "leak.txt"),
                              {probe_path(), "read", dir / "leak.txt", "read", dir / "leak.txt"},
                              options);
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_NE(r.out.find("read ok LEAKED"), std::string::npos) << r.dump();
  auto events = r.find_events({"\"action\":\"allowed\"", "\"request_id\":\"req-stalled-1\""});
  EXPECT_FALSE(events.empty()) << r.dump();
  for (const std::string& e : events) EXPECT_EQ(e.find("\"taint\":{"), std::string::npos) << e;
}

}  // namespace
}  // namespace fnguard::testing
