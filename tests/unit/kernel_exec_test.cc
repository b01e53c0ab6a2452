// Exec supervision through seccomp user notification, end to end: a process
// with the backstop installed cannot run a denied program by any route (raw
// syscall, execveat of a descriptor, a memfd, a copy in /tmp), allowed
// programs still run, each violation is an event naming the rule with
// "enforcement":"seccomp", many execs lose no decision and leak no
// descriptor, calls aimed at the supervisor or any of its threads are
// refused while the same calls aimed elsewhere continue, and when the
// supervisor (or only its thread) goes away execs fail instead of running
// or waiting.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fnguard/kernel/backstop.h"
#include "kernel_test_util.h"

namespace fnguard::kernel {
namespace {

using image::Control;
using image::Mode;
using image::Verdict;

struct Events {
  std::mutex mu;
  std::vector<std::string> lines;
  void add(std::string s) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(std::move(s));
  }
  std::string all() {
    std::lock_guard<std::mutex> lock(mu);
    std::string out;
    for (auto& l : lines) out += l + "\n";
    return out;
  }
};

// Exec in block mode: `true` denied by name, exec_from_writable blocks /tmp.
std::vector<uint8_t> exec_image() {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kProcessExec, Mode::kBlock, Verdict::kAllow);
  b.add_rule(Control::kProcessExec, testing::name_rule(Verdict::kDeny, "true", 0));
  b.set_control(Control::kExecFromWritable, Mode::kBlock, Verdict::kDeny);
  return b.finish();
}

// In a grandchild (its execs are decided; the first exec of the launched
// pid is the command's own and is let through): raw execve of `path`,
// returning errno, or 0 when the program ran and exited 0.
int try_exec(const char* path) {
  pid_t pid = fork();
  if (pid == 0) {
    char* const argv[] = {const_cast<char*>(path), nullptr};
    char* const envp[] = {nullptr};
    syscall(SYS_execve, path, argv, envp);
    _exit(100 + errno);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return -1;
  int code = WEXITSTATUS(status);
  return code >= 100 ? code - 100 : code == 0 ? 0 : -code;
}

int try_execveat_fd(int fd) {
  pid_t pid = fork();
  if (pid == 0) {
    char* const argv[] = {const_cast<char*>("x"), nullptr};
    char* const envp[] = {nullptr};
    syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    _exit(100 + errno);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return code >= 100 ? code - 100 : code;
}

int count_fds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (d && readdir(d)) ++n;
  if (d) closedir(d);
  return n;
}

class ExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KernelFeatures f = probe_kernel();
    if (!f.exec_supervision())
      GTEST_SKIP() << "this kernel lacks seccomp user notification with CONTINUE";
    image_ = exec_image();
  }

  std::unique_ptr<Backstop> prepare(Events* events) {
    BackstopOptions o;
    o.enabled = true;
    o.emit = [events](std::string s) { events->add(std::move(s)); };
    auto b = Backstop::prepare(image::View(image_.data(), image_.size()), std::move(o));
    EXPECT_TRUE(b) << (b ? "" : b.error().to_string());
    return b ? std::move(b.value()) : nullptr;
  }

  // Forks the "launched process": installs the backstop, then runs body.
  template <typename Body>
  std::string launch(Backstop* backstop, Body body) {
    int p[2];
    EXPECT_EQ(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      if (Backstop::child_hook(backstop) != 0) _exit(125);
      std::string out = body();
      ssize_t n = write(p[1], out.data(), out.size());
      (void)n;
      _exit(0);
    }
    close(p[1]);
    Status st = backstop->on_started(pid);
    EXPECT_TRUE(st) << (st ? "" : st.error().to_string());
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    return out;
  }

  std::vector<uint8_t> image_;
};

TEST_F(ExecTest, DeniedProgramDoesNotRunByAnyRoute) {
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  ASSERT_TRUE(backstop->status().exec_supervision);
  std::string out = launch(backstop.get(), [] {
    std::string r;
    r += "true=" + std::to_string(try_exec("/usr/bin/true")) + ";";
    r += "env=" + std::to_string(try_exec("/usr/bin/env")) + ";";
    int fd = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
    r += "execveat=" + std::to_string(try_execveat_fd(fd)) + ";";
    close(fd);
    // A copy of an allowed program in /tmp: exec_from_writable.
    char tmp[] = "/tmp/fnguard-exec-XXXXXX";
    int out = mkstemp(tmp);
    int in = open("/usr/bin/env", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) (void)!write(out, buf, static_cast<size_t>(n));
    close(in);
    fchmod(out, 0755);
    close(out);
    r += "tmp=" + std::to_string(try_exec(tmp)) + ";";
    // The same content in a memfd.
    int mfd = memfd_create("payload", MFD_CLOEXEC);
    in = open("/usr/bin/env", O_RDONLY);
    while ((n = read(in, buf, sizeof buf)) > 0) (void)!write(mfd, buf, static_cast<size_t>(n));
    close(in);
    r += "memfd=" + std::to_string(try_execveat_fd(mfd)) + ";";
    close(mfd);
    unlink(tmp);
    r += "missing=" + std::to_string(try_exec("/nonexistent/prog")) + ";";
    return r;
  });
  EXPECT_EQ(out, "true=13;env=0;execveat=13;tmp=13;memfd=13;missing=2;");
  std::string ev = events.all();
  EXPECT_NE(ev.find("\"rule\":\"process.exec.rules[0]\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"target\":\"/usr/bin/true\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"control\":\"process.exec_from_writable\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("/memfd:payload"), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"enforcement\":\"seccomp\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"syscall\":\"execveat\""), std::string::npos) << ev;
  EXPECT_EQ(ev.find("/usr/bin/env\""), std::string::npos) << "allowed exec reported: " << ev;
}

TEST_F(ExecTest, RefusedCallsAreEventsInBlockMode) {
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  ASSERT_TRUE(backstop->status().denylist);
  std::string out = launch(backstop.get(), [] {
    long rc = syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, getppid(), 0, 0);
    std::string r = "ptrace=" + std::to_string(rc < 0 ? errno : 0);
    rc = kill(getppid(), SIGTERM);
    r += ",kill=" + std::to_string(rc < 0 ? errno : 0);
    return r;
  });
  EXPECT_EQ(out, "ptrace=1,kill=1");
  std::string ev = events.all();
  EXPECT_NE(ev.find("\"rule\":\"kernel.denylist.ptrace\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"rule\":\"kernel.denylist.kill\""), std::string::npos) << ev;
}

// A denied exec through a path of several kilobytes is still an event (a
// 4 KB buffer once dropped it, and monitor mode then ran it unreported).
TEST_F(ExecTest, AnExecThroughAVeryLongPathIsStillAnEvent) {
  char tmpl[] = "/tmp/fnguard-long-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::vector<std::string> made;
  while (dir.size() < 3700) {
    dir += "/" + std::string(200, 'd');
    ASSERT_EQ(mkdir(dir.c_str(), 0700), 0) << dir.size();
    made.push_back(dir);
  }
  std::string link = dir + "/true";  // the image denies the name "true"
  ASSERT_EQ(symlink("/usr/bin/env", link.c_str()), 0);
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [&] { return std::to_string(try_exec(link.c_str())); });
  EXPECT_EQ(out, std::to_string(EACCES));
  std::string ev = events.all();
  EXPECT_NE(ev.find("\"target\":\"/usr/bin/env\""), std::string::npos) << ev.substr(0, 300);
  EXPECT_NE(ev.find(std::string(200, 'd') + "/true\""), std::string::npos) << ev.substr(0, 300);
  unlink(link.c_str());
  for (auto it = made.rbegin(); it != made.rend(); ++it) rmdir(it->c_str());
  rmdir(tmpl);
}

// kill(0) from a child in a session of its own (setsid: a group without
// the supervisor, which kill(0) reaches only): "0" or the errno.
std::string kill_zero_in_own_session() {
  return testing::run_in_child([] {
    setsid();
    return std::to_string(kill(0, 0) == 0 ? 0 : errno);
  });
}

// kill, rt_sigqueueinfo, prlimit64 and F_SETOWN take the id of any thread
// and act on its whole process. The filter cannot know the supervisor's
// thread ids, so it hands these calls over and the supervisor refuses the
// ones that name it or one of its threads; the rest continue, without an
// event. (Signal 0 and unchanged limits keep the test harmless.)
TEST_F(ExecTest, CallsAimedAtTheSupervisorOrAnyOfItsThreadsAreRefused) {
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  ASSERT_TRUE(backstop->status().denylist);
  testing::ParkedThread helper;  // a thread of the supervisor (this process)
  const pid_t thread = helper.tid();
  std::string out = launch(backstop.get(), [thread] {
    const pid_t sup = getppid();
    auto res = [](const char* name, long rc) {
      return std::string(name) + "=" + (rc < 0 ? std::to_string(errno) : "ok") + ";";
    };
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_code = SI_QUEUE;
    struct rlimit files;
    getrlimit(RLIMIT_NOFILE, &files);
    int p[2];
    if (pipe(p) != 0) return std::string("pipe");
    std::string r;
    // Refused: the supervisor by its pid, its group, or a thread id.
    r += res("kill_thread", kill(thread, 0));
    r += res("kill_supervisor", kill(sup, 0));
    r += res("kill_group", kill(0, 0));
    r += res("sigqueue_thread", syscall(SYS_rt_sigqueueinfo, thread, 0, &si));
    r += res("prlimit_thread", syscall(SYS_prlimit64, thread, RLIMIT_NOFILE, &files, nullptr));
    r += res("setown_thread", fcntl(p[0], F_SETOWN, thread));
    // A group whose leader is outside this PID namespace reads as 0 and
    // cannot be named (F_SETOWN(0) clears the owner): nothing to refuse.
    if (getpgrp() > 0) {
      r += res("setown_group", fcntl(p[0], F_SETOWN, -getpgrp()));
    } else {
      r += "setown_group=unseen;";
    }
    r += res("tkill_thread", syscall(SYS_tkill, thread, 0));
    r += res("pidfd_thread", syscall(SYS_pidfd_open, thread, O_EXCL /* PIDFD_THREAD */));
    r += "|";
    // Continued: the caller itself, its child, its own new group.
    pid_t child = fork();
    if (child == 0) {
      pause();
      _exit(0);
    }
    r += res("kill_child", kill(child, 0));
    r += res("kill_self", kill(getpid(), 0));
    r += res("sigqueue_self", syscall(SYS_rt_sigqueueinfo, getpid(), 0, &si));
    r += res("prlimit_own_pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, &files, nullptr));
    r += res("prlimit_child", syscall(SYS_prlimit64, child, RLIMIT_NOFILE, &files, nullptr));
    r += res("setown_self", fcntl(p[0], F_SETOWN, getpid()));
    r += res("setown_none", fcntl(p[0], F_SETOWN, 0));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    const std::string own = kill_zero_in_own_session();
    r += "kill_own_new_group=" + (own == "0" ? std::string("ok") : own) + ";";
    // A group of its own in the supervisor's session: kill(0) is refused,
    // because another thread could setpgid() back into the supervisor's
    // group between the check and the kill.
    r += "kill_own_group_same_session=" + testing::run_in_child([] {
           setpgid(0, 0);
           return std::to_string(kill(0, 0) == 0 ? 0 : errno);
         }) +
         ";";
    return r;
  });
  const bool group_seen = getpgrp() > 0;  // the launched process shares it
  EXPECT_EQ(
      out,
      std::string("kill_thread=1;kill_supervisor=1;kill_group=1;sigqueue_thread=1;"
                  "prlimit_thread=1;setown_thread=1;") +
          (group_seen ? "setown_group=1;" : "setown_group=unseen;") +
          "tkill_thread=1;pidfd_thread=1;|"
          "kill_child=ok;kill_self=ok;sigqueue_self=ok;prlimit_own_pid=ok;prlimit_child=ok;"
          "setown_self=ok;setown_none=ok;kill_own_new_group=ok;kill_own_group_same_session=1;");
  std::string ev = events.all();
  for (const char* rule :
       {"kill", "rt_sigqueueinfo", "prlimit64", "fcntl", "tkill", "pidfd_open"}) {
    EXPECT_NE(ev.find(std::string("\"rule\":\"kernel.denylist.") + rule + "\""), std::string::npos)
        << rule << "\n"
        << ev;
  }
  // One event per refused call, none for the calls that continued.
  size_t refused = 0;
  for (size_t at = ev.find("kernel.denylist."); at != std::string::npos;
       at = ev.find("\"rule\":\"kernel.denylist.", at + 1)) {
    ++refused;
  }
  EXPECT_EQ(refused, group_seen ? 10u : 9u) << ev;
}

// Returns what `body` printed, run as pid 1 of a new PID namespace (its
// session, and its group unless `own_group`, have their leader outside it,
// so getsid() and getpgrp() there read 0). CI runs the tests like that: a
// session leader outside the namespace (2026-11-24).
template <typename Body>
std::string in_new_pid_namespace(bool own_group, Body body) {
  return testing::run_in_child([&] {
    if (unshare(CLONE_NEWPID) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) {
      return "unshare=" + std::to_string(errno);
    }
    return testing::run_in_child([&] {  // pid 1 of the new namespace
      if (own_group) setpgid(0, 0);
      return body();
    });
  });
}

// kill(0) from the supervisor's session is refused and from a session of the
// caller's own continues, also when the supervisor's session (and group)
// cannot be seen from its PID namespace. Before, an unseen session refused
// kill(0) even after setsid(), and an unseen group let kill(0) reach the
// supervisor.
TEST_F(ExecTest, KillZeroIsDecidedBySessionWhenTheSupervisorsIsOutsideThePidNamespace) {
  for (bool own_group : {false, true}) {
    std::string out = in_new_pid_namespace(own_group, [this, own_group] {
      std::string r = "ids=" + std::to_string(getsid(0)) + "," + std::to_string(getpgrp()) + ";";
      Events events;
      auto backstop = prepare(&events);
      if (!backstop || !backstop->status().denylist) return r + "no backstop";
      r += launch(backstop.get(), [own_group] {
        std::string c;
        c += "same_session=" + std::to_string(kill(0, 0) == 0 ? 0 : errno) + ";";
        if (own_group) {
          // The group is seen here: naming it is refused as well.
          c += "kill_group=" + std::to_string(kill(-getpgrp(), 0) == 0 ? 0 : errno) + ";";
        }
        return c + "own_session=" + kill_zero_in_own_session() + ";";
      });
      std::string ev = events.all();
      size_t refused = 0;
      for (size_t at = ev.find("\"rule\":\"kernel.denylist.kill\""); at != std::string::npos;
           at = ev.find("\"rule\":\"kernel.denylist.kill\"", at + 1)) {
        ++refused;
      }
      return r + "events=" + std::to_string(refused) + ";";
    });
    if (own_group) {
      EXPECT_EQ(out, "ids=0,1;same_session=1;kill_group=1;own_session=0;events=2;");
    } else {
      EXPECT_EQ(out, "ids=0,0;same_session=1;own_session=0;events=1;");
    }
  }
}

// The exec thread stops serving on its own (here: poll fails because
// RLIMIT_NOFILE fell below its two descriptors, as a prlimit64 on the
// supervisor did before it was refused). It closes the listener on the way
// out, so later execs fail with ENOSYS instead of hanging, and an
// "enforcement" lifecycle event says supervision stopped.
TEST_F(ExecTest, AnExecThreadThatStopsFailsLaterExecsClosedAndSaysSo) {
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  int go[2], p[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(p), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    close(p[0]);
    if (Backstop::child_hook(backstop.get()) != 0) _exit(125);
    char c;
    (void)!read(go[0], &c, 1);
    // The thread wakes for this one (and cannot open our memory: EACCES),
    // then its next poll fails.
    int first = try_exec("/usr/bin/env");
    alarm(10);  // a hang is the bug: die rather than wait
    int second = try_exec("/usr/bin/env");
    std::string out = std::to_string(first) + "," + std::to_string(second);
    (void)!write(p[1], out.data(), out.size());
    _exit(0);
  }
  close(go[0]);
  close(p[1]);
  ASSERT_TRUE(backstop->on_started(pid));
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit one = {1, saved.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &one), 0);
  (void)!write(go[1], "x", 1);
  char buf[64] = {};
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  setrlimit(RLIMIT_NOFILE, &saved);
  close(go[1]);
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_GT(n, 0);
  std::string got(buf);
  EXPECT_EQ(got.substr(got.find(',') + 1), std::to_string(ENOSYS))
      << got << ": an exec waited or ran with nobody to decide it";
  EXPECT_TRUE(backstop->exec_stats().stopped);
  std::string ev = events.all();
  EXPECT_NE(ev.find("\"kind\":\"lifecycle\",\"action\":\"enforcement\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("exec supervision stopped (poll: Invalid argument)"), std::string::npos) << ev;
}

TEST_F(ExecTest, ManyExecsNoLostDecisionNoLeakedDescriptor) {
  Events events;
  int fds_before = count_fds();
  {
    auto backstop = prepare(&events);
    ASSERT_TRUE(backstop);
    std::string out = launch(backstop.get(), [] {
      int ok = 0, denied = 0;
      for (int i = 0; i < 200; ++i) {
        if (try_exec("/usr/bin/env") == 0) ++ok;
        if (try_exec("/usr/bin/true") == EACCES) ++denied;
      }
      return std::to_string(ok) + "/" + std::to_string(denied);
    });
    EXPECT_EQ(out, "200/200");
    ExecSupervisorStats st = backstop->exec_stats();
    EXPECT_EQ(st.blocked, 200u);
    EXPECT_GE(st.allowed, 200u);
  }
  EXPECT_EQ(count_fds(), fds_before);
}

TEST_F(ExecTest, ExecFromAThreadAndThroughAShellChain) {
  // The notification names the calling thread; its memory and cwd are read
  // through /proc/<tid>. A shell chain (sh -> sh -> touch) is decided at
  // every level.
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [] {
    int from_thread = -1;
    std::thread t([&] { from_thread = try_exec("/usr/bin/true"); });
    t.join();
    pid_t pid = fork();
    if (pid == 0) {
      char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                            const_cast<char*>("sh -c '/usr/bin/true'; exit $?"), nullptr};
      char* const envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
      syscall(SYS_execve, "/bin/sh", argv, envp);
      _exit(99);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return "thread=" + std::to_string(from_thread) +
           ",chain=" + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  });
  // The inner shell cannot run `true`: sh reports 126 (found, not executable).
  EXPECT_EQ(out, "thread=13,chain=126");
  EXPECT_NE(events.all().find("\"target\":\"/usr/bin/true\""), std::string::npos);
}

TEST_F(ExecTest, ConcurrentExecsFromManyProcessesAreEachDecided) {
  // Eight processes exec at once; the notifications queue in the kernel and
  // the one supervisor thread answers each of them correctly.
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [] {
    std::vector<pid_t> workers;
    for (int w = 0; w < 8; ++w) {
      pid_t pid = fork();
      if (pid == 0) {
        int wrong = 0;
        for (int i = 0; i < 25; ++i) {
          if (try_exec("/usr/bin/env") != 0) ++wrong;
          if (try_exec("/usr/bin/true") != EACCES) ++wrong;
        }
        _exit(wrong);
      }
      workers.push_back(pid);
    }
    int wrong = 0;
    for (pid_t pid : workers) {
      int status = 0;
      waitpid(pid, &status, 0);
      wrong += WIFEXITED(status) ? WEXITSTATUS(status) : 1000;
    }
    return "wrong=" + std::to_string(wrong);
  });
  EXPECT_EQ(out, "wrong=0");
  EXPECT_EQ(backstop->exec_stats().blocked, 200u);
}

TEST_F(ExecTest, ProcSelfMeansTheCallerNotTheSupervisor) {
  // The supervisor has an allowed program open at descriptor N; the caller
  // has a memfd there. "/proc/self/fd/N" named by the caller must be judged
  // as the caller's memfd, not as the supervisor's file.
  int mine = open("/usr/bin/env", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(mine, 0);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    int mfd = memfd_create("payload", 0);
    dup2(mfd, mine);
    (void)!write(ready[1], "x", 1);
    pause();
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  image::View view(image_.data(), image_.size());
  std::string path = "/proc/self/fd/" + std::to_string(mine);
  ExecVerdict theirs = decide_exec_request(view, image::Phase::kAny, "", path, "", pid);
  ExecVerdict ours = decide_exec_request(view, image::Phase::kAny, "", path, "", 0);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(mine);
  close(ready[0]);
  close(ready[1]);
  EXPECT_FALSE(theirs.allow);
  EXPECT_NE(theirs.target.find("/memfd:payload"), std::string::npos) << theirs.target;
  EXPECT_TRUE(ours.allow) << ours.target;
  EXPECT_EQ(ours.target, "/usr/bin/env");
}

TEST_F(ExecTest, FirstExecOfTheCommandItselfIsAllowed) {
  // The launched process's first exec is the command the user asked for,
  // even when the policy would deny it; its own later execs are decided.
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [] {
    pid_t pid = getpid();
    (void)pid;
    char* const argv[] = {const_cast<char*>("true"), nullptr};
    char* const envp[] = {nullptr};
    // A failing first exec (ENOENT) still counts as the first.
    syscall(SYS_execve, "/nonexistent-first", argv, envp);
    int first = errno;
    syscall(SYS_execve, "/usr/bin/true", argv, envp);  // second exec: decided, denied
    return std::to_string(first) + "," + std::to_string(errno);
  });
  EXPECT_EQ(out, "2,13");
}

TEST_F(ExecTest, ExecsFailWhenTheSupervisorIsGone) {
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    close(p[0]);
    if (Backstop::child_hook(backstop.get()) != 0) _exit(125);
    char c;
    (void)!read(go[0], &c, 1);  // wait until the supervisor is destroyed
    int rc = try_exec("/usr/bin/env");
    std::string out = std::to_string(rc);
    (void)!write(p[1], out.data(), out.size());
    _exit(0);
  }
  close(go[0]);
  close(p[1]);
  ASSERT_TRUE(backstop->on_started(pid));
  backstop.reset();  // the supervisor thread stops and the listener closes
  (void)!write(go[1], "x", 1);
  close(go[1]);
  char buf[32] = {};
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  close(p[0]);
  waitpid(pid, nullptr, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf), std::to_string(ENOSYS)) << "an exec ran with nobody to decide it";
}

// The launcher's steps (Backstop::on_started): the launched process's first
// exec is answered on the calling thread by serve_first(), before any
// supervisor thread exists; a supervisor destroyed before its thread
// started still fails the next exec closed.
TEST_F(ExecTest, FirstExecIsAnsweredWithoutAThreadAndLaterExecsFailClosed) {
  FilterSpec spec;
  spec.supervise_exec = true;
  spec.supervisor_pid = getpid();
  spec.supervisor_pgid = getpgrp();
  auto program = build_filter(spec);
  ASSERT_TRUE(program) << program.error().to_string();
  int sv[2], go[2], out[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    close(go[1]);
    close(out[0]);
    int listener = install_filter(*program, true);
    if (listener < 0) _exit(3);
    char byte = 0;
    struct iovec iov = {&byte, 1};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &listener, sizeof(int));
    if (sendmsg(sv[1], &msg, 0) != 1) _exit(4);
    close(listener);
    char* const argv[] = {const_cast<char*>("x"), nullptr};
    char* const envp[] = {nullptr};
    // The first exec: allowed (CONTINUE), then the kernel finds no file.
    long rc = syscall(SYS_execve, "/nonexistent/fnguard-first", argv, envp);
    std::string r = "first=" + std::to_string(rc < 0 ? errno : 0);
    // Wait until the parent has destroyed its supervisor.
    (void)!read(go[0], &byte, 1);
    rc = syscall(SYS_execve, "/usr/bin/true", argv, envp);
    r += ";second=" + std::to_string(rc < 0 ? errno : 0);
    (void)!write(out[1], r.data(), r.size());
    _exit(0);
  }
  close(sv[1]);
  close(go[0]);
  close(out[1]);
  char byte;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ASSERT_EQ(recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC), 1);
  int listener;
  memcpy(&listener, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
  close(sv[0]);
  {
    ExecSupervisorOptions o;
    o.emit = [](std::string) {};
    auto sup = ExecSupervisor::create(image::View(image_.data(), image_.size()), std::move(o));
    ASSERT_TRUE(sup);
    sup.value()->attach(listener, pid);
    EXPECT_TRUE(sup.value()->serve_first(10000));
    EXPECT_EQ(sup.value()->stats().allowed, 1u);
  }  // destroyed without a thread: the listener closes
  (void)!write(go[1], "x", 1);
  close(go[1]);
  char buf[64] = {};
  ssize_t n = read(out[0], buf, sizeof buf - 1);
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_GT(n, 0) << "child status " << status;
  EXPECT_EQ(std::string(buf),
            "first=" + std::to_string(ENOENT) + ";second=" + std::to_string(ENOSYS));
}

// A vfork-style launch (as supervisor::launch does): the launching thread
// waits until the child's exec, so only the thread start_before_launch()
// started can answer it. The command runs; its own later execs are decided
// by that thread (the denied `true` is refused with an event, `env` runs).
std::string read_all(const char* path) {
  std::string out;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  char buf[256];
  ssize_t n;
  while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (fd >= 0) close(fd);
  return out;
}

struct VforkChild {
  Backstop* backstop;
  const char* out_path;
};

int vfork_child(void* arg) {
  auto* c = static_cast<VforkChild*>(arg);
  if (Backstop::child_hook(c->backstop) != 0) _exit(125);
  std::string script = std::string("/usr/bin/true; echo $? > ") + c->out_path +
                       "; /usr/bin/env > /dev/null; echo $? >> " + c->out_path;
  char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), script.data(), nullptr};
  char* const envp[] = {nullptr};
  execve("/bin/sh", argv, envp);
  _exit(127);
}

pid_t clone_vfork(int (*fn)(void*), void* arg, std::vector<char>& stack) {
  stack.resize(256 * 1024);
  return clone(fn, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
}

TEST_F(ExecTest, AVforkLaunchIsAnsweredByTheThreadStartedBeforeIt) {
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  ASSERT_TRUE(backstop->start_before_launch());
  char path[] = "/tmp/fnguard-vfork-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  VforkChild child{backstop.get(), path};
  std::vector<char> stack;
  pid_t pid = clone_vfork(&vfork_child, &child, stack);  // returns once the exec happened
  ASSERT_GT(pid, 0);
  Status st = backstop->on_started(pid);
  EXPECT_TRUE(st) << (st ? "" : st.error().to_string());
  EXPECT_TRUE(backstop->status().exec_supervision);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::string out = read_all(path);
  unlink(path);
  EXPECT_EQ(out, "126\n0\n") << "sh: the denied true, then the allowed env";
  EXPECT_NE(events.all().find("\"enforcement\":\"seccomp\""), std::string::npos) << events.all();
}

int exit_before_reporting(void*) { _exit(7); }

TEST_F(ExecTest, AChildThatDiesBeforeReportingFailsTheStartWithoutAHang) {
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  ASSERT_TRUE(backstop->start_before_launch());
  std::vector<char> stack;
  pid_t pid = clone_vfork(&exit_before_reporting, nullptr, stack);
  ASSERT_GT(pid, 0);
  Status st = backstop->on_started(pid);  // end of file on the report: no wait
  EXPECT_FALSE(st);
  EXPECT_FALSE(backstop->status().exec_supervision);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

// A name rule holds for every name on the way: "other -> true ->
// /usr/bin/env" runs what the policy calls "true" (Debian's nc is such a
// chain: nc -> /etc/alternatives/nc -> nc.openbsd).
TEST(ExecDecision, ANameRuleHoldsForEveryLinkOnTheWay) {
  std::vector<uint8_t> bytes = exec_image();  // denies the name "true"
  image::View view(bytes.data(), bytes.size());
  char tmpl[] = "/tmp/fnguard-links-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_EQ(symlink("/usr/bin/env", (dir + "/true").c_str()), 0);
  ASSERT_EQ(symlink((dir + "/true").c_str(), (dir + "/other").c_str()), 0);
  ASSERT_EQ(symlink("true", (dir + "/relative").c_str()), 0);
  for (const char* name : {"/other", "/relative", "/true"}) {
    ExecVerdict v = decide_exec_request(view, image::Phase::kAny, "", dir + name, "", 0);
    EXPECT_FALSE(v.allow) << name;
    EXPECT_EQ(v.target, "/usr/bin/env") << name;
  }
  // The program under its own name is not "true".
  EXPECT_TRUE(decide_exec_request(view, image::Phase::kAny, "", "/usr/bin/env", "", 0).allow);
  for (const char* name : {"/other", "/relative", "/true"}) unlink((dir + name).c_str());
  rmdir(dir.c_str());
}

// A thread made with clone(CLONE_THREAD) but without CLONE_FILES has a
// descriptor table of its own. The kernel reads "/proc/self" as the thread
// group, so "/proc/self/fd/N" in that thread is the group leader's
// descriptor N, not the thread's: deciding on the thread's (an allowed
// program) while the kernel runs the leader's let a denied one run.
int idle_thread(void*) {
  for (;;) syscall(SYS_pause);
  return 0;
}

TEST_F(ExecTest, ProcSelfInAThreadWithItsOwnDescriptorTableIsTheThreadGroup) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const int n = 57;
  pid_t leader = fork();
  if (leader == 0) {
    int env = open("/usr/bin/env", O_RDONLY);
    dup2(env, n);
    static char stack[64 * 1024];
    // The thread's table is a copy taken now: /usr/bin/env at n.
    pid_t tid =
        clone(idle_thread, stack + sizeof stack, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, nullptr);
    // The leader's own table then gets a memfd at n.
    int mfd = memfd_create("payload", 0);
    dup2(mfd, n);
    (void)!write(ready[1], &tid, sizeof tid);
    for (;;) pause();
  }
  pid_t tid = 0;
  ASSERT_EQ(read(ready[0], &tid, sizeof tid), static_cast<ssize_t>(sizeof tid));
  ASSERT_GT(tid, 0);
  image::View view(image_.data(), image_.size());
  std::string fd = std::to_string(n);
  ExecVerdict self =
      decide_exec_request(view, image::Phase::kAny, "", "/proc/self/fd/" + fd, "", tid);
  ExecVerdict dev = decide_exec_request(view, image::Phase::kAny, "", "/dev/fd/" + fd, "", tid);
  ExecVerdict thread =
      decide_exec_request(view, image::Phase::kAny, "", "/proc/thread-self/fd/" + fd, "", tid);
  kill(leader, SIGKILL);
  waitpid(leader, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  EXPECT_FALSE(self.allow) << self.target;
  EXPECT_NE(self.target.find("/memfd:payload"), std::string::npos) << self.target;
  EXPECT_FALSE(dev.allow) << dev.target;
  EXPECT_TRUE(thread.allow) << thread.target;
  EXPECT_EQ(thread.target, "/usr/bin/env");
}

// A sha256 rule reached for a file that cannot be hashed fails closed, and
// quickly: /dev/zero would never end, a FIFO would block the open, and an
// unreadable (mode 0111) copy of a denied binary must not pass as unknown.
TEST(ExecDecision, AFileThatCannotBeHashedMatchesDenyRulesAndNoAllowRule) {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kProcessExec, Mode::kBlock, Verdict::kAllow);
  image::RuleSpec deny;
  deny.verdict = Verdict::kDeny;
  deny.kind = image::MatchKind::kExecSha256;
  deny.sha256.fill(0xab);
  deny.source_index = 0;
  b.add_rule(Control::kProcessExec, deny);
  std::vector<uint8_t> bytes = b.finish();
  image::View view(bytes.data(), bytes.size());
  char tmpl[] = "/tmp/fnguard-hash-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string fifo = std::string(tmpl) + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0700), 0);
  for (const std::string& path : {std::string("/dev/zero"), fifo}) {
    ExecVerdict v = decide_exec_request(view, image::Phase::kAny, "", path, "", 0);
    EXPECT_FALSE(v.allow) << path;
  }
  // A readable regular file whose digest differs is allowed.
  EXPECT_TRUE(decide_exec_request(view, image::Phase::kAny, "", "/usr/bin/env", "", 0).allow);
  // With an allow rule instead (default deny), an unhashable file is not allowed by it.
  auto a = testing::base_builder(Mode::kBlock);
  a.set_control(Control::kProcessExec, Mode::kBlock, Verdict::kDeny);
  image::RuleSpec allow = deny;
  allow.verdict = Verdict::kAllow;
  a.add_rule(Control::kProcessExec, allow);
  std::vector<uint8_t> abytes = a.finish();
  image::View aview(abytes.data(), abytes.size());
  EXPECT_FALSE(decide_exec_request(aview, image::Phase::kAny, "", "/dev/zero", "", 0).allow);
  unlink(fifo.c_str());
  rmdir(tmpl);
}

// The dynamic loader run as a program (`ld.so PROG`) maps PROG and runs it
// without an exec: the supervisor reads the argument vector from the
// stopped process's memory and decides PROG too.
const char* kLoader = "/lib64/ld-linux-x86-64.so.2";

int try_exec_argv(std::vector<const char*> args, std::vector<const char*> env = {}) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    args.push_back(nullptr);
    env.push_back(nullptr);
    syscall(SYS_execve, args[0], const_cast<char* const*>(args.data()),
            const_cast<char* const*>(env.data()));
    _exit(100 + errno);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return -1;
  int code = WEXITSTATUS(status);
  return code >= 100 ? code - 100 : code == 0 ? 0 : -code;
}

// LD_PRELOAD, LD_AUDIT and the loader's --preload/--audit load a library
// into an allowed program: one written to /tmp would run a dropped payload
// without exec'ing it. exec_from_writable decides each (bare names along
// LD_LIBRARY_PATH or --library-path); the file's content does not matter,
// the loader is never reached.
TEST_F(ExecTest, LibrariesTheLoaderIsToldToLoadFromAWritablePlaceAreRefused) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [] {
    char dir[] = "/tmp/fnguard-libs-XXXXXX";
    if (mkdtemp(dir) == nullptr) return std::string("mkdtemp");
    const std::string lib = std::string(dir) + "/x.so";
    close(open(lib.c_str(), O_WRONLY | O_CREAT, 0644));
    const std::string preload = "LD_PRELOAD=" + lib, audit = "LD_AUDIT=" + lib;
    const std::string list = "LD_PRELOAD=/usr/bin/true " + lib;
    const std::string path = std::string("LD_LIBRARY_PATH=/nonexistent:") + dir;
    std::string r;
    auto run = [&r](const char* tag, std::vector<const char*> args, std::vector<const char*> env) {
      r += std::string(tag) + "=" + std::to_string(try_exec_argv(std::move(args), std::move(env))) +
           ";";
    };
    run("preload", {"/usr/bin/env"}, {preload.c_str()});
    run("list", {"/usr/bin/env"}, {list.c_str()});
    run("audit", {"/usr/bin/env"}, {audit.c_str()});
    run("bare", {"/usr/bin/env"}, {path.c_str(), "LD_PRELOAD=x.so"});
    run("bare_elsewhere", {"/usr/bin/env"}, {"LD_PRELOAD=x.so"});
    run("system", {"/usr/bin/env"}, {"LD_PRELOAD=/usr/bin/true"});
    run("option", {kLoader, "--preload", lib.c_str(), "/usr/bin/env"}, {});
    run("option_audit", {kLoader, "--audit", lib.c_str(), "/usr/bin/env"}, {});
    run("option_path", {kLoader, "--library-path", dir, "--preload", "x.so", "/usr/bin/env"}, {});
    // The supervisor reads entries' first bytes a page at a time: an entry
    // that starts 5 bytes before the end of a page, behind 300 others.
    char* pages = static_cast<char*>(
        mmap(nullptr, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    char* straddling = pages + 4096 - 5;
    memcpy(straddling, preload.c_str(), preload.size() + 1);
    std::vector<std::string> filler;
    for (int i = 0; i < 300; ++i) filler.push_back("FILLER_" + std::to_string(i) + "=x");
    std::vector<const char*> env;
    for (const std::string& f : filler) env.push_back(f.c_str());
    env.push_back(straddling);
    run("straddling", {"/usr/bin/env"}, env);
    munmap(pages, 2 * 4096);
    unlink(lib.c_str());
    rmdir(dir);
    return r;
  });
  EXPECT_EQ(out,
            "preload=13;list=13;audit=13;bare=13;bare_elsewhere=0;system=0;option=13;"
            "option_audit=13;option_path=13;straddling=13;");
  std::string ev = events.all();
  for (const char* reason :
       {"a library LD_PRELOAD loads into the program lies in a writable location",
        "an audit library LD_AUDIT loads into the program lies in a writable location",
        "a library the loader's --preload loads lies in a writable location",
        "an audit library the loader's --audit loads lies in a writable location"}) {
    EXPECT_NE(ev.find(reason), std::string::npos) << reason << "\n" << ev;
  }
  EXPECT_NE(ev.find("\"rule\":\"process.exec_from_writable.default\""), std::string::npos) << ev;
}

// LD_LIBRARY_PATH, the loader's --library-path and GCONV_PATH naming a
// directory in /tmp let a dropped library stand in for one the program
// loads: exec supervision decides the directories (the empty entry is the
// cwd), for raw execve as the preload does for libc's. A search path too
// long to read is unverifiable; system directories are not in the way.
TEST_F(ExecTest, LibrarySearchPathsIntoAWritablePlaceAreRefused) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [] {
    char dir[] = "/tmp/fnguard-libdir-XXXXXX";
    if (mkdtemp(dir) == nullptr) return std::string("mkdtemp");
    const std::string path = std::string("LD_LIBRARY_PATH=/usr/lib:") + dir;
    const std::string gconv = std::string("GCONV_PATH=") + dir;
    std::string longer = "LD_LIBRARY_PATH=";
    while (longer.size() < 5000) longer += "/usr/lib:";
    std::string r;
    auto run = [&r](const char* tag, std::vector<const char*> args, std::vector<const char*> env) {
      r += std::string(tag) + "=" + std::to_string(try_exec_argv(std::move(args), std::move(env))) +
           ";";
    };
    run("env", {"/usr/bin/env"}, {path.c_str()});
    run("gconv", {"/usr/bin/env"}, {gconv.c_str()});
    run("option", {kLoader, "--library-path", dir, "/usr/bin/env"}, {});
    run("system", {"/usr/bin/env"}, {"LD_LIBRARY_PATH=/usr/lib:/lib64", "GCONV_PATH=/usr/lib"});
    run("long", {"/usr/bin/env"}, {longer.c_str()});
    // A link from outside the writable locations into one.
    char links[] = "/run/fnguard-libdir-XXXXXX";
    if (mkdtemp(links) == nullptr) return std::string("mkdtemp /run");
    const std::string link = std::string(links) + "/lnk";
    if (symlink(dir, link.c_str()) != 0) return std::string("symlink");
    const std::string via_link = "LD_LIBRARY_PATH=/lib64:" + link + "/sub";
    run("link", {"/usr/bin/env"}, {via_link.c_str()});
    const std::string not_yet = std::string("LD_LIBRARY_PATH=") + dir + "/not/yet";
    run("missing", {"/usr/bin/env"}, {not_yet.c_str()});
    unlink(link.c_str());
    rmdir(links);
    if (chdir(dir) != 0) return std::string("chdir");
    run("cwd", {"/usr/bin/env"}, {"LD_LIBRARY_PATH=/usr/lib:"});
    run("cwd_empty_var", {"/usr/bin/env"}, {"LD_LIBRARY_PATH="});
    if (chdir("/") != 0) return std::string("chdir /");
    rmdir(dir);
    return r;
  });
  EXPECT_EQ(
      out, "env=13;gconv=13;option=13;system=0;long=13;link=13;missing=13;cwd=13;cwd_empty_var=0;");
  std::string ev = events.all();
  for (const char* reason :
       {"LD_LIBRARY_PATH has the loader look for the program's libraries in a writable location",
        "GCONV_PATH has iconv load its modules from a writable location",
        "the loader's --library-path has it look for the program's libraries in a writable "
        "location",
        "a library search path in the exec's environment is too long to read"}) {
    EXPECT_NE(ev.find(reason), std::string::npos) << reason << "\n" << ev;
  }
  EXPECT_NE(ev.find("/sub\",\"detail\""), std::string::npos) << ev;  // the link's target
}

// ".." after a symbolic link climbs from where the link leads, not from
// the link's own directory: /tmp/D/lnk/../../../usr/bin/env with lnk ->
// /tmp/D/x/y/z is /tmp/D/usr/bin/env, a program dropped in /tmp, although
// the path read as text names /usr/bin/env. The supervisor decides the file
// the kernel (or the loader) reaches: as the exec's own path, and as the
// program the dynamic loader is told to run.
TEST_F(ExecTest, DotDotAfterALinkIsDecidedWhereTheKernelGoes) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  char dir[] = "/tmp/fnguard-dotdot-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string d(dir);
  ASSERT_EQ(std::system(("mkdir -p " + d + "/x/y/z " + d + "/usr/bin && cp /usr/bin/env " + d +
                         "/usr/bin/env")
                            .c_str()),
            0);
  ASSERT_EQ(symlink((d + "/x/y/z").c_str(), (d + "/lnk").c_str()), 0);
  const std::string path = d + "/lnk/../../../usr/bin/env";
  std::string out = launch(backstop.get(), [&path] {
    return "run=" + std::to_string(try_exec_argv({path.c_str()})) +
           ";loader=" + std::to_string(try_exec_argv({kLoader, path.c_str()})) + ";";
  });
  EXPECT_EQ(out, "run=13;loader=13;");
  std::string ev = events.all();
  const std::string target = "\"target\":\"" + d + "/usr/bin/env\"";
  size_t first = ev.find(target);
  ASSERT_NE(first, std::string::npos) << ev;
  EXPECT_NE(ev.find(target, first + 1), std::string::npos) << "the loader's program\n" << ev;
  EXPECT_NE(ev.find("the program run by the dynamic loader lies in a writable location"),
            std::string::npos)
      << ev;
  ASSERT_EQ(std::system(("rm -rf " + d).c_str()), 0);
}

TEST_F(ExecTest, DynamicLoaderCannotRunADeniedProgram) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [] {
    char tmp[] = "/tmp/fnguard-ldso-XXXXXX";
    int fd = mkstemp(tmp);
    int in = open("/usr/bin/env", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) (void)!write(fd, buf, static_cast<size_t>(n));
    close(in);
    fchmod(fd, 0755);
    close(fd);
    std::string r;
    r += "plain=" + std::to_string(try_exec_argv({kLoader, "/usr/bin/true"})) + ";";
    r += "options=" +
         std::to_string(try_exec_argv({kLoader, "--argv0", "x", "--inhibit-cache", "--library-path",
                                       "/", "/usr/bin/true"})) +
         ";";
    r += "allowed=" + std::to_string(try_exec_argv({kLoader, "/usr/bin/env"})) + ";";
    r += "list=" + std::to_string(try_exec_argv({kLoader, "--list", "/usr/bin/true"})) + ";";
    r += "unknown=" + std::to_string(try_exec_argv({kLoader, "--bogus", "/usr/bin/env"})) + ";";
    r += "tmp=" + std::to_string(try_exec_argv({kLoader, tmp})) + ";";
    unlink(tmp);
    return r;
  });
  EXPECT_EQ(out, "plain=13;options=13;allowed=0;list=0;unknown=13;tmp=13;");
  std::string ev = events.all();
  EXPECT_NE(ev.find("\"target\":\"/usr/bin/true\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"loader\":\"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\""),
            std::string::npos)
      << ev;
  EXPECT_NE(ev.find("run through the dynamic loader"), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"rule\":\"process.exec.unverifiable\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("the program run by the dynamic loader lies in a writable location"),
            std::string::npos)
      << ev;
}

// A copy of /usr/bin/env in /tmp (a writable location), for the loader to run.
std::string copy_to_tmp() {
  char tmp[] = "/tmp/fnguard-ldso-XXXXXX";
  int fd = mkstemp(tmp);
  int in = open("/usr/bin/env", O_RDONLY);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) (void)!write(fd, buf, static_cast<size_t>(n));
  close(in);
  fchmod(fd, 0755);
  close(fd);
  return tmp;
}

// glibc's ldd runs `LD_TRACE_LOADED_OBJECTS=1 ld.so FILE`: in trace mode
// (the variable with any value, glibc 2.36) the loader lists FILE's
// libraries and runs nothing. The supervisor reads the exec's environment
// (here after many other entries) and allows it, whatever FILE is; without
// the variable (or with an entry lacking '=', which rtld ignores, or with
// LD_TRACE_PRELINKING, ignored since 2.36) FILE is decided as before.
TEST_F(ExecTest, DynamicLoaderInTraceModeRunsNothingAndIsAllowed) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [] {
    std::string tmp = copy_to_tmp();
    std::vector<std::string> storage;
    for (int i = 0; i < 700; ++i) storage.push_back("V" + std::to_string(i) + "=x");
    std::vector<const char*> many;
    for (const std::string& e : storage) many.push_back(e.c_str());
    many.push_back("LD_TRACE_LOADED_OBJECTS=1");
    std::string r;
    r += "trace=" +
         std::to_string(try_exec_argv({kLoader, "/usr/bin/true"}, {"LD_TRACE_LOADED_OBJECTS=1"})) +
         ";";
    r += "empty=" +
         std::to_string(try_exec_argv({kLoader, tmp.c_str()}, {"LD_TRACE_LOADED_OBJECTS="})) + ";";
    r += "many=" + std::to_string(try_exec_argv({kLoader, "/usr/bin/true"}, many)) + ";";
    r += "noeq=" +
         std::to_string(try_exec_argv({kLoader, "/usr/bin/true"}, {"LD_TRACE_LOADED_OBJECTS"})) +
         ";";
    r += "prelink=" +
         std::to_string(try_exec_argv({kLoader, "/usr/bin/true"}, {"LD_TRACE_PRELINKING=1"})) + ";";
    r += "plain=" + std::to_string(try_exec_argv({kLoader, tmp.c_str()})) + ";";
    unlink(tmp.c_str());
    return r;
  });
  EXPECT_EQ(out, "trace=0;empty=0;many=0;noeq=13;prelink=13;plain=13;") << events.all();
}

// Only the arguments up to the loader's program decide what it runs: long
// ones after it (a 5 KB `python3 -c` script, JSON) are not read in full and
// do not matter. One before the program (an option's value) that cannot be
// read in full still fails closed.
TEST_F(ExecTest, LongArgumentsAfterTheLoadersProgramDoNotMatter) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Events events;
  auto backstop = prepare(&events);
  ASSERT_TRUE(backstop);
  std::string out = launch(backstop.get(), [] {
    std::string big(5000, 'x');
    std::vector<const char*> many = {kLoader, "/usr/bin/echo"};
    for (int i = 0; i < 70; ++i) many.push_back(big.c_str());
    std::string r;
    r += "after=" + std::to_string(try_exec_argv({kLoader, "/usr/bin/echo", big.c_str()})) + ";";
    r += "many=" + std::to_string(try_exec_argv(many)) + ";";
    r += "denied=" + std::to_string(try_exec_argv({kLoader, "/usr/bin/true", big.c_str()})) + ";";
    r += "before=" +
         std::to_string(try_exec_argv({kLoader, "--argv0", big.c_str(), "/usr/bin/echo"})) + ";";
    return r;
  });
  EXPECT_EQ(out, "after=0;many=0;denied=13;before=13;") << events.all();
  EXPECT_NE(events.all().find("\"rule\":\"process.exec.unverifiable\""), std::string::npos)
      << events.all();
}

// process.exec only: `true` denied by name, exec_from_writable off, so that
// scripts in /tmp are decided on their interpreters.
std::vector<uint8_t> exec_only_image() {
  auto b = testing::base_builder(Mode::kBlock);
  b.set_control(Control::kProcessExec, Mode::kBlock, Verdict::kAllow);
  b.add_rule(Control::kProcessExec, testing::name_rule(Verdict::kDeny, "true", 0));
  return b.finish();
}

struct ScriptDir {
  ScriptDir() {
    char tmpl[] = "/tmp/fnguard-scripts-XXXXXX";
    path = mkdtemp(tmpl) != nullptr ? tmpl : "/tmp";
  }
  ~ScriptDir() { (void)!std::system(("rm -rf '" + path + "'").c_str()); }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0755) const {
    std::string file = path + "/" + name;
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    (void)!::write(fd, text.data(), text.size());
    close(fd);
    chmod(file.c_str(), mode);
    return file;
  }
  std::string path;
};

// A process whose cwd is `dir`, for decisions made "as it sees them".
struct ProcessIn {
  explicit ProcessIn(const char* dir) {
    pid = fork();
    if (pid == 0) {
      if (chdir(dir) != 0) _exit(1);
      pause();
      _exit(0);
    }
    for (int i = 0; i < 1000 && read_link_cwd() != dir; ++i) usleep(1000);
  }
  ~ProcessIn() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  std::string read_link_cwd() const {
    char buf[4096];
    ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/cwd").c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  pid_t pid;
};

// The kernel follows "#!" scripts four levels deep and opens a relative
// interpreter against the cwd: the supervisor decides every interpreter.
TEST(ExecDecision, EveryInterpreterOfAScriptChainIsDecided) {
  std::vector<uint8_t> bytes = exec_only_image();
  image::View view(bytes.data(), bytes.size());
  ScriptDir d;
  std::string direct = d.write("direct", "#!/usr/bin/true\n");
  std::string inner = d.write("inner", "#!/usr/bin/true -x\n");
  std::string outer = d.write("outer", "#!" + inner + "\n");
  std::string relative = d.write("relative", "#!true\n");
  std::string allowed = d.write("allowed", "#!/bin/sh\n");
  ProcessIn in_usr_bin("/usr/bin");
  for (const std::string& script : {direct, outer, relative}) {
    ExecVerdict v = decide_exec_request(view, image::Phase::kAny, "", script, "", in_usr_bin.pid);
    EXPECT_FALSE(v.allow) << script;
    EXPECT_EQ(v.target, "/usr/bin/true") << script;
    EXPECT_EQ(v.rule, "process.exec.rules[0]") << script;
    EXPECT_NE(v.reason.find("interpreter"), std::string::npos) << script << ": " << v.reason;
  }
  EXPECT_EQ(decide_exec_request(view, image::Phase::kAny, "", outer, "", 0).reason,
            "the interpreter of a nested script is denied");
  // In another cwd the relative interpreter is another file (none here).
  ProcessIn in_root("/");
  EXPECT_TRUE(decide_exec_request(view, image::Phase::kAny, "", relative, "", in_root.pid).allow);
  EXPECT_TRUE(decide_exec_request(view, image::Phase::kAny, "", allowed, "", 0).allow);
}

// The argument vector decides which program the loader runs; one that
// cannot be read, or an unknown option, fails closed.
TEST(ExecDecision, TheLoadersProgramIsDecidedFromItsArguments) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  std::vector<uint8_t> bytes = exec_only_image();
  image::View view(bytes.data(), bytes.size());
  auto decide = [&](std::vector<std::string> args, bool complete = true, int error = 0) {
    ArgvReader reader = [&](std::vector<std::string>* out, bool* c) {
      *out = args;
      *c = complete;
      return error;
    };
    return decide_exec_request(view, image::Phase::kAny, "", kLoader, "", 0, reader);
  };
  ExecVerdict v = decide({"ld.so", "--preload", "", "/usr/bin/true"});
  EXPECT_FALSE(v.allow);
  EXPECT_EQ(v.target, "/usr/bin/true");
  EXPECT_EQ(v.loader, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  EXPECT_TRUE(decide({"ld.so", "/usr/bin/env"}).allow);
  EXPECT_TRUE(decide({"ld.so", "--verify", "/usr/bin/true"}).allow);
  EXPECT_TRUE(decide({"ld.so"}).allow);
  EXPECT_EQ(decide({"ld.so", "--new-option", "/usr/bin/env"}).rule, "process.exec.unverifiable");
  EXPECT_FALSE(decide({"ld.so", "--inhibit-cache"}, false).allow);  // cut short
  // Cut short after the program (a long argument follows it): decided on it.
  EXPECT_TRUE(decide({"ld.so", "/usr/bin/env"}, false).allow);
  EXPECT_EQ(decide({"ld.so", "/usr/bin/true"}, false).rule, "process.exec.rules[0]");
  EXPECT_FALSE(decide({}, true, EFAULT).allow);                     // unreadable
  EXPECT_FALSE(decide_exec_request(view, image::Phase::kAny, "", kLoader, "", 0, nullptr).allow);
  // Through a "#!" line: the kernel puts the line before the caller's argv.
  ScriptDir d;
  std::string script = d.write("s", std::string("#!") + kLoader + " --argv0\n");
  ArgvReader argv = [](std::vector<std::string>* out, bool* c) {
    *out = {"s", "/usr/bin/true"};
    *c = true;
    return 0;
  };
  v = decide_exec_request(view, image::Phase::kAny, "", script, "", 0, argv);
  EXPECT_FALSE(v.allow);
  EXPECT_EQ(v.target, "/usr/bin/true");
}

// ldd's trace mode: with LD_TRACE_LOADED_OBJECTS in the exec's environment
// the glibc loader runs nothing, so neither its program nor its argument
// vector matters. Without the environment reader the entry counts as absent.
TEST(ExecDecision, TheLoaderInTraceModeRunsNothing) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  std::vector<uint8_t> bytes = exec_only_image();
  image::View view(bytes.data(), bytes.size());
  std::vector<std::string> asked;
  EnvReader tracing = [&](const char* prefix) {
    asked.push_back(prefix);
    return true;
  };
  EnvReader plain = [](const char*) { return false; };
  ArgvReader argv = [](std::vector<std::string>* out, bool* c) {
    *out = {"ld.so", "/usr/bin/true"};
    *c = true;
    return 0;
  };
  ArgvReader unreadable = [](std::vector<std::string>*, bool*) { return EFAULT; };
  auto decide = [&](const std::string& path, const ArgvReader& a, const EnvReader& e) {
    return decide_exec_request(view, image::Phase::kAny, "", path, "", 0, a, e);
  };
  EXPECT_TRUE(decide(kLoader, argv, tracing).allow);
  EXPECT_EQ(asked, std::vector<std::string>{"LD_TRACE_LOADED_OBJECTS="});
  EXPECT_TRUE(decide(kLoader, unreadable, tracing).allow);
  EXPECT_FALSE(decide(kLoader, argv, plain).allow);
  EXPECT_FALSE(decide(kLoader, argv, nullptr).allow);
  asked.clear();
  EXPECT_TRUE(decide("/usr/bin/env", argv, tracing).allow);  // no loader: not asked
  EXPECT_TRUE(asked.empty());
}

// A supervisor without root cannot read an execute-only script; one that
// the process owns could name a denied interpreter: unverifiable, refused.
TEST(ExecDecision, AnUnreadableScriptTheProcessOwnsIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to hand the script to another user";
  std::vector<uint8_t> bytes = exec_only_image();
  ScriptDir d;
  chmod(d.path.c_str(), 0755);
  std::string mine = d.write("mine", "#!/usr/bin/true\n", 0111);
  std::string foreign = d.write("foreign", "#!/usr/bin/true\n", 0111);
  ASSERT_EQ(chown(mine.c_str(), 65534, 65534), 0);
  std::string out = testing::run_in_child([&] {
    if (setgid(65534) != 0 || setuid(65534) != 0) return std::string("setuid failed");
    image::View view(bytes.data(), bytes.size());
    ExecVerdict a = decide_exec_request(view, image::Phase::kAny, "", mine, "", 0);
    ExecVerdict b = decide_exec_request(view, image::Phase::kAny, "", foreign, "", 0);
    return a.rule + "," + std::to_string(a.allow) + "," + std::to_string(b.allow);
  });
  EXPECT_EQ(out, "process.exec.unverifiable,0,1");
}

TEST(Backstop, KernelOffDegradesOrRefuses) {
  auto b = testing::base_builder(Mode::kBlock);
  auto bytes = b.finish();
  BackstopOptions o;
  o.enabled = false;
  auto off = Backstop::prepare(image::View(bytes.data(), bytes.size()), o);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off.value()->status().seccomp);
  EXPECT_NE(off.value()->layers_json(true).find("\"seccomp\":\"off\""), std::string::npos);
  EXPECT_NE(off.value()->layers_json(true).find("FNGUARD_KERNEL=off"), std::string::npos);

  b.set_flags(image::kRequireKernel);
  bytes = b.finish();
  auto refused = Backstop::prepare(image::View(bytes.data(), bytes.size()), o);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("require"), std::string::npos);
}

TEST(Backstop, MonitorModePolicyRefusesNothing) {
  // The built-in default monitors everything and blocks nothing: the
  // backstop must not refuse any call then (exec is only supervised).
  auto b = testing::base_builder(Mode::kMonitor);
  b.set_control(Control::kProcessExec, Mode::kMonitor, Verdict::kAllow);
  auto bytes = b.finish();
  BackstopOptions o;
  o.enabled = true;
  auto bs = Backstop::prepare(image::View(bytes.data(), bytes.size()), o);
  ASSERT_TRUE(bs);
  EXPECT_FALSE(bs.value()->status().denylist);
  EXPECT_EQ(bs.value()->status().landlock.find("write"), std::string::npos);
}

}  // namespace
}  // namespace fnguard::kernel
