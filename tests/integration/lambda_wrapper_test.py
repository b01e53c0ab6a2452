"""`fnguard wrapper -- CMD`, the Lambda exec wrapper, on its own: it rewrites
AWS_LAMBDA_RUNTIME_API for the runtime only, preloads the enforcer, returns
the runtime's exit status, honours FNGUARD_DISABLE=1, degrades (and says so)
instead of breaking the function when there is no Runtime API to proxy, and
stops with one clear line on the user's errors (bad policy, bad mode)."""
import json
import os
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("FNGUARD_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
FNGUARD = os.path.join(BUILD, "bin", "fnguard")


def wrapper(cmd, **env):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    base.update(env)
    r = subprocess.run([FNGUARD, "wrapper", "--"] + cmd, env=base, capture_output=True, text=True,
                       timeout=60)
    events = [json.loads(l) for l in r.stderr.splitlines() if l.startswith('{"fnguard"')]
    return r, events


@unittest.skipUnless(os.access(FNGUARD, os.X_OK), "fnguard is not built")
class WrapperTest(unittest.TestCase):
    def test_runtime_gets_the_proxy_address_and_the_enforcer(self):
        r, events = wrapper(["sh", "-c", 'echo "$AWS_LAMBDA_RUNTIME_API|$LD_PRELOAD"'],
                            AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001")
        self.assertEqual(r.returncode, 0, r.stderr)
        api, preload = r.stdout.strip().split("|")
        self.assertTrue(api.startswith("127.0.0.1:"))
        self.assertNotEqual(api, "127.0.0.1:9001")
        self.assertIn("libfnguard.so", preload)
        started = [e for e in events if e.get("action") == "started"]
        self.assertEqual(len(started), 1, events)
        # The wrapper's own start, phase by phase (docs/EVENTS.md): the proxy's
        # share is reported apart, and the phases add up to the total.
        startup = started[0]["startup_us"]
        self.assertEqual(list(startup),
                         ["policy", "setup", "proxy", "kernel", "exec", "enforcer_hello", "total"])
        parts = sum(v for k, v in startup.items() if k != "total")
        self.assertTrue(startup["total"] - 6 <= parts <= startup["total"], startup)

    def test_exit_status_of_the_runtime_is_returned(self):
        r, _ = wrapper(["sh", "-c", "exit 7"], AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001")
        self.assertEqual(r.returncode, 7)

    def test_a_runtime_that_cannot_start_ends_the_wrapper_at_once(self):
        # The exec fails after the proxy's thread started: the wrapper stops
        # at once with 126 and the reason, announces no start, and nothing
        # of the proxy keeps it alive (wrapper() gives up after 60 s).
        with tempfile.TemporaryDirectory() as d:
            bogus = os.path.join(d, "runtime")
            with open(bogus, "w") as f:
                f.write("not a program\n")
            os.chmod(bogus, 0o755)
            r, events = wrapper([bogus], AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001")
        self.assertEqual(r.returncode, 126, r.stderr)
        self.assertIn("cannot run", r.stderr)
        self.assertFalse(any(e.get("action") == "started" for e in events), events)

    def test_disable_runs_the_runtime_untouched(self):
        r, events = wrapper(["sh", "-c", 'echo "$AWS_LAMBDA_RUNTIME_API|$LD_PRELOAD"'],
                            AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001", FNGUARD_DISABLE="1")
        self.assertEqual(r.stdout.strip(), "127.0.0.1:9001|")
        self.assertEqual(events, [])

    def test_without_a_runtime_api_it_degrades_and_says_so(self):
        r, events = wrapper(["sh", "-c", "echo ran"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "ran")
        degraded = [e for e in events if e.get("action") == "degraded"]
        self.assertTrue(degraded, events)
        self.assertIn("protection degraded", degraded[0]["detail"]["message"])

    def test_bad_policy_and_bad_mode_stop_with_one_line(self):
        r, _ = wrapper(["true"], AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001",
                       FNGUARD_POLICY="version: 1\nfiles: {read: {mode: sometimes}}\n")
        self.assertEqual(r.returncode, 125)
        self.assertIn("fnguard:", r.stderr)
        r, _ = wrapper(["true"], AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001", FNGUARD_MODE="loud")
        self.assertEqual(r.returncode, 125)
        self.assertIn("FNGUARD_MODE must be off, monitor or block", r.stderr)
        r, _ = wrapper([], AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001")
        self.assertEqual(r.returncode, 125)
        self.assertIn("no runtime command", r.stderr)

    def test_inline_policy_text_is_used(self):
        policy = '{"version": 1, "mode": "block", "files": {"read": {"rules": [{"deny": "/etc/hostname"}]}}}'
        r, events = wrapper(["cat", "/etc/hostname"], AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001",
                            FNGUARD_POLICY=policy)
        # The policy given inline is the one in force: the read is refused.
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Permission denied", r.stderr)
        self.assertEqual([e["policy"]["source"] for e in events if e.get("action") == "policy_loaded"],
                         ["<FNGUARD_POLICY>"])
        for e in events:
            if e.get("kind") == "violation" and e.get("target") == "/etc/hostname":
                self.assertEqual(e["action"], "blocked")


if __name__ == "__main__":
    unittest.main()
