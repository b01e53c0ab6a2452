"""The policies fnguard ships keep their promises against every name of a
protected file: a process's environment (where Lambda keeps the function's
AWS credentials) is also /proc/PID/task/TID/environ and
/proc/thread-self/environ, and the built-in default, policies/default.yaml,
policies/strict.yaml and the Lambda example deny all of them (here in block
mode, so that the read fails)."""
import os
import unittest

import fnguard_testlib as t

READ_ENVIRONS = """
import os, sys, threading
tid = threading.get_native_id()
for p in ['/proc/self/environ', '/proc/%d/environ' % os.getpid(),
          '/proc/self/task/%d/environ' % tid, '/proc/%d/task/%d/environ' % (os.getpid(), tid),
          '/proc/thread-self/environ']:
    try:
        open(p, 'rb').read()
        sys.stdout.write('READ %s\\n' % p)
    except PermissionError:
        sys.stdout.write('DENIED %s\\n' % p)
with open('/proc/self/status') as f:  # a neighbour the rules leave alone
    sys.stdout.write('STATUS %d\\n' % len(f.read()))
"""

SHIPPED = {
    "built-in default": None,
    "policies/default.yaml": os.path.join(t.SOURCE_DIR, "policies", "default.yaml"),
    "policies/strict.yaml": os.path.join(t.SOURCE_DIR, "policies", "strict.yaml"),
    "examples/lambda/policy.yaml": os.path.join(t.SOURCE_DIR, "examples", "lambda", "policy.yaml"),
}


class ShippedPolicies(unittest.TestCase):
    def setUp(self):
        t.require_build(self)

    def test_every_name_of_the_process_environment_is_denied(self):
        for name, path in SHIPPED.items():
            with self.subTest(policy=name):
                policy = None
                if path:
                    with open(path) as f:
                        policy = f.read()
                # strict.yaml names $TASK_ROOT and $HOME; run from a directory
                # that exists, with HOME set (base_env keeps it).
                r = t.run([t.PYTHON, "-c", READ_ENVIRONS], policy=policy, mode="block",
                          cwd=t.SOURCE_DIR)
                self.assertEqual(r.returncode, 0, r)
                self.assertNotIn("READ", r.stdout)
                self.assertEqual(r.stdout.count("DENIED"), 5, r.stdout)
                self.assertRegex(r.stdout, r"STATUS \d+")
                # strict.yaml has honeypots with env: there a read of the
                # environment is a honeypot touch rather than a violation.
                self.assertGreaterEqual(
                    t.occurrences(r, kind=lambda k: k in ("violation", "honeypot"),
                                  control="files.read", action="blocked",
                                  target=lambda v: v.endswith("/environ")), 5)


if __name__ == "__main__":
    t.main()
