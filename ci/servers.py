"""The local servers tests and tools start, in one place: a free port on 127.0.0.1, moto_server,
the local DynamoDB, and TLS from a throwaway CA (the Lambda Runtime API emulator is Swift's:
runtime-api, through ci/bootstraps.py). Shell scripts ask
for a port with `python3 -m ci.servers port`.

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

    def __init__(self, command, port, env=None, ready_path="/", log=None):
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        with open(log or os.devnull, "wb") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
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


def moto(log=None):
    """moto_server from the project's venv (ci/moto_server.py: moto, with CloudWatch composite alarms);
    its request log (one line per call, with the status, and any traceback) in `log` if given."""
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_ACM_VALIDATION_WAIT="0")
    python = os.path.join(ROOT, ".venv", "bin", "python")
    return Server([python if os.path.exists(python) else sys.executable, os.path.join(ROOT, "ci", "moto_server.py"),
                   "-H", "127.0.0.1", "-p", str(port)], port, env=env, ready_path="/moto-api/", log=log)


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

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    if sys.argv[1:] == ["port"]:
        print(free_port())
    else:
        sys.exit("usage: python3 -m ci.servers port")
