// Python source lines in events (fnguard/enforcer/source.cc), end to end:
// real python3 programs under libfnguard.so. The location is read only when
// an event is written; these tests cover each way the lookup gets the GIL
// (a helper thread while another thread runs Python, a vfork child of
// subprocess) and that a GIL that cannot be had costs the Python line, never
// a hang.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/unit/enforcer_harness.h"

namespace fnguard::testing {
namespace {

// Runs `python3 DIR/app.py ARGS...` under `policy`. FNGUARD_TEST_PYTHON
// names another interpreter (these tests were run with CPython 3.9 to 3.13
// that way); the default is the system's.
RunResult run_app(const PolicyImage& policy, const TempDir& dir,
                  std::vector<std::string> args = {}) {
  const char* python = std::getenv("FNGUARD_TEST_PYTHON");
  std::vector<std::string> argv = {python != nullptr ? python : "/usr/bin/python3", dir / "app.py"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_protected(policy.build(), argv);
}

// DIR/secret (the file the tests' policies deny) and DIR/app.py.
void write_app_with_secret(const TempDir& dir, const std::string& program) {
  dir.write("secret", "TOPSECRET");
  dir.write("app.py", program);
}

std::string python_source(const std::string& file, int line, const std::string& function) {
  return "\"source\":{\"language\":\"python\",\"file\":\"" + file +
         "\",\"line\":" + std::to_string(line) + ",\"function\":\"" + function + "\"}";
}

TEST(EnforcerPythonSource, ADeniedReadInAThreadNamesItsLineWhileAnotherThreadRunsPython) {
  // The main thread keeps the interpreter busy (it holds the GIL except at
  // Python's switch interval), so the lookup for the worker's denied read
  // must wait its turn for the GIL.
  TempDir dir;
  write_app_with_secret(dir,
            "import sys, threading, time\n"
            "done = threading.Event()\n"
            "def reader(path):\n"
            "    try:\n"
            "        open(path).read()\n"
            "    except PermissionError:\n"
            "        print('denied')\n"
            "    done.set()\n"
            "t = threading.Thread(target=reader, args=(sys.argv[1],))\n"
            "t.start()\n"
            "n = 0\n"
            "while not done.is_set():\n"
            "    n += 1\n"
            "t.join()\n");
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kBlock).deny(dir / "secret");
  RunResult r = run_app(policy, dir, {dir / "secret"});
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_NE(r.out.find("denied"), std::string::npos) << r.dump();
  EXPECT_TRUE(r.has_event({"\"action\":\"blocked\"", python_source(dir / "app.py", 5, "reader")}))
      << r.dump();
}

TEST(EnforcerPythonSource, AnExecFromSubprocessNamesThePythonLineThatStartedIt) {
  // CPython's subprocess execs in a vfork child that shares the parent's
  // memory; the event is written there.
  TempDir dir;
  dir.write("app.py",
            "import subprocess\n"
            "def run_tool():\n"
            "    try:\n"
            "        subprocess.run(['/usr/bin/true'])\n"
            "        print('ran')\n"
            "    except PermissionError:\n"
            "        print('exec denied')\n"
            "run_tool()\n");
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock).deny("/usr/bin/true");
  RunResult r = run_app(policy, dir);
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_EQ(r.line("exec denied"), "exec denied") << r.dump();
  EXPECT_TRUE(r.has_event({"\"action\":\"blocked\"", "\"target\":\"/usr/bin/true\"",
                           python_source(dir / "app.py", 4, "run_tool")}))
      << r.dump();
}

// Runs app.py DIR/a, with reads of DIR/a reported (monitor mode).
RunResult run_with_a_monitored(const TempDir& dir) {
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kMonitor).deny(dir / "a");
  return run_app(policy, dir, {dir / "a"});
}

// An event's target field for DIR/a.
std::string target_a(const TempDir& dir) { return "\"target\":\"" + dir / "a" + "\""; }

// The refused exec of /usr/bin/true, named by app.py's `launch` at `line`.
bool true_exec_blocked_at(const RunResult& r, const TempDir& dir, int line) {
  return r.has_event({"\"action\":\"blocked\"", "\"target\":\"/usr/bin/true\"",
                      python_source(dir / "app.py", line, "launch")});
}

TEST(EnforcerPythonSource, AnExecInAVforkChildWithTheGilReleasedNamesThePythonLine) {
  // CPython 3.12+ releases the GIL around subprocess's vfork; 3.11 (this
  // machine) holds it, so a ctypes call makes the same situation: the vfork
  // child writes the event and takes the GIL itself (the parent has no other
  // thread).
  TempDir dir;
  dir.write("app.py",
            "import ctypes, sys\n"
            "lib = ctypes.CDLL(sys.argv[1])\n"
            "def launch():\n"
            "    return lib.vfork_exec(b'/usr/bin/true')\n"
            "print('status', launch())\n");
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock).deny("/usr/bin/true");
  RunResult r = run_app(policy, dir, {FNGUARD_GIL_PROBE});
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_EQ(r.line("status"), "status 127") << r.dump();  // the exec was refused
  EXPECT_TRUE(true_exec_blocked_at(r, dir, 4)) << r.dump();
}

TEST(EnforcerPythonSource, AVforkChildOfAThreadedProgramAsksTheParentsHelper) {
  // A first reported read (GIL released) starts the helper thread; later a
  // vfork child, with another Python thread running, writes the exec event.
  // It may not start a thread itself, and the GIL may be held by the other
  // thread: the parent's helper reads the suspended thread's frames.
  TempDir dir;
  write_app_with_secret(dir,
            "import ctypes, sys, threading\n"
            "lib = ctypes.CDLL(sys.argv[2])\n"
            "try:\n"
            "    open(sys.argv[1]).read()\n"
            "except PermissionError:\n"
            "    print('read denied')\n"
            "stop = threading.Event()\n"
            "def spin():\n"
            "    n = 0\n"
            "    while not stop.is_set(): n += 1\n"
            "t = threading.Thread(target=spin)\n"
            "t.start()\n"
            "def launch():\n"
            "    return lib.vfork_exec(b'/usr/bin/true')\n"
            "print('status', launch())\n"
            "stop.set(); t.join()\n");
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kBlock).deny(dir / "secret");
  policy.control(Control::kProcessExec, Mode::kBlock).deny("/usr/bin/true");
  RunResult r = run_app(policy, dir, {dir / "secret", FNGUARD_GIL_PROBE});
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_EQ(r.line("read denied"), "read denied") << r.dump();
  EXPECT_EQ(r.line("status"), "status 127") << r.dump();
  EXPECT_TRUE(r.has_event({"\"action\":\"blocked\"", "\"target\":\"" + dir / "secret" + "\"",
                           "\"file\":\"" + dir / "app.py" + "\",\"line\":4"}))
      << r.dump();
  EXPECT_TRUE(true_exec_blocked_at(r, dir, 14)) << r.dump();
}

TEST(EnforcerPythonSource, AGilHeldByAThreadThatWaitsForTheCallCostsTheLineNotAHang) {
  // The worker's denied open runs with the GIL released; meanwhile the main
  // thread holds the GIL (a ctypes.PyDLL call) until that open returns.
  // Waiting for the GIL to read the worker's frames would deadlock; the
  // lookup gives up, the open is still denied, and the event names the
  // native caller instead.
  TempDir dir;
  write_app_with_secret(dir,
            "import ctypes, sys, threading\n"
            "lib = ctypes.CDLL(sys.argv[2])\n"
            "held = ctypes.PyDLL(sys.argv[2])\n"
            "result = {}\n"
            "def worker():\n"
            "    result['open'] = lib.open_after(sys.argv[1].encode(), 200)\n"
            "t = threading.Thread(target=worker)\n"
            "t.start()\n"
            "ok = held.hold_until_opened(20000)\n"
            "t.join()\n"
            "print('held', ok, 'open', result['open'])\n");
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kBlock).deny(dir / "secret");
  RunResult r = run_app(policy, dir, {dir / "secret", FNGUARD_GIL_PROBE});
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_EQ(r.line("held"), "held 1 open -13") << r.dump();  // no deadlock; EACCES
  EXPECT_TRUE(r.has_event(
      {"\"action\":\"blocked\"", "\"language\":\"native\"", "\"function\":\"open_after\""}))
      << r.dump();
}

TEST(EnforcerPythonSource, MonitorModeReportsEveryReadWithItsLineAndTheProgramCarriesOn) {
  // Several reported operations in a row, from two threads at once: each
  // event gets its own line (a report waits for the helper while another
  // is served), the program's results are unchanged, and the lookups leave
  // one thread (the helper, kept for the process's life) and no descriptor
  // behind.
  TempDir dir;
  dir.write("a", "A");
  dir.write("app.py",
            "import os, sys, threading, time\n"
            "def read_a():\n"
            "    return open(sys.argv[1]).read()\n"
            "def threads():\n"
            "    return [l for l in open('/proc/self/status') if "
            "l.startswith('Threads:')][0].split()[1]\n"
            "before = (threads(), len(os.listdir('/proc/self/fd')))\n"
            "out = []\n"
            "def worker():\n"
            "    for _ in range(5): out.append(read_a())\n"
            "ts = [threading.Thread(target=worker) for _ in range(2)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n"
            "time.sleep(0.2)\n"
            "after = (threads(), len(os.listdir('/proc/self/fd')))\n"
            "print('read', ''.join(out))\n"
            "helper = (str(int(before[0]) + 1), before[1])\n"
            "print('leak', 'none' if after == helper else f'{before} -> {after}')\n");
  RunResult r = run_with_a_monitored(dir);
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_EQ(r.line("read"), "read AAAAAAAAAA") << r.dump();
  EXPECT_EQ(r.line("leak"), "leak none") << r.dump();
  auto events = r.find_events({target_a(dir)});
  EXPECT_EQ(events.size(), 10u) << r.dump();
  auto with_line = r.find_events(
      {target_a(dir), python_source(dir / "app.py", 3, "read_a")});
  EXPECT_EQ(with_line.size(), 10u) << r.dump();
}

TEST(EnforcerPythonSource, ReportsFromThreadsSurviveForksAndSignals) {
  // Four threads make reported reads in a loop while the main thread forks
  // children (which report too) and an interval timer interrupts everyone:
  // the program finishes with every read done and every event written.
  TempDir dir;
  dir.write("a", "A");
  dir.write("app.py",
            "import os, signal, sys, threading\n"
            "ticks = [0]\n"
            "def on_alarm(signum, frame): ticks[0] += 1\n"
            "signal.signal(signal.SIGALRM, on_alarm)\n"
            "signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)\n"
            "reads = []\n"
            "def reader():\n"
            "    for _ in range(25):\n"
            "        reads.append(open(sys.argv[1]).read())\n"
            "ts = [threading.Thread(target=reader) for _ in range(4)]\n"
            "[t.start() for t in ts]\n"
            "for _ in range(10):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        open(sys.argv[1]).read()\n"
            "        os._exit(0)\n"
            "    os.waitpid(pid, 0)\n"
            "[t.join() for t in ts]\n"
            "signal.setitimer(signal.ITIMER_REAL, 0, 0)\n"
            "print('reads', len(reads), ''.join(set(reads)))\n");
  RunResult r = run_with_a_monitored(dir);
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_EQ(r.line("reads"), "reads 100 A") << r.dump();
  EXPECT_EQ(r.find_events({target_a(dir)}).size(), 110u) << r.dump();
  EXPECT_FALSE(r.find_events({target_a(dir),
                              python_source(dir / "app.py", 9, "reader")})
                   .empty())
      << r.dump();
}

}  // namespace
}  // namespace fnguard::testing
