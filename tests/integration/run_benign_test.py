"""Benign programs run untouched under a blocking policy: a Python script
that imports much of the standard library and uses threads and allowed
subprocesses, and a Node script that uses fs, http to loopback and worker
threads. Each exits 0, produces its normal output, and causes no violation."""
import os
import tempfile
import unittest

import fnguard_testlib as t

# A realistic blocking policy for a function: reads allowed except secrets,
# writes only to temporary space, outbound only to loopback, only known
# programs, nothing run from writable places.
POLICY = """
version: 1
mode: block
files:
  read:
    default: allow
    rules:
      - deny: /etc/shadow
      - deny: /proc/*/environ
  write:
    default: deny
    rules:
      - allow: /tmp/**
      - allow: /dev/null
      - allow: /dev/shm/**
network:
  outbound:
    default: deny
    rules:
      - allow: 127.0.0.1
      - allow: "::1"
  inbound: deny
process:
  exec:
    default: deny
    rules:
      - allow: /usr/bin/*
      - allow: /bin/*
      - allow: {python}
      - allow: {node}
  exec_from_writable: block
"""

PYTHON_APP = r'''
import argparse, asyncio, base64, collections, concurrent.futures, csv, dataclasses, datetime
import decimal, email, enum, functools, gzip, hashlib, heapq, hmac, html, http.client, io
import itertools, json, logging, math, os, pathlib, queue, random, re, shutil, socket, sqlite3
import statistics, string, struct, subprocess, sys, tempfile, textwrap, threading, time
import typing, unicodedata, urllib.parse, uuid, xml.etree.ElementTree, zipfile, zlib

results = []
lock = threading.Lock()

def work(i):
    h = hashlib.sha256(str(i).encode()).hexdigest()
    with lock:
        results.append(h)

threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
for th in threads: th.start()
for th in threads: th.join()
assert len(results) == 16

with concurrent.futures.ThreadPoolExecutor(4) as pool:
    assert sum(pool.map(lambda x: x * x, range(10))) == 285

out = subprocess.run(["/bin/echo", "child"], capture_output=True, text=True, check=True).stdout
assert out == "child\n", out
out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True, check=True).stdout
assert out.strip() == "42", out

with tempfile.TemporaryDirectory() as d:
    p = pathlib.Path(d) / "data.json"
    p.write_text(json.dumps({"k": list(range(5))}))
    assert json.loads(p.read_text())["k"][4] == 4
    db = sqlite3.connect(os.path.join(d, "t.db"))
    db.execute("create table t (x)"); db.execute("insert into t values (1)"); db.commit()
    assert db.execute("select count(*) from t").fetchone()[0] == 1
    db.close()
    with zipfile.ZipFile(os.path.join(d, "a.zip"), "w") as z:
        z.writestr("a.txt", "hello")

srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
port = srv.getsockname()[1]
def serve():
    c, _ = srv.accept(); c.sendall(c.recv(100).upper()); c.close()
threading.Thread(target=serve).start()
cl = socket.create_connection(("127.0.0.1", port)); cl.sendall(b"ping")
assert cl.recv(100) == b"PING"; cl.close(); srv.close()

async def main():
    await asyncio.sleep(0.01)
    return "async"
assert asyncio.run(main()) == "async"
logging.getLogger("x").info("quiet")
print("python-ok")
'''

NODE_APP = r'''
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { Worker } = require('worker_threads');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fng-node-'));
fs.writeFileSync(path.join(dir, 'a.txt'), 'hello');
if (fs.readFileSync(path.join(dir, 'a.txt'), 'utf8') !== 'hello') throw new Error('fs');
fs.readFileSync('/etc/hostname');
fs.rmSync(dir, { recursive: true });

const worker = new Worker(`
  const { parentPort } = require('worker_threads');
  let s = 0; for (let i = 0; i < 1000; i++) s += i;
  parentPort.postMessage(s);
`, { eval: true });
worker.on('message', (sum) => {
  if (sum !== 499500) throw new Error('worker');
  const server = http.createServer((req, res) => res.end('pong'));
  server.listen(0, '127.0.0.1', () => {
    const port = server.address().port;
    http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (c) => body += c);
      res.on('end', () => {
        server.close();
        if (body !== 'pong') throw new Error('http');
        console.log('node-ok');
      });
    });
  });
});
'''


class Benign(unittest.TestCase):
    def setUp(self):
        t.require_build(self)
        self.policy = POLICY.replace("{python}", t.PYTHON).replace("{node}", t.NODE or "/usr/bin/node")

    def assert_untouched(self, r, marker):
        self.assertEqual(r.returncode, 0, r)
        self.assertIn(marker, r.stdout, r)
        t.assert_no_event(self, r, kind="violation")
        started = t.assert_event(self, r, kind="lifecycle", action="started")
        self.assertTrue(started["layers"]["preload"], started)

    def test_python_stdlib_threads_subprocess(self):
        with tempfile.TemporaryDirectory() as tmp:
            app = t.write_file(tmp, "app.py", PYTHON_APP)
            r = t.run([t.PYTHON, app], policy=self.policy)
            self.assert_untouched(r, "python-ok")

    def test_policy_is_not_vacuous(self):
        # The same policy does stop a write outside /tmp and an outbound
        # connection to a non-loopback address, so "no violation" above means
        # the programs stayed inside it.
        code = ("import socket\n"
                "try:\n    open('/var/tmp/fnguard-benign-probe', 'w'); print('wrote')\n"
                "except PermissionError: print('write-denied')\n"
                "s = socket.socket(); s.settimeout(2)\n"
                "try:\n    s.connect(('192.0.2.1', 9)); print('connected')\n"
                "except PermissionError: print('connect-denied')\n"
                "except OSError as e: print('connect-other', e)\n")
        r = t.run([t.PYTHON, "-c", code], policy=self.policy)
        self.assertIn("write-denied", r.stdout, r)
        self.assertIn("connect-denied", r.stdout, r)
        self.assertFalse(os.path.exists("/var/tmp/fnguard-benign-probe"))
        t.assert_event(self, r, kind="violation", control="files.write", action="blocked",
                       target="/var/tmp/fnguard-benign-probe")
        t.assert_event(self, r, kind="violation", control="network.outbound", action="blocked")

    def test_node_fs_http_workers(self):
        if t.NODE is None:
            self.fail("node is not installed; run scripts/install-deps.sh")
        with tempfile.TemporaryDirectory() as tmp:
            app = t.write_file(tmp, "app.js", NODE_APP)
            r = t.run([t.NODE, app], policy=self.policy)
            self.assert_untouched(r, "node-ok")


if __name__ == "__main__":
    t.main()
