#!/usr/bin/env python3
"""Cold start of packaged bootstraps, side by side: spawn → first `/response` over an emulated
Lambda Runtime API on 127.0.0.1, and the process's peak RSS, alternating the bootstraps run by run
so the machine's drift hits them all alike. A benchmark, not a test: it prints medians and ratios.

    ci/bench-cold.py [--runs 20] NAME=PATH/bootstrap ...   (the first is the baseline)

Each first invocation is an API Gateway v2 request to a route no service declares, signed in, so
every bootstrap answers it from its router (a 404) without calling DynamoDB: what is timed is the
process start, the runtime's init and the first answer.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENT = {
    "version": "2.0", "routeKey": "$default", "rawPath": "/bench/cold-start", "rawQueryString": "",
    "headers": {"host": "bench.local"},
    "requestContext": {
        "accountId": "123456789012", "apiId": "bench", "domainName": "bench.local", "requestId": "cold-1",
        "http": {"method": "GET", "path": "/bench/cold-start", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": "bench"},
        "authorizer": {"jwt": {"claims": {"sub": "bench", "scope": "users.read items.read"}, "scopes": None}},
        "stage": "$default", "time": "01/Dec/2026:00:00:00 +0000", "timeEpoch": 1795400000000,
    },
    "isBase64Encoded": False,
}


class RuntimeAPI(ThreadingHTTPServer):
    """Hands out one event, then holds `/next` open; records when the response arrives."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.answered = threading.Event()
        self.failure = None
        self.served = False
        self.responded_at = None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.endswith("/runtime/invocation/next"):
            return self.reply(404, b"{}")
        if self.server.served:
            self.server.answered.wait(30)  # the process is killed after its first answer
            self.close_connection = True
            return
        self.server.served = True
        body = json.dumps(EVENT).encode()
        self.send_response(200)
        for name, value in (("Lambda-Runtime-Aws-Request-Id", "cold-1"),
                            ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:bench"),
                            ("Content-Type", "application/json"), ("Content-Length", str(len(body)))):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path.endswith("/response"):
            self.server.responded_at = time.perf_counter()
        else:
            self.server.failure = f"{self.path}: {body[:200].decode(errors='replace')}"
        self.reply(202, b"{}")
        self.server.answered.set()

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def cold_start(bootstrap):
    """Seconds from spawn to the first response, and peak RSS in MB."""
    api = RuntimeAPI()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = {"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}", "AWS_REGION": "eu-west-1",
           "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "CURSOR_SECRET": "bench-" + "x" * 40,
           "TABLE_USERS": "bench-users", "TABLE_ITEMS": "bench-items", "LOG_LEVEL": "ERROR",
           "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    process = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not api.answered.wait(30) or api.failure:
            raise SystemExit(f"bench-cold: {bootstrap} did not answer its first event ({api.failure or 'timeout'})")
        elapsed = api.responded_at - started
        peak = peak_rss_mb(process.pid)
    finally:
        process.kill()
        process.wait()
        api.shutdown()
        api.server_close()
    return elapsed, peak


def peak_rss_mb(pid):
    """VmHWM of the running process (wait4's ru_maxrss would count the forking Python's pages)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("bootstraps", nargs="+", metavar="NAME=PATH")
    args = parser.parse_args()
    bootstraps = []
    for spec in args.bootstraps:
        name, _, path = spec.partition("=")
        if not path or not os.access(path, os.X_OK):
            raise SystemExit(f"bench-cold: {spec!r} is not NAME=PATH to an executable bootstrap (make package SERVICE=…)")
        bootstraps.append((name, path))
    results = {name: [] for name, _ in bootstraps}
    for _ in range(args.runs):
        for name, path in bootstraps:
            results[name].append(cold_start(path))
    baseline = statistics.median(t for t, _ in results[bootstraps[0][0]])
    baseline_rss = statistics.median(r for _, r in results[bootstraps[0][0]])
    print(f"cold start: spawn → first /response, median of {args.runs} alternating runs on this machine")
    print(f"| bootstrap | zip | first response | × {bootstraps[0][0]} | peak RSS | × {bootstraps[0][0]} |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, path in bootstraps:
        times = [t for t, _ in results[name]]
        rss = statistics.median(r for _, r in results[name])
        archive = os.path.join(os.path.dirname(path), "bootstrap.zip")
        size = f"{os.path.getsize(archive) / 1e6:.2f} MB" if os.path.exists(archive) else "-"
        print(f"| {name} | {size} | {statistics.median(times) * 1000:.1f} ms | {statistics.median(times) / baseline:.2f} "
              f"| {rss:.1f} MB | {rss / baseline_rss:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
