"""The evasion suite: each technique from issue 3 runs as its own small
program under `fnguard run --mode block`; the test asserts that the
forbidden effect did not happen (the marker file was not created, the secret
was not read, the connection was not received, the file was not written,
the supervisor survived) and that an event names it, and prints a table of
which layer stopped each technique.

A technique that no layer here can stop is listed in KNOWN_GAPS with the
reason documented in docs/THREAT_MODEL.md; the table reports it as "not
stopped: <reason>" instead of skipping it. Landlock refuses in the kernel
without telling anyone, so techniques stopped only by Landlock have no event;
they are marked silent="landlock" and reported that way.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

BUILD = os.environ.get("FNGUARD_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
FNGUARD = os.path.join(BUILD, "bin", "fnguard")
PROGRAMS = os.path.join(BUILD, "tests", "evasion", "bin")
# The policy blocks running anything from a writable location (/tmp, ...).
# When the build tree itself lives there (a CI checkout under /tmp), the
# technique programs are copied once to a directory outside those locations,
# so that what is refused is the technique and not the program itself.
WRITABLE_PREFIXES = ("/tmp/", "/var/tmp/", "/dev/shm/")
if os.path.realpath(PROGRAMS).startswith(WRITABLE_PREFIXES) and os.path.isdir(PROGRAMS):
    _staged = tempfile.mkdtemp(prefix="fnguard-evasion-bin-", dir="/run" if os.access("/run", os.W_OK) else "/var/lib")
    for _name in os.listdir(PROGRAMS):
        shutil.copy2(os.path.join(PROGRAMS, _name), _staged)
    import atexit
    atexit.register(shutil.rmtree, _staged, True)
    PROGRAMS = _staged
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
SECRET_TEXT = "fnguard-evasion-secret-7f3a"

POLICY = """\
version: 1
mode: block
require: {{preload: {preload}}}
files:
  read:
    default: allow
    rules:
      - deny: {root}/secret/**
  write:
    default: deny
    rules:
      - allow: {root}/work/**
      - allow: /dev/null
network:
  outbound:
    default: deny
    rules:
      - allow: "127.0.0.1:{allowed_port}"
process:
  exec:
    default: allow
    rules:
      - deny: {{name: [touch]}}
  exec_from_writable: block
"""

# Known gaps: technique -> the reason no layer stops it (docs/THREAT_MODEL.md).
KNOWN_GAPS = {
    "mmap of a file in /tmp, then mprotect(PROT_EXEC)": (
        "the preload decides mmap(PROT_EXEC) of a file, but not mprotect of a mapping made readable "
        "first: which file backs it is not known there; seccomp cannot see which file a descriptor "
        "names, Landlock has no right for mmap, and code can be copied to anonymous memory anyway; "
        "mount /tmp noexec to stop it"),
    "openat2 read (raw syscall)": (
        "reads are enforced by the preload only: a raw openat/openat2 skips libc, seccomp cannot "
        "read the path argument, and Landlock cannot express a read deny-list without also "
        "refusing files created later; file permissions are the kernel's answer"),
}


def is_exec_event(e, needle="touch"):
    return e.get("control", "").startswith("process.exec") and needle in e.get("target", "")


def is_secret_event(e):
    return e.get("control") == "files.read" and "/secret" in e.get("target", "")


def rule_is(name):
    return lambda e: e.get("rule") == name


class Technique:
    def __init__(self, name, argv, effect, event=None, silent=None, preload=True, accept=None, label=None):
        self.label = label        # how the table names the stopping layer; {by} is the event's
        self.name = name
        self.argv = argv          # program name in PROGRAMS, or a full argv list
        self.effect = effect      # "marker" | "secret" | "denied:<file>" | "connect" | "supervisor"
        self.event = event        # predicate over one event
        self.silent = silent      # "landlock": no event expected
        self.preload = preload    # require.preload in the policy
        self.accept = accept      # extra predicate over the run (stdout) that must hold


TECHNIQUES = [
    Technique("static binary exec (busybox sh -c)", [BUSYBOX, "sh", "-c", "/usr/bin/touch \"$EV_MARKER\""],
              "marker", is_exec_event, preload=False),
    Technique("static binary write (busybox sh -c)", [BUSYBOX, "sh", "-c", "echo x > \"$EV_DENIED/busybox\""],
              "denied:busybox", silent="landlock", preload=False),
    Technique("raw syscall(SYS_execve)", "raw_execve", "marker", is_exec_event),
    Technique("inline asm execve", "asm_execve", "marker", is_exec_event),
    Technique("execveat AT_EMPTY_PATH", "execveat_empty", "marker", is_exec_event),
    Technique("memfd_create + fexecve", "memfd_exec", "marker",
              lambda e: e.get("control", "").startswith("process.exec") and "memfd" in e.get("target", "")),
    Technique("exec of /proc/self/fd/N and /dev/fd/N (a memfd)", "proc_self_fd_exec", "marker",
              lambda e: e.get("control", "").startswith("process.exec") and "memfd" in e.get("target", "")),
    Technique("vfork then exec", "vfork_exec", "marker", is_exec_event),
    Technique("clone then exec", "clone_exec", "marker", is_exec_event),
    Technique("clone3 then exec", "clone3_exec", "marker", is_exec_event),
    Technique("posix_spawn", "posix_spawn_exec", "marker", is_exec_event),
    Technique("posix_spawn file action opening the secret", "spawn_file_actions", "secret",
              is_secret_event),
    Technique("dynamic loader running a denied program (ld.so /usr/bin/touch)", "ldso_exec",
              "marker", is_exec_event),
    Technique("dynamic loader running a denied program, raw syscall", "ldso_raw_exec", "marker",
              lambda e: is_exec_event(e) and e.get("enforcement") == "seccomp"),
    Technique("exec after clearing the environment", "clearenv_exec", "marker", is_exec_event),
    Technique("dlopen of a library written to /tmp", "dlopen_tmp", "marker",
              lambda e: e.get("control", "").startswith("process.exec") and "payload.so" in e.get("target", "")),
    Technique("dlmopen of a library written to /tmp", "dlmopen_tmp", "marker",
              lambda e: e.get("control", "").startswith("process.exec") and "payload.so" in e.get("target", "")),
    Technique("LD_LIBRARY_PATH into a writable directory, raw syscall", "library_path_raw_exec", "marker",
              lambda e: e.get("control") == "process.exec_from_writable" and e.get("enforcement") == "seccomp"
              and "LD_LIBRARY_PATH" in e.get("detail", {}).get("reason", "")),
    Technique("mmap(PROT_EXEC) of a file in /tmp", "mmap_exec_tmp", "marker",
              lambda e: e.get("control") == "process.exec_from_writable"
              and e.get("detail", {}).get("via") == "mmap"),
    Technique("mmap of a file in /tmp, then mprotect(PROT_EXEC)", "mprotect_exec_tmp", "marker"),
    Technique("io_uring openat + read", "io_uring_read", "secret", rule_is("kernel.denylist.io_uring_setup")),
    Technique("io_uring connect", "io_uring_connect", "connect", rule_is("kernel.denylist.io_uring_setup")),
    Technique("openat2 read (raw syscall)", "openat2_read", "secret", is_secret_event),
    Technique("openat2 write (raw syscall)", "openat2_write", "denied:openat2", silent="landlock"),
    Technique("symlink to the secret", "symlink_read", "secret", is_secret_event),
    Technique("symlink into a write-denied directory", "symlink_write", "denied:through-symlink",
              silent="landlock"),
    Technique("hard link to the secret", "hardlink_read", "secret", silent="landlock"),
    Technique("'..' traversal", "dotdot_read", "secret", is_secret_event),
    Technique("rename the secret over an allowed path", "rename_over", "secret", silent="landlock"),
    Technique("/proc/self/mem and /proc/self/fd on the policy image", "proc_self_mem", "marker",
              is_exec_event, accept=lambda out: "write(image) succeeded" not in out
              and "pwrite(/proc/self/mem, image) succeeded" not in out,
              label="sealed image (every write refused), then the exec: {by}"),
    Technique("close the enforcer's descriptors and unset its environment, then exec",
              "close_enforcer_fds", "marker", is_exec_event),
    Technique("/proc/self/fd reopen of an O_PATH descriptor", "proc_fd_read", "secret", is_secret_event),
    Technique("ptrace attach to the supervisor", "ptrace_supervisor", "supervisor",
              rule_is("kernel.denylist.ptrace"),
              accept=lambda out: "ptrace(PTRACE_ATTACH, supervisor) failed" in out),
    Technique("a child that kills or signals the supervisor", "kill_supervisor", "supervisor",
              lambda e: e.get("rule", "").startswith("kernel.denylist.") and "kill" in e.get("rule", ""),
              accept=lambda out: "supervisor still there" in out),
    Technique("signals, SIGIO, a thread pidfd and limits aimed at a supervisor thread", "supervisor_thread",
              "supervisor", lambda e: e.get("rule") == "kernel.denylist.kill",
              accept=lambda out: "supervisor still there" in out and " succeeded" not in out),
]

RESULTS = []  # (technique, stopped by, evidence)


class Listener:
    """A loopback TCP listener that records whether anyone connected."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connected = False
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connected = True
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def run_protected(root, argv, preload=True, env_extra=None, policy_text=None):
    allowed, denied = Listener(), Listener()
    policy = os.path.join(root, "policy.yaml")
    with open(policy, "w") as f:
        f.write(policy_text or POLICY.format(root=root, preload="true" if preload else "false",
                                            allowed_port=allowed.port))
    events_path = os.path.join(root, "events.jsonl")
    env = dict(os.environ)
    env.update({
        "EV_ROOT": root, "EV_WORK": os.path.join(root, "work"),
        "EV_MARKER": os.path.join(root, "work", "marker"),
        "EV_SECRET": os.path.join(root, "secret", "data"), "EV_DENIED": os.path.join(root, "denied"),
        "EV_PORT_DENIED": str(denied.port), "EV_PAYLOAD": os.path.join(PROGRAMS, "payload.so"),
    })
    env.update(env_extra or {})
    cmd = [FNGUARD, "run", "--policy", policy, "--mode", "block", "--events", events_path, "--"] + argv
    try:
        proc = subprocess.run(cmd, cwd=PROGRAMS, env=env, capture_output=True, text=True, timeout=60)
    finally:
        allowed.close()
        denied.close()
    events = []
    if os.path.exists(events_path):
        with open(events_path) as f:
            for line in f:
                line = line.strip()
                if line:
                    events.append(json.loads(line))
    return proc, events, denied.connected


def make_root():
    root = tempfile.mkdtemp(prefix="fnguard-evasion-")
    for d in ("work", "secret", "denied"):
        os.mkdir(os.path.join(root, d))
    with open(os.path.join(root, "secret", "data"), "w") as f:
        f.write(SECRET_TEXT)
    return root


class EvasionTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(FNGUARD):
            raise unittest.SkipTest(f"{FNGUARD} is not built")

    @classmethod
    def tearDownClass(cls):
        if not RESULTS:
            return
        width = max(len(r[0]) for r in RESULTS) + 2
        lines = ["", "Evasion techniques under `fnguard run --mode block`:",
                 f"{'technique':<{width}}stopped by"]
        lines.append("-" * (width + 40))
        for name, by, evidence in RESULTS:
            lines.append(f"{name:<{width}}{by}" + (f"  [{evidence}]" if evidence else ""))
        print("\n".join(lines), file=sys.stderr)

    def check(self, t):
        root = make_root()
        try:
            argv = t.argv if isinstance(t.argv, list) else [os.path.join(PROGRAMS, t.argv)]
            if not os.path.exists(argv[0]):
                RESULTS.append((t.name, "NOT BUILT", argv[0]))
                self.fail(f"{argv[0]} is missing: build the evasion programs (liburing-dev for io_uring)")
            proc, events, connected = run_protected(root, argv, preload=t.preload)
            out = proc.stdout
            diag = f"\nstdout:\n{out}\nstderr:\n{proc.stderr}\nevents:\n" + "\n".join(json.dumps(e) for e in events)
            # The program must actually have run under protection: a launch
            # failure would otherwise look like a technique that was stopped.
            started = [e for e in events if e.get("kind") == "lifecycle" and e.get("action") == "started"]
            if not started or proc.returncode == 125:
                RESULTS.append((t.name, "DID NOT RUN", proc.stderr.strip()[:120]))
                self.fail(f"{t.name}: the program did not start under fnguard run{diag}")
            # The effect.
            happened = False
            if t.effect == "marker":
                happened = os.path.exists(os.path.join(root, "work", "marker"))
            elif t.effect == "secret":
                happened = SECRET_TEXT in out or os.path.exists(os.path.join(root, "work", "hardlink")) and \
                    SECRET_TEXT in out
            elif t.effect.startswith("denied:"):
                happened = os.path.exists(os.path.join(root, "denied", t.effect.split(":", 1)[1]))
            elif t.effect == "connect":
                happened = connected
            elif t.effect == "supervisor":
                stopped = [e for e in events if e.get("kind") == "lifecycle" and e.get("action") == "stopped"]
                happened = not stopped or proc.returncode != 0
            if t.accept is not None and not t.accept(out):
                happened = True
            violations = [e for e in events if e.get("kind") == "violation"]
            match = next((e for e in violations if t.event and t.event(e)), None)

            if t.name in KNOWN_GAPS:
                RESULTS.append((t.name, "not stopped: " + KNOWN_GAPS[t.name] if happened else
                                "stopped (unexpectedly; update KNOWN_GAPS)", ""))
                return
            if happened:
                RESULTS.append((t.name, "NOT STOPPED (regression)", ""))
                self.fail(f"{t.name}: the forbidden effect happened{diag}")
            if match is not None:
                by = match.get("enforcement", "?")
                if t.label:
                    by = t.label.format(by=by)
                RESULTS.append((t.name, by, match.get("rule", "")))
            elif t.silent:
                RESULTS.append((t.name, t.silent, "kernel refused it; Landlock reports no event"))
            else:
                RESULTS.append((t.name, "stopped, but no event", ""))
                self.fail(f"{t.name}: stopped, but no event names it{diag}")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    # The degraded path: with FNGUARD_KERNEL=off the raw-syscall exec gets
    # through (proving it is the kernel layer that stops it), and the start-up
    # says loudly which layers are missing.
    def test_kernel_off_degrades_loudly(self):
        root = make_root()
        try:
            proc, events, _ = run_protected(root, [os.path.join(PROGRAMS, "raw_execve")],
                                            env_extra={"FNGUARD_KERNEL": "off"})
            started = [e for e in events if e.get("action") == "started"]
            self.assertTrue(started, proc.stderr)
            self.assertFalse(started[0]["layers"]["seccomp"])
            self.assertIn("FNGUARD_KERNEL=off", json.dumps(started[0]))
            self.assertIn("kernel backstop degraded", proc.stderr)
            self.assertTrue(os.path.exists(os.path.join(root, "work", "marker")),
                            "with the kernel layer off, the preload alone cannot see a raw execve")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def test_kernel_on_reports_layers(self):
        root = make_root()
        try:
            proc, events, _ = run_protected(root, ["/bin/true"])
            started = [e for e in events if e.get("action") == "started"]
            self.assertTrue(started, proc.stderr)
            layers = started[0]["layers"]
            self.assertTrue(layers["preload"])
            self.assertTrue(layers["seccomp"])
            self.assertEqual(layers["kernel"]["seccomp"], "active")
            self.assertTrue(layers["kernel"]["exec_supervision"])
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def test_require_kernel_refuses_without_it(self):
        root = make_root()
        try:
            policy = "version: 1\nmode: block\nrequire: {kernel: true}\n"
            proc, _, _ = run_protected(root, [os.path.join(PROGRAMS, "raw_execve")],
                                       env_extra={"FNGUARD_KERNEL": "off"}, policy_text=policy)
            self.assertEqual(proc.returncode, 125, proc.stderr)
            lines = [l for l in proc.stderr.splitlines() if l.strip()]
            self.assertEqual(len(lines), 1, proc.stderr)
            self.assertIn("require", lines[0])
            self.assertFalse(os.path.exists(os.path.join(root, "work", "marker")))
        finally:
            shutil.rmtree(root, ignore_errors=True)


class MonitorAndDoctorTest(unittest.TestCase):
    """The kernel layer in monitor mode reports and lets through; `fnguard
    doctor` describes the kernel and the policy."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(FNGUARD):
            raise unittest.SkipTest(f"{FNGUARD} is not built")

    def test_monitor_mode_reports_raw_exec_and_lets_it_run(self):
        root = make_root()
        try:
            policy = POLICY.format(root=root, preload="true", allowed_port=9).replace("mode: block", "mode: monitor")
            env = dict(os.environ, EV_MARKER=os.path.join(root, "work", "marker"))
            events_path = os.path.join(root, "events.jsonl")
            with open(os.path.join(root, "policy.yaml"), "w") as f:
                f.write(policy)
            proc = subprocess.run([FNGUARD, "run", "--policy", os.path.join(root, "policy.yaml"), "--events",
                                   events_path, "--", os.path.join(PROGRAMS, "raw_execve")],
                                  cwd=PROGRAMS, env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(os.path.exists(os.path.join(root, "work", "marker")), "monitor mode must not block")
            with open(events_path) as f:
                events = [json.loads(l) for l in f if l.strip()]
            seen = [e for e in events if e.get("kind") == "violation" and is_exec_event(e)]
            self.assertTrue(seen, events)
            self.assertEqual(seen[0]["enforcement"], "seccomp")
            self.assertEqual(seen[0]["action"], "allowed")
            self.assertEqual(seen[0]["mode"], "monitor")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def test_doctor_prints_layers_and_policy_use(self):
        proc = subprocess.run([FNGUARD, "doctor"], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for needle in ("seccomp filter", "seccomp user notification", "Landlock", "no_new_privs",
                       "Policy <default>", "exec supervision"):
            self.assertIn(needle, proc.stdout)

    def test_doctor_says_require_kernel_would_refuse(self):
        root = make_root()
        try:
            path = os.path.join(root, "p.yaml")
            with open(path, "w") as f:
                f.write("version: 1\nmode: block\nrequire: {kernel: true}\n")
            proc = subprocess.run([FNGUARD, "doctor", "--policy", path], capture_output=True, text=True,
                                  timeout=60, env=dict(os.environ, FNGUARD_KERNEL="off"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("REFUSED", proc.stdout)
            self.assertIn("exit 125", proc.stdout)
            bad = subprocess.run([FNGUARD, "doctor", "--bogus"], capture_output=True, text=True, timeout=60)
            self.assertEqual(bad.returncode, 2)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _make_test(t):
    return lambda self: self.check(t)


for _i, _t in enumerate(TECHNIQUES):
    _slug = "".join(c if c.isalnum() else "_" for c in _t.name.lower()).strip("_")
    setattr(EvasionTest, f"test_{_i:02d}_{_slug}", _make_test(_t))


if __name__ == "__main__":
    unittest.main(verbosity=2)
