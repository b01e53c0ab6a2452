"""`make demo` keeps working: examples/demo/run.sh, monitor then block. In
monitor mode every forbidden action happens and is logged as allowed; in
block mode none happens and each is logged as blocked. And
examples/lambda/demo.sh: the file-read bug leaks in monitor mode, is refused
in block mode, and, aimed at a decoy, raises a honeypot event."""
import os
import subprocess
import unittest

import fnguard_testlib as t


class Demo(unittest.TestCase):
    def setUp(self):
        t.require_build(self)

    def test_demo_monitor_then_block(self):
        script = os.path.join(t.SOURCE_DIR, "examples", "demo", "run.sh")
        proc = subprocess.run([script], capture_output=True, text=True, timeout=120,
                              env=t.base_env({"FNGUARD_BUILD_DIR": t.BUILD_DIR}))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        monitor, block = proc.stdout.split("=== fnguard run --mode block")
        self.assertIn("read it: sk_live", monitor)
        self.assertIn("backdoor.py written; listener received 16 bytes", monitor)
        for control in ("files.read", "files.write", "process.exec", "network.outbound"):
            self.assertRegex(monitor, r"ALLOWED\s+%s" % control.replace(".", r"\."))
            self.assertRegex(block, r"BLOCKED\s+%s" % control.replace(".", r"\."))
        self.assertNotIn("sk_live", block)
        self.assertIn("backdoor.py not written; listener received 0 bytes", block)
        self.assertIn("app.py:", block)  # events name the source line
        self.assertFalse(os.path.exists(os.path.join(t.SOURCE_DIR, "examples", "demo", "backdoor.py")))

    def test_lambda_demo_leaks_then_refuses_and_trips_the_honeypot(self):
        script = os.path.join(t.SOURCE_DIR, "examples", "lambda", "demo.sh")
        proc = subprocess.run([script], capture_output=True, text=True, timeout=300,
                              env=t.base_env({"FNGUARD_BUILD_DIR": t.BUILD_DIR}))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        parts = proc.stdout.split("== ")
        leak = next(p for p in parts if p.startswith("monitor: GET /?file=/etc/passwd"))
        self.assertIn("response: 200 'root:", leak)
        self.assertRegex(leak, r"detection allowed +inspect")
        self.assertRegex(leak, r"violation allowed +files\.read +/etc/passwd")
        refused = next(p for p in parts if p.startswith("block: GET /?file=/etc/passwd"))
        self.assertIn("response: 403", refused)
        benign = next(p for p in parts if p.startswith("block: GET /?file=README.txt"))
        self.assertIn("response: 200 'hello from public/", benign)
        decoy = next(p for p in parts if p.startswith("monitor, with honeypots"))
        self.assertIn("aws_access_key_id = AKIA", decoy)
        self.assertRegex(decoy, r"honeypot +allowed +files\.read")
        self.assertIn("app.py:", decoy)


if __name__ == "__main__":
    t.main()
