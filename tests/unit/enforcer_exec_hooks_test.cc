// The exec hooks under a real supervisor channel: python3 and /bin/sh start
// programs through system(), subprocess (vfork + execve), os.execv,
// os.posix_spawn and popen(); each denied start must not happen (the
// program would have created a marker file) and must be reported, in block
// and in monitor mode. Also: environment scrubbing does not drop protection
// in children, deep exec chains stay protected, static binaries are refused
// under require.preload, and libraries from writable places are not loaded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <string>
#include <vector>

#include "enforcer_harness.h"
#include "fnguard/common/sha256.h"

namespace fnguard::testing {
namespace {

const char* kPython = "/usr/bin/python3";

image::RuleSpec name_rule(Verdict verdict, const std::string& name) {
  image::RuleSpec spec;
  spec.verdict = verdict;
  spec.kind = image::MatchKind::kExecName;
  spec.pattern = name;
  return spec;
}

// A directory with an executable script `name` that creates `<dir>/<name>.ran`.
class Scripts {
 public:
  std::string add(const std::string& name) {
    std::string path = dir_ / name;
    dir_.write(name, "#!/bin/sh\ntouch '" + path + ".ran'\necho " + name + " ran\n");
    chmod(path.c_str(), 0755);
    return path;
  }
  bool ran(const std::string& name) const { return dir_.exists(name + ".ran"); }
  std::string path(const std::string& name) const { return dir_ / name; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
};

RunResult run_python(const PolicyImage& policy, const std::string& code, const Scripts& scripts) {
  RunOptions options;
  options.cwd = scripts.dir().path();
  // The scripts' directory first on PATH (through os.environ, so that the
  // program's own PATH search and its children see it).
  std::string prelude = "import os as _os\n_os.environ['PATH'] = '" + scripts.dir().path() +
                        ":' + _os.environ.get('PATH', '/usr/bin:/bin')\n";
  return run_protected(policy.build(), {kPython, "-c", prelude + code}, options);
}

PolicyImage deny_nc(Mode mode) {
  PolicyImage policy;
  policy.control(Control::kProcessExec, mode).rule(name_rule(Verdict::kDeny, "nc"));
  return policy;
}

const char* kBlocked = "\"action\":\"blocked\"";
const char* kAllowed = "\"action\":\"allowed\"";

TEST(EnforcerExec, OsSystemOfDeniedNameIsBlocked) {
  Scripts s;
  std::string nc = s.add("nc");
  RunResult r = run_python(deny_nc(Mode::kBlock), "import os\nprint('rc', os.system('nc'))", s);
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("rc"), "rc 32256") << r.dump();  // sh: exit 126, permission denied
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", kBlocked,
                           "\"rule\":\"process.exec.rules[0]\"", "\"target\":\"" + nc + "\""}))
      << r.dump();
}

TEST(EnforcerExec, OsSystemOfDeniedNameRunsAndIsReportedInMonitor) {
  Scripts s;
  s.add("nc");
  RunResult r = run_python(deny_nc(Mode::kMonitor), "import os\nprint('rc', os.system('nc'))", s);
  EXPECT_TRUE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("rc"), "rc 0") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", kAllowed, "\"mode\":\"monitor\""}))
      << r.dump();
}

// A name rule holds for the links on the way too: "other -> nc -> tool"
// runs what the policy calls "nc".
TEST(EnforcerExec, DeniedNameReachedThroughAnotherLinkIsBlocked) {
  Scripts s;
  std::string tool = s.add("tool");
  ASSERT_EQ(symlink(tool.c_str(), s.path("nc").c_str()), 0);
  ASSERT_EQ(symlink("nc", s.path("other").c_str()), 0);
  RunResult r = run_python(deny_nc(Mode::kBlock),
                           "import os\ntry:\n  os.execv('" + s.path("other") +
                               "', ['other'])\n"
                               "except OSError as e:\n  print('execv err', e.errno)\n",
                           s);
  EXPECT_FALSE(s.ran("tool")) << r.dump();
  EXPECT_EQ(r.line("execv"), "execv err 13") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", kBlocked,
                           "\"rule\":\"process.exec.rules[0]\"", "\"target\":\"" + tool + "\""}))
      << r.dump();
}

TEST(EnforcerExec, SubprocessRunIsBlockedAndAllowedProgramsRun) {
  Scripts s;
  s.add("nc");
  s.add("ok");
  RunResult r = run_python(deny_nc(Mode::kBlock),
                           "import subprocess\n"
                           "try:\n  subprocess.run(['nc'])\n  print('nc started')\n"
                           "except PermissionError as e:\n  print('nc err', e.errno)\n"
                           "print('status', subprocess.run(['ok']).returncode)\n",
                           s);
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_TRUE(s.ran("ok")) << r.dump();
  EXPECT_EQ(r.line("nc"), "nc err 13") << r.dump();
  EXPECT_EQ(r.line("status"), "status 0") << r.dump();
  // CPython's child (a vfork child) calls execv() without env=, execve() with.
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", kBlocked, "\"via\":\"execv\""}))
      << r.dump();
  EXPECT_FALSE(r.has_event({"\"target\":\"" + s.path("ok") + "\""})) << r.dump();
}

TEST(EnforcerExec, ExecvOfDeniedPathFailsWithEacces) {
  Scripts s;
  std::string tool = s.add("tool");
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock).deny(s.dir().path() + "/**");
  RunResult r = run_python(policy,
                           "import os\ntry:\n  os.execv('" + tool +
                               "', ['tool'])\n"
                               "except OSError as e:\n  print('execv err', e.errno)\n",
                           s);
  EXPECT_FALSE(s.ran("tool")) << r.dump();
  EXPECT_EQ(r.line("execv"), "execv err 13") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", kBlocked, "\"via\":\"execv\"",
                           "\"argv\":[\"tool\"]", "\"interpreter\":\"/bin/sh\""}))
      << r.dump();
}

// The exec target is the file's real path however it is named: through a
// symbolic link to its directory (resolved by the kernel), with ".." and
// "." (no link on the way: resolved lexically), or relative to the cwd.
TEST(EnforcerExec, TargetIsTheRealPathThroughLinksDotsAndRelativeNames) {
  Scripts s;
  std::string real = s.dir().path() + "/real";
  ASSERT_EQ(mkdir(real.c_str(), 0755), 0);
  ASSERT_EQ(symlink(real.c_str(), (s.dir().path() + "/link").c_str()), 0);
  std::string tool = s.add("real/tool");
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock).deny(real + "/**");
  RunResult r = run_python(policy,
                           "import os\n"
                           "for name in ['link/tool', './real/../real/./tool', 'real/tool', '" +
                               s.dir().path() +
                               "/link/../real/tool']:\n"
                               "  try:\n    os.execv(name, ['tool'])\n"
                               "  except OSError as e:\n    print('execv', name, e.errno)\n",
                           s);
  EXPECT_FALSE(s.ran("real/tool")) << r.dump();
  EXPECT_EQ(r.line("execv link/tool"), "execv link/tool 13") << r.dump();
  EXPECT_EQ(r.line("execv ./real/../real/./tool"), "execv ./real/../real/./tool 13") << r.dump();
  EXPECT_EQ(r.line("execv real/tool"), "execv real/tool 13") << r.dump();
  EXPECT_EQ(r.find_events({"\"control\":\"process.exec\"", kBlocked, "\"target\":\"" + tool + "\""})
                .size(),
            4u)
      << r.dump();
  EXPECT_FALSE(r.has_event({"\"target\":\"" + s.dir().path() + "/link"})) << r.dump();
}

TEST(EnforcerExec, PosixSpawnIsBlockedAndMonitored) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Scripts s;
    std::string nc = s.add("nc");
    RunResult r = run_python(deny_nc(mode),
                             "import os\ntry:\n  pid = os.posix_spawn('" + nc +
                                 "', ['nc'], {})\n"
                                 "  print('spawn', os.waitpid(pid, 0)[1])\n"
                                 "except OSError as e:\n  print('spawn err', e.errno)\n"
                                 "try:\n  pid = os.posix_spawnp('nc', ['nc'], os.environ)\n"
                                 "  print('spawnp', os.waitpid(pid, 0)[1])\n"
                                 "except OSError as e:\n  print('spawnp err', e.errno)\n",
                             s);
    if (mode == Mode::kBlock) {
      EXPECT_FALSE(s.ran("nc")) << r.dump();
      EXPECT_EQ(r.line("spawn"), "spawn err 13") << r.dump();
      EXPECT_EQ(r.line("spawnp"), "spawnp err 13") << r.dump();
      EXPECT_TRUE(r.has_event({kBlocked, "\"via\":\"posix_spawn\""})) << r.dump();
      EXPECT_TRUE(r.has_event({kBlocked, "\"via\":\"posix_spawnp\""})) << r.dump();
    } else {
      EXPECT_TRUE(s.ran("nc")) << r.dump();
      EXPECT_EQ(r.line("spawn"), "spawn 0") << r.dump();
      EXPECT_TRUE(r.has_event({kAllowed, "\"via\":\"posix_spawn\""})) << r.dump();
    }
  }
}

TEST(EnforcerExec, PopenAndSystemOfADeniedShellFail) {
  Scripts s;
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock).rule(name_rule(Verdict::kDeny, "dash"));
  RunResult r =
      run_python(policy,
                 "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                 "libc.popen.restype = ctypes.c_void_p\n"
                 "f = libc.popen(b'touch popen.ran', b'r')\n"
                 "print('popen', f is None, ctypes.get_errno())\n"
                 "print('system', libc.system(b'touch system.ran'), ctypes.get_errno())\n",
                 s);
  EXPECT_FALSE(s.dir().exists("popen.ran")) << r.dump();
  EXPECT_FALSE(s.dir().exists("system.ran")) << r.dump();
  EXPECT_EQ(r.line("popen"), "popen True 13") << r.dump();
  EXPECT_EQ(r.line("system"), "system 32512 13") << r.dump();
  EXPECT_TRUE(
      r.has_event({kBlocked, "\"via\":\"popen\"", "\"argv\":[\"sh\",\"-c\",\"touch popen.ran\"]"}))
      << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"via\":\"system\""})) << r.dump();
}

TEST(EnforcerExec, Sha256RuleDeniesByContent) {
  Scripts s;
  std::string tool = s.add("renamed-tool");
  int fd = open(tool.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  image::RuleSpec spec;
  spec.verdict = Verdict::kDeny;
  spec.kind = image::MatchKind::kExecSha256;
  ASSERT_TRUE(sha256_fd(fd, spec.sha256.data()));
  close(fd);
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock).rule(spec);
  RunResult r = run_python(
      policy,
      "import subprocess\ntry:\n  subprocess.run(['" + tool +
          "'])\n"
          "  print('run started')\nexcept PermissionError as e:\n  print('run err', e.errno)\n",
      s);
  EXPECT_FALSE(s.ran("renamed-tool")) << r.dump();
  EXPECT_EQ(r.line("run"), "run err 13") << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"rule\":\"process.exec.rules[0]\""})) << r.dump();
}

PolicyImage writable_tmp(Mode mode) {
  PolicyImage policy;
  policy.control(Control::kWritable, Mode::kOff, Verdict::kDeny).allow("/tmp/**");
  policy.control(Control::kExecFromWritable, mode, Verdict::kDeny);
  return policy;
}

TEST(EnforcerExec, ExecFromTmpIsBlockedByExecFromWritable) {
  Scripts s;  // lives under /tmp
  s.add("dropped");
  RunResult r = run_python(
      writable_tmp(Mode::kBlock),
      "import subprocess\ntry:\n  subprocess.run(['dropped'])\n"
      "  print('run started')\nexcept PermissionError as e:\n  print('run err', e.errno)\n"
      "print('sh', subprocess.run(['/bin/sh', '-c', 'exit 3']).returncode)\n",
      s);
  EXPECT_FALSE(s.ran("dropped")) << r.dump();
  EXPECT_EQ(r.line("run"), "run err 13") << r.dump();
  EXPECT_EQ(r.line("sh"), "sh 3") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec_from_writable\"", kBlocked,
                           "\"target\":\"" + s.path("dropped") + "\""}))
      << r.dump();
}

TEST(EnforcerExec, ExecFromTmpRunsInMonitor) {
  Scripts s;
  s.add("dropped");
  RunResult r =
      run_python(writable_tmp(Mode::kMonitor),
                 "import subprocess\nprint('run', subprocess.run(['dropped']).returncode)\n", s);
  EXPECT_TRUE(s.ran("dropped")) << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec_from_writable\"", kAllowed})) << r.dump();
}

TEST(EnforcerExec, MemfdFexecveCountsAsWritable) {
  Scripts s;
  RunResult r = run_python(
      writable_tmp(Mode::kBlock),
      "import os\nfd = os.memfd_create('x', 0)\n"
      "os.write(fd, open('/bin/true', 'rb').read())\n"
      "try:\n  os.execve(fd, ['x'], {})\nexcept OSError as e:\n  print('fexecve err', e.errno)\n",
      s);
  EXPECT_EQ(r.line("fexecve"), "fexecve err 13") << r.dump();
  EXPECT_TRUE(r.has_event(
      {"\"control\":\"process.exec_from_writable\"", kBlocked, "\"via\":\"fexecve\"", "memfd:x"}))
      << r.dump();
}

TEST(EnforcerExec, EmptyEnvironmentChildIsStillProtected) {
  Scripts s;
  s.add("nc");
  s.dir().write("child.sh", "PATH='" + s.dir().path() + "'\nexport PATH\nnc\necho nc-status $?\n");
  RunResult r = run_python(
      deny_nc(Mode::kBlock),
      "import subprocess\n"
      "p = subprocess.run(['/bin/sh', 'child.sh'], env={}, capture_output=True, text=True)\n"
      "print('child', p.stdout.strip())\n",
      s);
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("child"), "child nc-status 126") << r.dump();
  EXPECT_TRUE(r.has_event(
      {"\"control\":\"process.exec\"", kBlocked, "\"target\":\"" + s.path("nc") + "\""}))
      << r.dump();
}

TEST(EnforcerExec, ScrubbingTheEnvironmentDoesNotDropProtection) {
  Scripts s;
  s.add("nc");
  RunResult r = run_python(deny_nc(Mode::kBlock),
                           "import os, ctypes\n"
                           "del os.environ['LD_PRELOAD']\n"
                           "os.environ['FNGUARD_ENFORCER'] = 'image=3'\n"
                           "os.putenv('LD_PRELOAD', '/nonexistent.so')\n"
                           "ctypes.CDLL(None).clearenv()\n"
                           "print('env', os.getenv('LD_PRELOAD') is not None)\n"
                           "print('rc', os.system('PATH=" +
                               s.dir().path() + " nc'))\n",
                           s);
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("rc"), "rc 32256") << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"target\":\"" + s.path("nc") + "\""})) << r.dump();
}

TEST(EnforcerExec, DeepExecChainShShPythonIsProtected) {
  Scripts s;
  std::string nc = s.add("nc");
  s.dir().write("inner.py", "import os\ntry:\n  os.execv('" + nc +
                                "', ['nc'])\n"
                                "except OSError as e:\n  print('inner err', e.errno)\n");
  s.dir().write("middle.sh", std::string("exec ") + kPython + " inner.py\n");
  s.dir().write("outer.sh", "/bin/sh middle.sh\n");
  RunResult r = run_protected(deny_nc(Mode::kBlock).build(), {"/bin/sh", "outer.sh"},
                              RunOptions{.cwd = s.dir().path()});
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("inner"), "inner err 13") << r.dump();
  EXPECT_TRUE(r.has_event(
      {kBlocked, "\"target\":\"" + nc + "\"", "\"argv0\":\"" + std::string(kPython) + "\""}))
      << r.dump();
}

TEST(EnforcerExec, StaticBinaryIsRefusedUnderRequirePreload) {
  if (access("/usr/bin/busybox", X_OK) != 0) GTEST_SKIP() << "busybox-static is not installed";
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Scripts s;
    PolicyImage policy;
    policy.control(Control::kProcessExec, mode);
    image::Builder unused;
    std::vector<uint8_t> bytes = policy.build();
    // Set the require.preload flag in the image header.
    image::Header header;
    std::memcpy(&header, bytes.data(), sizeof header);
    header.flags |= image::kRequirePreload;
    std::memcpy(bytes.data(), &header, sizeof header);
    RunOptions options;
    options.cwd = s.dir().path();
    RunResult r = run_protected(bytes,
                                {kPython, "-c",
                                 "import subprocess\ntry:\n"
                                 "  print('busybox', subprocess.run(['/usr/bin/busybox', 'touch', "
                                 "'static.ran']).returncode)\n"
                                 "except PermissionError as e:\n  print('busybox err', e.errno)\n"},
                                options);
    if (mode == Mode::kBlock) {
      EXPECT_FALSE(s.dir().exists("static.ran")) << r.dump();
      EXPECT_EQ(r.line("busybox"), "busybox err 13") << r.dump();
      EXPECT_TRUE(r.has_event({kBlocked, "\"rule\":\"require.preload\"", "static binary"}))
          << r.dump();
    } else {
      EXPECT_TRUE(s.dir().exists("static.ran")) << r.dump();
      EXPECT_TRUE(r.has_event({kAllowed, "\"rule\":\"require.preload\""})) << r.dump();
    }
  }
}

TEST(EnforcerExec, DlopenFromTmpIsBlocked) {
  Scripts s;
  std::string lib = s.dir() / "libz-copy.so";
  ASSERT_EQ(std::system(("cp /usr/lib/x86_64-linux-gnu/libz.so.1 " + lib).c_str()), 0);
  RunResult r = run_python(writable_tmp(Mode::kBlock),
                           "import ctypes\ntry:\n  ctypes.CDLL('" + lib +
                               "')\n  print('dlopen loaded')\n"
                               "except OSError as e:\n  print('dlopen err', 'fnguard' in str(e))\n"
                               "ctypes.CDLL('libz.so.1')\nprint('system lib ok')\n",
                           s);
  EXPECT_EQ(r.line("dlopen"), "dlopen err True") << r.dump();
  EXPECT_EQ(r.line("system"), "system lib ok") << r.dump();
  EXPECT_TRUE(
      r.has_event({"\"control\":\"process.exec_from_writable\"", kBlocked, "\"via\":\"dlopen\""}))
      << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

TEST(EnforcerExecNode, ExecSyncOfDeniedNameIsBlocked) {
  if (access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "node is not installed";
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Scripts s;
    std::string nc = s.add("nc");
    RunOptions options;
    options.cwd = s.dir().path();
    RunResult r =
        run_protected(deny_nc(mode).build(),
                      {"/usr/bin/node", "-e",
                       "const cp = require('child_process');\n"
                       "process.env.PATH = '" +
                           s.dir().path() +
                           ":' + process.env.PATH;\n"
                           "try { cp.execSync('nc', {stdio: 'ignore'}); console.log('exec ok'); }\n"
                           "catch (e) { console.log('exec status ' + e.status); }\n"},
                      options);
    if (mode == Mode::kBlock) {
      EXPECT_FALSE(s.ran("nc")) << r.dump();
      EXPECT_EQ(r.line("exec"), "exec status 126") << r.dump();
      EXPECT_TRUE(
          r.has_event({"\"control\":\"process.exec\"", kBlocked, "\"target\":\"" + nc + "\""}))
          << r.dump();
    } else {
      EXPECT_TRUE(s.ran("nc")) << r.dump();
      EXPECT_EQ(r.line("exec"), "exec ok") << r.dump();
      EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", kAllowed})) << r.dump();
    }
  }
}

TEST(EnforcerExecNode, SpawnOfDeniedProgramFailsWithEacces) {
  if (access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "node is not installed";
  Scripts s;
  std::string nc = s.add("nc");
  RunResult r = run_protected(deny_nc(Mode::kBlock).build(),
                              {"/usr/bin/node", "-e",
                               "const r = require('child_process').spawnSync('" + nc +
                                   "', [], {env: {}});\n"
                                   "console.log('spawn ' + (r.error ? r.error.code : r.status + ' "
                                   "' + r.signal + ' ' + r.stderr));\n"});
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("spawn"), "spawn EACCES") << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"target\":\"" + nc + "\""})) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

// The C entry points Python does not use itself, called through ctypes.
TEST(EnforcerExec, ExeclFamilyAndExecveatAreChecked) {
  Scripts s;
  std::string nc = s.add("nc");
  RunResult r = run_python(deny_nc(Mode::kBlock),
                           "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                           "p = b'" +
                               nc +
                               "'\nnull = ctypes.c_char_p(None)\n"
                               "def show(tag, rc):\n  print(tag, rc, ctypes.get_errno())\n"
                               "show('execl', libc.execl(p, b'nc', null))\n"
                               "show('execlp', libc.execlp(b'nc', b'nc', b'-x', null))\n"
                               "env = (ctypes.c_char_p * 2)(b'A=1', None)\n"
                               "show('execle', libc.execle(p, b'nc', null, env))\n"
                               "argv = (ctypes.c_char_p * 2)(b'nc', None)\n"
                               "show('execveat', libc.execveat(-100, p, argv, env, 0))\n"
                               "show('execvpe', libc.execvpe(b'nc', argv, env))\n",
                           s);
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  for (const char* via : {"execl", "execlp", "execle", "execveat", "execvpe"}) {
    EXPECT_EQ(r.line(via), std::string(via) + " -1 13") << r.dump();
    EXPECT_TRUE(r.has_event({kBlocked, std::string("\"via\":\"") + via + "\""})) << via << "\n"
                                                                                 << r.dump();
  }
  EXPECT_TRUE(r.has_event({"\"via\":\"execlp\"", "\"argv\":[\"nc\",\"-x\"]"})) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

// CPython starts children with vfork; a successful exec in the vfork child
// must leave the parent thread fully protected (no guard left held).
TEST(EnforcerExec, ParentStaysProtectedAfterVforkChildExecs) {
  Scripts s;
  s.add("ok");
  std::string nc = s.add("nc");
  RunResult r =
      run_python(deny_nc(Mode::kBlock),
                 "import subprocess, os\n"
                 "for i in range(3):\n  subprocess.run(['ok'], stdout=subprocess.DEVNULL)\n"
                 "try:\n  os.execv('" +
                     nc + "', ['nc'])\nexcept OSError as e:\n  print('after err', e.errno)\n",
                 s);
  EXPECT_TRUE(s.ran("ok")) << r.dump();
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("after"), "after err 13") << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

// Runs the script "wrapper" from the scripts' directory; prints "run err N"
// when the exec fails.
const char* kRunWrapper =
    "import subprocess\ntry:\n  subprocess.run(['wrapper'])\n  print('run started')\n"
    "except PermissionError as e:\n  print('run err', e.errno)\n";

// "#!/path/to/nc" runs nc through the kernel's script handler: a denied
// interpreter blocks the script.
TEST(EnforcerExec, ScriptWithDeniedInterpreterIsBlocked) {
  Scripts s;
  std::string nc = s.add("nc");
  s.dir().write("wrapper", "#!" + nc + "\n");
  chmod((s.dir() / "wrapper").c_str(), 0755);
  RunResult r =
      run_python(deny_nc(Mode::kBlock), kRunWrapper, s);
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("run"), "run err 13") << r.dump();
  EXPECT_TRUE(
      r.has_event({kBlocked, "\"target\":\"" + nc + "\"", "the script's interpreter is denied"}))
      << r.dump();
}

// The same through links: "#!other" where other -> nc -> tool.
TEST(EnforcerExec, ScriptWhoseInterpreterIsADeniedNameBehindLinksIsBlocked) {
  Scripts s;
  std::string tool = s.add("tool");
  ASSERT_EQ(symlink(tool.c_str(), s.path("nc").c_str()), 0);
  ASSERT_EQ(symlink("nc", s.path("other").c_str()), 0);
  s.dir().write("wrapper", "#!" + s.path("other") + "\n");
  chmod((s.dir() / "wrapper").c_str(), 0755);
  RunResult r =
      run_python(deny_nc(Mode::kBlock), kRunWrapper, s);
  EXPECT_FALSE(s.ran("tool")) << r.dump();
  EXPECT_EQ(r.line("run"), "run err 13") << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "the script's interpreter is denied"})) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

// A set-group-ID program that changes the group makes ld.so ignore
// LD_PRELOAD: under require.preload it is refused like a static binary.
TEST(EnforcerExec, SetgidProgramIsRefusedUnderRequirePreload) {
  Scripts s;
  std::string prog = s.dir() / "sgid-true";
  ASSERT_EQ(std::system(("cp /bin/true " + prog).c_str()), 0);
  if (chown(prog.c_str(), static_cast<uid_t>(-1), 65534) != 0 || chmod(prog.c_str(), 02755) != 0 ||
      getegid() == 65534) {
    GTEST_SKIP() << "cannot make a set-group-ID file for another group here";
  }
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock);
  std::vector<uint8_t> bytes = policy.build();
  image::Header header;
  std::memcpy(&header, bytes.data(), sizeof header);
  header.flags |= image::kRequirePreload;
  std::memcpy(bytes.data(), &header, sizeof header);
  RunResult r = run_protected(
      bytes, {kPython, "-c",
              "import subprocess\ntry:\n  print('sgid', subprocess.run(['" + prog +
                  "']).returncode)\nexcept PermissionError as e:\n  print('sgid err', e.errno)\n"});
  EXPECT_EQ(r.line("sgid"), "sgid err 13") << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"rule\":\"require.preload\"", "set-group-ID"})) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

// The dynamic loader run as a program (F2 of the enforcer review): it maps
// its first non-option argument and runs it, so that program is decided
// like an exec, in both modes, whatever loader options come before it.
const char* kLoader = "/lib64/ld-linux-x86-64.so.2";
const char* kMuslLoader = "/lib/ld-musl-x86_64.so.1";

PolicyImage deny_touch(Mode mode) {
  PolicyImage policy;
  policy.control(Control::kProcessExec, mode).rule(name_rule(Verdict::kDeny, "touch"));
  return policy;
}

// Python code that runs each argv of `runs` (a Python list literal) with
// subprocess and prints "run<i> rc N" or "run<i> err N".
std::string run_each(const std::string& runs) {
  return "import subprocess\n"
         "for i, argv in enumerate(" +
         runs +
         "):\n"
         "  try:\n    print('run%d rc' % i, subprocess.run(argv).returncode)\n"
         "  except OSError as e:\n    print('run%d err' % i, e.errno)\n";
}

TEST(EnforcerExec, DynamicLoaderRunningADeniedProgramIsBlocked) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Scripts s;
    std::string m = s.dir() / "m";
    RunResult r = run_python(
        deny_touch(mode),
        run_each(std::string("[['") + kLoader + "', '/usr/bin/touch', '" + m + "0'], ['" + kLoader +
                 "', '--inhibit-cache', '--library-path', '/nonexistent', '--argv0', " +
                 "'x', '--preload', '', '/usr/bin/touch', '" + m + "1'], ['" + kLoader +
                 "', '--', '/usr/bin/touch', '" + m + "2']]") +
            "import os\nprint('system', os.system('" + kLoader + " /usr/bin/touch " + m + "3'))\n",
        s);
    if (mode == Mode::kBlock) {
      for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(s.dir().exists("m" + std::to_string(i))) << i << r.dump();
        EXPECT_EQ(r.line("run" + std::to_string(i)), "run" + std::to_string(i) + " err 13")
            << r.dump();
      }
      EXPECT_FALSE(s.dir().exists("m3")) << r.dump();
      EXPECT_EQ(r.line("system"), "system 32256") << r.dump();  // sh: 126
      EXPECT_EQ(
          r.find_events({"\"control\":\"process.exec\"", kBlocked,
                         "\"rule\":\"process.exec.rules[0]\"", "\"target\":\"/usr/bin/touch\"",
                         "\"loader\":\"", "run through the dynamic loader"})
              .size(),
          4u)
          << r.dump();
    } else {
      for (int i = 0; i < 2; ++i) EXPECT_TRUE(s.dir().exists("m" + std::to_string(i))) << r.dump();
      EXPECT_TRUE(s.dir().exists("m3")) << r.dump();
      EXPECT_TRUE(r.has_event({"\"control\":\"process.exec\"", kAllowed,
                               "\"target\":\"/usr/bin/touch\"", "\"loader\":\""}))
          << r.dump();
    }
  }
}

// --list, --verify, --help and --version run no program: allowed, no event.
// An option the parser does not know is refused in block mode (its
// argument count is unknown), and so is a program given by bare name
// (glibc looks it up in ld.so.cache).
TEST(EnforcerExec, DynamicLoaderListingIsAllowedUnknownOptionsFailClosed) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Scripts s;
  RunResult r = run_python(
      deny_touch(Mode::kBlock),
      "import subprocess\n"
      "for i, argv in enumerate([['" +
          std::string(kLoader) + "', '--list', '/usr/bin/touch'], ['" + kLoader +
          "', '--verify', '/usr/bin/touch'], ['" + kLoader +
          "', '--version']]):\n"
          "  p = subprocess.run(argv, capture_output=True)\n"
          "  print('ok%d' % i, p.returncode)\n" +
          run_each(std::string("[['") + kLoader + "', '--future-option', '/usr/bin/touch', '" +
                   (s.dir() / "m") + "'], ['" + kLoader + "', 'touch']]"),
      s);
  EXPECT_EQ(r.line("ok0"), "ok0 0") << r.dump();
  EXPECT_EQ(r.line("ok1"), "ok1 0") << r.dump();
  EXPECT_EQ(r.line("ok2"), "ok2 0") << r.dump();
  EXPECT_EQ(r.line("run0"), "run0 err 13") << r.dump();
  EXPECT_EQ(r.line("run1"), "run1 err 13") << r.dump();
  EXPECT_TRUE(r.has_event(
      {kBlocked, "\"rule\":\"process.exec.unverifiable\"", "an option fnguard does not know"}))
      << r.dump();
  EXPECT_TRUE(r.has_event(
      {kBlocked, "\"rule\":\"process.exec.unverifiable\"", "look its program up by name"}))
      << r.dump();
  EXPECT_FALSE(r.has_event({"--list"})) << r.dump();
}

// exec_from_writable holds for the program the loader runs, relative to the
// cwd as the loader opens it; musl's loader too.
TEST(EnforcerExec, DynamicLoaderRunningAProgramFromTmpIsBlocked) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Scripts s;
  ASSERT_EQ(std::system(("cp /usr/bin/touch " + (s.dir() / "dropped")).c_str()), 0);
  std::string runs = std::string("[['") + kLoader + "', './dropped', 'm0'], ['" + kLoader + "', '" +
                     (s.dir() / "dropped") + "', 'm1']";
  bool musl = access(kMuslLoader, X_OK) == 0;
  if (musl) runs += std::string(", ['") + kMuslLoader + "', '--preload', 'x', './dropped', 'm2']";
  RunResult r = run_python(writable_tmp(Mode::kBlock), run_each(runs + "]"), s);
  EXPECT_EQ(r.line("run0"), "run0 err 13") << r.dump();
  EXPECT_EQ(r.line("run1"), "run1 err 13") << r.dump();
  EXPECT_FALSE(s.dir().exists("m0")) << r.dump();
  EXPECT_FALSE(s.dir().exists("m1")) << r.dump();
  EXPECT_EQ(r.find_events({"\"control\":\"process.exec_from_writable\"", kBlocked,
                           "\"target\":\"" + (s.dir() / "dropped") + "\"", "\"loader\":\""})
                .size(),
            musl ? 3u : 2u)
      << r.dump();
  if (musl) {
    EXPECT_EQ(r.line("run2"), "run2 err 13") << r.dump();
  }
}

// A library written to /tmp and loaded into an allowed program by
// LD_PRELOAD, LD_AUDIT or the loader's --preload/--audit runs the dropped
// code without exec'ing it: exec_from_writable decides each library (bare
// names along LD_LIBRARY_PATH or --library-path). Libraries from system
// directories, and fnguard's own, are not in the way.
TEST(EnforcerExec, LibrariesPreloadedFromTmpAreBlockedLikeDroppedPrograms) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Scripts s;
  std::string lib = s.dir() / "libz-copy.so";
  ASSERT_EQ(std::system(("cp /usr/lib/x86_64-linux-gnu/libz.so.1 " + lib).c_str()), 0);
  const std::string prelude =
      "import os, subprocess\n"
      "def attempt(tag, argv, **extra):\n"
      "  try:\n    print(tag, 'rc', subprocess.run(argv, env=dict(os.environ, "
      "**extra)).returncode)\n"
      "  except OSError as e:\n    print(tag, 'err', e.errno)\n";
  const std::string preload = "attempt('preload', ['/usr/bin/true'], LD_PRELOAD='" + lib + "')\n";
  std::string code =
      prelude + preload +
      "attempt('list', ['/usr/bin/true'], LD_PRELOAD='/usr/lib/x86_64-linux-gnu/libz.so.1:" + lib +
      "')\n"
      "attempt('audit', ['/usr/bin/true'], LD_AUDIT='" +
      lib +
      "')\n"
      "attempt('bare', ['/usr/bin/true'], LD_PRELOAD='libz-copy.so', LD_LIBRARY_PATH='" +
      s.dir().path() + "')\n" + "attempt('option', ['" + kLoader + "', '--preload', '" + lib +
      "', '/usr/bin/true'])\n" + "attempt('option_bare', ['" + kLoader +
      "', '--preload', 'libz-copy.so', '/usr/bin/true'], LD_LIBRARY_PATH='" + s.dir().path() +
      "')\n" +
      "attempt('system_lib', ['/usr/bin/true'], LD_PRELOAD='/usr/lib/x86_64-linux-gnu/libz.so.1')\n"
      "os.environ['LD_PRELOAD'] = '" +
      lib + "'\n" + "print('shell', os.system('true'))\n";
  RunResult r = run_python(writable_tmp(Mode::kBlock), code, s);
  EXPECT_EQ(r.line("preload"), "preload err 13") << r.dump();
  EXPECT_EQ(r.line("list"), "list err 13") << r.dump();
  EXPECT_EQ(r.line("audit"), "audit err 13") << r.dump();
  EXPECT_EQ(r.line("bare"), "bare err 13") << r.dump();
  EXPECT_EQ(r.line("option"), "option err 13") << r.dump();
  EXPECT_EQ(r.line("option_bare"), "option_bare err 13") << r.dump();
  EXPECT_EQ(r.line("system_lib"), "system_lib rc 0") << r.dump();
  EXPECT_EQ(r.line("shell"), "shell 32512") << r.dump();  // the shell could not run
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec_from_writable\"", kBlocked,
                           "\"target\":\"" + lib + "\"",
                           "a library LD_PRELOAD loads into the program lies in a writable "
                           "location"}))
      << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "an audit library LD_AUDIT loads"})) << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "the loader's --preload loads"})) << r.dump();

  // Monitor: the same exec runs, and says so.
  RunResult m = run_python(writable_tmp(Mode::kMonitor), prelude + preload, s);
  EXPECT_EQ(m.line("preload"), "preload rc 0") << m.dump();
  EXPECT_TRUE(m.has_event(
      {"\"control\":\"process.exec_from_writable\"", kAllowed, "\"target\":\"" + lib + "\""}))
      << m.dump();
}

// LD_LIBRARY_PATH (or the loader's --library-path) naming a directory in
// /tmp has the loader take the program's own libraries from there: a
// dropped libc.so.6 or libz.so.1 runs inside an allowed program. GCONV_PATH
// does the same for iconv's modules. exec_from_writable decides the
// directories themselves, as the loader reads them: an empty entry is the
// cwd, $LIB expands under its directory, $ORIGIN is the program's own
// directory, and ".." after a token is not followed. The system's
// directories and Lambda's default library path are not in the way.
TEST(EnforcerExec, LibrarySearchPathsIntoTmpAreBlocked) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Scripts s;
  const std::string dir = s.dir().path();
  const std::string prelude =
      "import os, subprocess\n"
      "def attempt(tag, argv, cwd=None, **extra):\n"
      "  try:\n    print(tag, 'rc', subprocess.run(argv, cwd=cwd, env=dict(os.environ, "
      "**extra)).returncode)\n"
      "  except OSError as e:\n    print(tag, 'err', e.errno)\n";
  const std::string env_dir =
      "attempt('env_dir', ['/usr/bin/true'], LD_LIBRARY_PATH='/usr/lib:" + dir + "')\n";
  std::string code =
      prelude + env_dir + "attempt('cwd', ['/usr/bin/true'], cwd='" + dir +
      "', LD_LIBRARY_PATH='/usr/lib:')\n"
      "attempt('token', ['/usr/bin/true'], LD_LIBRARY_PATH='" +
      dir +
      "/$LIB')\n"
      "attempt('missing', ['/usr/bin/true'], LD_LIBRARY_PATH='" +
      dir +
      "/not/yet')\n"
      "attempt('climb', ['/usr/bin/true'], LD_LIBRARY_PATH='$ORIGIN/../../tmp')\n"
      "attempt('option', ['" +
      kLoader + "', '--library-path', '" + dir +
      "', '/usr/bin/true'])\n"
      "attempt('gconv', ['/usr/bin/true'], GCONV_PATH='" +
      dir +
      "')\n"
      "attempt('origin', ['/usr/bin/true'], LD_LIBRARY_PATH='$ORIGIN/lib:${ORIGIN}')\n"
      "attempt('system', ['/usr/bin/true'], LD_LIBRARY_PATH='/usr/lib/x86_64-linux-gnu', "
      "GCONV_PATH='/usr/lib/x86_64-linux-gnu/gconv')\n"
      "attempt('lambda', ['/usr/bin/true'], LD_LIBRARY_PATH='/var/lang/lib:/lib64:/usr/lib64:"
      "/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib')\n";
  // Symbolic links from outside the writable locations into one: an
  // absolute target, a relative one, and one through a chain of two.
  char links[] = "/run/fnguard-llp-XXXXXX";
  ASSERT_NE(mkdtemp(links), nullptr);
  const std::string l(links);
  ASSERT_EQ(symlink(dir.c_str(), (l + "/abs").c_str()), 0);
  ASSERT_EQ(symlink(("../.." + dir).c_str(), (l + "/rel").c_str()), 0);
  ASSERT_EQ(symlink("abs", (l + "/chain").c_str()), 0);
  ASSERT_EQ(symlink("/usr/lib", (l + "/system").c_str()), 0);
  code += "attempt('link_abs', ['/usr/bin/true'], LD_LIBRARY_PATH='" + l +
          "/abs')\n"
          "attempt('link_rel', ['/usr/bin/true'], LD_LIBRARY_PATH='" +
          l +
          "/rel')\n"
          "attempt('link_chain', ['/usr/bin/true'], LD_LIBRARY_PATH='/usr/lib:" +
          l +
          "/chain/sub')\n"
          "attempt('link_system', ['/usr/bin/true'], LD_LIBRARY_PATH='" +
          l + "/system')\n";
  RunResult r = run_python(writable_tmp(Mode::kBlock), code, s);
  ASSERT_EQ(std::system(("rm -rf " + l).c_str()), 0);
  EXPECT_EQ(r.line("link_system"), "link_system rc 0") << r.dump();
  for (const char* tag : {"link_abs", "link_rel", "link_chain"}) {
    EXPECT_EQ(r.line(tag), std::string(tag) + " err 13") << r.dump();
  }
  EXPECT_TRUE(r.has_event({kBlocked, "\"target\":\"" + dir + "/sub\""})) << r.dump();
  for (const char* tag : {"env_dir", "cwd", "token", "missing", "climb", "option", "gconv"}) {
    EXPECT_EQ(r.line(tag), std::string(tag) + " err 13") << r.dump();
  }
  for (const char* tag : {"origin", "system", "lambda"}) {
    EXPECT_EQ(r.line(tag), std::string(tag) + " rc 0") << r.dump();
  }
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec_from_writable\"", kBlocked,
                           "\"target\":\"" + dir + "\"",
                           "LD_LIBRARY_PATH has the loader look for the program's libraries in a "
                           "writable location"}))
      << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"target\":\"" + dir + "/not/yet\""})) << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "climbs out of a dynamic string token"})) << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "the loader's --library-path has it look"})) << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "GCONV_PATH has iconv load its modules"})) << r.dump();

  // Monitor: the exec runs, and says so.
  RunResult m = run_python(writable_tmp(Mode::kMonitor), prelude + env_dir, s);
  EXPECT_EQ(m.line("env_dir"), "env_dir rc 0") << m.dump();
  EXPECT_TRUE(m.has_event(
      {"\"control\":\"process.exec_from_writable\"", kAllowed, "\"target\":\"" + dir + "\""}))
      << m.dump();
}

// A file written to /tmp (or a memfd) mapped with PROT_EXEC runs its code
// without any exec or dlopen: exec_from_writable decides mmap(PROT_EXEC) of
// a file, which then fails with EPERM as on a noexec mount. A system
// library, an anonymous executable mapping (what a JIT makes) and a
// non-executable mapping of the same /tmp file are not in the way.
TEST(EnforcerExec, ExecutableMappingsOfFilesInTmpAreBlocked) {
  Scripts s;
  const std::string file = s.dir() / "code.bin";
  const std::string code =
      "import mmap, os\n"
      "def attempt(tag, fd, prot, flags=mmap.MAP_PRIVATE):\n"
      "  try:\n"
      "    m = mmap.mmap(fd, 4096, flags=flags, prot=prot)\n"
      "    m.close()\n"
      "    print(tag, 'ok')\n"
      "  except OSError as e:\n"
      "    print(tag, 'err', e.errno)\n"
      "with open('" +
      file +
      "', 'wb') as f: f.write(b'\\xc3' * 4096)\n"
      "fd = os.open('" +
      file +
      "', os.O_RDONLY)\n"
      "attempt('tmp_exec', fd, mmap.PROT_READ | mmap.PROT_EXEC)\n"
      "attempt('tmp_read', fd, mmap.PROT_READ)\n"
      "m = os.memfd_create('x')\n"
      "os.write(m, b'\\xc3' * 4096)\n"
      "attempt('memfd_exec', m, mmap.PROT_READ | mmap.PROT_EXEC)\n"
      "lib = os.open('/usr/lib/x86_64-linux-gnu/libz.so.1' if os.path.exists("
      "'/usr/lib/x86_64-linux-gnu/libz.so.1') else '/usr/lib/aarch64-linux-gnu/libz.so.1', "
      "os.O_RDONLY)\n"
      "attempt('system_exec', lib, mmap.PROT_READ | mmap.PROT_EXEC)\n"
      "attempt('anonymous_exec', -1, mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC, "
      "mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)\n";
  RunResult r = run_python(writable_tmp(Mode::kBlock), code, s);
  EXPECT_EQ(r.line("tmp_exec"), "tmp_exec err 1") << r.dump();
  EXPECT_EQ(r.line("memfd_exec"), "memfd_exec err 1") << r.dump();
  for (const char* tag : {"tmp_read", "system_exec", "anonymous_exec"}) {
    EXPECT_EQ(r.line(tag), std::string(tag) + " ok") << r.dump();
  }
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec_from_writable\"", kBlocked,
                           "\"target\":\"" + file + "\"", "\"via\":\"mmap\"",
                           "a file mapped executable lies in a writable location"}))
      << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "a memfd or deleted file is mapped executable"})) << r.dump();

  // Monitor: the mapping is made, and reported.
  RunResult m = run_python(writable_tmp(Mode::kMonitor), code, s);
  EXPECT_EQ(m.line("tmp_exec"), "tmp_exec ok") << m.dump();
  EXPECT_TRUE(m.has_event({"\"control\":\"process.exec_from_writable\"", kAllowed,
                           "\"target\":\"" + file + "\"", "\"via\":\"mmap\""}))
      << m.dump();
}

// A buggy caller passes a pointer into the first page (NULL plus a field's
// offset) as a path, an address or an argument vector: libc alone returns
// EFAULT, and so must a hooked call, with every control on, rather than
// crash the caller by reading it.
TEST(EnforcerExec, PointersIntoTheFirstPageGiveEfaultNotACrash) {
  Scripts s;
  PolicyImage policy;
  policy.control(Control::kFilesRead, Mode::kBlock).deny("/etc/shadow");
  policy.control(Control::kFilesWrite, Mode::kBlock).deny("/etc/**");
  policy.control(Control::kNetOutbound, Mode::kBlock).deny("169.254.169.254");
  policy.control(Control::kProcessExec, Mode::kBlock).rule(name_rule(Verdict::kDeny, "touch"));
  policy.control(Control::kWritable, Mode::kOff, Verdict::kDeny).allow("/tmp/**");
  policy.control(Control::kExecFromWritable, Mode::kBlock, Verdict::kDeny);
  const std::string code = R"(
import ctypes, os, socket
libc = ctypes.CDLL(None, use_errno=True)
bad = ctypes.c_void_p(16)
def attempt(tag, fn, *args):
    ctypes.set_errno(0)
    r = fn(*args)
    print(tag, 'errno', ctypes.get_errno())
libc.fopen.restype = ctypes.c_void_p
attempt('open', libc.open, bad, 0)
attempt('openat', libc.openat, -100, bad, 0)
attempt('fopen', libc.fopen, bad, b'r')
attempt('execve', libc.execve, bad, None, None)
attempt('execve_argv', libc.execve, b'/usr/bin/true', bad, None)
attempt('execvp', libc.execvp, bad, None)
argv = (ctypes.c_void_p * 3)(ctypes.cast(ctypes.c_char_p(b'true'), ctypes.c_void_p), bad, None)
attempt('execve_element', libc.execve, b'/usr/bin/true', argv, None)
pid = ctypes.c_int(0)
def spawn(tag, fn, path, av, ev):
    r = fn(ctypes.byref(pid), path, None, None, av, ev)
    print(tag, 'errno', r)
spawn('spawn_path', libc.posix_spawn, bad, None, None)
spawn('spawn_argv', libc.posix_spawn, b'/usr/bin/true', bad, None)
spawn('spawn_element', libc.posix_spawn, b'/usr/bin/true', argv, None)
spawn('spawnp_envp', libc.posix_spawnp, b'true', None, bad)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
attempt('connect', libc.connect, s.fileno(), bad, 16)
attempt('sendto', libc.sendto, s.fileno(), b'x', 1, 0, bad, 16)
attempt('sendmsg', libc.sendmsg, s.fileno(), bad, 0)
attempt('sendmmsg', libc.sendmmsg, s.fileno(), bad, 1, 0)
print('alive')
)";
  RunResult r = run_python(policy, code, s);
  EXPECT_EQ(r.line("alive"), "alive") << r.dump();
  for (const char* tag : {"open", "openat", "fopen", "execve", "execve_argv", "execvp",
                          "execve_element", "spawn_path", "spawn_argv", "spawn_element",
                          "spawnp_envp", "connect", "sendto", "sendmsg", "sendmmsg"}) {
    EXPECT_EQ(r.line(tag), std::string(tag) + " errno 14") << r.dump();
  }
}

// A "#!" line naming the loader: the kernel builds the loader's argument
// vector from the line and the caller's argv ("#!ld.so --argv0" makes the
// script path the value of --argv0 and argv[1] the program).
TEST(EnforcerExec, ScriptWhoseInterpreterIsTheLoaderIsDecidedOnItsProgram) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  Scripts s;
  s.dir().write("wrapper", std::string("#!") + kLoader + " --argv0\n");
  chmod((s.dir() / "wrapper").c_str(), 0755);
  RunResult r = run_python(
      deny_touch(Mode::kBlock),
      run_each("[['" + (s.dir() / "wrapper") + "', '/usr/bin/touch', '" + (s.dir() / "m") + "']]"),
      s);
  EXPECT_FALSE(s.dir().exists("m")) << r.dump();
  EXPECT_EQ(r.line("run0"), "run0 err 13") << r.dump();
  EXPECT_TRUE(
      r.has_event({kBlocked, "\"target\":\"/usr/bin/touch\"", "run through the dynamic loader"}))
      << r.dump();
}

// glibc's ldd runs `LD_TRACE_LOADED_OBJECTS=1 ld.so FILE`: the variable,
// with any value (glibc 2.36 rtld), puts the loader in trace mode, which
// lists FILE's libraries and runs nothing, like --list. So ldd of a denied
// program, or of one in a writable place, works; without the variable the
// program is still decided, and LD_TRACE_PRELINKING (ignored since glibc
// 2.36: the program runs) changes nothing.
TEST(EnforcerExec, DynamicLoaderInTraceModeForLddRunsNothingAndIsAllowed) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Scripts s;
    ASSERT_EQ(std::system(("cp /usr/bin/touch " + (s.dir() / "dropped")).c_str()), 0);
    PolicyImage policy = writable_tmp(mode);
    policy.control(Control::kProcessExec, mode).rule(name_rule(Verdict::kDeny, "touch"));
    std::string m = s.dir() / "m";
    const std::string code = "L = '" + std::string(kLoader) + "'\nM = '" + m + "'\n" + R"(
import os, subprocess
def run(tag, argv, extra):
  env = dict(os.environ)
  env.update(extra)
  try:
    p = subprocess.run(argv, env=env, capture_output=True)
    print(tag, 'rc', p.returncode, b'libc.so' in p.stdout)
  except OSError as e:
    print(tag, 'err', e.errno)
run('trace', [L, '/usr/bin/touch', M + '0'], {'LD_TRACE_LOADED_OBJECTS': '1'})
run('empty', [L, './dropped', M + '1'], {'LD_TRACE_LOADED_OBJECTS': ''})
run('ldd_denied', ['/usr/bin/ldd', '/usr/bin/touch'], {})
run('ldd_tmp', ['/usr/bin/ldd', './dropped'], {})
run('plain', [L, '/usr/bin/touch', M + '2'], {})
run('prelink', [L, '/usr/bin/touch', M + '3'], {'LD_TRACE_PRELINKING': '1'})
)";
    RunResult r = run_python(policy, code, s);
    EXPECT_EQ(r.line("trace"), "trace rc 0 True") << r.dump();
    EXPECT_EQ(r.line("empty"), "empty rc 0 True") << r.dump();
    EXPECT_EQ(r.line("ldd_denied"), "ldd_denied rc 0 True") << r.dump();
    EXPECT_EQ(r.line("ldd_tmp"), "ldd_tmp rc 0 True") << r.dump();
    EXPECT_FALSE(s.dir().exists("m0")) << r.dump();
    EXPECT_FALSE(s.dir().exists("m1")) << r.dump();
    EXPECT_TRUE(r.find_events({"\"control\":\"process.exec_from_writable\""}).empty()) << r.dump();
    EXPECT_EQ(
        r.find_events({"\"control\":\"process.exec\"", mode == Mode::kBlock ? kBlocked : kAllowed,
                       "\"target\":\"/usr/bin/touch\"", "run through the dynamic loader"})
            .size(),
        2u)
        << r.dump();
    if (mode == Mode::kBlock) {
      EXPECT_EQ(r.line("plain"), "plain err 13") << r.dump();
      EXPECT_EQ(r.line("prelink"), "prelink err 13") << r.dump();
      EXPECT_FALSE(s.dir().exists("m2")) << r.dump();
      EXPECT_FALSE(s.dir().exists("m3")) << r.dump();
    } else {
      EXPECT_TRUE(s.dir().exists("m2")) << r.dump();
      EXPECT_TRUE(s.dir().exists("m3")) << r.dump();
    }
  }
}

// fexecve (execveat AT_EMPTY_PATH) of the loader is no static binary under
// require.preload: the loader is recognised by the name of the file the
// descriptor refers to, not by /proc/self/fd/N. A static binary stays
// refused, also in a memfd named like the loader (a memfd's name is the
// caller's choice), and also when a memfd or a deleted file is run by its
// /proc/self/fd/N path (which used to escape the check: the file's name,
// "/memfd:x (deleted)", opens nothing).
TEST(EnforcerExec, FexecveOfTheLoaderIsNotAStaticBinaryUnderRequirePreload) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << "no x86-64 glibc loader here";
  if (access("/usr/bin/busybox", X_OK) != 0) GTEST_SKIP() << "busybox-static is not installed";
  Scripts s;
  PolicyImage policy;
  policy.control(Control::kProcessExec, Mode::kBlock);
  std::vector<uint8_t> bytes = policy.build();
  image::Header header;
  std::memcpy(&header, bytes.data(), sizeof header);
  header.flags |= image::kRequirePreload;
  std::memcpy(bytes.data(), &header, sizeof header);
  RunOptions options;
  options.cwd = s.dir().path();
  const std::string code = "L = '" + std::string(kLoader) + "'\n" + R"(
import os
def run(tag, open_fd, argv):
  pid = os.fork()
  if pid == 0:
    try:
      os.execve(open_fd(), argv, dict(os.environ))
    except OSError as e:
      os._exit(100 + e.errno)
  print(tag, os.waitpid(pid, 0)[1] >> 8)
def memfd():
  fd = os.memfd_create('ld-linux-x86-64.so.2', 0)
  os.write(fd, open('/usr/bin/busybox', 'rb').read())
  return fd
def deleted():
  with open('/usr/bin/busybox', 'rb') as f:
    open('bb', 'wb').write(f.read())
  os.chmod('bb', 0o755)
  fd = os.open('bb', os.O_RDONLY)
  os.unlink('bb')
  return fd
def by_path(open_fd):
  return lambda: '/proc/self/fd/%d' % open_fd()
run('loader', lambda: os.open(L, os.O_RDONLY), ['ld', '/usr/bin/touch', 'loader.ran'])
run('static', lambda: os.open('/usr/bin/busybox', os.O_RDONLY), ['busybox', 'touch', 'static.ran'])
run('memfd', memfd, ['busybox', 'touch', 'memfd.ran'])
run('memfd_path', by_path(memfd), ['busybox', 'touch', 'memfd_path.ran'])
run('deleted_path', by_path(deleted), ['busybox', 'touch', 'deleted_path.ran'])
)";
  RunResult r = run_protected(bytes, {kPython, "-c", code}, options);
  EXPECT_EQ(r.line("loader"), "loader 0") << r.dump();
  EXPECT_TRUE(s.dir().exists("loader.ran")) << r.dump();
  EXPECT_EQ(r.line("static"), "static 113") << r.dump();
  EXPECT_EQ(r.line("memfd"), "memfd 113") << r.dump();
  EXPECT_EQ(r.line("memfd_path"), "memfd_path 113") << r.dump();
  EXPECT_EQ(r.line("deleted_path"), "deleted_path 113") << r.dump();
  for (const char* ran : {"static.ran", "memfd.ran", "memfd_path.ran", "deleted_path.ran"}) {
    EXPECT_FALSE(s.dir().exists(ran)) << ran << r.dump();
  }
  EXPECT_EQ(r.find_events({kBlocked, "\"rule\":\"require.preload\"", "static binary"}).size(), 4u)
      << r.dump();
  char loader[PATH_MAX];
  ASSERT_NE(realpath(kLoader, loader), nullptr);
  EXPECT_TRUE(r.find_events({"\"target\":\"" + std::string(loader) + "\""}).empty()) << r.dump();
}

// F3: the kernel follows nested "#!" scripts (A's interpreter is script B,
// whose interpreter is denied), and opens a relative interpreter against
// the cwd.
TEST(EnforcerExec, NestedScriptWithADeniedInterpreterIsBlocked) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Scripts s;
    std::string nc = s.add("nc");
    s.dir().write("inner", "#!" + nc + "\n");
    s.dir().write("wrapper", "#!" + s.path("inner") + "\n");
    chmod((s.dir() / "inner").c_str(), 0755);
    chmod((s.dir() / "wrapper").c_str(), 0755);
    RunResult r = run_python(deny_nc(mode), kRunWrapper, s);
    if (mode == Mode::kBlock) {
      EXPECT_FALSE(s.ran("nc")) << r.dump();
      EXPECT_EQ(r.line("run"), "run err 13") << r.dump();
      EXPECT_TRUE(r.has_event(
          {kBlocked, "\"target\":\"" + nc + "\"", "the interpreter of a nested script is denied"}))
          << r.dump();
    } else {
      EXPECT_TRUE(s.ran("nc")) << r.dump();
      EXPECT_TRUE(r.has_event(
          {kAllowed, "\"target\":\"" + nc + "\"", "the interpreter of a nested script is denied"}))
          << r.dump();
    }
  }
}

TEST(EnforcerExec, RelativeInterpreterIsResolvedAgainstTheCwd) {
  Scripts s;
  std::string nc = s.add("nc");
  s.dir().write("wrapper", "#!nc\n");  // relative: the cwd's nc (run_python's cwd is the dir)
  chmod((s.dir() / "wrapper").c_str(), 0755);
  RunResult r = run_python(deny_nc(Mode::kBlock), kRunWrapper, s);
  EXPECT_FALSE(s.ran("nc")) << r.dump();
  EXPECT_EQ(r.line("run"), "run err 13") << r.dump();
  EXPECT_TRUE(
      r.has_event({kBlocked, "\"target\":\"" + nc + "\"", "the script's interpreter is denied"}))
      << r.dump();
}

// F3c: an execute-only script (mode 0111) cannot be read by the process,
// but the kernel reads its "#!" line. One the caller owns could name a
// denied interpreter: refused in block mode as unverifiable. One it could
// not have written (owned by root, not writable) still runs.
TEST(EnforcerExec, ExecuteOnlyScriptTheCallerOwnsIsRefused) {
  Scripts s;
  // The shebang's argument alone runs code: no need to read the script.
  s.dir().write("mine", "#!/usr/bin/touch " + (s.dir() / "mine.ran") + "\n");
  s.dir().write("foreign", "#!/bin/mkdir " + (s.dir() / "foreign.ran") + "\n");
  std::string prelude;
  if (geteuid() == 0) {
    // Run as nobody: root reads anything. "mine" belongs to nobody, "foreign" to root.
    ASSERT_EQ(chown((s.dir() / "mine").c_str(), 65534, 65534), 0);
    ASSERT_EQ(chmod(s.dir().path().c_str(), 0777), 0);
    prelude = "import os\nos.setgroups([])\nos.setgid(65534)\nos.setuid(65534)\n";
  } else {
    GTEST_SKIP() << "needs root to make a file the test user cannot write";
  }
  chmod((s.dir() / "mine").c_str(), 0111);
  chmod((s.dir() / "foreign").c_str(), 0111);
  RunResult r =
      run_python(deny_touch(Mode::kBlock), prelude + run_each("[['./mine'], ['./foreign']]"), s);
  EXPECT_EQ(r.line("run0"), "run0 err 13") << r.dump();
  EXPECT_FALSE(s.dir().exists("mine.ran")) << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"rule\":\"process.exec.unverifiable\"",
                           "\"target\":\"" + (s.dir() / "mine") + "\"", "cannot be read"}))
      << r.dump();
  EXPECT_TRUE(s.dir().exists("foreign.ran")) << r.dump();
  EXPECT_FALSE(r.has_event({"\"target\":\"" + (s.dir() / "foreign") + "\""})) << r.dump();
}

}  // namespace
}  // namespace fnguard::testing

namespace fnguard::testing {
namespace {

// F1: posix_spawn file actions open files in the child with an internal
// call no hook sees; addopen is decided as an open would be.
PolicyImage files_policy(const Scripts& s, Mode mode) {
  PolicyImage policy;
  policy.control(Control::kFilesRead, mode).deny(s.dir().path() + "/secret/**");
  policy.control(Control::kFilesWrite, mode).deny(s.dir().path() + "/protected/**");
  return policy;
}

TEST(EnforcerExec, PosixSpawnFileActionsOpenIsDecidedLikeOpen) {
  for (Mode mode : {Mode::kBlock, Mode::kMonitor}) {
    Scripts s;
    ASSERT_EQ(mkdir((s.dir() / "secret").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((s.dir() / "protected").c_str(), 0755), 0);
    s.dir().write("secret/key", "TOPSECRET\n");
    s.dir().write("protected/data", "original\n");
    RunResult r = run_python(
        files_policy(s, mode),
        "import os\n"
        "def spawn(tag, prog, argv, actions):\n"
        "  try:\n"
        "    pid = os.posix_spawn(prog, argv, os.environ, file_actions=actions)\n"
        "    print(tag, 'status', os.waitpid(pid, 0)[1])\n"
        "  except OSError as e:\n    print(tag, 'err', e.errno)\n"
        "spawn('write', '/bin/echo', ['echo', 'PWNED'], [(os.POSIX_SPAWN_OPEN, 1, "
        "'protected/data', os.O_WRONLY | os.O_TRUNC, 0)])\n"
        "r, w = os.pipe()\n"
        "spawn('read', '/bin/cat', ['cat'], [(os.POSIX_SPAWN_OPEN, 0, '" +
            (s.dir() / "secret/key") +
            "', os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, w, 1)])\n"
            "os.close(w)\nprint('leaked', os.read(r, 100))\n"
            "spawn('null', '/bin/true', ['true'], [(os.POSIX_SPAWN_OPEN, 0, '/dev/null', "
            "os.O_RDONLY, 0)])\n",
        s);
    EXPECT_EQ(r.line("null"), "null status 0") << r.dump();
    if (mode == Mode::kBlock) {
      EXPECT_EQ(r.line("write"), "write err 13") << r.dump();
      EXPECT_EQ(r.line("read"), "read err 13") << r.dump();
      EXPECT_EQ(r.line("leaked"), "leaked b''") << r.dump();
      EXPECT_EQ(s.dir().read("protected/data"), "original\n");
      EXPECT_TRUE(r.has_event({"\"control\":\"files.write\"", kBlocked,
                               "\"target\":\"" + (s.dir() / "protected/data") + "\"",
                               "\"op\":\"posix_spawn_file_actions_addopen\"",
                               "\"flags\":\"O_WRONLY|O_TRUNC\""}))
          << r.dump();
      EXPECT_TRUE(r.has_event({"\"control\":\"files.read\"", kBlocked,
                               "\"target\":\"" + (s.dir() / "secret/key") + "\"",
                               "\"op\":\"posix_spawn_file_actions_addopen\""}))
          << r.dump();
    } else {
      EXPECT_EQ(r.line("read"), "read status 0") << r.dump();
      EXPECT_EQ(r.line("leaked"), "leaked b'TOPSECRET\\n'") << r.dump();
      EXPECT_EQ(s.dir().read("protected/data"), "PWNED\n");
      EXPECT_TRUE(r.has_event(
          {"\"control\":\"files.read\"", kAllowed, "\"op\":\"posix_spawn_file_actions_addopen\""}))
          << r.dump();
    }
  }
}

// A relative path added after posix_spawn_file_actions_addchdir_np resolves
// in the child against that directory: it cannot be decided now, so block
// mode refuses it; a relative path without a chdir, and an absolute path
// after one, are decided normally.
TEST(EnforcerExec, PosixSpawnRelativeOpenAfterAddchdirIsRefused) {
  Scripts s;
  ASSERT_EQ(mkdir((s.dir() / "secret").c_str(), 0755), 0);
  s.dir().write("secret/key", "TOPSECRET\n");
  s.dir().write("public", "PUBLIC\n");
  RunResult r = run_python(
      files_policy(s, Mode::kBlock),
      "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
      "def actions():\n"
      "  a = ctypes.create_string_buffer(256)\n"
      "  assert libc.posix_spawn_file_actions_init(a) == 0\n  return a\n"
      "a = actions()\n"
      "print('chdir', libc.posix_spawn_file_actions_addchdir_np(a, b'secret'))\n"
      "print('relative', libc.posix_spawn_file_actions_addopen(a, 0, b'key', 0, 0))\n"
      "print('absolute', libc.posix_spawn_file_actions_addopen(a, 0, b'" +
          (s.dir() / "public") +
          "', 0, 0))\n"
          "libc.posix_spawn_file_actions_destroy(a)\n"
          "b = actions()\n"
          "print('plain', libc.posix_spawn_file_actions_addopen(b, 0, b'public', 0, 0))\n"
          "libc.posix_spawn_file_actions_destroy(b)\n",
      s);
  EXPECT_EQ(r.line("chdir"), "chdir 0") << r.dump();
  EXPECT_EQ(r.line("relative"), "relative 13") << r.dump();
  EXPECT_EQ(r.line("absolute"), "absolute 0") << r.dump();
  EXPECT_EQ(r.line("plain"), "plain 0") << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"rule\":\"files.read.unverifiable\"", "\"target\":\"key\"",
                           "after posix_spawn_file_actions_addchdir_np"}))
      << r.dump();
}

// The same holds for the program of posix_spawn: "./nc" after a chdir
// action is the nc of that directory, which cannot be decided beforehand.
TEST(EnforcerExec, PosixSpawnRelativeProgramAfterAddchdirIsRefused) {
  Scripts s;
  ASSERT_EQ(mkdir((s.dir() / "sub").c_str(), 0755), 0);
  s.add("sub/nc");
  s.add("ok");
  RunResult r = run_python(
      deny_nc(Mode::kBlock),
      "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
      "argv = (ctypes.c_char_p * 2)(b'nc', None)\nenv = (ctypes.c_char_p * 1)(None)\n"
      "pid = ctypes.c_int()\n"
      "a = ctypes.create_string_buffer(256)\nlibc.posix_spawn_file_actions_init(a)\n"
      "libc.posix_spawn_file_actions_addchdir_np(a, b'sub')\n"
      "print('spawn', libc.posix_spawn(ctypes.byref(pid), b'./nc', a, None, argv, env))\n"
      "libc.posix_spawn_file_actions_destroy(a)\n"
      "b = ctypes.create_string_buffer(256)\nlibc.posix_spawn_file_actions_init(b)\n"
      "rc = libc.posix_spawn(ctypes.byref(pid), b'./ok', b, None, argv, env)\n"
      "print('plain', rc, os.waitpid(pid.value, 0)[1] if rc == 0 else '')\n",
      s);
  EXPECT_EQ(r.line("spawn"), "spawn 13") << r.dump();
  EXPECT_FALSE(s.ran("sub/nc")) << r.dump();
  EXPECT_EQ(r.line("plain"), "plain 0 0") << r.dump();
  EXPECT_TRUE(s.ran("ok")) << r.dump();
  EXPECT_TRUE(r.has_event({kBlocked, "\"rule\":\"process.exec.unverifiable\"",
                           "\"target\":\"./nc\"", "after posix_spawn_file_actions_addchdir_np"}))
      << r.dump();
}

// Change-of-directory actions are tracked exactly in a fixed table: an
// actions object that cannot be tracked (more live ones than the table
// holds) gets ENOMEM from addchdir_np and no chdir action, so every object
// that changes directory still refuses relative paths, and nothing is left
// over once the objects are destroyed (until 2026-11-24 a full
// table made every later relative addopen and spawn fail for the rest of the
// process).
TEST(EnforcerExec, PosixSpawnChdirActionsLeaveNothingBehindOnceDestroyed) {
  Scripts s;
  ASSERT_EQ(mkdir((s.dir() / "secret").c_str(), 0755), 0);
  s.dir().write("secret/key", "TOPSECRET\n");
  s.dir().write("public", "PUBLIC\n");
  s.add("ok");
  PolicyImage policy = files_policy(s, Mode::kBlock);
  policy.control(Control::kProcessExec, Mode::kBlock);
  RunResult r = run_python(
      policy,
      "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
      "def actions():\n"
      "  a = ctypes.create_string_buffer(256)\n"
      "  assert libc.posix_spawn_file_actions_init(a) == 0\n  return a\n"
      "many = [actions() for _ in range(300)]\n"
      "rcs = [libc.posix_spawn_file_actions_addchdir_np(a, b'secret') for a in many]\n"
      "print('chdir', sorted(set(rcs)), rcs.count(0) > 32)\n"
      "print('relative', sorted(set(libc.posix_spawn_file_actions_addopen(a, 0, b'key', 0, 0)\n"
      "                             for a, rc in zip(many, rcs) if rc == 0)))\n"
      "print('untracked', sorted(set(libc.posix_spawn_file_actions_addopen(a, 0, b'public', 0, 0)\n"
      "                              for a, rc in zip(many, rcs) if rc != 0)))\n"
      "for a in many:\n  libc.posix_spawn_file_actions_destroy(a)\n"
      "b = actions()\n"
      "print('after', libc.posix_spawn_file_actions_addopen(b, 0, b'public', 0, 0))\n"
      "argv = (ctypes.c_char_p * 2)(b'ok', None)\nenv = (ctypes.c_char_p * 1)(None)\n"
      "pid = ctypes.c_int()\n"
      "rc = libc.posix_spawn(ctypes.byref(pid), b'./ok', b, None, argv, env)\n"
      "print('spawn', rc, os.waitpid(pid.value, 0)[1] if rc == 0 else '')\n"
      "print('again', libc.posix_spawn_file_actions_addchdir_np(b, b'secret'),\n"
      "      libc.posix_spawn_file_actions_addopen(b, 0, b'key', 0, 0))\n"
      "libc.posix_spawn_file_actions_destroy(b)\n",
      s);
  EXPECT_EQ(r.line("chdir"), "chdir [0, 12] True") << r.dump();
  EXPECT_EQ(r.line("relative"), "relative [13]") << r.dump();
  EXPECT_EQ(r.line("untracked"), "untracked [0]") << r.dump();
  EXPECT_EQ(r.line("after"), "after 0") << r.dump();
  EXPECT_EQ(r.line("spawn"), "spawn 0 0") << r.dump();
  EXPECT_TRUE(s.ran("ok")) << r.dump();
  EXPECT_EQ(r.line("again"), "again 0 13") << r.dump();
}

// F11: dlmopen loads a library into a new namespace: the same check as dlopen.
TEST(EnforcerExec, DlmopenFromTmpIsBlocked) {
  Scripts s;
  std::string lib = s.dir() / "libz-copy.so";
  ASSERT_EQ(std::system(("cp /usr/lib/x86_64-linux-gnu/libz.so.1 " + lib).c_str()), 0);
  RunResult r =
      run_python(writable_tmp(Mode::kBlock),
                 "import ctypes\nlibc = ctypes.CDLL(None)\n"
                 "libc.dlmopen.restype = ctypes.c_void_p\n"
                 "libc.dlerror.restype = ctypes.c_char_p\n"
                 "h = libc.dlmopen(ctypes.c_long(-1), b'" +
                     lib +
                     "', 2)\n"
                     "print('dlmopen', h is None, b'fnguard' in (libc.dlerror() or b''))\n"
                     "h = libc.dlmopen(ctypes.c_long(-1), b'libz.so.1', 2)\n"
                     "print('system', h is not None)\n",
                 s);
  EXPECT_EQ(r.line("dlmopen"), "dlmopen True True") << r.dump();
  EXPECT_EQ(r.line("system"), "system True") << r.dump();
  EXPECT_TRUE(r.has_event({"\"control\":\"process.exec_from_writable\"", kBlocked,
                           "\"via\":\"dlmopen\"", "\"target\":\"" + lib + "\""}))
      << r.dump();
}

}  // namespace
}  // namespace fnguard::testing
