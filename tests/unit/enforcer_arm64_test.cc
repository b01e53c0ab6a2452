// The arm64 enforcer, run: build-arm64/lib/libfnguard.so (the `arm64`
// preset's cross build, what the arm64 Lambda layer ships) is preloaded into
// arm64 programs that run under qemu-user on this x86_64 host, with the same
// channel `fnguard run` creates (sealed policy image, context page, events
// socket, start gate; see enforcer_harness.h). Each test asserts what a user
// of the arm64 layer cares about: a denied file is not read (EACCES) and the
// event names the rule, an allowed read works, a denied program does not
// start, a denied connection does not arrive, a corrupt policy keeps the
// program from running at all.
//
// How it runs without binfmt_misc: this test forks
//   qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_PRELOAD=<arm64 lib> <arm64 program> ...
// with FNGUARD_ENFORCER in the environment and the channel's descriptors at
// their fixed numbers; qemu passes both to the guest. LD_PRELOAD is given to
// the guest only (-E): in qemu's own environment it would name an arm64
// library to the x86_64 loader.
//
// What this does not cover (stated plainly):
// - qemu 7.2 (Debian 12) does not implement openat2, so the enforcer's open
//   hooks take their fallback path here (open, then decide the file actually
//   opened through /proc/self/fd). On a real Graviton kernel the
//   openat2(RESOLVE_NO_SYMLINKS) fast path runs; it is only exercised on
//   x86_64 (enforcer_files_test).
// - The supervisor here is the native x86_64 one; on Lambda both sides are
//   arm64. The image and context page are fixed-width little-endian structs
//   with the same layout on both LP64 ABIs, which the enforcer accepting the
//   image (hello) and deciding with it shows.
// - Children: an arm64 program exec'ing another arm64 program needs
//   binfmt_misc (not mounted here), so the inherited-protection cases run the
//   new program as `qemu-aarch64 <program>`, which is what binfmt_misc would
//   do. They use execv and posix_spawn: glibc's fork() in an arm64 guest
//   hangs under this qemu 7.2 (the child spins right after clone, with or
//   without the enforcer; _Fork() and posix_spawn work), so fork+exec
//   children are not run here, nor are system() and popen().
// - The kernel backstop (seccomp/Landlock, fnguard/kernel) is not run here.
//
// The test skips, saying why, when the arm64 tree, the cross-compiled
// programs, qemu-aarch64 or the arm64 sysroot are missing.
#include <arpa/inet.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fnguard/policy/policy.h"
#include "tests/unit/enforcer_harness.h"

#ifndef FNGUARD_ARM64_PROGRAMS
#define FNGUARD_ARM64_PROGRAMS ""
#endif
#ifndef FNGUARD_ARM64_TREE
#define FNGUARD_ARM64_TREE ""
#endif

namespace fnguard::testing {
namespace {

constexpr const char* kQemu = "/usr/bin/qemu-aarch64";
constexpr const char* kSysroot = "/usr/aarch64-linux-gnu";
constexpr const char* kBlocked = "\"action\":\"blocked\"";
constexpr const char* kAllowed = "\"action\":\"allowed\"";

std::string arm64_tree() {
  const char* prefix = std::getenv("FNGUARD_ARM64_PREFIX");
  return prefix != nullptr && prefix[0] != '\0' ? prefix : FNGUARD_ARM64_TREE;
}
std::string arm64_library() { return arm64_tree() + "/lib/libfnguard.so"; }
std::string arm64_probe() { return std::string(FNGUARD_ARM64_PROGRAMS) + "/enforcer_probe"; }
std::string arm64_extra_probe() { return std::string(FNGUARD_ARM64_PROGRAMS) + "/extra_probe"; }

// The ELF machine of a file, or 0.
int elf_machine(const std::string& path) {
  unsigned char header[20] = {};
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 0;
  size_t n = std::fread(header, 1, sizeof header, f);
  std::fclose(f);
  if (n != sizeof header || std::memcmp(header, ELFMAG, SELFMAG) != 0) return 0;
  return header[18] | (header[19] << 8);
}

// Why the test cannot run here, or "" when it can.
std::string missing_prerequisite() {
  if (std::string(FNGUARD_ARM64_PROGRAMS).empty())
    return "aarch64-linux-gnu-g++ was not found when this tree was configured "
           "(apt-get install g++-aarch64-linux-gnu, then reconfigure)";
  if (elf_machine(arm64_library()) != EM_AARCH64)
    return "no arm64 enforcer at " + arm64_library() +
           " (cmake --preset arm64 && cmake --build --preset arm64, or set FNGUARD_ARM64_PREFIX)";
  if (access(kQemu, X_OK) != 0) return "qemu-aarch64 is not installed (apt-get install qemu-user)";
  if (access((std::string(kSysroot) + "/lib/ld-linux-aarch64.so.1").c_str(), R_OK) != 0)
    return std::string("no arm64 loader under ") + kSysroot +
           " (apt-get install libc6-arm64-cross)";
  for (const auto& p : {arm64_probe(), arm64_extra_probe()}) {
    if (elf_machine(p) != EM_AARCH64) return "the arm64 test program " + p + " was not built";
  }
  return "";
}

#define SKIP_WITHOUT_ARM64()                                                  \
  do {                                                                        \
    std::string missing = missing_prerequisite();                             \
    if (!missing.empty()) GTEST_SKIP() << "arm64 enforcer test: " << missing; \
  } while (0)

// The guest command line: the arm64 program under qemu with the arm64
// enforcer preloaded in the guest only.
std::vector<std::string> under_qemu(const std::vector<std::string>& guest) {
  std::vector<std::string> argv = {kQemu, "-L", kSysroot, "-E", "LD_PRELOAD=" + arm64_library()};
  argv.insert(argv.end(), guest.begin(), guest.end());
  return argv;
}

struct Arm64Options {
  int hello_timeout_ms = 30000;  // generous: qemu on a loaded machine
  int timeout_ms = 60000;
};

// run_protected() from enforcer_harness.h, with qemu in front: the
// environment carries FNGUARD_ENFORCER but not LD_PRELOAD (see the top), and
// kills reach qemu's children too.
RunResult run_arm64(const std::vector<uint8_t>& image, const std::vector<std::string>& guest,
                    const Arm64Options& options = {}) {
  RunOptions run;
  run.hello_timeout_ms = options.hello_timeout_ms;
  run.timeout_ms = options.timeout_ms;
  run.preload_in_environment = false;
  run.drop_env = {"QEMU_"};
  run.own_process_group = true;
  return run_protected(image, under_qemu(guest), run);
}

// A policy compiled by the real compiler (as `fnguard run` and the Lambda
// wrapper do), so rule names in events are the user's.
std::vector<uint8_t> compile(const std::string& yaml) {
  policy::CompileOptions options;
  options.tmp = "/tmp";
  auto loaded = policy::load_policy_text(yaml, "arm64-test.yaml", options);
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
  return loaded.ok() ? loaded->image : std::vector<uint8_t>{};
}

std::string read_policy(const std::string& mode, const std::string& deny) {
  return "version: 1\nmode: " + mode + "\nfiles:\n  read:\n    rules:\n      - deny: " + deny +
         "\n";
}

TEST(EnforcerArm64, TheLibraryAndProgramsAreArm64) {
  SKIP_WITHOUT_ARM64();
  // Guards against the test passing on a native library by mistake.
  EXPECT_EQ(elf_machine(arm64_library()), EM_AARCH64);
  EXPECT_EQ(elf_machine(arm64_probe()), EM_AARCH64);
  EXPECT_NE(elf_machine(kQemu), EM_AARCH64);
}

TEST(EnforcerArm64, DeniedReadFailsWithEaccesAndTheEventNamesTheRule) {
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  dir.write("notes", "public notes");
  RunResult r = run_arm64(compile(read_policy("block", dir / "secret")),
                          {arm64_probe(), "read", dir / "secret", "read", dir / "notes"});
  ASSERT_TRUE(r.hello) << "the arm64 enforcer did not start\n" << r.dump();
  EXPECT_EQ(r.out, "read err 13\nread ok public notes\n") << r.dump();
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  auto events =
      r.find_events({"\"kind\":\"violation\"", "\"control\":\"files.read\"", kBlocked,
                     "\"mode\":\"block\"", "\"rule\":\"files.read.rules[0]\"",
                     "\"target\":\"" + dir / "secret" + "\"", "\"enforcement\":\"preload\""});
  ASSERT_EQ(events.size(), 1u) << r.dump();
  // The event comes from the arm64 program (qemu reports the guest's executable).
  EXPECT_NE(events[0].find("\"exe\":\"" + arm64_probe() + "\""), std::string::npos) << events[0];
  EXPECT_TRUE(r.find_events({dir / "notes"}).empty()) << r.dump();
}

TEST(EnforcerArm64, MonitorModeLetsTheReadHappenAndReportsIt) {
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  RunResult r = run_arm64(compile(read_policy("monitor", dir / "secret")),
                          {arm64_probe(), "read", dir / "secret"});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.line("read"), "read ok TOPSECRET") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"files.read\"", kAllowed, "\"mode\":\"monitor\"",
                           "\"rule\":\"files.read.rules[0]\""}))
      << r.dump();
}

// arm64's glibc exports the same public aliases as x86_64's (__open,
// __open64, _IO_fopen, _IO_file_fopen, _IO_file_open, __xmknod): each is
// decided like the call it stands for (enforcer_aliases_test.cc has them
// all on x86_64).
TEST(EnforcerArm64, GlibcAliasesOfOpenAreDecided) {
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  mkdir((dir / "locked").c_str(), 0755);
  RunResult r = run_arm64(
      compile("version: 1\nmode: block\nfiles:\n  read:\n    rules:\n      - deny: " +
              dir / "secret" + "\n  write:\n    rules:\n      - deny: " + dir / "locked/**" + "\n"),
      {arm64_probe(), "alias_open", dir / "secret", "alias_open64", dir / "secret", "alias_fopen",
       dir / "secret", "alias_file_fopen", dir / "secret", "alias_file_open", dir / "secret",
       "alias_mknod", dir / "locked/fifo"});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.out,
            "alias_open err 13\nalias_open64 err 13\nalias_fopen err 13\n"
            "alias_file_fopen err 13\nalias_file_open err 13\nalias_mknod err 13\n")
      << r.dump();
  EXPECT_FALSE(dir.exists("locked/fifo"));
  EXPECT_EQ(r.find_events({kBlocked}).size(), 6u) << r.dump();
}

TEST(EnforcerArm64, ASymbolicLinkToADeniedFileIsRefused) {
  // Under qemu 7.2 this is the fallback path (no openat2): the file actually
  // opened is decided through /proc/self/fd and the descriptor closed.
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  ASSERT_EQ(symlink((dir / "secret").c_str(), (dir / "innocent").c_str()), 0);
  RunResult r = run_arm64(compile(read_policy("block", dir / "secret")),
                          {arm64_probe(), "read", dir / "innocent"});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.line("read"), "read err 13") << r.dump();
  EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos) << r.dump();
  EXPECT_TRUE(
      r.has_event({"\"control\":\"files.read\"", kBlocked, "\"rule\":\"files.read.rules[0]\""}))
      << r.dump();
}

TEST(EnforcerArm64, DeniedWriteCreatesNothing) {
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  std::string policy =
      "version: 1\nmode: block\nfiles:\n  write:\n    rules:\n      - deny: " + dir.path() +
      "/out/**\n";
  ASSERT_EQ(mkdir((dir / "out").c_str(), 0755), 0);
  RunResult r = run_arm64(compile(policy), {arm64_probe(), "write", dir / "out/planted", "x",
                                            "write", dir / "kept", "y"});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.out, "write err 13\nwrite ok\n") << r.dump();
  EXPECT_FALSE(dir.exists("out/planted"));
  EXPECT_EQ(dir.read("kept"), "y");
  EXPECT_TRUE(
      r.has_event({"\"control\":\"files.write\"", kBlocked, "\"rule\":\"files.write.rules[0]\""}))
      << r.dump();
}

TEST(EnforcerArm64, DeniedProgramDoesNotStart) {
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  // /bin/touch would leave a file behind if it ran.
  RunResult r = run_arm64(
      compile(
          "version: 1\nmode: block\nprocess:\n  exec:\n    rules:\n      - deny: {name: touch}\n"),
      {arm64_probe(), "exec", "/usr/bin/touch", dir / "ran"});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.line("exec"), "exec err 13") << r.dump();
  EXPECT_FALSE(dir.exists("ran"));
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", kBlocked,
                           "\"rule\":\"process.exec.rules[0]\"", "\"via\":\"execv\""}))
      << r.dump();
}

TEST(EnforcerArm64, AnAllowedExecRunsAndTheNewProgramIsProtectedToo) {
  // The arm64 program replaces itself (execv) with another arm64 program the
  // way binfmt_misc would run it: through qemu-aarch64, named explicitly
  // because binfmt_misc is not mounted here. The exec is allowed; the new
  // program gets the enforcer again (the exec hook passes LD_PRELOAD and
  // FNGUARD_ENFORCER on, the descriptors survive exec) and its read of the
  // denied file is refused. (qemu's own x86_64 loader sees the arm64
  // LD_PRELOAD entry too and ignores it with a message on stderr.)
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  dir.write("notes", "public notes");
  RunResult r = run_arm64(compile(read_policy("block", dir / "secret")),
                          {arm64_probe(), "exec", kQemu, "-L", kSysroot, arm64_probe(), "read",
                           dir / "secret", "read", dir / "notes"});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.out, "read err 13\nread ok public notes\n") << r.dump();
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_TRUE(
      r.has_event({"\"control\":\"files.read\"", kBlocked, "\"rule\":\"files.read.rules[0]\"",
                   "\"target\":\"" + dir / "secret" + "\""}))
      << r.dump();
  EXPECT_FALSE(r.has_event({"\"control\":\"process.exec\""})) << r.dump();
}

TEST(EnforcerArm64, PosixSpawnOfADeniedProgramFailsAndAnAllowedChildIsProtected) {
  // posix_spawn is how children are started here (fork() hangs in an arm64
  // guest under this qemu). The allowed child is another arm64 program run
  // through qemu-aarch64 (what binfmt_misc would do); it inherits the
  // enforcer through the spawn hook and its read of the denied file fails.
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  dir.write("notes", "public notes");
  std::string policy = read_policy("block", dir / "secret") +
                       "process:\n  exec:\n    rules:\n      - deny: {name: touch}\n";
  auto image = compile(policy);
  RunResult denied =
      run_arm64(image, {arm64_extra_probe(), "spawn", "/usr/bin/touch", dir / "ran"});
  ASSERT_TRUE(denied.hello) << denied.dump();
  EXPECT_EQ(denied.out, "spawn err 13\n") << denied.dump();
  EXPECT_FALSE(dir.exists("ran"));
  EXPECT_TRUE(denied.has_event({"\"control\":\"process.exec\"", kBlocked,
                                "\"rule\":\"process.exec.rules[0]\"", "\"via\":\"posix_spawn\""}))
      << denied.dump();

  RunResult allowed =
      run_arm64(image, {arm64_extra_probe(), "spawn", kQemu, "-L", kSysroot, arm64_probe(), "read",
                        dir / "secret", "read", dir / "notes"});
  ASSERT_TRUE(allowed.hello) << allowed.dump();
  EXPECT_EQ(allowed.out, "read err 13\nread ok public notes\nspawn ok 0\n") << allowed.dump();
  auto events = allowed.find_events({"\"control\":\"files.read\"", kBlocked,
                                     "\"rule\":\"files.read.rules[0]\"",
                                     "\"target\":\"" + dir / "secret" + "\""});
  ASSERT_EQ(events.size(), 1u) << allowed.dump();
  // The child, not the spawning program, was stopped.
  EXPECT_NE(events[0].find("\"exe\":\"" + arm64_probe() + "\""), std::string::npos) << events[0];
  EXPECT_FALSE(allowed.has_event({"\"control\":\"process.exec\""})) << allowed.dump();
}

// A loopback TCP server owned by the test: tells whether a connection arrived.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0 ||
        listen(fd_, 16) != 0) {
      if (fd_ >= 0) close(fd_);
      fd_ = -1;
      return;
    }
    socklen_t len = sizeof in;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &len);
    port_ = std::to_string(ntohs(in.sin_port));
  }
  ~Listener() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  const std::string& port() const { return port_; }
  bool connection_arrived() const {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return false;
    close(c);
    return true;
  }

 private:
  int fd_ = -1;
  std::string port_;
};

TEST(EnforcerArm64, DeniedConnectIsRefusedAndNothingArrives) {
  SKIP_WITHOUT_ARM64();
  Listener denied, allowed;
  ASSERT_TRUE(denied.ok() && allowed.ok());
  RunResult r = run_arm64(
      compile(
          "version: 1\nmode: block\nnetwork:\n  outbound:\n    rules:\n      - deny: 127.0.0.1:" +
          denied.port() + "\n"),
      {arm64_extra_probe(), "connect", "127.0.0.1", denied.port(), "connect", "127.0.0.1",
       allowed.port()});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.out, "connect err 1\nconnect ok\n") << r.dump();
  EXPECT_FALSE(denied.connection_arrived());
  EXPECT_TRUE(allowed.connection_arrived());
  EXPECT_TRUE(r.has_event(
      {"\"control\":\"network.outbound\"", kBlocked, "\"rule\":\"network.outbound.rules[0]\"",
       "\"target\":\"127.0.0.1:" + denied.port() + "\"", "\"protocol\":\"tcp\""}))
      << r.dump();
}

TEST(EnforcerArm64, DomainRuleMatchesTheNameTheProgramLookedUp) {
  // getaddrinfo in the arm64 libc is hooked: the address it returned carries
  // the name, and a rule on the name refuses the connection.
  SKIP_WITHOUT_ARM64();
  Listener denied;
  ASSERT_TRUE(denied.ok());
  RunResult r = run_arm64(
      compile(
          "version: 1\nmode: block\nnetwork:\n  outbound:\n    rules:\n      - deny: localhost:" +
          denied.port() + "\n"),
      {arm64_extra_probe(), "resolve", "localhost", denied.port()});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.line("resolve"), "resolve err 1") << r.dump();
  EXPECT_FALSE(denied.connection_arrived());
  EXPECT_TRUE(r.has_event({"\"control\":\"network.outbound\"", kBlocked,
                           "\"rule\":\"network.outbound.rules[0]\"", "\"names\":[\"localhost\"]"}))
      << r.dump();
}

TEST(EnforcerArm64, CorruptPolicyImageKeepsTheProgramFromRunning) {
  // Fail-closed start on arm64: the enforcer refuses the image, says so, and
  // waits at the gate, so the program's main never runs.
  SKIP_WITHOUT_ARM64();
  TempDir dir;
  auto image = compile(read_policy("block", dir / "secret"));
  ASSERT_FALSE(image.empty());
  image[0] ^= 0xff;  // wrong magic
  Arm64Options options;
  options.hello_timeout_ms = 5000;
  RunResult r = run_arm64(image, {arm64_probe(), "write", dir / "ran", "x"}, options);
  EXPECT_FALSE(r.hello) << r.dump();
  EXPECT_FALSE(dir.exists("ran")) << r.dump();
  EXPECT_EQ(r.line("write"), "") << r.dump();
  EXPECT_TRUE(r.has_event({"\"kind\":\"lifecycle\"", "\"action\":\"error\""})) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing
