"""`fnguard local serve`: HTTP requests become API Gateway v2 events for a real
runtime under protection, and the handler's response becomes the HTTP answer,
so `curl 'localhost:9000/?file=/etc/passwd'` reproduces the attack."""
import http.client
import json
import os
import socket
import subprocess
import time
import unittest

BUILD = os.environ.get("FNGUARD_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("FNGUARD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
FNGUARD = os.path.join(BUILD, "bin", "fnguard")
EXAMPLES = os.path.join(SOURCE, "examples", "lambda")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Serve:
    def __init__(self, mode, handler="app.read_file"):
        self.port = free_port()
        self.events_path = "/tmp/fnguard-serve-%d.jsonl" % self.port
        self.proc = subprocess.Popen(
            [FNGUARD, "local", "serve", "--dir", os.path.join(EXAMPLES, "python"), "--handler", handler,
             "--runtime", "python", "--port", str(self.port), "--mode", mode,
             "--policy", os.path.join(EXAMPLES, "policy.yaml"), "--events", self.events_path],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("local serve did not start")

    def get(self, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("POST" if body is not None else "GET", path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()

    def events(self):
        with open(self.events_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if os.path.exists(self.events_path):
            os.unlink(self.events_path)


@unittest.skipUnless(os.access(FNGUARD, os.X_OK), "fnguard is not built")
class LocalServeTest(unittest.TestCase):
    def test_monitor_reproduces_the_attack_and_reports_it(self):
        s = Serve("monitor")
        try:
            status, headers, body = s.get("/?file=/etc/passwd")
            self.assertEqual(status, 200)
            self.assertIn(b"root:", body)
            self.assertEqual(headers.get("content-type"), "text/plain")
            # The events file is written by another process: wait for it (10 s at most).
            want = {("detection", "inspect"), ("violation", "files.read")}
            for _ in range(100):
                kinds = {(e["kind"], e.get("control")) for e in s.events()}
                if want <= kinds:
                    break
                time.sleep(0.1)
            self.assertIn(("detection", "inspect"), kinds)
            self.assertIn(("violation", "files.read"), kinds)
        finally:
            s.close()

    def test_block_refuses_the_attack_and_serves_benign_requests(self):
        s = Serve("block")
        try:
            status, _, body = s.get("/?file=/etc/passwd")
            self.assertEqual(status, 403)
            self.assertNotIn(b"root:", body)
            status, _, body = s.get("/?file=README.txt")
            self.assertEqual(status, 200)
            self.assertEqual(body, b"hello from public/\n")
        finally:
            s.close()

    def test_request_fields_reach_the_handler_as_api_gateway_v2(self):
        s = Serve("monitor", handler="app.hello")
        try:
            status, headers, body = s.get("/greet?name=caf%C3%A9&x=1", headers={"Cookie": "a=1; b=2"})
            self.assertEqual(status, 200)
            answer = json.loads(body)
            self.assertEqual(answer["hello"], "caf\u00e9")
            self.assertTrue(answer["request_id"])
        finally:
            s.close()


if __name__ == "__main__":
    unittest.main()
