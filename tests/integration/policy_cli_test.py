"""`fnguard policy check` and `fnguard policy show` as a user runs them:
exit statuses, every error on its own line with file:line:col, JSON output."""
import json
import os
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("FNGUARD_BUILD_DIR", "build")
SOURCE = os.environ.get("FNGUARD_SOURCE_DIR", ".")
FNGUARD = os.path.join(BUILD, "bin", "fnguard")


def run(*args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([FNGUARD, *args], capture_output=True, text=True, env=full_env,
                          timeout=60)


class PolicyCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_shipped_policies_check_ok(self):
        files = [os.path.join(SOURCE, "policies", n)
                 for n in ("default.yaml", "strict.yaml", "strict.json")]
        r = run("policy", "check", *files)
        self.assertEqual(r.returncode, 0, r.stderr)
        for f in files:
            self.assertIn(f + ": ok", r.stdout)

    def test_every_error_is_printed_with_its_location(self):
        bad = self.write("bad.yaml", "version: 1\nmode: blok\nfiles:\n  reads: {}\n")
        r = run("policy", "check", bad)
        self.assertEqual(r.returncode, 2)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 2, r.stderr)
        self.assertTrue(lines[0].startswith(bad + ":2:7: "), lines[0])
        self.assertIn("did you mean 'block'?", lines[0])
        self.assertTrue(lines[1].startswith(bad + ":4:3: unknown key 'reads' in files"), lines[1])

    def test_one_bad_file_fails_the_run_but_the_good_one_is_reported(self):
        good = self.write("good.yaml", "version: 1\n")
        bad = self.write("bad.json", '{"version": 2}')
        r = run("policy", "check", good, bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn(good + ": ok", r.stdout)
        self.assertIn(bad + ":1:13: policy version 2 is not supported", r.stderr)

    def test_missing_file_and_usage_errors_exit_2(self):
        r = run("policy", "check", os.path.join(self.dir.name, "nope.yaml"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("No such file or directory", r.stderr)
        self.assertEqual(run("policy", "check").returncode, 2)
        self.assertEqual(run("policy", "show").returncode, 2)
        self.assertEqual(run("policy", "frobnicate").returncode, 2)
        self.assertEqual(run("policy").returncode, 2)
        p = self.write("p.yaml", "version: 1\n")
        self.assertEqual(run("policy", "show", "--mode", "loud", p).returncode, 2)

    def test_every_section_is_enforced(self):
        p = self.write("p.yaml", "version: 1\ninspect: {detectors: [ssrf]}\nhoneypots: {env: true}\n")
        r = run("policy", "check", p)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("not enforced", r.stdout)

    def test_show_names_the_rules_honeypots_became(self):
        p = self.write("p.yaml", "version: 1\nhoneypots:\n  env: true\n  files: [$TMP/.aws/credentials]\n")
        r = run("policy", "show", p, env={"TMPDIR": "/tmp"})
        self.assertEqual(r.returncode, 0, r.stderr)
        hp = json.loads(r.stdout)["honeypots"]
        self.assertTrue(hp["enforced"])
        self.assertEqual(hp["files"], ["/tmp/.aws/credentials"])
        self.assertEqual(hp["rules"], {"read": ["/tmp/.aws/credentials", "/proc/**/environ"],
                                       "write": ["/tmp/.aws/credentials"]})

    def test_show_prints_the_effective_policy(self):
        p = self.write("p.yaml", "version: 1\nmode: block\nfiles:\n  read:\n    rules:\n"
                                 "      - deny: $TASK_ROOT/secret/**\n")
        r = run("policy", "show", p, env={"LAMBDA_TASK_ROOT": "/var/task",
                                           "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"})
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["mode"], "block")
        self.assertEqual(doc["files"]["read"]["mode"], "block")
        self.assertEqual(doc["files"]["read"]["rules"][0]["deny"], "/var/task/secret/**")
        self.assertEqual(doc["network"]["outbound"]["builtin"][0],
                         {"allow": "127.0.0.1:9001", "name": "runtime_api"})
        monitor = json.loads(run("policy", "show", "--mode", "monitor", p,
                                 env={"LAMBDA_TASK_ROOT": "/var/task"}).stdout)
        self.assertEqual(monitor["mode"], "monitor")
        self.assertEqual(monitor["files"]["read"]["mode"], "monitor")


if __name__ == "__main__":
    unittest.main()
