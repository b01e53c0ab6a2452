"""`fnguard run` returns the command's exit status, 125 for its own failures,
126/127 when the command cannot run, and forwards signals."""
import os
import signal
import subprocess
import tempfile
import time
import unittest

import fnguard_testlib as t


class ExitStatus(unittest.TestCase):
    def setUp(self):
        t.require_build(self)

    def test_zero(self):
        r = t.run([t.PYTHON, "-c", "print('ran')"])
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("ran", r.stdout)

    def test_nonzero_code(self):
        r = t.run([t.PYTHON, "-c", "import sys; sys.exit(3)"])
        self.assertEqual(r.returncode, 3, r)
        t.assert_event(self, r, kind="lifecycle", action="stopped", detail__exit_status=3)

    def test_killed_by_signal_is_128_plus_n(self):
        r = t.run([t.PYTHON, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
        self.assertEqual(r.returncode, 128 + signal.SIGKILL, r)
        t.assert_event(self, r, kind="lifecycle", action="stopped",
                       detail__signal=int(signal.SIGKILL), detail__signal_name="SIGKILL")

    def test_sigterm_to_fnguard_reaches_the_child(self):
        with tempfile.TemporaryDirectory() as tmp:
            marker = os.path.join(tmp, "got-term")
            code = ("import signal, sys, time\n"
                    "def on_term(sig, frame):\n"
                    "    open(%r, 'w').write('term')\n"
                    "    sys.exit(7)\n"
                    "signal.signal(signal.SIGTERM, on_term)\n"
                    "print('ready', flush=True)\n"
                    "time.sleep(60)\n" % marker)
            proc = subprocess.Popen([t.FNGUARD, "run", "--events", os.path.join(tmp, "ev"), "--",
                                     t.PYTHON, "-c", code],
                                    env=t.base_env(), stdout=subprocess.PIPE, text=True)
            self.assertEqual(proc.stdout.readline().strip(), "ready")
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=30)
            proc.stdout.close()
            self.assertEqual(rc, 7)
            with open(marker) as f:
                self.assertEqual(f.read(), "term")

    def test_killing_the_supervisor_kills_the_program(self):
        # Otherwise code in the program could kill fnguard and go on without
        # its event stream and exec supervision.
        with tempfile.TemporaryDirectory() as tmp:
            pid_file = os.path.join(tmp, "pid")
            code = ("import os, time\n"
                    "open(%r, 'w').write(str(os.getpid()))\n"
                    "print('ready', flush=True)\n"
                    "time.sleep(120)\n" % pid_file)
            proc = subprocess.Popen([t.FNGUARD, "run", "--events", os.path.join(tmp, "ev"), "--",
                                     t.PYTHON, "-c", code],
                                    env=t.base_env(), stdout=subprocess.PIPE, text=True)
            self.assertEqual(proc.stdout.readline().strip(), "ready")
            proc.stdout.close()
            with open(pid_file) as f:
                pid = int(f.read())
            proc.kill()
            proc.wait(timeout=30)
            deadline = time.monotonic() + 30
            state = "?"
            while time.monotonic() < deadline:
                try:
                    with open("/proc/%d/stat" % pid) as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                except FileNotFoundError:
                    state = "gone"
                if state in ("gone", "Z", "X"):
                    break
                time.sleep(0.05)
            self.assertIn(state, ("gone", "Z", "X"), "the program outlived its supervisor")

    def test_command_not_found_is_127(self):
        r = t.run(["fnguard-no-such-command"])
        self.assertEqual(r.returncode, 127, r)
        self.assertIn("fnguard-no-such-command", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_not_executable_is_126(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = t.write_file(tmp, "script.sh", "#!/bin/sh\necho no\n", mode=0o644)
            r = t.run([path])
            self.assertEqual(r.returncode, 126, r)
            self.assertNotIn("no", r.stdout)

    def test_missing_interpreter_is_127(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = t.write_file(tmp, "script", "#!/nonexistent/interp\n", mode=0o755)
            r = t.run([path])
            self.assertEqual(r.returncode, 127, r)

    def test_bad_flag_is_125_with_one_line(self):
        r = t.run([t.PYTHON, "-c", "print('ran')"], extra_args=["--frobnicate"])
        self.assertEqual(r.returncode, 125, r)
        self.assertNotIn("ran", r.stdout)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("--frobnicate", r.stderr)

    def test_missing_command_is_125(self):
        proc = subprocess.run([t.FNGUARD, "run", "--"], capture_output=True, text=True,
                              env=t.base_env())
        self.assertEqual(proc.returncode, 125)
        self.assertIn("no command", proc.stderr)

    def test_bad_mode_is_125(self):
        r = t.run(["true"], mode="loud")
        self.assertEqual(r.returncode, 125, r)
        r = t.run(["true"], env={"FNGUARD_MODE": "loud"})
        self.assertEqual(r.returncode, 125, r)
        self.assertIn("FNGUARD_MODE", r.stderr)

    def test_bad_policy_is_125_with_file_line_col(self):
        with tempfile.TemporaryDirectory() as tmp:
            marker = os.path.join(tmp, "ran")
            policy = "version: 1\nmode: block\nfiles:\n  read:\n    defualt: allow\n"
            r = t.run(["touch", marker], policy=policy)
            self.assertEqual(r.returncode, 125, r)
            self.assertFalse(os.path.exists(marker), "the command ran despite a bad policy")
            line = r.stderr.strip()
            self.assertEqual(len(line.splitlines()), 1, r.stderr)
            self.assertRegex(line, r"policy\.yaml:5:\d+: ", r.stderr)

    def test_unwritable_events_file_is_125(self):
        with tempfile.TemporaryDirectory() as tmp:
            marker = os.path.join(tmp, "ran")
            proc = subprocess.run([t.FNGUARD, "run", "--events", "/nonexistent-dir/events.jsonl", "--",
                                   "touch", marker], capture_output=True, text=True, env=t.base_env())
            self.assertEqual(proc.returncode, 125)
            self.assertFalse(os.path.exists(marker))
            self.assertIn("/nonexistent-dir/events.jsonl", proc.stderr)
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    def test_missing_policy_file_is_125(self):
        proc = subprocess.run([t.FNGUARD, "run", "--policy", "/nonexistent/policy.yaml", "--", "true"],
                              capture_output=True, text=True, env=t.base_env())
        self.assertEqual(proc.returncode, 125)
        self.assertIn("/nonexistent/policy.yaml", proc.stderr)


if __name__ == "__main__":
    t.main()
