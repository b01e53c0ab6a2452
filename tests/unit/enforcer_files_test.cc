// The enforcer's file hooks, end to end: a real program runs under
// libfnguard.so with a compiled policy, and each test asserts what a user
// cares about: the file was (not) read or written, the call failed with the
// errno the OS would give, and the event names the control, rule and target.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>

#include "tests/unit/enforcer_harness.h"

namespace fnguard::testing {
namespace {

constexpr const char* kEacces = "err 13";

std::vector<uint8_t> read_policy(const std::string& deny, Mode mode = Mode::kBlock) {
  PolicyImage policy;
  policy.control(Control::kFilesRead, mode).deny(deny);
  return policy.build();
}

std::vector<uint8_t> write_policy(const std::string& deny, Mode mode = Mode::kBlock) {
  PolicyImage policy;
  policy.control(Control::kFilesWrite, mode).deny(deny);
  return policy.build();
}

TEST(EnforcerFiles, BlockedReadFailsWithEaccesAndNothingIsRead) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  RunResult r = run_protected(read_policy(dir / "secret"), {probe_path(), "read", dir / "secret"});
  ASSERT_TRUE(r.hello) << r.dump();
  EXPECT_EQ(r.line("read"), std::string("read ") + kEacces) << r.dump();
  EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos);
  auto events = r.find_events(
      {"\"kind\":\"violation\"", "\"control\":\"files.read\"", "\"action\":\"blocked\"",
       "\"mode\":\"block\"", "\"rule\":\"files.read.rules[0]\"",
       "\"target\":\"" + dir / "secret" + "\"", "\"enforcement\":\"preload\""});
  ASSERT_EQ(events.size(), 1u) << r.dump();
  // Time is the second field, so the supervisor can fold repeats.
  EXPECT_EQ(events[0].rfind("{\"fnguard\":1,\"time\":\"", 0), 0u) << events[0];
  EXPECT_NE(events[0].find("\"process\":{\"pid\":"), std::string::npos) << events[0];
  EXPECT_NE(events[0].find("\"exe\":\"" + probe_path()), std::string::npos) << events[0];
  // Native source: the probe's own executable made the call (main is not an exported symbol).
  EXPECT_NE(events[0].find("\"source\":{\"language\":\"native\",\"file\":\"" + probe_path() + "\""),
            std::string::npos)
      << events[0];
  EXPECT_NE(events[0].find("\"flags\":\"O_RDONLY\""), std::string::npos) << events[0];
}

TEST(EnforcerFiles, MonitorModeLetsTheReadHappenAndReportsIt) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  RunResult r = run_protected(read_policy(dir / "secret", Mode::kMonitor),
                              {probe_path(), "read", dir / "secret"});
  EXPECT_EQ(r.line("read"), "read ok TOPSECRET") << r.dump();
  EXPECT_TRUE(
      r.has_event({"\"action\":\"allowed\"", "\"mode\":\"monitor\"", "\"control\":\"files.read\""}))
      << r.dump();
}

TEST(EnforcerFiles, AllowedOpenKeepsErrnoAndEmitsNothing) {
  TempDir dir;
  dir.write("public", "hello");
  RunResult r = run_protected(read_policy(dir / "secret"), {probe_path(), "errno", dir / "public"});
  EXPECT_EQ(r.line("errno"), "errno ok 1234") << r.dump();
  EXPECT_TRUE(r.events.empty()) << r.dump();
}

TEST(EnforcerFiles, DotDotDoubleSlashAndRelativePathsAreCaught) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  mkdir((dir / "sub").c_str(), 0755);
  auto policy = read_policy(dir / "secret");
  RunOptions in_dir;
  in_dir.cwd = dir / "sub";
  RunResult r =
      run_protected(policy,
                    {probe_path(), "read", dir / "sub/../secret", "read", dir.path() + "//./secret",
                     "read", "../secret", "openat", dir / "sub", "../secret"},
                    in_dir);
  EXPECT_EQ(r.out.find("ok"), std::string::npos) << r.dump();
  EXPECT_EQ(
      r.find_events({"\"action\":\"blocked\"", "\"target\":\"" + dir / "secret" + "\""}).size(), 4u)
      << r.dump();
}

TEST(EnforcerFiles, SymbolicLinkToADeniedFileIsCaught) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  ASSERT_EQ(symlink((dir / "secret").c_str(), (dir / "innocent").c_str()), 0);
  mkdir((dir / "real").c_str(), 0755);
  dir.write("real/secret2", "TOPSECRET2");
  ASSERT_EQ(symlink((dir / "real").c_str(), (dir / "linkdir").c_str()), 0);
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kBlock).deny(dir / "secret").deny(dir / "real/**");
  RunResult r = run_protected(policy.build(), {probe_path(), "read", dir / "innocent", "fopen",
                                               dir / "linkdir/secret2", "r"});
  EXPECT_EQ(r.line("read"), std::string("read ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("fopen"), std::string("fopen ") + kEacces) << r.dump();
  EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos);
  // The event names the file actually reached and what was asked for.
  EXPECT_TRUE(r.has_event(
      {"\"target\":\"" + dir / "secret" + "\"", "\"requested\":\"" + dir / "innocent" + "\""}))
      << r.dump();
}

TEST(EnforcerFiles, DeniedWriteCreatesNothingEvenThroughLinks) {
  TempDir dir;
  mkdir((dir / "protected").c_str(), 0755);
  ASSERT_EQ(symlink((dir / "protected").c_str(), (dir / "linkdir").c_str()), 0);
  ASSERT_EQ(symlink((dir / "protected/dangling").c_str(), (dir / "dangle").c_str()), 0);
  RunResult r = run_protected(write_policy(dir / "protected/**"),
                              {probe_path(), "write", dir / "protected/direct", "x", "creat",
                               dir / "linkdir/vialink", "write", dir / "dangle", "x"});
  EXPECT_EQ(r.line("write"), std::string("write ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("creat"), std::string("creat ") + kEacces) << r.dump();
  EXPECT_EQ(r.out.find(" ok"), std::string::npos) << r.dump();
  EXPECT_FALSE(dir.exists("protected/direct"));
  EXPECT_FALSE(dir.exists("protected/vialink"));
  EXPECT_FALSE(dir.exists("protected/dangling"));
  EXPECT_EQ(r.find_events({"\"control\":\"files.write\"", "\"action\":\"blocked\""}).size(), 3u)
      << r.dump();
}

TEST(EnforcerFiles, FopenForWritingIsAWriteAndTruncatesNothing) {
  TempDir dir;
  dir.write("config", "keep");
  RunResult r = run_protected(write_policy(dir / "config"), {probe_path(), "fopen", dir / "config",
                                                             "w", "fopen", dir / "config", "r"});
  EXPECT_EQ(r.line("fopen"), std::string("fopen ") + kEacces) << r.dump();
  EXPECT_NE(r.out.find("fopen ok keep"), std::string::npos) << r.dump();  // reading is not writing
  EXPECT_EQ(dir.read("config"), "keep");
}

TEST(EnforcerFiles, RenameOntoADeniedPathIsBlocked) {
  TempDir dir;
  dir.write("draft", "new");
  dir.write("target", "old");
  RunResult r = run_protected(write_policy(dir / "target"),
                              {probe_path(), "rename", dir / "draft", dir / "target"});
  EXPECT_EQ(r.line("rename"), std::string("rename ") + kEacces) << r.dump();
  EXPECT_EQ(dir.read("target"), "old");
  EXPECT_TRUE(dir.exists("draft"));
  EXPECT_TRUE(r.has_event({"\"op\":\"rename\"", "\"target\":\"" + dir / "target" + "\""}))
      << r.dump();
}

TEST(EnforcerFiles, PathOperationsOnDeniedPathsDoNothing) {
  TempDir dir;
  mkdir((dir / "locked").c_str(), 0755);
  dir.write("locked/file", "data");
  mkdir((dir / "locked/empty").c_str(), 0755);
  dir.write("elsewhere", "x");
  RunResult r = run_protected(
      write_policy(dir / "locked/**"),
      {probe_path(), "unlink", dir / "locked/file", "mkdir", dir / "locked/newdir", "rmdir",
       dir / "locked/empty", "chmod", dir / "locked/file", "fchmod", dir / "locked/file",
       "truncate", dir / "locked/file", "link", dir / "elsewhere", dir / "locked/hard", "symlink",
       "/etc/passwd", dir / "locked/soft"});
  EXPECT_EQ(r.line("unlink"), std::string("unlink ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("mkdir"), std::string("mkdir ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("rmdir"), std::string("rmdir ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("chmod"), "chmod err 1") << r.dump();  // EPERM, as for a non-owner
  EXPECT_EQ(r.line("fchmod"), "fchmod err 1")
      << r.dump();  // through a descriptor opened for reading
  EXPECT_EQ(r.line("truncate"), std::string("truncate ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("link"), std::string("link ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("symlink"), std::string("symlink ") + kEacces) << r.dump();
  EXPECT_EQ(dir.read("locked/file"), "data");
  EXPECT_TRUE(dir.exists("locked/empty"));
  EXPECT_FALSE(dir.exists("locked/newdir"));
  EXPECT_FALSE(dir.exists("locked/hard"));
  EXPECT_FALSE(dir.exists("locked/soft"));
  struct stat st {};
  ASSERT_EQ(stat((dir / "locked/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(EnforcerFiles, TempFilesAndFifosInDeniedPlacesAreNotCreated) {
  TempDir dir;
  mkdir((dir / "locked").c_str(), 0755);
  PolicyImage policy;
  policy.control(Control::kFilesWrite, Mode::kBlock).deny(dir / "locked/**").deny(dir / "*.secret");
  RunResult r =
      run_protected(policy.build(), {probe_path(), "mkstemp", dir / "locked/tmpXXXXXX", "mkfifo",
                                     dir / "locked/fifo", "mkstemp", dir / "okXXXXXX"});
  EXPECT_EQ(r.line("mkfifo"), std::string("mkfifo ") + kEacces) << r.dump();
  EXPECT_EQ(r.find_events({"\"action\":\"blocked\"", "\"control\":\"files.write\""}).size(), 2u)
      << r.dump();
  EXPECT_NE(r.out.find("mkstemp err 13"), std::string::npos) << r.dump();
  EXPECT_NE(r.out.find("mkstemp ok " + dir / "ok"), std::string::npos)
      << r.dump();  // allowed elsewhere
  EXPECT_FALSE(dir.exists("locked/fifo"));
  std::string listing;
  FILE* ls = popen(("ls -A " + dir / "locked").c_str(), "r");
  char buf[256];
  while (ls != nullptr && fgets(buf, sizeof buf, ls) != nullptr) listing += buf;
  if (ls != nullptr) pclose(ls);
  EXPECT_EQ(listing, "");
}

TEST(EnforcerFiles, NewNamesForAReadProtectedFileAreBlocked) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  RunResult r = run_protected(read_policy(dir / "secret"),
                              {probe_path(), "link", dir / "secret", dir / "copy", "rename",
                               dir / "secret", dir / "moved"});
  EXPECT_EQ(r.line("link"), std::string("link ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("rename"), std::string("rename ") + kEacces) << r.dump();
  EXPECT_FALSE(dir.exists("copy"));
  EXPECT_FALSE(dir.exists("moved"));
  EXPECT_EQ(dir.read("secret"), "TOPSECRET");
}

// freopen(NULL, mode, stream) reopens the stream's own file with a new mode
// (glibc opens /proc/self/fd/N inside libc): a file opened for reading must
// not be reopened for writing when files.write denies it.
TEST(EnforcerFiles, FreopenWithoutAPathDecidesTheStreamsFileWithTheNewMode) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    TempDir dir;
    dir.write("data", "keep");
    RunResult r = run_protected(write_policy(dir / "data", mode),
                                {probe_path(), "freopen_null", dir / "data", "w"});
    auto events = r.find_events({"\"control\":\"files.write\"", "\"op\":\"freopen\"",
                                 "\"target\":\"" + dir / "data" + "\""});
    ASSERT_EQ(events.size(), 1u) << r.dump();
    if (mode == Mode::kBlock) {
      EXPECT_EQ(r.line("freopen_null"), std::string("freopen_null ") + kEacces) << r.dump();
      EXPECT_EQ(dir.read("data"), "keep");
      EXPECT_NE(events[0].find("\"action\":\"blocked\""), std::string::npos) << events[0];
    } else {
      EXPECT_EQ(r.line("freopen_null"), "freopen_null ok") << r.dump();
      EXPECT_EQ(dir.read("data"), "PWNED");
      EXPECT_NE(events[0].find("\"action\":\"allowed\""), std::string::npos) << events[0];
    }
  }
  // Reopening for reading what may be read is no violation.
  TempDir dir;
  dir.write("data", "keep");
  RunResult r =
      run_protected(write_policy(dir / "data"), {probe_path(), "freopen_null", dir / "data", "r"});
  EXPECT_EQ(r.line("freopen_null"), "freopen_null ok keep") << r.dump();
  EXPECT_TRUE(r.events.empty()) << r.dump();
}

// A descriptor the process already holds (stdout redirected by the shell to
// a file outside the allowed places) is reopened with the access it has:
// freopen(NULL, "wb", stdout) adds nothing and must not fail (or close the
// stream). Only the access the new mode adds is decided: a read-only
// descriptor reopened for writing, a write-only or O_PATH one reopened for
// reading.
TEST(EnforcerFiles, FreopenWithoutAPathDecidesOnlyTheAccessTheDescriptorLacks) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    const bool block = mode == Mode::kBlock;
    struct Case {
      const char* file;
      const char* held;
      const char* reopen;
      const char* control;  // the control decided, or null: nothing added
      const char* content;  // the file afterwards (the test writes "old")
    };
    const Case cases[] = {
        {"out", "w", "wb", nullptr, "PWNED"},
        {"out", "w", "a", nullptr, "oldPWNED"},
        {"out", "rw", "r+", nullptr, "PWNED"},
        {"out", "r", "w", "files.write", block ? "old" : "PWNED"},
        {"secret", "w", "r+", "files.read", block ? "old" : "PWNED"},
        {"secret", "path", "r", "files.read", "old"},
    };
    for (const Case& c : cases) {
      TempDir dir;
      dir.write("out", "old");
      dir.write("secret", "old");
      PolicyImage policy;
      policy.control(Control::kFilesRead, mode).deny(dir / "secret");
      policy.control(Control::kFilesWrite, mode).deny(dir / "out");
      RunResult r = run_protected(policy.build(),
                                  {probe_path(), "freopen_held", dir / c.file, c.held, c.reopen});
      std::string what = std::string(c.file) + " " + c.held + " -> " + c.reopen;
      EXPECT_EQ(dir.read(c.file), c.content) << what << r.dump();
      if (c.control == nullptr) {
        EXPECT_EQ(r.line("freopen_held"), "freopen_held ok") << what << r.dump();
        EXPECT_TRUE(r.events.empty()) << what << r.dump();
        continue;
      }
      auto events = r.find_events({std::string("\"control\":\"") + c.control + "\"",
                                   "\"op\":\"freopen\"", "\"target\":\"" + dir / c.file + "\"",
                                   block ? "\"action\":\"blocked\"" : "\"action\":\"allowed\""});
      EXPECT_EQ(events.size(), 1u) << what << r.dump();
      if (block) {
        EXPECT_EQ(r.line("freopen_held"), std::string("freopen_held ") + kEacces)
            << what << r.dump();
      } else {
        EXPECT_EQ(r.line("freopen_held").rfind("freopen_held ok", 0), 0u) << what << r.dump();
      }
    }
  }
}

// renameat2(RENAME_EXCHANGE) gives the destination's content the source's
// name: a read-protected destination is read under an allowed name.
TEST(EnforcerFiles, RenameExchangeDecidesBothPathsForReadingAndWriting) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  dir.write("mine", "mine");
  RunResult r = run_protected(read_policy(dir / "secret"),
                              {probe_path(), "exchange", dir / "mine", dir / "secret"});
  EXPECT_EQ(r.line("exchange"), std::string("exchange ") + kEacces) << r.dump();
  EXPECT_EQ(dir.read("mine"), "mine");
  EXPECT_EQ(dir.read("secret"), "TOPSECRET");
  EXPECT_TRUE(r.has_event({"\"control\":\"files.read\"", "\"action\":\"blocked\"",
                           "\"op\":\"renameat2\"", "\"target\":\"" + dir / "secret" + "\""}))
      << r.dump();
  // Without RENAME_EXCHANGE the destination is only written (replaced).
  TempDir plain;
  plain.write("secret", "TOPSECRET");
  plain.write("mine", "mine");
  RunResult moved = run_protected(read_policy(plain / "secret"),
                                  {probe_path(), "rename", plain / "mine", plain / "secret"});
  EXPECT_EQ(moved.line("rename"), "rename ok") << moved.dump();
  EXPECT_EQ(plain.read("secret"), "mine");
}

// Renaming a directory gives every file below it a new name: a rename of
// an ancestor of a protected file (or of a honeypot's directory) would move
// it out from under its rule. Such a rename is decided by the deny rules
// for anything inside; renaming a directory with nothing protected inside
// is not.
TEST(EnforcerFiles, RenamingADirectoryAboveAProtectedFileIsDecidedByItsRule) {
  TempDir dir;
  mkdir((dir / "box").c_str(), 0755);
  mkdir((dir / "box/secret").c_str(), 0755);
  dir.write("box/secret/key", "TOPSECRET");
  mkdir((dir / "plain").c_str(), 0755);
  dir.write("plain/notes", "notes");
  RunResult r = run_protected(read_policy(dir / "box/secret/**"),
                              {probe_path(), "rename", dir / "box", dir / "moved"});
  EXPECT_EQ(r.line("rename"), std::string("rename ") + kEacces) << r.dump();
  EXPECT_TRUE(dir.exists("box/secret/key"));
  EXPECT_TRUE(
      r.has_event({"\"control\":\"files.read\"", "\"action\":\"blocked\"",
                   "\"rule\":\"files.read.rules[0]\"", "\"target\":\"" + dir / "box" + "\""}))
      << r.dump();
  RunResult ok = run_protected(read_policy(dir / "box/secret/**"),
                               {probe_path(), "rename", dir / "plain", dir / "plain2"});
  EXPECT_EQ(ok.line("rename"), "rename ok") << ok.dump();
  EXPECT_TRUE(dir.exists("plain2/notes"));
  // A rule with a wildcard above the directory can match inside it too.
  RunResult wild = run_protected(read_policy(dir.path() + "/**/key"),
                                 {probe_path(), "rename", dir / "box", dir / "moved"});
  EXPECT_EQ(wild.line("rename"), std::string("rename ") + kEacces) << wild.dump();
}

// linkat(fd, "", ..., AT_EMPTY_PATH) names the file open at fd, including
// an O_PATH descriptor (never checked at open): like link(), the file is
// decided for reading and writing.
TEST(EnforcerFiles, LinkatOfADescriptorDecidesTheDescriptorsFile) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    TempDir dir;
    dir.write("secret", "TOPSECRET");
    RunResult r = run_protected(read_policy(dir / "secret", mode),
                                {probe_path(), "linkfd", dir / "secret", dir / "pub"});
    auto events = r.find_events({"\"control\":\"files.read\"", "\"op\":\"linkat\"",
                                 "\"target\":\"" + dir / "secret" + "\""});
    ASSERT_EQ(events.size(), 1u) << r.dump();
    if (mode == Mode::kBlock) {
      EXPECT_EQ(r.line("linkfd"), std::string("linkfd ") + kEacces) << r.dump();
      EXPECT_FALSE(dir.exists("pub"));
    } else {
      EXPECT_EQ(r.line("linkfd"), "linkfd ok") << r.dump();
      EXPECT_EQ(dir.read("pub"), "TOPSECRET");
    }
  }
}

// fchownat(fd, "", ..., AT_EMPTY_PATH) changes the owner of fd's file, as
// fchown(fd) does, and is decided the same way.
TEST(EnforcerFiles, FchownatOfADescriptorIsDecidedLikeFchown) {
  TempDir dir;
  dir.write("data", "keep");
  RunResult r =
      run_protected(write_policy(dir / "data"), {probe_path(), "fchownat_empty", dir / "data"});
  EXPECT_EQ(r.line("fchownat_empty"), "fchownat_empty err 1") << r.dump();  // EPERM
  EXPECT_TRUE(r.has_event({"\"control\":\"files.write\"", "\"action\":\"blocked\"",
                           "\"op\":\"fchownat\"", "\"target\":\"" + dir / "data" + "\""}))
      << r.dump();
  RunResult allowed =
      run_protected(write_policy(dir / "other"), {probe_path(), "fchownat_empty", dir / "data"});
  EXPECT_EQ(allowed.line("fchownat_empty"), "fchownat_empty ok") << allowed.dump();
  EXPECT_TRUE(allowed.events.empty()) << allowed.dump();
}

// The kernel names an unlinked file "PATH (deleted)"; the decision after an
// open through /proc/self/fd uses PATH, so a literal rule still matches. A
// file whose real name ends in " (deleted)" keeps its name.
TEST(EnforcerFiles, AnUnlinkedFileIsDecidedByTheNameItHad) {
  TempDir dir;
  dir.write("lit", "LITERALSECRET");
  RunResult r =
      run_protected(read_policy(dir / "lit"), {probe_path(), "reopen_deleted", dir / "lit"});
  EXPECT_EQ(r.line("reopen_deleted"), std::string("reopen_deleted ") + kEacces) << r.dump();
  EXPECT_EQ(r.out.find("LITERALSECRET"), std::string::npos) << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"files.read\"", "\"action\":\"blocked\"",
                           "\"target\":\"" + dir / "lit" + "\""}))
      << r.dump();

  dir.write("name (deleted)", "NAMED");
  ASSERT_EQ(symlink((dir / "name (deleted)").c_str(), (dir / "alias").c_str()), 0);
  RunResult named =
      run_protected(read_policy(dir / "name (deleted)"), {probe_path(), "read", dir / "alias"});
  EXPECT_EQ(named.line("read"), std::string("read ") + kEacces) << named.dump();
  EXPECT_TRUE(named.has_event({"\"target\":\"" + dir / "name (deleted)" + "\""})) << named.dump();
}

// A pathname AF_UNIX socket is a file: bind() creates it (files.write, like
// mkfifo), connect() needs write access to it. Abstract sockets have no
// file and are not decided.
TEST(EnforcerFiles, UnixSocketFilesAreDecidedAsWrites) {
  TempDir dir;
  mkdir((dir / "locked").c_str(), 0755);
  mkdir((dir / "open").c_str(), 0755);
  // A server the program must not reach, made by the test (unprotected).
  int server = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(server, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::string server_path = dir / "locked/server.sock";
  ASSERT_LT(server_path.size(), sizeof sun.sun_path);
  std::strcpy(sun.sun_path, server_path.c_str());
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
  ASSERT_EQ(listen(server, 4), 0);
  std::string script =
      "import socket, sys, os\n"
      "def attempt(tag, fn):\n"
      "  s = socket.socket(socket.AF_UNIX)\n"
      "  try:\n    fn(s)\n    print(tag, 'ok')\n"
      "  except OSError as e:\n    print(tag, 'err', e.errno)\n"
      "  finally:\n    s.close()\n"
      "d = sys.argv[1]\n"
      "attempt('bind', lambda s: s.bind(d + '/locked/new.sock'))\n"
      "attempt('relbind', lambda s: (os.chdir(d + '/locked'), s.bind('rel.sock')))\n"
      "attempt('connect', lambda s: s.connect(d + '/locked/server.sock'))\n"
      "os.chdir(d)\n"
      "attempt('openbind', lambda s: s.bind(d + '/open/ok.sock'))\n"
      "attempt('abstract', lambda s: s.bind('\\0fnguard-test-' + str(os.getpid())))\n";
  PolicyImage policy;
  policy.control(Control::kFilesWrite, Mode::kBlock).deny(dir / "locked/**");
  RunResult r = run_protected(policy.build(), {"/usr/bin/python3", "-c", script, dir.path()});
  EXPECT_EQ(r.line("bind"), "bind err 13") << r.dump();
  EXPECT_EQ(r.line("relbind"), "relbind err 13") << r.dump();
  EXPECT_EQ(r.line("connect"), "connect err 13") << r.dump();
  EXPECT_EQ(r.line("openbind"), "openbind ok") << r.dump();
  EXPECT_EQ(r.line("abstract"), "abstract ok") << r.dump();
  EXPECT_FALSE(dir.exists("locked/new.sock"));
  EXPECT_FALSE(dir.exists("locked/rel.sock"));
  EXPECT_TRUE(dir.exists("open/ok.sock"));
  int client = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_LT(client, 0) << "the connection arrived";
  if (client >= 0) close(client);
  EXPECT_TRUE(r.has_event({"\"control\":\"files.write\"", "\"action\":\"blocked\"",
                           "\"op\":\"bind\"", "\"target\":\"" + dir / "locked/new.sock" + "\""}))
      << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"files.write\"", "\"action\":\"blocked\"",
                           "\"op\":\"connect\"", "\"target\":\"" + server_path + "\""}))
      << r.dump();
  EXPECT_EQ(r.events.size(), 3u) << r.dump();

  // Monitor: the connection is made and reported.
  PolicyImage monitor;
  monitor.control(Control::kFilesWrite, Mode::kMonitor).deny(dir / "locked/**");
  RunResult m = run_protected(
      monitor.build(),
      {"/usr/bin/python3", "-c",
       "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
       "print('connect ok')\n",
       server_path});
  EXPECT_EQ(m.line("connect"), "connect ok") << m.dump();
  client = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_GE(client, 0) << "the connection did not arrive";
  if (client >= 0) close(client);
  EXPECT_TRUE(m.has_event({"\"action\":\"allowed\"", "\"op\":\"connect\""})) << m.dump();
  close(server);
}

TEST(EnforcerFiles, ProcSelfRootAndFdLinksAreResolved) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  RunResult r = run_protected(read_policy(dir / "secret"),
                              {probe_path(), "read", "/proc/self/root" + dir / "secret", "openat",
                               "/proc/self/cwd", dir.path().substr(1) + "/secret"},
                              RunOptions{.cwd = "/"});
  EXPECT_EQ(r.line("read"), std::string("read ") + kEacces) << r.dump();
  EXPECT_EQ(r.line("openat"), std::string("openat ") + kEacces) << r.dump();
  EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos);
}

TEST(EnforcerFiles, ClosingAllDescriptorsKeepsProtectionInChildren) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  RunResult r = run_protected(read_policy(dir / "secret"), {probe_path(), "closeall", "exec",
                                                            probe_path(), "read", dir / "secret"});
  EXPECT_EQ(r.line("closeall"), "closeall ok") << r.dump();
  EXPECT_EQ(r.line("read"), std::string("read ") + kEacces) << r.dump();
  EXPECT_TRUE(r.has_event({"\"action\":\"blocked\""})) << r.dump();
}

TEST(EnforcerFiles, PythonSubprocessWithCloseFdsStaysProtected) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  std::string script =
      "import subprocess, sys\n"
      "subprocess.run([sys.argv[1], 'read', sys.argv[2]], close_fds=True)\n";
  RunResult r = run_protected(read_policy(dir / "secret"),
                              {"/usr/bin/python3", "-c", script, probe_path(), dir / "secret"});
  EXPECT_EQ(r.line("read"), std::string("read ") + kEacces) << r.dump();
  EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos);
}

TEST(EnforcerFiles, ManyThreadsGetConsistentDecisions) {
  TempDir dir;
  dir.write("secret", "s");
  dir.write("public", "p");
  RunResult r = run_protected(read_policy(dir / "secret"),
                              {probe_path(), "threads", "8", dir / "public", dir / "secret"});
  EXPECT_EQ(r.line("threads"), "threads ok 1600 1600") << r.dump();
  EXPECT_EQ(r.exit_code, 0);
}

TEST(EnforcerFiles, SignalHandlerOpeningAFileIsChecked) {
  TempDir dir;
  dir.write("secret", "s");
  RunResult r =
      run_protected(read_policy(dir / "secret"), {probe_path(), "signal", dir / "secret"});
  EXPECT_EQ(r.line("signal"), "signal ok 13") << r.dump();
  EXPECT_TRUE(r.has_event({"\"action\":\"blocked\""})) << r.dump();
}

TEST(EnforcerFiles, ForkExecChainsKeepProtection) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  // probe -> fork+exec sh -> sh -> python3, which tries the denied read.
  dir.write("inner.sh",
            "/usr/bin/python3 -c \"import sys; open(sys.argv[1]).read()\" \"$1\" 2>/dev/null"
            " && echo python-read || echo python-denied\n");
  dir.write("outer.sh", "/bin/sh \"$(dirname \"$0\")/inner.sh\" \"$1\"\n");
  RunResult r = run_protected(read_policy(dir / "secret"), {probe_path(), "forkexec", "/bin/sh",
                                                            dir / "outer.sh", dir / "secret"});
  EXPECT_NE(r.out.find("python-denied"), std::string::npos) << r.dump();
  EXPECT_EQ(r.out.find("python-read"), std::string::npos) << r.dump();
  EXPECT_TRUE(r.has_event({"\"action\":\"blocked\"", "\"exe\":\"/usr/bin/python3"})) << r.dump();
}

TEST(EnforcerFiles, PythonEventsNameTheFileLineAndFunction) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  dir.write("app.py",
            "import sys\n"
            "def handler(path):\n"
            "    try:\n"
            "        open(path).read()\n"
            "    except PermissionError:\n"
            "        print('denied')\n"
            "handler(sys.argv[1])\n");
  RunResult r = run_protected(read_policy(dir / "secret"),
                              {"/usr/bin/python3", dir / "app.py", dir / "secret"});
  EXPECT_NE(r.out.find("denied"), std::string::npos) << r.dump();
  EXPECT_TRUE(r.has_event({"\"source\":{\"language\":\"python\",\"file\":\"" + dir / "app.py" +
                           "\",\"line\":4,\"function\":\"handler\"}"}))
      << r.dump();
}

TEST(EnforcerFiles, AnImportOfADeniedModuleIsBlockedAndReported) {
  // The import system's own read of a denied module is blocked and reported
  // like any open, and named by the user's line that imported it (the
  // import machinery's frames are skipped); a plain open() keeps its own.
  TempDir dir;
  mkdir((dir / "mods").c_str(), 0755);
  dir.write("mods/evil.py", "print('evil ran')\n");
  dir.write("app.py",
            "import sys\n"
            "sys.dont_write_bytecode = True\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "try:\n"
            "    import evil\n"
            "except (PermissionError, ImportError):\n"
            "    print('import denied')\n"
            "try:\n"
            "    open(sys.argv[1] + '/evil.py').read()\n"
            "except PermissionError:\n"
            "    print('open denied')\n");
  RunResult r = run_protected(read_policy(dir / "mods/evil.py"),
                              {"/usr/bin/python3", dir / "app.py", dir / "mods"});
  EXPECT_EQ(r.out.find("evil ran"), std::string::npos) << r.dump();
  EXPECT_NE(r.out.find("import denied"), std::string::npos) << r.dump();
  EXPECT_NE(r.out.find("open denied"), std::string::npos) << r.dump();
  auto blocked = r.find_events({"\"action\":\"blocked\"", "\"target\":\"" + dir / "mods/evil.py" + "\""});
  ASSERT_EQ(blocked.size(), 2u) << r.dump();
  EXPECT_TRUE(r.has_event(
      {"\"source\":{\"language\":\"python\",\"file\":\"" + dir / "app.py" + "\",\"line\":5"}))
      << r.dump();
  EXPECT_TRUE(r.has_event({"\"source\":{\"language\":\"python\",\"file\":\"" + dir / "app.py" +
                           "\",\"line\":9"}))
      << r.dump();
}

TEST(EnforcerFiles, EventsCarryInvocationAndTaintFromTheContextPage) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  RunOptions options;
  std::string secret_name = "secret";
  options.context = [&](image::ContextPage* page) {
    page->phase = image::Phase::kInvoke;
    std::strcpy(page->request_id, "req-123");
    std::strcpy(page->function_arn, "arn:aws:lambda:us-east-1:1:function:demo");
    const char field[] = "queryStringParameters.file";
    std::memcpy(page->taint_data, field, sizeof field - 1);
    std::memcpy(page->taint_data + 64, secret_name.data(), secret_name.size());
    page->taints[0] = {0, static_cast<uint16_t>(sizeof field - 1), 64,
                       static_cast<uint16_t>(secret_name.size())};
    page->taint_count = 1;
  };
  options.env = {"AWS_LAMBDA_FUNCTION_NAME=demo", "AWS_REGION=us-east-1"};
  RunResult r =
      run_protected(read_policy(dir / "secret"), {probe_path(), "read", dir / "secret"}, options);
  EXPECT_TRUE(r.has_event(
      {"\"function\":{\"name\":\"demo\",\"arn\":\"arn:aws:lambda:us-east-1:1:function:demo\","
       "\"region\":\"us-east-1\",\"request_id\":\"req-123\",\"phase\":\"invoke\"}",
       "\"taint\":{\"field\":\"queryStringParameters.file\",\"value\":\"secret\"}"}))
      << r.dump();
}

TEST(EnforcerFiles, BenignPythonProgramRunsUntouched) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  mkdir((dir / "work").c_str(), 0755);
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kBlock).deny(dir / "secret");
  policy.control(Control::kFilesWrite, Mode::kBlock, Verdict::kDeny)
      .allow(dir / "work/**")
      .allow("/dev/null");
  dir.write("app.py",
            "import json, os, re, subprocess, sys, tempfile, threading, pathlib, shutil\n"
            "work = sys.argv[1]\n"
            "def worker(i):\n"
            "    p = pathlib.Path(work, f'out{i}.json')\n"
            "    p.write_text(json.dumps({'i': i}))\n"
            "    assert json.loads(p.read_text())['i'] == i\n"
            "threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]\n"
            "with tempfile.NamedTemporaryFile(dir=work) as f: f.write(b'x')\n"
            "os.makedirs(os.path.join(work, 'a/b'), exist_ok=True)\n"
            "shutil.copy(os.path.join(work, 'out0.json'), os.path.join(work, 'a/b/copy.json'))\n"
            "os.rename(os.path.join(work, 'a/b/copy.json'), os.path.join(work, 'a/moved.json'))\n"
            "shutil.rmtree(os.path.join(work, 'a'))\n"
            "out = subprocess.run(['/bin/echo', 'child'], capture_output=True, text=True, "
            "close_fds=True).stdout\n"
            "print('done', out.strip(), len(os.listdir(work)))\n");
  RunResult r = run_protected(policy.build(), {"/usr/bin/python3", dir / "app.py", dir / "work"});
  EXPECT_EQ(r.exit_code, 0) << r.dump();
  EXPECT_EQ(r.line("done"), "done child 8") << r.dump();
  EXPECT_TRUE(r.events.empty()) << r.dump();
}

TEST(EnforcerFiles, OffControlIsAPassThrough) {
  TempDir dir;
  dir.write("secret", "TOPSECRET");
  PolicyImage policy;  // every control off
  RunResult r = run_protected(policy.build(),
                              {probe_path(), "read", dir / "secret", "errno", dir / "missing"});
  EXPECT_EQ(r.line("read"), "read ok TOPSECRET") << r.dump();
  EXPECT_EQ(r.line("errno"), "errno err 2") << r.dump();  // ENOENT from the real open
  EXPECT_TRUE(r.events.empty()) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing
