#!/usr/bin/env python3
"""The local servers tests and tools start, in one place: a free port on 127.0.0.1, moto_server,
and the local DynamoDB. Shell scripts ask for a port with `python3 ci/servers.py port`.

Every server binds to 127.0.0.1 and is stopped by whoever started it (`stop()`)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

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
                    raise RuntimeError(f"{command[0]} did not start on port {port}")
                time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # moto_server ignores SIGTERM
        self.process.wait()


def moto():
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_ACM_VALIDATION_WAIT="0")
    binary = shutil.which("moto_server", path=os.path.join(ROOT, ".venv", "bin")) or "moto_server"
    return Server([binary, "-H", "127.0.0.1", "-p", str(port)], port, env=env, ready_path="/moto-api/")


def local_dynamodb(binary):
    port = free_port()
    return Server([binary, "--port", str(port), "--in-memory"], port)


if __name__ == "__main__":
    if sys.argv[1:] == ["port"]:
        print(free_port())
    else:
        sys.exit("usage: ci/servers.py port")
