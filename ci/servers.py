#!/usr/bin/env python3
"""The local servers tests and tools start, in one place: a free port on 127.0.0.1, moto_server,
the local DynamoDB, an emulated Lambda Runtime API, and TLS from a throwaway CA. Shell scripts ask
for a port with `python3 ci/servers.py port`.

Every server binds to 127.0.0.1 and is stopped by whoever started it (`stop()`)."""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A process serving HTTP on 127.0.0.1:port, in its own process group."""

    def __init__(self, command, port, env=None, ready_path="/"):
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.endpoint + ready_path, timeout=1)
                return
            except urllib.error.HTTPError:
                return  # it answers: ready
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{command[0]} did not start on port {port}") from None
                time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # moto_server ignores SIGTERM
        self.process.wait()


class LocalAPI:
    """local-api (make run's gateway) on ports it picks itself (--port 0: no race with another server
    for a port chosen beforehand), ready once its banner names them; its output in `log`."""

    def __init__(self, binary, *arguments, log):
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen([binary, "--port", "0", "--dynamodb-port", "0", *arguments],
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            with open(log, errors="replace") as f:
                found = re.search(r"on (http://127\.0\.0\.1:\d+)", f.read())
            if found:
                self.endpoint = found.group(1)
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(log, errors="replace") as f:
                    raise RuntimeError(f"local-api did not start: {f.read()[-500:]}")
            time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait()


def moto():
    """moto_server from the project's venv (ci/moto_server.py: moto, with CloudWatch composite alarms)."""
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_ACM_VALIDATION_WAIT="0")
    python = os.path.join(ROOT, ".venv", "bin", "python")
    return Server([python if os.path.exists(python) else sys.executable, os.path.join(ROOT, "ci", "moto_server.py"),
                   "-H", "127.0.0.1", "-p", str(port)], port, env=env, ready_path="/moto-api/")


def local_dynamodb(binary):
    port = free_port()
    return Server([binary, "--port", str(port), "--in-memory"], port)


def throwaway_tls(directory):
    """A server TLS context for 127.0.0.1/localhost, its certificate from a CA made here for one day;
    returns (context, path of the CA's PEM), for a client to trust through SSL_CERT_FILE."""
    def openssl(*arguments):
        subprocess.run(["openssl", *arguments], cwd=directory, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=throwaway-ca", "-days", "1",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "1", "-extfile", "san.ext")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))
    return context, os.path.join(directory, "ca.pem")


class StaticTLSServer(ThreadingHTTPServer):
    """Serves one JSON document at `path` over TLS on 127.0.0.1 (context: throwaway_tls), counting
    the fetches: an identity provider's JWKS, for instance."""

    daemon_threads = True

    def __init__(self, path, document, context):
        super().__init__(("127.0.0.1", 0), _StaticHandler)
        self.path = path
        self.body = json.dumps(document).encode()
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.fetches = 0
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"https://127.0.0.1:{self.server_address[1]}{self.path}"

    def stop(self):
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ssl.SSLError)):
            super().handle_error(request, client_address)


class _StaticHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.fetches += 1
        found = self.path == self.server.path
        body = self.server.body if found else b"{}"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RuntimeAPI(ThreadingHTTPServer):
    """Lambda's Runtime API on 127.0.0.1: hands out `events` in order (with a trace header when
    `trace` is given), records each answer as
    (kind, body, perf_counter time) with kind "response", "error" or "init-error", then holds `/next`
    open as Lambda does between invocations, until `stop()`. A streamed response (Lambda's
    streaming mode: chunked, error trailers) is recorded whole when it ends, and its details in
    `streams[index]`: content type, when each event was handed out and its first chunk arrived
    (perf_counter), the trailers, the chunk count."""

    daemon_threads = True

    def __init__(self, events, trace=None):
        super().__init__(("127.0.0.1", 0), _RuntimeAPIHandler)
        self.events = list(events)
        self.trace = trace  # the Lambda-Runtime-Trace-Id header of every event, if any
        self.handed_out = 0
        self.answers = []
        self.handed_at = {}
        self.streams = {}
        self.done = threading.Event()  # every event answered, or init failed
        self.idle = threading.Event()  # the runtime asked for more after the last event: it is done with it
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        # A bootstrap killed (or exiting after /init/error) mid-reply is how runs end, not a failure.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

    def stop(self):
        self.stopped.set()
        self.shutdown()
        self.server_close()


class _RuntimeAPIHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.endswith("/runtime/invocation/next"):
            return self.reply(404, b"{}")
        with self.server.lock:
            index = self.server.handed_out
            self.server.handed_out += 1
        if index >= len(self.server.events):
            self.server.idle.set()
            self.server.stopped.wait(60)
            self.close_connection = True
            return
        body = json.dumps(self.server.events[index]).encode()
        self.server.handed_at[index] = time.perf_counter()
        self.send_response(200)
        for name, value in (("Lambda-Runtime-Aws-Request-Id", f"request-{index}"),
                            ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:local"),
                            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            *((("Lambda-Runtime-Trace-Id", self.server.trace),) if self.server.trace else ())):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        kind = "init-error" if self.path.endswith("/init/error") else "response" if self.path.endswith("/response") else "error"
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self.read_stream()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.answers.append((kind, body, time.perf_counter()))
            if kind == "init-error" or len(self.server.answers) >= len(self.server.events):
                self.server.done.set()
        self.reply(202, b"{}")

    def read_stream(self):
        """A chunked body (RFC 9112 §7.1) as Lambda reads a streamed response: the first chunk's
        arrival noted, the trailers kept."""
        request = int(self.path.split("/")[-2].rsplit("-", 1)[-1])
        stream = {"content_type": self.headers.get("Content-Type"), "mode": self.headers.get("Lambda-Runtime-Function-Response-Mode"),
                  "handed_at": self.server.handed_at.get(request), "first_chunk_at": None, "chunks": 0, "trailers": {}}
        body = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                break
            body += self.rfile.read(size)
            self.rfile.readline()
            if stream["first_chunk_at"] is None:
                stream["first_chunk_at"] = time.perf_counter()
            stream["chunks"] += 1
        while (line := self.rfile.readline().strip()):
            name, _, value = line.decode().partition(":")
            stream["trailers"][name.strip().lower()] = value.strip()
        self.server.streams[request] = stream
        self.close_connection = True
        return bytes(body)

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    if sys.argv[1:] == ["port"]:
        print(free_port())
    else:
        sys.exit("usage: ci/servers.py port")
