#!/usr/bin/env python3
"""CPU the server spends on idle keep-alive connections.

Starts BINARY serving the SQLite demo database on a free loopback port (authentication off,
metrics off), then for each count N opens N connections, asks GET /health once on each, leaves
them open and idle, and reports the server's CPU time (user + system, from /proc) over a few
seconds. An idle connection should cost nothing; one that costs something is polled.

    bench/idle_connections.py build/release/src/heliosdb-conversational-bi [N ...]
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

WINDOW_S = 3.0  # measured; well inside the server's default keep_alive_timeout (5 s)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    counts = [int(n) for n in sys.argv[2:]] or [0, 16, 64]
    with tempfile.TemporaryDirectory(prefix="helios-idle-") as work:
        db = os.path.join(work, "demo.db")
        subprocess.run([binary, "demo-data", db], check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        config = os.path.join(work, "server.toml")
        with open(config, "w") as f:
            f.write(f'[server]\nhost = "127.0.0.1"\nport = {port}\n'
                    '[metrics]\nenabled = false\n[auth]\nenabled = false\n')
        log = open(os.path.join(work, "server.log"), "w")
        server = subprocess.Popen([binary, "--config", config, "serve", "--database",
                                   f"sqlite://{db}"], stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                sys.exit("the server did not start")
            print("| idle keep-alive connections | server CPU (% of one core) |")
            print("| --- | --- |")
            for n in counts:
                conns = []
                for _ in range(n):
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n")
                    if b" 200 " not in s.recv(65536).split(b"\r\n", 1)[0]:
                        sys.exit("GET /health did not answer 200")
                    conns.append(s)
                time.sleep(0.3)
                before = cpu_seconds(server.pid)
                time.sleep(WINDOW_S)
                used = cpu_seconds(server.pid) - before
                print(f"| {n} | {100 * used / WINDOW_S:.1f} |")
                for s in conns:
                    s.close()
                time.sleep(0.3)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
