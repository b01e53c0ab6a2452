// The exec hooks under a real supervisor channel: python3 and /bin/sh start
// programs through system(), subprocess (vfork + execve), os.execv,
// os.posix_spawn and popen(); each denied start must not happen (the
// program would have created a marker file) and must be reported, in block
// and in monitor mode. Also: environment scrubbing does not drop protection
// in children, deep exec chains stay protected, static binaries are refused
// under require.preload, and libraries from writable places are not loaded.
#include <fcntl.h>
#include <gtest/gtest.h>
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
