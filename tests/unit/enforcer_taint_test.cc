// Taint: with `taint: block` on a control, an operation whose argument
// carries a value from the current invocation's event (published by the
// Runtime API proxy in the context page) is refused, while the same kind of
// operation on the function's own paths and commands goes on untouched.
#include <gtest/gtest.h>

#include <cstring>

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

// A degraded page (the proxy relayed raw bytes that may have carried an
// invocation) keeps blocking with the taint values it has; events lose the
// request id, which may be another invocation's. Before, anything that
// could reach the proxy's port switched `taint: block` off this way.
TEST(EnforcerTaint, ADegradedPageStillBlocksTaintedOperationsWithoutARequestId) {
  TempDir dir;
  dir.write("leak.txt", "LEAKED");
  RunOptions options;
  auto taint = with_taint("queryStringParameters.file", "leak.txt");
  options.context = [taint](image::ContextPage* page) {
    taint(page);
    page->degraded = 1;
  };
  RunResult r = run_protected(taint_policy(Control::kFilesRead, Mode::kBlock),
                              {probe_path(), "read", dir / "leak.txt"}, options);
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.out.find("LEAKED"), std::string::npos) << r.dump();
  auto events = r.find_events({"\"rule\":\"files.read.taint\"", "\"action\":\"blocked\"",
                               "\"taint\":{\"field\":\"queryStringParameters.file\""});
  ASSERT_EQ(events.size(), 1u) << r.dump();
  EXPECT_EQ(events[0].find("request_id"), std::string::npos) << events[0];
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

}  // namespace
}  // namespace fnguard::testing
