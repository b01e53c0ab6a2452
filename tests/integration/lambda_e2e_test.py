"""End-to-end Lambda protection through real runtime clients.

Each test runs `fnguard local invoke`: the local Runtime API server, the
exec wrapper (`fnguard wrapper`), the Runtime API proxy and a real runtime
client (fnguard's Python bootstrap, or the npm package aws-lambda-ric for
Node) running the deliberately vulnerable handlers in examples/lambda/.
The attacks (file read via ?file=, command injection, SSRF to the metadata
address, a reverse shell) are checked in monitor mode (the attack works and
is reported with request id, taint and the handler's own file and line) and
in block mode (it does not work); benign requests keep their answers.

SSRF to 169.254.169.254 runs inside a fresh network namespace with only
loopback up, so no packet can leave this machine even if a block failed; the
test then tells a blocked connect (EACCES/EPERM from fnguard) from an
unreachable network.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

BUILD = os.environ.get("FNGUARD_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("FNGUARD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
FNGUARD = os.path.join(BUILD, "bin", "fnguard")
EXAMPLES = os.path.join(SOURCE, "examples", "lambda")
POLICY = os.path.join(EXAMPLES, "policy.yaml")

HANDLERS = {
    "python": {"dir": os.path.join(EXAMPLES, "python"), "file": "app.py",
               "read": "app.read_file", "ping": "app.ping", "fetch": "app.fetch",
               "backdoor": "app.backdoor", "hello": "app.hello",
               "read_line_marker": "with open(path) as f:",
               # Python names the line of an exec too (the event is written in
               # subprocess's vfork child); Node's spawn path has no JS frame there.
               "exec_line_marker": "subprocess.run(\"echo pinging \""},
    "nodejs": {"dir": os.path.join(EXAMPLES, "node"), "file": "app.js",
               "read": "app.readFile", "ping": "app.ping", "fetch": "app.fetchUrl",
               "backdoor": "app.backdoor", "hello": "app.hello",
               "read_line_marker": "fs.readFileSync("},
}

# Policy text with the enforcer in block mode and the inspector off: proves
# the in-process enforcer stops what the inspector did not see.
ENFORCER_ONLY = open(POLICY).read().replace("mode: monitor", "mode: block") + "  mode: off\n"


def http_event(params):
    query = "&".join("%s=%s" % kv for kv in params.items())
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": query,
        "headers": {"host": "example.com", "user-agent": "curl/8.0"},
        "queryStringParameters": params,
        "requestContext": {"http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1",
                                    "sourceIp": "203.0.113.9"}, "stage": "$default"},
        "isBase64Encoded": False,
    }


def line_of(path, marker):
    with open(path) as f:
        for number, text in enumerate(f, 1):
            if marker in text:
                return number
    raise AssertionError("marker %r not in %s" % (marker, path))


def netns_available():
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    r = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True)
    return r.returncode == 0


HAVE_NETNS = netns_available()


class Invocation:
    def __init__(self, response, events, returncode, stderr):
        self.response = response
        self.events = events
        self.returncode = returncode
        self.stderr = stderr

    def of_kind(self, kind, control=None):
        return [e for e in self.events if e.get("kind") == kind and
                (control is None or e.get("control") == control)]

    def request_ids(self):
        return {e.get("function", {}).get("request_id") for e in self.of_kind("detection")}


def invoke(runtime, handler, event, mode, policy_text=None, netns=False):
    h = HANDLERS[runtime]
    with tempfile.TemporaryDirectory() as tmp:
        event_path = os.path.join(tmp, "event.json")
        events_path = os.path.join(tmp, "events.jsonl")
        with open(event_path, "w") as f:
            json.dump(event, f)
        policy_path = POLICY
        if policy_text is not None:
            policy_path = os.path.join(tmp, "policy.yaml")
            with open(policy_path, "w") as f:
                f.write(policy_text)
        cmd = [FNGUARD, "local", "invoke", "--dir", h["dir"], "--handler", h[handler],
               "--runtime", runtime, "--event", event_path, "--policy", policy_path,
               "--events", events_path, "--timeout", "20"]
        if mode:
            cmd += ["--mode", mode]
        if netns:
            cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        events = []
        if os.path.exists(events_path):
            with open(events_path) as f:
                events = [json.loads(line) for line in f if line.strip()]
        try:
            response = json.loads(r.stdout) if r.stdout.strip() else None
        except ValueError:
            response = r.stdout
        return Invocation(response, events, r.returncode, r.stderr)


class Listener:
    """A loopback TCP listener standing in for the attacker's machine."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.connected = False
        self.received = b""
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.connected = True
        conn.settimeout(10)
        try:
            # Like an attacker at a terminal: wait for the shell to speak first.
            try:
                self.received += conn.recv(4096)
            except OSError:
                pass
            conn.sendall(b"echo pwned-$((6*7)); exit\n")
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                self.received += data
        except OSError:
            pass
        conn.close()

    def close(self):
        self.sock.close()
        self.thread.join(timeout=15)


class LambdaEndToEnd:
    runtime = None

    def setUp(self):
        if not os.access(FNGUARD, os.X_OK):
            self.skipTest("fnguard is not built at %s" % FNGUARD)
        if self.runtime == "nodejs" and shutil.which("node") is None:
            self.skipTest("node is not installed")
        self.h = HANDLERS[self.runtime]
        self.source_file = os.path.join(self.h["dir"], self.h["file"])

    def body(self, inv):
        self.assertIsInstance(inv.response, dict, inv.stderr[-2000:])
        return inv.response.get("body", "")

    def assert_detection(self, inv, detector, action, field):
        found = [e for e in inv.of_kind("detection") if e["detail"]["detector"] == detector]
        self.assertTrue(found, "no %s detection in %s" % (detector, inv.events))
        e = found[0]
        self.assertEqual(e["action"], action)
        self.assertEqual(e["detail"]["field"], field)
        self.assertTrue(e["function"].get("request_id"))
        self.assertEqual(e["taint"]["field"], field)
        return e

    def assert_violation(self, inv, control, action, target_part, request_id):
        found = [e for e in inv.of_kind("violation", control) if target_part in e.get("target", "")]
        self.assertTrue(found, "no %s violation on %s in %s" % (control, target_part, inv.events))
        e = found[0]
        self.assertEqual(e["action"], action)
        self.assertEqual(e["function"].get("request_id"), request_id)
        self.assertEqual(e["function"].get("phase"), "invoke")
        return e

    # --- file read via ?file= (LFI) ---

    def test_file_read_monitor_leaks_and_reports_request_taint_and_source_line(self):
        inv = invoke(self.runtime, "read", http_event({"file": "/etc/passwd"}), "monitor")
        self.assertIn("root:", self.body(inv))  # monitor: the attack still works
        det = self.assert_detection(inv, "path_traversal", "allowed", "queryStringParameters.file")
        rid = det["function"]["request_id"]
        v = self.assert_violation(inv, "files.read", "allowed", "/etc/passwd", rid)
        self.assertEqual(v["taint"], {"field": "queryStringParameters.file", "value": "/etc/passwd"})
        self.assertEqual(v["source"]["file"], os.path.realpath(self.source_file))
        self.assertEqual(v["source"]["line"], line_of(self.source_file, self.h["read_line_marker"]))

    def test_file_read_block_answers_403_and_the_handler_never_runs(self):
        inv = invoke(self.runtime, "read", http_event({"file": "/etc/passwd"}), "block")
        self.assertEqual(inv.response.get("statusCode"), 403, inv.stderr[-2000:])
        self.assertNotIn("root:", json.dumps(inv.response))
        self.assert_detection(inv, "path_traversal", "blocked", "queryStringParameters.file")
        self.assertEqual(inv.of_kind("violation", "files.read"), [])

    def test_file_read_blocked_by_the_enforcer_when_inspection_is_off(self):
        inv = invoke(self.runtime, "read", http_event({"file": "/etc/passwd"}), None,
                     policy_text=ENFORCER_ONLY)
        self.assertNotIn("root:", json.dumps(inv.response))
        self.assertEqual(inv.of_kind("detection"), [])
        found = [e for e in inv.of_kind("violation", "files.read") if e["target"] == "/etc/passwd"]
        self.assertTrue(found, inv.events)
        self.assertEqual(found[0]["action"], "blocked")

    def test_padding_past_the_inspector_limits_does_not_switch_inspection_off(self):
        # A JSON body nested 100 levels deep next to ?file=/etc/passwd: the
        # event is over the decoder's limits, so it is refused as such.
        event = http_event({"file": "/etc/passwd"})
        event["headers"]["content-type"] = "application/json"
        event["body"] = "[" * 100 + "]" * 100
        inv = invoke(self.runtime, "read", event, "block")
        self.assertEqual(inv.response.get("statusCode"), 403, inv.stderr[-2000:])
        self.assertNotIn("root:", json.dumps(inv.response))
        limits = [e for e in inv.of_kind("detection") if e.get("rule") == "inspect.limits"]
        self.assertTrue(limits, inv.events)
        self.assertEqual(limits[0]["action"], "blocked")
        self.assertIn("nests deeper than", limits[0]["target"])

    # --- command injection ---

    def test_command_injection_monitor_runs_and_is_reported(self):
        inv = invoke(self.runtime, "ping", http_event({"host": "127.0.0.1;cat /etc/passwd"}), "monitor")
        self.assertIn("root:", self.body(inv))
        det = self.assert_detection(inv, "command_injection", "allowed", "queryStringParameters.host")
        rid = det["function"]["request_id"]
        v = self.assert_violation(inv, "process.exec", "allowed", "sh", rid)
        self.assertIn("cat /etc/passwd", json.dumps(v.get("detail", {})) + json.dumps(v.get("taint", {})))
        if "exec_line_marker" in self.h:
            # The enforcer's report (the kernel backstop's, for the same exec, has no source).
            sources = [e["source"] for e in inv.of_kind("violation", "process.exec")
                       if e.get("source", {}).get("language") == "python"]
            self.assertTrue(sources, inv.events)
            self.assertEqual(sources[0]["file"], os.path.realpath(self.source_file))
            self.assertEqual(sources[0]["line"], line_of(self.source_file, self.h["exec_line_marker"]))
            self.assertEqual(sources[0]["function"], "ping")

    def test_command_injection_block(self):
        inv = invoke(self.runtime, "ping", http_event({"host": "127.0.0.1;cat /etc/passwd"}), "block")
        self.assertEqual(inv.response.get("statusCode"), 403, inv.stderr[-2000:])
        self.assert_detection(inv, "command_injection", "blocked", "queryStringParameters.host")
        self.assertEqual(inv.of_kind("violation", "process.exec"), [])

    # --- SSRF to the cloud metadata address (inside a private network namespace) ---

    @unittest.skipUnless(HAVE_NETNS, "needs unshare -n to keep metadata traffic off the network")
    def test_ssrf_metadata_monitor_is_reported(self):
        url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
        inv = invoke(self.runtime, "fetch", http_event({"url": url}), "monitor", netns=True)
        det = self.assert_detection(inv, "ssrf", "allowed", "queryStringParameters.url")
        self.assert_violation(inv, "network.outbound", "allowed", "169.254.169.254",
                              det["function"]["request_id"])

    @unittest.skipUnless(HAVE_NETNS, "needs unshare -n to keep metadata traffic off the network")
    def test_ssrf_metadata_connect_is_blocked_by_the_enforcer(self):
        url = "http://169.254.169.254/latest/meta-data/"
        inv = invoke(self.runtime, "fetch", http_event({"url": url}), None,
                     policy_text=ENFORCER_ONLY, netns=True)
        body = self.body(inv)
        self.assertIn("fetch failed", body)
        # Blocked by fnguard (EACCES/EPERM), not merely unreachable.
        self.assertNotIn("unreachable", body.lower())
        found = [e for e in inv.of_kind("violation", "network.outbound")
                 if "169.254.169.254" in e["target"]]
        self.assertTrue(found, inv.events)
        self.assertEqual(found[0]["action"], "blocked")

    @unittest.skipUnless(HAVE_NETNS, "needs unshare -n to keep metadata traffic off the network")
    def test_ssrf_metadata_block_answers_403(self):
        url = "http://169.254.169.254/latest/meta-data/"
        inv = invoke(self.runtime, "fetch", http_event({"url": url}), "block", netns=True)
        self.assertEqual(inv.response.get("statusCode"), 403, inv.stderr[-2000:])
        self.assert_detection(inv, "ssrf", "blocked", "queryStringParameters.url")

    # --- reverse shell to a loopback listener ---

    def test_reverse_shell_monitor_connects_and_is_reported(self):
        listener = Listener()
        try:
            inv = invoke(self.runtime, "backdoor",
                         http_event({"host": "127.0.0.1", "port": str(listener.port)}), "monitor")
        finally:
            listener.close()
        self.assertTrue(listener.connected)
        self.assertIn(b"pwned-42", listener.received)
        rid = inv.of_kind("violation", "network.outbound")[0]["function"]["request_id"]
        self.assertTrue(rid)
        self.assert_violation(inv, "network.outbound", "allowed", "127.0.0.1:%d" % listener.port, rid)
        self.assert_violation(inv, "process.exec", "allowed", "sh", rid)

    def test_reverse_shell_block_never_connects(self):
        listener = Listener()
        try:
            inv = invoke(self.runtime, "backdoor",
                         http_event({"host": "127.0.0.1", "port": str(listener.port)}), "block")
        finally:
            listener.close()
        self.assertFalse(listener.connected, inv.events)
        self.assertNotIn(b"pwned-42", listener.received)
        blocked = [e for e in inv.events if e.get("action") == "blocked"]
        self.assertTrue(blocked, inv.events)

    # --- benign requests ---

    def test_benign_request_is_unaffected_in_block_mode(self):
        inv = invoke(self.runtime, "hello", http_event({"name": "alice"}), "block")
        self.assertEqual(inv.response.get("statusCode"), 200, inv.stderr[-2000:])
        answer = json.loads(inv.response["body"])
        self.assertEqual(answer["hello"], "alice")
        self.assertEqual(inv.of_kind("detection"), [])
        self.assertEqual([e for e in inv.of_kind("violation") if e["action"] == "blocked"], [])

    def test_benign_file_read_is_unaffected_in_block_mode(self):
        inv = invoke(self.runtime, "read", http_event({"file": "README.txt"}), "block")
        self.assertEqual(inv.response.get("statusCode"), 200, inv.stderr[-2000:])
        self.assertIn("hello from public/", inv.response["body"])
        self.assertEqual(inv.of_kind("detection"), [])

    # --- honeypots: a decoy credentials file reached through ?file= ---

    def test_a_decoy_read_through_the_request_is_a_honeypot_event_of_that_request(self):
        # Per runtime and test process: the two runtimes' tests may run at once.
        decoy = "/tmp/fnguard-e2e-decoy-%s-%d/.aws/credentials" % (self.runtime, os.getpid())
        policy = open(POLICY).read() + "honeypots:\n  env: true\n  files: [%s]\n" % decoy
        inv = invoke(self.runtime, "read", http_event({"file": decoy}), "monitor",
                     policy_text=policy)
        self.assertRegex(self.body(inv), r"aws_access_key_id = AKIA[A-Z2-7]{16}")  # the decoy
        found = [e for e in inv.of_kind("honeypot") if e.get("target") == decoy]
        self.assertTrue(found, inv.events)
        e = found[0]
        self.assertEqual(e["action"], "allowed")
        self.assertEqual(e["rule"], "files.read.builtin.honeypot")
        self.assertTrue(e["function"].get("request_id"))
        self.assertEqual(e["function"].get("phase"), "invoke")
        self.assertEqual(e["taint"], {"field": "queryStringParameters.file", "value": decoy})
        self.assertEqual(e["source"]["file"], os.path.realpath(self.source_file))
        self.assertEqual(e["source"]["line"], line_of(self.source_file, self.h["read_line_marker"]))
        self.assertFalse(os.path.exists(decoy))  # removed when the wrapper stopped

        # Block, with the inspector off so that the enforcer meets the read.
        honeypots = "honeypots:\n  files: [%s]\n" % decoy
        blocked = invoke(self.runtime, "read", http_event({"file": decoy}), None,
                         policy_text=ENFORCER_ONLY + honeypots)
        self.assertNotIn("aws_access_key_id", json.dumps(blocked.response))
        found = [e for e in blocked.of_kind("honeypot") if e.get("target") == decoy]
        self.assertTrue(found, blocked.events)
        self.assertEqual(found[0]["action"], "blocked")


class PythonLambdaTest(LambdaEndToEnd, unittest.TestCase):
    runtime = "python"


class NodeLambdaTest(LambdaEndToEnd, unittest.TestCase):
    runtime = "nodejs"


if __name__ == "__main__":
    unittest.main()
