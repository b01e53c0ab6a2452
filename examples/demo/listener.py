"""The demo's stand-in for an attacker's server, on 127.0.0.1 only.

Writes its port to argv[1], then appends whatever each connection sends to
argv[2]. Runs unprotected, beside the demo, until killed.
"""
import socket
import sys

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    conn, _ = srv.accept()
    with conn:
        data = conn.recv(4096)
        with open(sys.argv[2], "ab") as f:
            f.write(data)
