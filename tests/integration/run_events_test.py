"""The event stream of `fnguard run`: where it goes, lifecycle events, repeat
folding, policy sources and mode overrides, with real python3 programs."""
import json
import os
import tempfile
import unittest

import fnguard_testlib as t

SECRET_POLICY = """
version: 1
mode: block
files:
  read:
    default: allow
    rules:
      - deny: /etc/shadow
      - deny: {secret}
"""

# One write per line: with events on the same stdout (--events -), print()'s
# separate writes of the text and the newline could have an event land between.
READ_SECRET = """
import sys
try:
    with open(sys.argv[1]) as f:
        sys.stdout.write("READ:" + f.read().strip() + "\\n")
except PermissionError:
    sys.stdout.write("DENIED\\n")
"""


class Events(unittest.TestCase):
    def setUp(self):
        t.require_build(self)
        self.tmp = tempfile.TemporaryDirectory(prefix="fnguard-events-")
        self.secret = t.write_file(self.tmp.name, "secret.txt", "hunter2\n")
        self.policy = SECRET_POLICY.format(secret=self.secret)

    def tearDown(self):
        self.tmp.cleanup()

    def test_lifecycle_events(self):
        r = t.run([t.PYTHON, "-c", "print('hello')"], policy=self.policy)
        self.assertEqual(r.returncode, 0, r)
        actions = [e["action"] for e in r.events if e.get("kind") == "lifecycle"]
        self.assertEqual(actions[0], "policy_loaded", r)
        self.assertIn("started", actions)
        self.assertEqual(actions[-1], "stopped", r)
        loaded = t.assert_event(self, r, kind="lifecycle", action="policy_loaded", mode="block")
        self.assertTrue(loaded["policy"]["source"].endswith("policy.yaml"))
        self.assertRegex(loaded["policy"]["sha256"], "^[0-9a-f]{64}$")
        started = t.assert_event(self, r, kind="lifecycle", action="started")
        self.assertEqual(started["layers"]["preload"], True)
        self.assertGreater(started["process"]["pid"], 0)
        self.assertEqual(started["process"]["argv0"], t.PYTHON)
        self.assert_startup(started, ["policy", "setup", "kernel", "exec", "enforcer_hello"])
        stopped = t.assert_event(self, r, kind="lifecycle", action="stopped")
        self.assertEqual(stopped["detail"]["exit_status"], 0)
        self.assertEqual(stopped["detail"]["dropped"], 0)
        for e in r.events:
            self.assertEqual(e["fnguard"], 1)
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def assert_startup(self, started, phases):
        """fnguard's own start, phase by phase in microseconds, in order,
        and a total that the phases add up to (each is rounded down)."""
        startup = started.get("startup_us")
        self.assertIsInstance(startup, dict, started)
        self.assertEqual(list(startup), phases + ["total"])
        for name, us in startup.items():
            self.assertIsInstance(us, int, name)
            self.assertGreaterEqual(us, 0, name)
        parts = sum(startup[p] for p in phases)
        self.assertLessEqual(parts, startup["total"])
        self.assertGreaterEqual(parts, startup["total"] - len(phases))
        self.assertGreater(startup["total"], 0)

    def test_blocked_read_event_and_effect(self):
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], policy=self.policy)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout.strip(), "DENIED", r)
        e = t.assert_event(self, r, kind="violation", control="files.read", action="blocked",
                           target=self.secret)
        self.assertEqual(e["rule"], "files.read.rules[1]")

    def test_mode_flag_overrides_policy(self):
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], policy=self.policy, mode="monitor")
        self.assertEqual(r.stdout.strip(), "READ:hunter2", r)
        t.assert_event(self, r, kind="violation", control="files.read", action="allowed",
                       target=self.secret)
        t.assert_event(self, r, kind="lifecycle", action="policy_loaded", mode="monitor")

    def test_fnguard_mode_env_overrides_policy(self):
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], policy=self.policy,
                  env={"FNGUARD_MODE": "monitor"})
        self.assertEqual(r.stdout.strip(), "READ:hunter2", r)
        t.assert_event(self, r, kind="violation", control="files.read", action="allowed")

    def test_policy_inline_in_environment(self):
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], env={"FNGUARD_POLICY": self.policy})
        self.assertEqual(r.stdout.strip(), "DENIED", r)
        t.assert_event(self, r, kind="lifecycle", action="policy_loaded",
                       policy__source="<FNGUARD_POLICY>")

    def test_policy_json_inline_in_environment(self):
        policy = json.dumps({"version": 1, "mode": "block",
                             "files": {"read": {"default": "allow", "rules": [{"deny": self.secret}]}}})
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], env={"FNGUARD_POLICY": policy})
        self.assertEqual(r.stdout.strip(), "DENIED", r)

    def test_policy_path_in_environment(self):
        path = t.write_file(self.tmp.name, "env-policy.yaml", self.policy)
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], env={"FNGUARD_POLICY": path})
        self.assertEqual(r.stdout.strip(), "DENIED", r)
        t.assert_event(self, r, kind="lifecycle", action="policy_loaded", policy__source=path)

    def test_default_policy_monitors_and_blocks_nothing(self):
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout.strip(), "READ:hunter2", r)
        t.assert_event(self, r, kind="lifecycle", action="policy_loaded", mode="monitor")

    def test_events_to_stdout(self):
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], policy=self.policy, events="-")
        self.assertIn("DENIED", r.stdout)
        t.assert_event(self, r, kind="violation", control="files.read", target=self.secret)
        self.assertNotIn('"kind":"violation"', r.stderr)

    def test_events_to_stderr_by_default(self):
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], policy=self.policy, events=None)
        self.assertEqual(r.stdout.strip(), "DENIED")
        t.assert_event(self, r, kind="violation", control="files.read", target=self.secret)
        t.assert_event(self, r, kind="lifecycle", action="stopped")

    def test_events_file_via_environment(self):
        path = os.path.join(self.tmp.name, "env-events.jsonl")
        r = t.run([t.PYTHON, "-c", READ_SECRET, self.secret], policy=self.policy, events=None,
                  env={"FNGUARD_EVENTS": path})
        self.assertEqual(r.stdout.strip(), "DENIED")
        with open(path) as f:
            events, _ = t.parse_events(f.read())
        self.assertTrue(any(e.get("kind") == "violation" for e in events))

    def test_repeats_are_folded(self):
        code = ("import sys\n"
                "n = 0\n"
                "for i in range(1000):\n"
                "    try:\n"
                "        open(sys.argv[1])\n"
                "    except PermissionError:\n"
                "        n += 1\n"
                "print(n)\n")
        r = t.run([t.PYTHON, "-c", code, self.secret], policy=self.policy)
        self.assertEqual(r.stdout.strip(), "1000", r)
        lines = t.find_events(r, kind="violation", control="files.read", target=self.secret)
        # One event, then count lines (one per second the loop ran), not 1000 lines.
        self.assertLess(len(lines), 10, r)
        self.assertNotIn("count", lines[0])
        self.assertIn("count", lines[-1])
        self.assertEqual(t.occurrences(r, kind="violation", control="files.read", target=self.secret),
                         1000)
        stopped = t.assert_event(self, r, kind="lifecycle", action="stopped")
        self.assertEqual(stopped["detail"]["folded"], 999)

    def test_function_fields_from_lambda_environment(self):
        r = t.run(["true"], policy=self.policy,
                  env={"AWS_LAMBDA_FUNCTION_NAME": "demo", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                       "AWS_REGION": "eu-west-1"})
        e = t.assert_event(self, r, kind="lifecycle", action="started")
        self.assertEqual(e["function"], {"name": "demo", "version": "$LATEST", "region": "eu-west-1"})

    def test_no_function_fields_outside_lambda(self):
        r = t.run(["true"], policy=self.policy,
                  env={"AWS_LAMBDA_FUNCTION_NAME": None, "AWS_LAMBDA_FUNCTION_VERSION": None,
                       "AWS_REGION": None})
        e = t.assert_event(self, r, kind="lifecycle", action="started")
        self.assertNotIn("function", e)

    def test_policy_loaded_lists_no_section_as_not_enforced(self):
        # Every section is enforced since honeypots were (run_honeypot_test.py).
        policy = self.policy + "inspect:\n  mode: monitor\nhoneypots:\n  env: true\n"
        r = t.run(["true"], policy=policy)
        self.assertEqual(r.returncode, 0, r)
        e = t.assert_event(self, r, kind="lifecycle", action="policy_loaded")
        self.assertNotIn("not_enforced", e)

    def test_forged_malformed_datagrams_are_counted_not_forwarded(self):
        # Code inside the protected process can write to the events socket;
        # what is not one JSON object must not reach the log.
        code = ("import os, socket\n"
                "spec = dict(kv.split('=') for kv in os.environ['FNGUARD_ENFORCER'].split(','))\n"
                "s = socket.socket(fileno=os.dup(int(spec['events'])))\n"
                "s.send(b'not json\\n{\"kind\":\"lifecycle\"}')\n"
                "s.send(b'[1,2]')\n")
        r = t.run([t.PYTHON, "-c", code], policy=self.policy)
        self.assertEqual(r.returncode, 0, r)
        stopped = t.assert_event(self, r, kind="lifecycle", action="stopped")
        self.assertEqual(stopped["detail"]["malformed"], 2, r)
        self.assertEqual(len(r.event_lines), len(r.events))


    def test_library_search_path_into_tmp_names_the_layer_that_refused_it(self):
        # With exec supervision running, the preload decides a search path
        # directory as written (and names the Python line); one that reaches
        # /tmp through a symbolic link is left to exec supervision, which
        # follows the link. Both refuse the exec in block mode.
        policy = "version: 1\nmode: block\nprocess:\n  exec_from_writable: block\n"
        links = tempfile.mkdtemp(prefix="fnguard-llp-", dir="/run")
        try:
            os.symlink(self.tmp.name, os.path.join(links, "lnk"))
            code = ("import os, subprocess, sys\n"
                    "for tag, path in (('direct', sys.argv[1]), ('link', sys.argv[2])):\n"
                    "    try:\n"
                    "        rc = subprocess.run(['/usr/bin/true'], env=dict(os.environ, LD_LIBRARY_PATH=path)).returncode\n"
                    "        sys.stdout.write(tag + ' rc %d\\n' % rc)\n"
                    "    except OSError as e:\n"
                    "        sys.stdout.write(tag + ' err %d\\n' % e.errno)\n")
            r = t.run([t.PYTHON, "-c", code, self.tmp.name, os.path.join(links, "lnk", "lib")],
                      policy=policy)
        finally:
            os.unlink(os.path.join(links, "lnk"))
            os.rmdir(links)
        self.assertIn("direct err 13", r.stdout, r)
        self.assertIn("link err 13", r.stdout, r)
        started = t.assert_event(self, r, kind="lifecycle", action="started")
        if not started["layers"].get("seccomp"):
            self.skipTest("no seccomp here: exec supervision cannot be shown")
        direct = t.assert_event(self, r, control="process.exec_from_writable", target=self.tmp.name)
        self.assertEqual(direct["enforcement"], "preload", direct)
        self.assertEqual(direct["source"]["language"], "python", direct)
        link = t.assert_event(self, r, control="process.exec_from_writable",
                              target=os.path.join(self.tmp.name, "lib"))
        self.assertEqual(link["enforcement"], "seccomp", link)

if __name__ == "__main__":
    t.main()
