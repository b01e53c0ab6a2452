// The side-effect-free parts of the exec hooks: recognising static binaries
// and "#!" scripts (require.preload), and rebuilding a child's environment
// so that LD_PRELOAD and FNGUARD_ENFORCER survive a scrubbed env.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "fnguard/enforcer/elf_check.h"
#include "fnguard/enforcer/exec_env.h"

namespace fnguard::enforcer {
namespace {

using fnguard::LoaderKind;
using fnguard::LoaderRun;
using fnguard::LoaderScan;

std::string temp_file(const std::string& content, const char* name) {
  std::string path = std::string(::testing::TempDir()) + "/" + name;
  std::ofstream(path) << content;
  chmod(path.c_str(), 0755);
  return path;
}

TEST(ElfCheck, BusyboxIsStaticDashIsDynamic) {
  ProgramInfo info;
  probe_path(AT_FDCWD, "/usr/bin/busybox", &info);
  EXPECT_EQ(info.kind, ProgramKind::kStaticElf);
  EXPECT_TRUE(runs_static_program("/usr/bin/busybox"));

  probe_path(AT_FDCWD, "/usr/bin/dash", &info);
  EXPECT_EQ(info.kind, ProgramKind::kDynamicElf);
  EXPECT_FALSE(runs_static_program("/usr/bin/dash"));
}

TEST(ElfCheck, DynamicLoaderIsNotTreatedAsStatic) {
  const char* loader = "/lib64/ld-linux-x86-64.so.2";
  if (access(loader, R_OK) != 0) GTEST_SKIP() << "no x86-64 loader on this machine";
  EXPECT_TRUE(is_dynamic_loader_name(loader));
  EXPECT_FALSE(runs_static_program(loader));
}

// fexecve: the loader opened as /proc/self/fd/N is recognised by the name
// the caller gives (the file's own); without one (a memfd's name proves
// nothing) it counts as the static ELF it is.
TEST(ElfCheck, TheLoaderBehindADescriptorIsRecognisedByTheNameGiven) {
  const char* loader = "/lib64/ld-linux-x86-64.so.2";
  if (access(loader, R_OK) != 0) GTEST_SKIP() << "no x86-64 loader on this machine";
  int fd = open(loader, O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  EXPECT_TRUE(runs_static_program(proc.c_str()));
  EXPECT_TRUE(runs_static_program(proc.c_str(), nullptr));
  EXPECT_FALSE(runs_static_program(proc.c_str(), loader));
  close(fd);
}

TEST(ElfCheck, ScriptsFollowTheirInterpreter) {
  std::string dynamic_script = temp_file("#! /bin/sh -e\necho hi\n", "dyn.sh");
  ProgramInfo info;
  probe_path(AT_FDCWD, dynamic_script.c_str(), &info);
  EXPECT_EQ(info.kind, ProgramKind::kScript);
  EXPECT_STREQ(info.interpreter, "/bin/sh");
  EXPECT_FALSE(runs_static_program(dynamic_script.c_str()));

  std::string static_script = temp_file("#!/usr/bin/busybox sh\necho hi\n", "static.sh");
  EXPECT_TRUE(runs_static_program(static_script.c_str()));

  // A script whose interpreter is a script whose interpreter is static.
  std::string chained = temp_file("#!" + static_script + "\n", "chained.sh");
  EXPECT_TRUE(runs_static_program(chained.c_str()));

  // The kernel runs five scripts in a row (the exec'd one and four nested
  // interpreters) before the program; a sixth fails with ELOOP.
  std::string previous = static_script;
  for (int i = 2; i <= 5; ++i) {
    previous = temp_file("#!" + previous + "\n", ("chain" + std::to_string(i)).c_str());
  }
  EXPECT_TRUE(runs_static_program(previous.c_str())) << "five scripts, then busybox";
  std::string too_deep = temp_file("#!" + previous + "\n", "chain6");
  EXPECT_FALSE(runs_static_program(too_deep.c_str())) << "six scripts: the exec fails";
}

TEST(ElfCheck, GarbageAndTruncatedFilesAreUnknown) {
  ProgramInfo info;
  probe_path(AT_FDCWD, temp_file("", "empty").c_str(), &info);
  EXPECT_EQ(info.kind, ProgramKind::kUnknown);
  probe_path(AT_FDCWD,
             temp_file("\x7f"
                       "ELF\x02\x01",
                       "short")
                 .c_str(),
             &info);
  EXPECT_EQ(info.kind, ProgramKind::kUnknown);
  probe_path(AT_FDCWD, temp_file("#!\n", "bare-shebang").c_str(), &info);
  EXPECT_EQ(info.kind, ProgramKind::kUnknown);
  probe_path(AT_FDCWD, "/nonexistent/x", &info);
  EXPECT_EQ(info.kind, ProgramKind::kUnknown);
  EXPECT_FALSE(runs_static_program("/nonexistent/x"));

  // An ELF header claiming program headers past the end of the file.
  std::vector<char> elf(64, 0);
  std::memcpy(elf.data(),
              "\x7f"
              "ELF\x02\x01\x01",
              7);
  elf[16] = 2;                        // ET_EXEC
  elf[32] = static_cast<char>(0xff);  // e_phoff far away
  elf[54] = 56;                       // e_phentsize
  elf[56] = 3;                        // e_phnum
  probe_path(AT_FDCWD, temp_file(std::string(elf.begin(), elf.end()), "bad-elf").c_str(), &info);
  EXPECT_EQ(info.kind, ProgramKind::kUnknown);
}

TEST(ElfCheck, ShebangParsing) {
  char interp[kInterpreterMax];
  auto parse = [&](const char* s) {
    return parse_shebang(reinterpret_cast<const uint8_t*>(s), std::strlen(s), interp,
                         sizeof interp);
  };
  ASSERT_TRUE(parse("#!/usr/bin/env python3\n"));
  EXPECT_STREQ(interp, "/usr/bin/env");
  ASSERT_TRUE(parse("#!\t/bin/bash"));
  EXPECT_STREQ(interp, "/bin/bash");
  EXPECT_FALSE(parse("# comment"));
  EXPECT_FALSE(parse("#!   \n"));
}

// The kernel's binfmt_script: one optional argument (the whole rest of the
// line), relative interpreters kept as written, a line without a newline
// accepted only when the name visibly ends inside the 256-byte buffer.
TEST(ElfCheck, ShebangParsingMatchesTheKernel) {
  char interp[kInterpreterMax];
  char arg[kInterpreterMax];
  bool has_arg = false;
  auto parse = [&](const std::string& s) {
    return parse_shebang(reinterpret_cast<const uint8_t*>(s.data()), s.size(), interp,
                         sizeof interp, arg, sizeof arg, &has_arg);
  };
  ASSERT_TRUE(parse("#!/usr/bin/env  python3 -u  \nprint(1)\n"));
  EXPECT_STREQ(interp, "/usr/bin/env");
  EXPECT_TRUE(has_arg);
  EXPECT_STREQ(arg, "python3 -u");  // one argument: the rest, trailing blanks trimmed
  ASSERT_TRUE(parse("#!python3.11\n"));
  EXPECT_STREQ(interp, "python3.11");  // relative: the kernel opens it against the cwd
  EXPECT_FALSE(has_arg);
  ASSERT_TRUE(parse("#!/usr/bin/python3.11 -cimport\tos;print(1)\n"));
  EXPECT_STREQ(arg, "-cimport\tos;print(1)");
  ASSERT_TRUE(parse("#!/bin/sh\t\n"));
  EXPECT_FALSE(has_arg);
  ASSERT_TRUE(parse(std::string("#!/bin/sh -e\0junk\n", 19)));
  EXPECT_STREQ(interp, "/bin/sh");
  EXPECT_STREQ(arg, "-e");
  // No newline in the buffer: the name must end (blank or NUL) inside it.
  std::string long_name = "#!/" + std::string(300, 'a');
  EXPECT_FALSE(parse(long_name));
  std::string long_arg = "#!/bin/sh " + std::string(300, 'x');
  ASSERT_TRUE(parse(long_arg));
  EXPECT_STREQ(interp, "/bin/sh");
  EXPECT_EQ(std::strlen(arg), 255u - 10u);  // cut at the kernel's buffer
}

TEST(ExecFormat, LoaderNames) {
  EXPECT_EQ(loader_kind("/lib64/ld-linux-x86-64.so.2"), LoaderKind::kGlibc);
  EXPECT_EQ(loader_kind("/lib/ld-linux-aarch64.so.1"), LoaderKind::kGlibc);
  EXPECT_EQ(loader_kind("/lib/ld-linux.so.2"), LoaderKind::kGlibc);
  EXPECT_EQ(loader_kind("/lib64/ld64.so.2"), LoaderKind::kGlibc);
  EXPECT_EQ(loader_kind("/lib/ld.so.1"), LoaderKind::kGlibc);
  EXPECT_EQ(loader_kind("/lib/ld-musl-x86_64.so.1"), LoaderKind::kMusl);
  EXPECT_EQ(loader_kind("/usr/lib/x86_64-linux-musl/libc.so"), LoaderKind::kMusl);
  EXPECT_EQ(loader_kind("/lib/libc.musl-x86_64.so.1"), LoaderKind::kMusl);
  EXPECT_EQ(loader_kind("/lib/x86_64-linux-gnu/libc.so.6"), LoaderKind::kNone);
  EXPECT_EQ(loader_kind("/usr/bin/ld"), LoaderKind::kNone);
  EXPECT_EQ(loader_kind("/usr/bin/ld-linux-notes.txt"), LoaderKind::kNone);
  EXPECT_EQ(loader_kind("/usr/bin/ldd"), LoaderKind::kNone);
}

LoaderScan scan(LoaderKind kind, std::vector<const char*> args, bool complete = true) {
  return scan_loader_args(kind, args.data(), args.size(), complete);
}

// glibc 2.36 rtld: options without a value, options with one, the modes that
// run nothing; an unknown option is reported (the caller fails closed).
TEST(ExecFormat, GlibcLoaderArguments) {
  const LoaderKind g = LoaderKind::kGlibc;
  LoaderScan s = scan(g, {"ld.so", "/usr/bin/id", "-un"});
  EXPECT_EQ(s.run, LoaderRun::kProgram);
  EXPECT_EQ(s.index, 1u);
  s = scan(g, {"ld.so", "--inhibit-cache", "--library-path", "/x", "--argv0", "id", "--audit",
               "a.so", "--preload", "p.so", "--inhibit-rpath", "l", "--glibc-hwcaps-prepend", "v3",
               "--glibc-hwcaps-mask", "v2", "./prog", "--list"});
  EXPECT_EQ(s.run, LoaderRun::kProgram);
  EXPECT_EQ(s.index, 16u);
  s = scan(g, {"ld.so", "-x"});  // one dash: a program name
  EXPECT_EQ(s.run, LoaderRun::kProgram);
  EXPECT_EQ(s.index, 1u);
  s = scan(g, {"ld.so", "--", "--list"});  // "--" ends the options (2.36 refuses it)
  EXPECT_EQ(s.run, LoaderRun::kProgram);
  EXPECT_EQ(s.index, 2u);
  for (const char* mode :
       {"--list", "--verify", "--help", "--version", "--list-tunables", "--list-diagnostics"}) {
    EXPECT_EQ(scan(g, {"ld.so", "--argv0", "x", mode, "/usr/bin/id"}).run, LoaderRun::kNoProgram)
        << mode;
  }
  EXPECT_EQ(scan(g, {"ld.so"}).run, LoaderRun::kNoProgram);
  EXPECT_EQ(scan(g, {"ld.so", "--library-path"}).run, LoaderRun::kNoProgram);
  s = scan(g, {"ld.so", "--library-path=/x", "/usr/bin/id"});
  EXPECT_EQ(s.run, LoaderRun::kUnknownOption);
  EXPECT_EQ(s.index, 1u);
  EXPECT_EQ(scan(g, {"ld.so", "--future-option", "v", "/usr/bin/id"}).run,
            LoaderRun::kUnknownOption);
  EXPECT_EQ(scan(g, {"ld.so", "--preload", "x"}, false).run, LoaderRun::kTruncated);
  EXPECT_EQ(scan(g, {"ld.so", "--inhibit-cache"}, false).run, LoaderRun::kTruncated);
}

TEST(ExecFormat, MuslLoaderArguments) {
  const LoaderKind m = LoaderKind::kMusl;
  LoaderScan s = scan(
      m, {"ld-musl", "--library-path", "/x", "--preload=a.so", "--argv0", "n", "--", "--prog"});
  EXPECT_EQ(s.run, LoaderRun::kProgram);
  EXPECT_EQ(s.index, 7u);
  EXPECT_EQ(scan(m, {"ld-musl", "--list", "/bin/x"}).run, LoaderRun::kNoProgram);
  EXPECT_EQ(scan(m, {"/usr/bin/ldd", "/bin/x"}).run, LoaderRun::kNoProgram);
  EXPECT_EQ(scan(m, {"ld-musl", "--verify", "/bin/x"}).run, LoaderRun::kUnknownOption);
  EXPECT_EQ(scan(m, {"ld-musl", "--preloadx", "/bin/x"}).run, LoaderRun::kUnknownOption);
  EXPECT_EQ(scan(m, {"ld-musl", "--argv0"}).run, LoaderRun::kNoProgram);
}

// The values of the options that name libraries to load, in order, for
// exec_from_writable to decide (musl's --opt=VALUE form included); more
// than the scan keeps is flagged, so that the exec fails closed.
TEST(ExecFormat, LoaderLibraryOptionsAreKept) {
  auto text = [](const LoaderScan& s) {
    std::string out;
    for (size_t i = 0; i < s.value_count; ++i) {
      const char* kinds[] = {"preload", "audit", "path"};
      out +=
          std::string(kinds[static_cast<int>(s.values[i].option)]) + "=" + s.values[i].value + ";";
    }
    return out + (s.values_overflow ? "overflow" : "");
  };
  LoaderScan s = scan(LoaderKind::kGlibc, {"ld.so", "--library-path", "/d", "--argv0", "x",
                                           "--preload", "a.so b.so", "--audit", "/t/au.so", "/p"});
  EXPECT_EQ(s.run, LoaderRun::kProgram);
  EXPECT_EQ(text(s), "path=/d;preload=a.so b.so;audit=/t/au.so;");
  s = scan(LoaderKind::kMusl, {"ld-musl", "--preload=/t/x.so", "--library-path", "/d", "/p"});
  EXPECT_EQ(text(s), "preload=/t/x.so;path=/d;");
  std::vector<const char*> many = {"ld.so"};
  for (int i = 0; i < 9; ++i) {
    many.push_back("--preload");
    many.push_back("/t/x.so");
  }
  many.push_back("/p");
  s = scan(LoaderKind::kGlibc, many);
  EXPECT_EQ(s.run, LoaderRun::kProgram);
  EXPECT_TRUE(s.values_overflow);
}

// LD_PRELOAD and --preload entries are separated by ' ' or ':', LD_AUDIT and
// --audit entries by ':' only (a space is part of the name).
TEST(ExecFormat, LibraryListsSplitAsTheLoaderSplitsThem) {
  auto split = [](const char* list, fnguard::LibraryList kind) {
    std::string out;
    fnguard::for_each_library(list, kind, [&](const char* entry, size_t length) {
      out += "[" + std::string(entry, length) + "]";
      return true;
    });
    return out;
  };
  EXPECT_EQ(split("a.so b.so:/t/c.so::  ", fnguard::LibraryList::kPreload),
            "[a.so][b.so][/t/c.so]");
  EXPECT_EQ(split("/t/a b.so:c.so", fnguard::LibraryList::kAudit), "[/t/a b.so][c.so]");
  EXPECT_EQ(split("", fnguard::LibraryList::kPreload), "");
  int seen = 0;
  EXPECT_FALSE(fnguard::for_each_library("a b c", fnguard::LibraryList::kPreload,
                                         [&](const char*, size_t) { return ++seen < 2; }));
  EXPECT_EQ(seen, 2);
}

// The directories exec_from_writable decides in a search path, as glibc
// 2.36 reads them (checked with LD_DEBUG=libs): LD_LIBRARY_PATH splits on
// ':' and ';', an empty entry is the cwd (but an empty variable is none),
// $LIB and $PLATFORM expand to relative names and $ORIGIN to the
// program's directory; GCONV_PATH splits on ':' and skips empty entries.
TEST(ExecFormat, SearchPathsYieldTheDirectoriesTheLoaderSearches) {
  auto split = [](const char* list, fnguard::SearchPath kind) {
    std::string out;
    fnguard::for_each_search_dir(list, kind, [&](const fnguard::SearchDir& d) {
      const char* tag = d.kind == fnguard::SearchDirKind::kDirectory ? "dir"
                        : d.kind == fnguard::SearchDirKind::kOrigin  ? "origin"
                                                                     : "unexpanded";
      out += std::string("[") + tag + " " + std::string(d.dir, d.length) + "]";
      return true;
    });
    return out;
  };
  const auto lib = fnguard::SearchPath::kLibrary;
  const auto gconv = fnguard::SearchPath::kGconv;
  EXPECT_EQ(split("/usr/lib:/tmp/x;rel", lib), "[dir /usr/lib][dir /tmp/x][dir rel]");
  EXPECT_EQ(split("/usr/lib:", lib), "[dir /usr/lib][dir .]");
  EXPECT_EQ(split("::", lib), "[dir .][dir .][dir .]");
  EXPECT_EQ(split("", lib), "");
  EXPECT_EQ(split("/tmp/x/$LIB:/q/${PLATFORM}/y", lib), "[dir /tmp/x/][dir /q/]");
  EXPECT_EQ(split("$LIB:x$PLATFORM", lib), "[dir .][dir .]");
  EXPECT_EQ(split("$ORIGIN/lib:${ORIGIN}:$ORIGINX", lib),
            "[origin $ORIGIN/lib][origin ${ORIGIN}][dir .]");
  EXPECT_EQ(split("$ORIGIN/../../tmp:/usr/$LIB/..:/a/..$LIB", lib),
            "[unexpanded $ORIGIN/../../tmp][unexpanded /usr/$LIB/..][dir /a/]");
  EXPECT_EQ(split("/tmp/g::/x;y:$ORIGIN", gconv), "[dir /tmp/g][dir /x;y][dir $ORIGIN]");
  int seen = 0;
  EXPECT_FALSE(fnguard::for_each_search_dir("a:b:c", lib,
                                            [&](const fnguard::SearchDir&) { return ++seen < 2; }));
  EXPECT_EQ(seen, 2);
}

// glibc 2.36 rtld: LD_TRACE_LOADED_OBJECTS with any value, even empty,
// selects trace mode (what ldd runs); an entry without '=' is ignored, and
// so is LD_TRACE_PRELINKING since 2.36. musl's loader has no such variable.
TEST(ExecFormat, TraceModeComesFromTheEnvironment) {
  auto traces = [](LoaderKind kind, std::vector<const char*> env) {
    env.push_back(nullptr);
    return loader_env_traces(kind, env.data());
  };
  const LoaderKind g = LoaderKind::kGlibc;
  EXPECT_TRUE(traces(g, {"PATH=/bin", "LD_TRACE_LOADED_OBJECTS=1", "LD_WARN="}));
  EXPECT_TRUE(traces(g, {"LD_TRACE_LOADED_OBJECTS="}));
  EXPECT_FALSE(traces(g, {"LD_TRACE_LOADED_OBJECTS"}));
  EXPECT_FALSE(traces(g, {"LD_TRACE_LOADED_OBJECTSX=1"}));
  EXPECT_FALSE(traces(g, {"LD_TRACE_PRELINKING=1"}));
  EXPECT_FALSE(traces(g, {"X_LD_TRACE_LOADED_OBJECTS=1"}));
  EXPECT_FALSE(traces(g, {}));
  EXPECT_FALSE(loader_env_traces(g, nullptr));
  EXPECT_FALSE(traces(LoaderKind::kMusl, {"LD_TRACE_LOADED_OBJECTS=1"}));
  EXPECT_FALSE(traces(LoaderKind::kNone, {"LD_TRACE_LOADED_OBJECTS=1"}));
  EXPECT_STREQ(loader_trace_entry(g), "LD_TRACE_LOADED_OBJECTS=");
  EXPECT_EQ(loader_trace_entry(LoaderKind::kMusl), nullptr);
}

TEST(ExecEnv, ComposePreloadPutsOursFirstOnce) {
  char buf[256];
  ASSERT_GT(compose_preload("/opt/lib/libfnguard.so", nullptr, buf, sizeof buf), 0u);
  EXPECT_STREQ(buf, "LD_PRELOAD=/opt/lib/libfnguard.so");
  ASSERT_GT(compose_preload("/opt/lib/libfnguard.so", "/x/a.so /opt/lib/libfnguard.so:/y/b.so", buf,
                            sizeof buf),
            0u);
  EXPECT_STREQ(buf, "LD_PRELOAD=/opt/lib/libfnguard.so:/x/a.so:/y/b.so");
  EXPECT_EQ(compose_preload("/opt/lib/libfnguard.so", "/x/a.so", buf, 20), 0u);
}

TEST(ExecEnv, BuildChildEnvReplacesAndAppends) {
  const char* preload = "LD_PRELOAD=/lib/libfnguard.so";
  const char* enforcer = "FNGUARD_ENFORCER=image=1019,context=1020,events=1021";
  const char* out[16];

  // env={}: both appended.
  const char* empty[] = {nullptr};
  ASSERT_TRUE(build_child_env(const_cast<char* const*>(empty), preload, enforcer, out, 16));
  EXPECT_STREQ(out[0], preload);
  EXPECT_STREQ(out[1], enforcer);
  EXPECT_EQ(out[2], nullptr);

  // Null envp (execve(path, argv, NULL) is accepted by Linux).
  ASSERT_TRUE(build_child_env(nullptr, preload, enforcer, out, 16));
  EXPECT_STREQ(out[0], preload);

  // Forged values and duplicates are replaced by one entry each.
  const char* forged[] = {"PATH=/bin",  "LD_PRELOAD=/evil.so", "FNGUARD_ENFORCER=image=3",
                          "HOME=/root", "LD_PRELOAD=",         nullptr};
  ASSERT_TRUE(build_child_env(const_cast<char* const*>(forged), preload, enforcer, out, 16));
  std::vector<std::string> got;
  for (size_t i = 0; out[i] != nullptr; ++i) got.emplace_back(out[i]);
  EXPECT_EQ(got, (std::vector<std::string>{"PATH=/bin", enforcer, "HOME=/root", preload}));

  EXPECT_FALSE(build_child_env(const_cast<char* const*>(forged), preload, enforcer, out, 3));
}

TEST(ExecEnv, InitStripsGateAndNeedsEnforcer) {
  const char* none[] = {"PATH=/bin", nullptr};
  exec_env_init(const_cast<char* const*>(none), "/lib/libfnguard.so");
  EXPECT_FALSE(exec_env_ready());
  {
    EnvForExec env(const_cast<char* const*>(none));
    EXPECT_EQ(env.get(), const_cast<char* const*>(none));  // passed through untouched
  }

  const char* started[] = {"LD_PRELOAD=/lib/libfnguard.so",
                           "FNGUARD_ENFORCER=image=1019,context=1020,events=1021,gate=1022",
                           nullptr};
  exec_env_init(const_cast<char* const*>(started), "/lib/libfnguard.so");
  ASSERT_TRUE(exec_env_ready());
  EXPECT_STREQ(exec_env_enforcer(), "image=1019,context=1020,events=1021");
  EXPECT_STREQ(exec_env_own_library(), "/lib/libfnguard.so");

  const char* scrubbed[] = {"A=1", "LD_PRELOAD=/other.so", nullptr};
  EnvForExec env(const_cast<char* const*>(scrubbed));
  std::vector<std::string> got;
  for (size_t i = 0; env.get()[i] != nullptr; ++i) got.emplace_back(env.get()[i]);
  EXPECT_EQ(got,
            (std::vector<std::string>{"A=1", "LD_PRELOAD=/lib/libfnguard.so:/other.so",
                                      "FNGUARD_ENFORCER=image=1019,context=1020,events=1021"}));
}

TEST(ExecEnv, LargeEnvironmentsUseAMappingAndKeepEveryEntry) {
  const char* started[] = {"FNGUARD_ENFORCER=image=1019,context=1020,events=1021", nullptr};
  exec_env_init(const_cast<char* const*>(started), "/lib/libfnguard.so");
  ASSERT_TRUE(exec_env_ready());
  std::vector<std::string> storage;
  for (int i = 0; i < 5000; ++i) storage.push_back("VAR" + std::to_string(i) + "=x");
  std::string long_preload = "LD_PRELOAD=" + std::string(10000, 'a');
  storage.push_back(long_preload);
  std::vector<char*> envp;
  for (auto& s : storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  EnvForExec env(envp.data());
  size_t n = 0;
  bool has_enforcer = false;
  bool preload_first = false;
  for (; env.get()[n] != nullptr; ++n) {
    std::string e = env.get()[n];
    has_enforcer = has_enforcer || e.rfind("FNGUARD_ENFORCER=", 0) == 0;
    preload_first = preload_first || e.rfind("LD_PRELOAD=/lib/libfnguard.so:aaaa", 0) == 0;
  }
  EXPECT_EQ(n, 5002u);
  EXPECT_TRUE(has_enforcer);
  EXPECT_TRUE(preload_first);
}

TEST(ExecEnv, ProtectedNames) {
  EXPECT_TRUE(is_protected_env_name("LD_PRELOAD", 10));
  EXPECT_TRUE(is_protected_env_name("FNGUARD_ENFORCER", 16));
  EXPECT_TRUE(is_preload_name("LD_PRELOAD", 10));
  EXPECT_FALSE(is_preload_name("LD_PRELOADX", 11));
  EXPECT_FALSE(is_protected_env_name("FNGUARD_ENFORCE", 15));
}

}  // namespace
}  // namespace fnguard::enforcer
