// launch() and the Supervisor loop against the enforcer protocol, without the
// real enforcer: a python3 child plays its part (hello on the events socket,
// wait at the gate, send events), so these tests pin down the supervisor's
// side: fail-closed start, exec failures, the child hook, exit statuses and
// event delivery.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "fnguard/events/sink.h"
#include "fnguard/supervisor/channel.h"
#include "fnguard/supervisor/executable.h"
#include "fnguard/supervisor/launch.h"
#include "fnguard/supervisor/supervisor.h"

extern char** environ;

namespace fnguard::supervisor {
namespace {

// The child side of the protocol, in Python: what libfnguard.so does on load.
constexpr const char* kFakeEnforcer = R"(
import os, socket, sys
spec = dict(kv.split('=') for kv in os.environ['FNGUARD_ENFORCER'].split(','))
ev = socket.socket(fileno=int(spec['events']))
ev.send(b'{"fnguard_hello":1,"pid":%d}' % os.getpid())
assert os.read(int(spec['gate']), 1) == b'\x01'
for i in range(50):
    ev.send(b'{"fnguard":1,"time":"t%d","kind":"violation","target":"/etc/shadow"}' % i)
ev.send(b'{not json')
sys.exit(int(sys.argv[1]))
)";

std::string python() {
  ResolvedCommand r = resolve_command("python3", "/usr/bin:/bin:/usr/local/bin");
  return r.path;
}

LaunchOptions options_for(const std::vector<std::string>& argv) {
  LaunchOptions o;
  o.path = argv[0];
  o.argv = argv;
  for (char** e = environ; *e != nullptr; ++e) o.env.emplace_back(*e);
  // No real enforcer here: ld.so warns that it cannot preload this and goes on.
  o.library = "/nonexistent/libfnguard-test.so";
  o.hello_timeout_ms = 10000;
  return o;
}

struct Collected {
  std::vector<std::string> lines;
  std::unique_ptr<events::Sink> sink = std::make_unique<events::Sink>([this](std::string_view l) {
    lines.emplace_back(l);
    return true;
  });
};

TEST(SupervisorLaunch, HelloOpensGateAndEventsAreFolded) {
  std::string py = python();
  if (py.empty()) GTEST_SKIP() << "python3 not found";
  auto channel = Channel::create({}, /*gate=*/true);
  ASSERT_TRUE(channel.ok());
  Collected out;
  auto sup = Supervisor::create(out.sink.get());
  ASSERT_TRUE(sup.ok());
  pid_t started = -1;
  LaunchOptions o = options_for({py, "-c", kFakeEnforcer, "3"});
  o.on_started = [&](pid_t pid) { started = pid; };
  Launched child = launch(**channel, o);
  ASSERT_GT(child.pid, 0) << child.failure.to_string();
  EXPECT_EQ(started, child.pid);
  EXPECT_TRUE(child.preload_active);
  (*sup)->set_events_fd((*channel)->events_fd());
  ChildExit exit = (*sup)->run(child.pid);
  EXPECT_EQ(exit.exit_status, 3);
  // 50 identical events: one line, then one count line for 49 repeats.
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_NE(out.lines[1].find("\"count\":49"), std::string::npos) << out.lines[1];
  EXPECT_EQ(out.sink->stats().malformed, 1u);
}

TEST(SupervisorLaunch, NoHelloFromAnExitedChildFailsClosedWithoutWaiting) {
  auto channel = Channel::create({}, true);
  ASSERT_TRUE(channel.ok());
  Collected out;
  auto sup = Supervisor::create(out.sink.get());
  ASSERT_TRUE(sup.ok());
  LaunchOptions o = options_for({"/bin/true"});
  o.hello_timeout_ms = 600000;  // the exit, not the timeout, must end the wait
  Launched child = launch(**channel, o);
  EXPECT_EQ(child.pid, -1);
  EXPECT_EQ(child.failure_status, kExitLaunchFailed);
  EXPECT_NE(child.failure.message.find("exited before the enforcer reported in"), std::string::npos)
      << child.failure.message;
}

TEST(SupervisorLaunch, NoHelloAllowedWhenPreloadNotRequired) {
  auto channel = Channel::create({}, true);
  ASSERT_TRUE(channel.ok());
  Collected out;
  auto sup = Supervisor::create(out.sink.get());
  ASSERT_TRUE(sup.ok());
  LaunchOptions o = options_for({"/bin/sh", "-c", "read x; exit 9"});  // waits on stdin: no hello
  o.require_preload = false;
  o.hello_timeout_ms = 200;
  int in[2];
  ASSERT_EQ(pipe(in), 0);
  int saved = dup(0);
  dup2(in[0], 0);
  Launched child = launch(**channel, o);
  dup2(saved, 0);
  close(saved);
  close(in[0]);
  ASSERT_GT(child.pid, 0) << child.failure.to_string();
  EXPECT_FALSE(child.preload_active);
  EXPECT_NE(child.warning.find("unprotected"), std::string::npos);
  ASSERT_EQ(write(in[1], "go\n", 3), 3);
  close(in[1]);
  EXPECT_EQ((*sup)->run(child.pid).exit_status, 9);
}

TEST(SupervisorLaunch, ExecFailuresAre126And127) {
  auto channel = Channel::create({}, true);
  ASSERT_TRUE(channel.ok());
  Collected out;
  auto sup = Supervisor::create(out.sink.get());
  Launched missing = launch(**channel, options_for({"/nonexistent/program"}));
  EXPECT_EQ(missing.pid, -1);
  EXPECT_EQ(missing.failure_status, kExitNotFound);
  Launched not_exec = launch(**channel, options_for({"/etc/passwd"}));
  EXPECT_EQ(not_exec.failure_status, kExitNotExecutable);
}

int refuse_hook(void*) { return -EPERM; }

TEST(SupervisorLaunch, FailingChildHookStopsTheProgram) {
  char dir[] = "/tmp/fnguard-hook-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string marker = std::string(dir) + "/ran";
  auto channel = Channel::create({}, true);
  ASSERT_TRUE(channel.ok());
  Collected out;
  auto sup = Supervisor::create(out.sink.get());
  LaunchOptions o = options_for({"/usr/bin/touch", marker});
  o.child_pre_exec = &refuse_hook;
  Launched child = launch(**channel, o);
  EXPECT_EQ(child.pid, -1);
  EXPECT_EQ(child.failure_status, kExitLaunchFailed);
  struct stat st;
  EXPECT_NE(stat(marker.c_str(), &st), 0) << "the program ran although the hook failed";
  rmdir(dir);
}

TEST(SupervisorLaunch, SignalDeathIs128PlusN) {
  auto channel = Channel::create({}, true);
  ASSERT_TRUE(channel.ok());
  Collected out;
  auto sup = Supervisor::create(out.sink.get());
  LaunchOptions o = options_for({"/bin/sh", "-c", "kill -KILL $$"});
  o.preload = false;
  Launched child = launch(**channel, o);
  ASSERT_GT(child.pid, 0);
  ChildExit exit = (*sup)->run(child.pid);
  EXPECT_EQ(exit.exit_status, 128 + 9);
  EXPECT_EQ(exit.signal, 9);
}

TEST(SupervisorLaunch, AddedDescriptorsAreServedByTheLoop) {
  // The extension point the Lambda proxy and the seccomp listener use: the
  // child waits for a line that only the added callback provides.
  auto channel = Channel::create({}, true);
  ASSERT_TRUE(channel.ok());
  Collected out;
  auto sup = Supervisor::create(out.sink.get());
  int trigger[2], child_in[2];
  ASSERT_EQ(pipe(trigger), 0);
  ASSERT_EQ(pipe(child_in), 0);
  int saved = dup(0);
  dup2(child_in[0], 0);
  LaunchOptions o = options_for({"/bin/sh", "-c", "read x; exit $x"});
  o.preload = false;
  Launched child = launch(**channel, o);
  dup2(saved, 0);
  close(saved);
  close(child_in[0]);
  ASSERT_GT(child.pid, 0);
  int calls = 0;
  (*sup)->add_fd(trigger[0], [&] {
    char c;
    ASSERT_EQ(read(trigger[0], &c, 1), 1);
    ++calls;
    ASSERT_EQ(write(child_in[1], "5\n", 2), 2);
    close(child_in[1]);
    (*sup)->remove_fd(trigger[0]);
  });
  ASSERT_EQ(write(trigger[1], "x", 1), 1);
  ChildExit exit = (*sup)->run(child.pid);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(exit.exit_status, 5);
  close(trigger[0]);
  close(trigger[1]);
}

}  // namespace
}  // namespace fnguard::supervisor
