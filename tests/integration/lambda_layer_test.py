"""The Lambda layer as Lambda sees it.

`fnguard layer build` makes the zip; the test unpacks it into a stand-in for
/opt and drives the shipped /opt/fnguard-wrapper exactly as Lambda does
(AWS_LAMBDA_EXEC_WRAPPER: the wrapper receives the runtime's command line),
against a small Runtime API written here in Python, with the shipped Python
bootstrap as the runtime. Checks: the /opt layout and permissions, an
invocation answered through the proxy with the request id in the events, the
proxy answering a malicious invocation itself in block mode, FNGUARD_DISABLE=1,
and that the wrapper is the fnguard binary itself, also when a packaging tool
flattened its symlink into a copy.
"""
import http.server
import json
import os
import shutil
import socketserver
import stat
import subprocess
import tempfile
import threading
import unittest
import zipfile

BUILD = os.environ.get("FNGUARD_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("FNGUARD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
FNGUARD = os.path.join(BUILD, "bin", "fnguard")
HANDLER_DIR = os.path.join(SOURCE, "examples", "lambda", "python")


class FakeRuntimeApi:
    """Serves a list of events on /invocation/next, records what comes back."""

    def __init__(self, events):
        self.events = list(events)
        self.results = {}
        self.done = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self.send_error(404)
                    return
                if not outer.events:
                    outer.done.set()
                    outer.done.wait(timeout=30)  # a long-poll with nothing to hand out
                    self.close_connection = True
                    return
                rid, event = outer.events.pop(0)
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
                self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:eu-west-1:111122223333:function:layer-test")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f2b6")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                parts = self.path.split("/")
                outer.results[parts[-2]] = (parts[-1], body.decode())
                reply = b'{"status":"OK"}'
                self.send_response(202)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.done.set()
        self.server.shutdown()


def extract_layer(zip_path, opt):
    """Unpacks like Lambda does: unix permissions kept, symlinks recreated."""
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            target = os.path.join(opt, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.symlink(z.read(info).decode(), target)
                continue
            z.extract(info, opt)
            if mode & 0o777:
                os.chmod(target, mode & 0o777)


@unittest.skipUnless(os.access(FNGUARD, os.X_OK), "fnguard is not built")
class LayerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.zip = os.path.join(cls.tmp.name, "layer.zip")
        r = subprocess.run([FNGUARD, "layer", "build", "--out", cls.zip], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        cls.opt = os.path.join(cls.tmp.name, "opt")
        extract_layer(cls.zip, cls.opt)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_wrapper(self, api, extra_env, timeout=30, opt=None):
        opt = opt or self.opt
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": "layer-test",
            "AWS_REGION": "eu-west-1",
            "LAMBDA_TASK_ROOT": HANDLER_DIR,
            "_HANDLER": extra_env.pop("_HANDLER", "app.hello"),
        }
        env.update(extra_env)
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
        cmd = [os.path.join(opt, "fnguard-wrapper"), python,
               os.path.join(opt, "fnguard", "python", "bootstrap.py")]
        proc = subprocess.Popen(cmd, cwd=HANDLER_DIR, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        api.done.wait(timeout=timeout)
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        events = []
        for line in err.splitlines():
            if line.startswith('{"fnguard"'):
                events.append(json.loads(line))
        return events, err

    def invoke(self, invocations, extra_env=None, opt=None):
        """The wrapper against a fake Runtime API that hands out `invocations`:
        returns the API's results, the wrapper's events and its stderr."""
        api = FakeRuntimeApi(invocations)
        try:
            events, err = self.run_wrapper(api, dict(extra_env or {}), opt=opt)
        finally:
            api.close()
        return api.results, events, err

    def test_layout_matches_the_spec(self):
        for path, executable in [("fnguard-wrapper", True), ("fnguard/bin/fnguard", True),
                                 ("fnguard/lib/libfnguard.so", True), ("fnguard/policy.yaml", False),
                                 ("fnguard/policy.tree", False), ("fnguard/python/bootstrap.py", False)]:
            full = os.path.join(self.opt, path)
            self.assertTrue(os.path.isfile(full), path)
            self.assertEqual(bool(os.stat(full).st_mode & stat.S_IXUSR), executable, path)
        r = subprocess.run([os.path.join(self.opt, "fnguard/bin/fnguard"), "policy", "check",
                            os.path.join(self.opt, "fnguard/policy.yaml")], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_invocation_flows_through_the_proxy_with_request_ids(self):
        results, events, err = self.invoke(
            [("rid-benign-1", {"queryStringParameters": {"name": "layer"}})])
        kind, body = results["rid-benign-1"]
        self.assertEqual(kind, "response", err[-2000:])
        self.assertEqual(json.loads(json.loads(body)["body"])["hello"], "layer")
        started = [e for e in events if e.get("action") == "started"]
        self.assertTrue(started and started[0]["layers"]["preload"], err[-2000:])

    def test_block_mode_answers_the_attack_without_the_runtime(self):
        attack = {"version": "2.0", "routeKey": "$default", "rawPath": "/",
                  "rawQueryString": "file=../../../../etc/passwd",
                  "headers": {"host": "example.com"},
                  "queryStringParameters": {"file": "../../../../etc/passwd"},
                  "requestContext": {"http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1",
                                              "sourceIp": "203.0.113.9"}, "stage": "$default"},
                  "isBase64Encoded": False}
        results, events, err = self.invoke(
            [("rid-attack-1", attack), ("rid-benign-2", {"queryStringParameters": {"name": "ok"}})],
            {"FNGUARD_MODE": "block", "_HANDLER": "app.read_file"})
        kind, body = results["rid-attack-1"]
        self.assertEqual(kind, "response")
        self.assertEqual(json.loads(body)["statusCode"], 403)
        self.assertNotIn("root:", body)
        detections = [e for e in events if e.get("kind") == "detection"]
        self.assertTrue(detections, err[-2000:])
        self.assertEqual(detections[0]["function"]["request_id"], "rid-attack-1")
        self.assertEqual(detections[0]["function"]["arn"],
                         "arn:aws:lambda:eu-west-1:111122223333:function:layer-test")
        self.assertEqual(detections[0]["action"], "blocked")
        # The runtime got the next invocation (the benign one) and answered it.
        self.assertIn("rid-benign-2", results)

    def test_the_policy_parsed_at_layer_build_is_used_until_the_policy_is_edited(self):
        results, events, err = self.invoke(
            [("rid-tree-1", {"queryStringParameters": {"name": "tree"}})])
        self.assertEqual(results["rid-tree-1"][0], "response", err[-2000:])
        loaded = [e for e in events if e.get("action") == "policy_loaded"]
        self.assertTrue(loaded, err[-2000:])
        self.assertIs(loaded[0]["policy"].get("prepared"), True, loaded[0])
        self.assertEqual(loaded[0]["mode"], "monitor")
        # Also when FNGUARD_POLICY names the layer's policy (docs/LAMBDA.md
        # shows that setting); another file is parsed.
        for setting, prepared in [(os.path.join(self.opt, "fnguard", "policy.yaml"), True),
                                  (os.path.join(SOURCE, "examples", "lambda", "policy.yaml"), None)]:
            _, events, err = self.invoke(
                [("rid-tree-setting", {"queryStringParameters": {"name": "s"}})],
                {"FNGUARD_POLICY": setting})
            loaded = [e for e in events if e.get("action") == "policy_loaded"]
            self.assertTrue(loaded, err[-2000:])
            self.assertEqual(loaded[0]["policy"]["source"], setting)
            self.assertIs(loaded[0]["policy"].get("prepared"), prepared, loaded[0])
        # An edited policy.yaml no longer matches policy.tree: it is parsed
        # again, and the edit is what runs.
        edited = os.path.join(self.tmp.name, "edited")
        shutil.copytree(self.opt, edited, symlinks=True)
        policy = os.path.join(edited, "fnguard", "policy.yaml")
        with open(policy) as f:
            text = f.read()
        self.assertIn("mode: monitor", text)
        with open(policy, "w") as f:
            f.write(text.replace("mode: monitor", "mode: block", 1))
        try:
            results, events, err = self.invoke(
                [("rid-tree-2", {"queryStringParameters": {"name": "edited"}})], opt=edited)
        finally:
            shutil.rmtree(edited)
        self.assertEqual(results["rid-tree-2"][0], "response", err[-2000:])
        loaded = [e for e in events if e.get("action") == "policy_loaded"]
        self.assertTrue(loaded, err[-2000:])
        self.assertNotIn("prepared", loaded[0]["policy"])
        self.assertEqual(loaded[0]["mode"], "block")

    def test_disable_runs_the_runtime_untouched(self):
        results, events, _ = self.invoke(
            [("rid-plain-1", {"queryStringParameters": {"name": "plain"}})], {"FNGUARD_DISABLE": "1"})
        self.assertEqual(results["rid-plain-1"][0], "response")
        self.assertEqual(events, [])

    def test_wrapper_is_the_binary_itself_even_when_flattened(self):
        # Lambda execs /opt/fnguard-wrapper directly: it is fnguard under
        # another name, a relative symlink in the zip...
        wrapper = os.path.join(self.opt, "fnguard-wrapper")
        self.assertTrue(os.path.islink(wrapper))
        self.assertEqual(os.readlink(wrapper), "fnguard/bin/fnguard")
        # ...and a packaging tool that flattens symlinks leaves a copy of the
        # binary there, which must find /opt/fnguard beside it.
        flat = os.path.join(self.tmp.name, "flat")
        shutil.copytree(self.opt, flat, symlinks=True)
        os.unlink(os.path.join(flat, "fnguard-wrapper"))
        shutil.copy2(os.path.join(flat, "fnguard", "bin", "fnguard"), os.path.join(flat, "fnguard-wrapper"))
        results, events, err = self.invoke(
            [("rid-flat-1", {"queryStringParameters": {"name": "flat"}})], opt=flat)
        self.assertEqual(results["rid-flat-1"][0], "response", err[-2000:])
        started = [e for e in events if e.get("action") == "started"]
        self.assertTrue(started and started[0]["layers"]["preload"], err[-2000:])
        shutil.rmtree(flat)


ARM64_TREE = os.path.join(os.path.dirname(os.path.abspath(BUILD)), "build-arm64")


@unittest.skipUnless(os.access(FNGUARD, os.X_OK) and
                     os.path.exists(os.path.join(ARM64_TREE, "lib", "libfnguard.so")) and
                     shutil.which("qemu-aarch64"),
                     "needs the arm64 cross build (cmake --preset arm64) and qemu-user")
class Arm64LayerTest(unittest.TestCase):
    def test_arm64_layer_runs_under_qemu_with_its_own_libraries(self):
        with tempfile.TemporaryDirectory() as tmp:
            zip_path = os.path.join(tmp, "layer-arm64.zip")
            r = subprocess.run([FNGUARD, "layer", "build", "--arch", "arm64", "--out", zip_path],
                               capture_output=True, text=True, env=dict(os.environ, FNGUARD_ARM64_PREFIX=ARM64_TREE))
            self.assertEqual(r.returncode, 0, r.stderr)
            opt = os.path.join(tmp, "opt")
            extract_layer(zip_path, opt)
            with open(os.path.join(opt, "fnguard", "bin", "fnguard"), "rb") as f:
                header = f.read(20)
            self.assertEqual(int.from_bytes(header[18:20], "little"), 183)  # EM_AARCH64
            qemu = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]
            r = subprocess.run(qemu + [os.path.join(opt, "fnguard", "bin", "fnguard"), "policy", "check",
                                       os.path.join(opt, "fnguard", "policy.yaml")],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("ok", r.stdout)
            # The wrapper name reaches the same arm64 binary.
            r = subprocess.run(qemu + [os.path.join(opt, "fnguard-wrapper")], capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 125, r.stderr)
            self.assertIn("no runtime command given", r.stderr)
            # The arm64 wrapper reads the policy tree this (x86_64) host parsed
            # at layer build. (The runtime here is an x86_64 program, so the
            # arm64 enforcer cannot load into it and the start is refused
            # after the policy_loaded event: that event is what is checked.)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LAMBDA_TASK_ROOT": "/var/task",
                   "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:1", "FNGUARD_EVENTS": "-",
                   "FNGUARD_KERNEL": "off"}
            r = subprocess.run(qemu + [os.path.join(opt, "fnguard-wrapper"), "/bin/true"],
                               capture_output=True, text=True, env=env, timeout=60)
            loaded = [json.loads(line) for line in r.stdout.splitlines() + r.stderr.splitlines()
                      if '"policy_loaded"' in line]
            self.assertTrue(loaded, r.stdout + r.stderr)
            self.assertIs(loaded[0]["policy"].get("prepared"), True, loaded[0])


if __name__ == "__main__":
    unittest.main()
