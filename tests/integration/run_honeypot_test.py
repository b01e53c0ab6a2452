"""Honeypots under `fnguard run` (policy `honeypots`, docs/POLICY.md): decoy
files planted before the program starts and removed after it, decoy
credentials in its environment, and a `honeypot` event, with the program's
source line, when real python3 code touches one; blocked in block mode."""
import os
import re
import tempfile
import unittest

import fnguard_testlib as t

POLICY = """
version: 1
mode: monitor
files:
  read:
    default: allow
    rules:
      - allow: /tmp/**
  write:
    default: allow
honeypots:
  env: {env}
  files: [{decoy}]
"""

# Reports what the program saw; one write per line (events share stdout).
PROGRAM = """
import os, sys
decoy = sys.argv[1]
sys.stdout.write("ENV:%s\\n" % os.environ.get("AWS_BACKUP_ACCESS_KEY_ID", "-"))
sys.stdout.write("REAL:%s\\n" % os.environ.get("AWS_ACCESS_KEY_ID", "-"))
try:
    with open(decoy) as f:
        sys.stdout.write("READ:" + f.read().replace("\\n", "|") + "\\n")
except PermissionError:
    sys.stdout.write("DENIED\\n")
except OSError as e:
    sys.stdout.write("MISSING:%s\\n" % e.strerror)
try:
    with open("/proc/self/environ", "rb") as f:
        sys.stdout.write("ENVIRON:%d\\n" % len(f.read()))
except PermissionError:
    sys.stdout.write("ENVIRON:DENIED\\n")
"""


class HoneypotTest(unittest.TestCase):
    def setUp(self):
        t.require_build(self)
        self.dir = tempfile.TemporaryDirectory(prefix="fnguard-honeypot-")
        self.decoy = os.path.join(self.dir.name, "home", ".aws", "credentials")
        self.program = t.write_file(self.dir.name, "program.py", PROGRAM)

    def tearDown(self):
        self.dir.cleanup()

    def run_program(self, mode=None, env="true", extra_env=None):
        policy = POLICY.format(env=env, decoy=self.decoy)
        return t.run([t.PYTHON, self.program, self.decoy], policy=policy, mode=mode, events="-",
                     env=extra_env)

    def test_monitor_lets_the_decoy_be_read_and_reports_it_with_the_line(self):
        r = self.run_program(extra_env={"AWS_ACCESS_KEY_ID": "ASIAREALKEY"})
        self.assertEqual(r.returncode, 0, r)
        key = re.search(r"^ENV:(\S+)$", r.stdout, re.M).group(1)
        self.assertRegex(key, r"^AKIA[A-Z2-7]{16}$")
        self.assertIn("REAL:ASIAREALKEY\n", r.stdout)  # the real credentials are untouched
        # The file holds the same decoy identity as the environment.
        self.assertIn("READ:[default]|aws_access_key_id = %s|" % key, r.stdout)
        e = t.assert_event(self, r, kind="honeypot", target=self.decoy)
        self.assertEqual(e["action"], "allowed")
        self.assertEqual(e["control"], "files.read")
        self.assertEqual(e["rule"], "files.read.builtin.honeypot")
        self.assertEqual(e["source"]["file"], self.program)
        self.assertEqual(e["source"]["line"], 7)
        # Reading the environment reads the decoy credentials.
        self.assertRegex(r.stdout, r"ENVIRON:\d+")
        t.assert_event(self, r, kind="honeypot", target="/proc/self/environ", action="allowed")
        # No violation is reported for what the decoys caught.
        t.assert_no_event(self, r, kind="violation")
        # Gone with the run, with the directories planted for it.
        self.assertFalse(os.path.exists(self.decoy))
        self.assertFalse(os.path.exists(os.path.join(self.dir.name, "home")))

    def test_block_refuses_the_decoy_and_the_environment(self):
        r = self.run_program(mode="block")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("DENIED\n", r.stdout)
        self.assertIn("ENVIRON:DENIED\n", r.stdout)
        t.assert_event(self, r, kind="honeypot", target=self.decoy, action="blocked")
        t.assert_event(self, r, kind="honeypot", target="/proc/self/environ", action="blocked")

    def test_without_env_nothing_is_planted_in_the_environment(self):
        r = self.run_program(env="false")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("ENV:-\n", r.stdout)
        t.assert_event(self, r, kind="honeypot", target=self.decoy)
        t.assert_no_event(self, r, kind="honeypot", target="/proc/self/environ")

    def test_an_existing_file_is_watched_but_not_replaced_or_removed(self):
        os.makedirs(os.path.dirname(self.decoy))
        with open(self.decoy, "w") as f:
            f.write("the user's own\n")
        r = self.run_program()
        self.assertIn("READ:the user's own|\n", r.stdout)
        t.assert_event(self, r, kind="honeypot", target=self.decoy)
        with open(self.decoy) as f:
            self.assertEqual(f.read(), "the user's own\n")

    def test_a_decoy_that_cannot_be_planted_is_reported_and_the_program_runs(self):
        blocker = t.write_file(self.dir.name, "home", "a file where a directory would be\n")
        r = self.run_program()
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("MISSING:Not a directory\n", r.stdout)
        e = t.assert_event(self, r, kind="lifecycle", action="enforcement")
        self.assertIn("honeypot %s not planted" % self.decoy, e["message"])
        self.assertIn("Not a directory", e["message"])
        self.assertTrue(os.path.isfile(blocker))

    def test_links_relative_and_odd_paths_to_a_decoy_are_caught(self):
        link = os.path.join(self.dir.name, "link")
        code = ("import os, sys\n"
                "decoy, link = sys.argv[1], sys.argv[2]\n"
                "os.symlink(decoy, link)\n"
                "os.chdir(os.path.dirname(decoy))\n"
                "for p in [link, 'credentials', decoy.replace('/.aws/', '/./.aws//'),\n"
                "          decoy.replace('/.aws/', '/.aws/../.aws/')]:\n"
                "    try:\n"
                "        open(p).read(); sys.stdout.write('READ %s\\n' % p)\n"
                "    except PermissionError:\n"
                "        sys.stdout.write('DENIED %s\\n' % p)\n"
                "for op in (os.link, os.rename):\n"
                "    try:\n"
                "        op(decoy, decoy + '.2'); sys.stdout.write('DONE %s\\n' % op.__name__)\n"
                "    except PermissionError:\n"
                "        sys.stdout.write('DENIED %s\\n' % op.__name__)\n"
                "aws = os.path.dirname(decoy)\n"
                "try:\n"
                "    os.rename(aws, aws + '.moved'); sys.stdout.write('DONE rename-dir\\n')\n"
                "except PermissionError:\n"
                "    sys.stdout.write('DENIED rename-dir\\n')\n")
        policy = POLICY.format(env="false", decoy=self.decoy)
        r = t.run([t.PYTHON, "-c", code, self.decoy, link], policy=policy, mode="block", events="-")
        self.assertEqual(r.returncode, 0, r)
        self.assertNotIn("READ", r.stdout)
        self.assertNotIn("DONE", r.stdout)
        self.assertEqual(r.stdout.count("DENIED"), 7, r.stdout)
        self.assertGreaterEqual(t.occurrences(r, kind="honeypot", target=self.decoy, action="blocked"), 6)
        # Renaming the decoy's directory would move it out from under its rule.
        t.assert_event(self, r, kind="honeypot", target=os.path.dirname(self.decoy), action="blocked")

    def test_every_path_to_a_process_environment_is_a_touch(self):
        # /proc/PID/task/TID/environ is the same environment under another name.
        code = ("import os, sys, threading\n"
                "tid = threading.get_native_id()\n"
                "for p in ['/proc/self/environ', '/proc/self/task/%d/environ' % tid,\n"
                "          '/proc/%d/task/%d/environ' % (os.getpid(), tid), '/proc/thread-self/environ']:\n"
                "    try:\n"
                "        open(p, 'rb').read(); sys.stdout.write('READ %s\\n' % p)\n"
                "    except PermissionError:\n"
                "        sys.stdout.write('DENIED %s\\n' % p)\n")
        policy = POLICY.format(env="true", decoy=self.decoy)
        r = t.run([t.PYTHON, "-c", code], policy=policy, mode="block", events="-")
        self.assertEqual(r.returncode, 0, r)
        self.assertNotIn("READ", r.stdout)
        self.assertEqual(r.stdout.count("DENIED"), 4, r.stdout)
        self.assertGreaterEqual(t.occurrences(r, kind="honeypot", action="blocked"), 4)

    def test_the_policy_says_the_honeypots_are_enforced(self):
        r = self.run_program()
        e = t.assert_event(self, r, kind="lifecycle", action="policy_loaded")
        self.assertNotIn("not_enforced", e)


if __name__ == "__main__":
    t.main()
