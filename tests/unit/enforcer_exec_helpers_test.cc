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
