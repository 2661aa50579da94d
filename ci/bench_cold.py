"""Cold start of packaged bootstraps, side by side: spawn → first `/response` over the project's
Lambda Runtime API emulator (runtime-api) on 127.0.0.1, and the process's peak RSS, alternating the
bootstraps run by run so the machine's drift hits them all alike. A benchmark, not a test: it prints
medians and ratios.

    python3 -m ci.bench_cold --runtime-api RUNTIME_API [--runs 20] [--dynamodb LOCAL_DYNAMODB] NAME=PATH/bootstrap ...
                                                              (the first is the baseline)

1. Plain cold start: the first invocation is an API Gateway v2 request to a route no service
   declares, signed in, so every bootstrap answers it from its router (a 404) without calling
   DynamoDB. A C bootstrap (a bare Runtime API loop, built here with cc) is the floor.
2. With --dynamodb: the first answer that reads DynamoDB. users and items each get a record
   created once (POST through the bootstrap itself), then every fresh process answers
   `GET /users/{id}` / `GET /items/{id}` from the local DynamoDB, over plain HTTP and over TLS: a
   proxy on 127.0.0.1 with a throwaway CA, trusted through SSL_CERT_FILE as a bundle of the
   system's certificates plus that CA, so the trust store is as large as on Lambda. The TLS row's
   extra time over the plain row is the handshake's share.
3. With --dynamodb: what the runtime's metrics and traces cost the users bootstrap, cold and warm,
   configured as Terraform deploys it against the same without them.
4. With --dynamodb: the deployed configuration: the environment Lambda and Terraform give a
   function (its name, the cursor secret's ARN), Secrets Manager (a stand-in) and DynamoDB behind
   TLS, the trust store as a bundle (SSL_CERT_FILE) and as a hashed directory (SSL_CERT_DIR); the
   first request a DynamoDB-backed GET, and a listing that fetches the cursor secret.
"""
import argparse
import json
import os
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ci import authorizer_contract
from ci import bootstraps
from ci import servers
from ci.bootstraps import create_tables, environment, event

# The requests each DynamoDB-backed service is timed on: a create to seed, then the read timed.
READS = {
    "users": {"seed": ("POST", "/users", {"email": "bench@example.com", "name": "Bench"}),
              "read": lambda created: f"/users/{created['id']}"},
    "items": {"seed": ("POST", "/items", {"title": "Bench"}),
              "read": lambda created: f"/items/{created['id']}"},
}
SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
# The floor every bootstrap is measured against: a bare Runtime API loop in C.
C_FLOOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_floor.c")
RUNTIME_API = None  # the runtime-api executable (--runtime-api), set by main


def served(bootstrap, events, env, trace=None, timeout=30):
    """bootstraps.run over runtime-api, a failure said in one line."""
    try:
        return bootstraps.run(RUNTIME_API, bootstrap, events, environment(bootstrap, **env), trace=trace, timeout=timeout)
    except RuntimeError as failure:
        raise SystemExit(f"bench-cold: {failure}") from None


def cold_start(bootstrap, first_event, env=None, trace=None):
    """Seconds from spawn to the first response, peak RSS in MB, and the response."""
    run = served(bootstrap, [first_event], env or {}, trace)
    answer = run.answers[0]
    if answer.kind != "response":
        raise SystemExit(f"bench-cold: {bootstrap} did not answer its first event ({answer.kind}: {answer.body[:200]!r})")
    return answer.seconds, run.peak_rss, answer.json()


def build_c_floor(directory):
    binary = os.path.join(directory, "c-floor")
    subprocess.run(["cc", "-O2", "-Wall", "-Werror", "-o", binary, C_FLOOR], check=True)
    return binary


def alternate(runs, candidates):
    """candidates: [(name, thunk)]; each thunk runs one cold start. Returns {name: [results]}."""
    results = {name: [] for name, _ in candidates}
    for _ in range(runs):
        for name, thunk in candidates:
            results[name].append(thunk())
    return results


def zip_size(path):
    archive = os.path.join(os.path.dirname(path), "bootstrap.zip")
    return f"{os.path.getsize(archive) / 1e6:.2f} MB" if os.path.exists(archive) else "-"


class TLSProxy:
    """TLS on 127.0.0.1 in front of a plain HTTP endpoint, with a certificate from a throwaway CA."""

    def __init__(self, directory, upstream_port):
        self.context, self.ca = servers.throwaway_tls(directory)
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        # No Nagle on either leg: with it, the handshake's small writes wait on delayed ACKs (40 ms).
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            secure = self.context.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, ssl.SSLError):
            client.close()
            return
        back = threading.Thread(target=self.pump, args=(upstream, secure), daemon=True)
        back.start()
        self.pump(secure, upstream)
        back.join()
        # Closed only once both directions are done: closing a socket another thread still writes
        # to frees its descriptor for the next accepted connection, which would then get the write.
        for end in (secure, upstream):
            end.close()

    @staticmethod
    def pump(source, destination):
        """Copies one direction until it ends, then shuts both sockets down, which ends the other."""
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        for end in (source, destination):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.listener.close()


def answered(bootstrap, read, env, trace=None):
    """A cold start whose first answer must be a 200 (the read found its record)."""
    elapsed, rss, response = cold_start(bootstrap, read, env, trace)
    if response.get("statusCode") != 200:
        raise SystemExit(f"bench-cold: {bootstrap} answered {response} instead of 200")
    return elapsed, rss


def dynamodb_backed(runs, bootstraps, local_dynamodb, baseline):
    services = [(name, path) for name, path in bootstraps if name in READS]
    if not services:
        return
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as directory:
        database = servers.local_dynamodb(local_dynamodb)
        proxy = TLSProxy(directory, database.port)
        try:
            bundle = trust_bundle(directory, proxy.ca)
            with open(bundle) as f:
                certificates = f.read().count("-----BEGIN CERTIFICATE")
            plain = {"AWS_ENDPOINT_URL_DYNAMODB": database.endpoint}
            secure = {"AWS_ENDPOINT_URL_DYNAMODB": f"https://127.0.0.1:{proxy.port}", "SSL_CERT_FILE": bundle}
            candidates = []
            for name, path in services:
                create_tables(database.endpoint, name)
                method, route, body = READS[name]["seed"]
                _, _, created = cold_start(path, event(method, route, body), plain)
                if created.get("statusCode") != 201:
                    raise SystemExit(f"bench-cold: {name} could not create its record: {created}")
                read = event("GET", READS[name]["read"](json.loads(created["body"])))
                for row, env in (("plain", plain), ("TLS", secure)):
                    candidates.append((f"{name} {row}", lambda path=path, read=read, env=env: answered(path, read, env)))
            results = alternate(runs, candidates)
        finally:
            proxy.stop()
            database.stop()
    print(f"\nfirst DynamoDB-backed answer (GET /<service>/{{id}} from the local DynamoDB), median of {runs} "
          f"alternating runs; TLS: a local proxy, trust store of {certificates} certificates (SSL_CERT_FILE)")
    print(f"| bootstrap | first response | × {baseline[0]} cold | peak RSS | TLS share |")
    print("| --- | --- | --- | --- | --- |")
    for name, _ in services:
        plain_time = statistics.median(t for t, _ in results[f"{name} plain"])
        for row in ("plain", "TLS"):
            times = [t for t, _ in results[f"{name} {row}"]]
            rss = statistics.median(r for _, r in results[f"{name} {row}"])
            median = statistics.median(times)
            share = f"{(median - plain_time) / median * 100:.0f}% ({(median - plain_time) * 1000:.1f} ms)" \
                if row == "TLS" else "-"
            print(f"| {name} {row} | {median * 1000:.1f} ms | {median / baseline[1]:.2f} | {rss:.1f} MB | {share} |")


def authorizer_cold(runs, bootstrap, baseline):
    """The REST authorizer's cold start: spawn → its first answer (an Allow from the recorded
    corpus), which needs the JWKS fetched over HTTPS at init, trusted as on Lambda (the system's
    bundle plus the test CA)."""
    with open(authorizer_contract.CORPUS) as f:
        corpus = json.load(f)
    first = next(case for case in corpus["cases"] if "answer" in case["expect"])
    with tempfile.TemporaryDirectory(prefix="bench-jwks-") as directory:
        context, ca = servers.throwaway_tls(directory)
        keys = servers.StaticTLSServer("/jwks.json", corpus["jwks"], context)
        try:
            bundle = trust_bundle(directory, ca)
            env = {**authorizer_contract.environment(keys.url), "SSL_CERT_FILE": bundle}

            def once():
                elapsed, rss, answer = cold_start(bootstrap, first["event"], env)
                if answer != first["expect"]["answer"]:
                    raise SystemExit(f"bench-cold: the authorizer answered {answer}, not the corpus's {first['name']!r}")
                return elapsed, rss
            results = alternate(runs, [("authorizer", once)])["authorizer"]
        finally:
            keys.stop()
    median = statistics.median(t for t, _ in results)
    rss = statistics.median(r for _, r in results)
    print(f"\nREST authorizer: spawn → first policy (JWKS over HTTPS at init, trust store of the system's bundle + the test CA), "
          f"median of {runs} runs")
    print(f"| bootstrap | zip | first answer | × {baseline[0]} cold | peak RSS |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| authorizer | {zip_size(bootstrap)} | {median * 1000:.1f} ms | {median / baseline[1]:.2f} | {rss:.1f} MB |")


def warm_request(bootstrap, read, env, trace, requests):
    """Seconds per request of one warm process answering `requests` reads queued back to back, its
    stdout written to a file (what it prints costs it, as on Lambda)."""
    run = served(bootstrap, [read] * requests, env, trace, timeout=120)
    if any(answer.kind != "response" for answer in run.answers):
        raise SystemExit(f"bench-cold: {bootstrap} did not answer {requests} warm reads")
    return (run.answers[-1].seconds - run.answers[0].seconds) / (requests - 1)


def telemetry_cost(runs, bootstrap, local_dynamodb, warm_requests=2000):
    """What the runtime's metrics and traces cost: the first DynamoDB-backed answer and a warm
    request of the users bootstrap, configured as Terraform deploys it (METRICS_NAMESPACE,
    METRICS_SERVICE, an X-Ray daemon address and a sampled trace), against the same without them."""
    # The X-Ray daemon stand-in reads and drops datagrams in its own process (no interpreter lock here).
    port = servers.free_port()
    daemon = subprocess.Popen([sys.executable, "-c", "import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                               "s.bind(('127.0.0.1', int(sys.argv[1])))\nwhile True: s.recv(65536)", str(port)])
    database = servers.local_dynamodb(local_dynamodb)
    try:
        create_tables(database.endpoint, "users")
        off = {"AWS_ENDPOINT_URL_DYNAMODB": database.endpoint}
        on = {**off, "METRICS_NAMESPACE": "swiftapi/bench", "METRICS_SERVICE": "users",
              "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}"}
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        method, route, body = READS["users"]["seed"]
        _, _, created = cold_start(bootstrap, event(method, route, body), off)
        read = event("GET", READS["users"]["read"](json.loads(created["body"])))
        configurations = {"without": (off, None), "with metrics and traces": (on, trace)}
        cold = alternate(runs, [(name, lambda env=env, trace=trace: answered(bootstrap, read, env, trace))
                                for name, (env, trace) in configurations.items()])
        warm = alternate(max(5, runs // 2), [(name, lambda env=env, trace=trace: (warm_request(bootstrap, read, env, trace, warm_requests), 0))
                                             for name, (env, trace) in configurations.items()])
    finally:
        database.stop()
        daemon.kill()
        daemon.wait()
    print(f"\nmetrics and traces (users, first GET /users/{{id}} from the local DynamoDB; warm: {warm_requests} reads "
          f"in one process over runtime-api), medians of alternating runs")
    print("| configuration | first answer | warm request | × without (cold) | × without (warm) |")
    print("| --- | --- | --- | --- | --- |")
    base_cold = statistics.median(t for t, _ in cold["without"])
    base_warm = statistics.median(t for t, _ in warm["without"])
    for name in configurations:
        c = statistics.median(t for t, _ in cold[name])
        w = statistics.median(t for t, _ in warm[name])
        print(f"| {name} | {c * 1000:.2f} ms | {w * 1e6:.0f} µs | {c / base_cold:.3f} | {w / base_warm:.3f} |")


def trust_bundle(directory, *cas):
    """The system's CA bundle plus `cas`, written into `directory`, as large a trust store as Lambda's."""
    source = next((b for b in SYSTEM_BUNDLES if os.path.exists(b)), None)
    if source is None:
        raise SystemExit(f"bench-cold: no system CA bundle ({' or '.join(SYSTEM_BUNDLES)}); install ca-certificates")
    bundle = os.path.join(directory, "bundle.pem")
    with open(source) as system, open(bundle, "w") as out:
        out.write(system.read())
        for ca in cas:
            with open(ca) as extra:
                out.write(extra.read())
    return bundle


def hashed_directory(directory, bundle):
    """The same certificates as `bundle`, one file each in an OpenSSL hashed directory (what
    SSL_CERT_DIR names, and the layout of the system directories the transport prefers)."""
    target = os.path.join(directory, "hashed")
    os.makedirs(target)
    with open(bundle) as f:
        certificates = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", f.read(), re.S)
    for i, certificate in enumerate(certificates):
        with open(os.path.join(target, f"ca-{i}.pem"), "w") as out:
            out.write(certificate)
    subprocess.run(["openssl", "rehash", target], check=True, capture_output=True)
    return target


class SecretsManagerStandIn(ThreadingHTTPServer):
    """Secrets Manager's GetSecretValue on 127.0.0.1 (plain HTTP; a TLSProxy goes in front)."""

    daemon_threads = True

    def __init__(self, value):
        super().__init__(("127.0.0.1", 0), _SecretsHandler)
        self.value = value
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class _SecretsHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        found = self.headers.get("X-Amz-Target") == "secretsmanager.GetSecretValue"
        body = json.dumps({"ARN": request.get("SecretId"), "Name": "cursor", "SecretString": self.server.value} if found
                          else {"__type": "InvalidRequestException", "message": "unknown operation"}).encode()
        self.send_response(200 if found else 400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def deployed(runs, local_dynamodb, baseline):
    """The cold start a deployed function has: the environment Terraform and Lambda give it
    (AWS_LAMBDA_FUNCTION_NAME, CURSOR_SECRET_ARN, no secret value), Secrets Manager and DynamoDB
    behind TLS from throwaway CAs in a trust store as large as Lambda's, the first request a
    DynamoDB-backed GET; and a listing, which fetches the cursor secret on first use."""
    with tempfile.TemporaryDirectory(prefix="bench-deployed-") as directory:
        database = servers.local_dynamodb(local_dynamodb)
        secrets = SecretsManagerStandIn("bench-" + "s" * 40)
        for part in ("dynamodb", "secrets"):
            os.makedirs(os.path.join(directory, part))
        dynamodb_tls = TLSProxy(os.path.join(directory, "dynamodb"), database.port)
        secrets_tls = TLSProxy(os.path.join(directory, "secrets"), secrets.server_address[1])
        try:
            bundle = trust_bundle(directory, dynamodb_tls.ca, secrets_tls.ca)
            hashed = hashed_directory(directory, bundle)
            plain = {"AWS_ENDPOINT_URL_DYNAMODB": database.endpoint}
            lambda_ = {"AWS_LAMBDA_FUNCTION_NAME": "swiftapi-bench-service", "CURSOR_SECRET": "",
                       "CURSOR_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:swiftapi-bench-cursor-secret-AbCdEf",
                       "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"https://127.0.0.1:{secrets_tls.port}",
                       "AWS_ENDPOINT_URL_DYNAMODB": f"https://127.0.0.1:{dynamodb_tls.port}"}
            trust = {"bundle": {"SSL_CERT_FILE": bundle}, "hashed directory": {"SSL_CERT_DIR": hashed}}
            candidates = []
            for name in ("users", "items"):
                bootstrap = os.path.join(os.environ.get("PACKAGES", ".build/dist"), name, "bootstrap")
                create_tables(database.endpoint, name)
                method, route, body = READS[name]["seed"]
                created = [cold_start(bootstrap, event(method, route, body), plain)[2] for _ in range(2)]
                read = event("GET", READS[name]["read"](json.loads(created[0]["body"])))
                candidates.append((f"{name} GET, plain HTTP (reference)", lambda b=bootstrap, r=read: answered(b, r, plain)))
                for label, env in trust.items():
                    candidates.append((f"{name} GET, deployed, {label}",
                                       lambda b=bootstrap, r=read, e={**lambda_, **env}: answered(b, r, e)))
            items = os.path.join(os.environ.get("PACKAGES", ".build/dist"), "items", "bootstrap")
            listing = event("GET", "/items", query={"limit": "1"})
            candidates.append(("items listing, deployed, hashed directory (fetches the secret)",
                               lambda: answered(items, listing, {**lambda_, **trust["hashed directory"]})))
            results = alternate(runs, candidates)
        finally:
            for server in (dynamodb_tls, secrets_tls, secrets, database):
                server.stop()
    medians = {name: statistics.median(t for t, _ in values) for name, values in results.items()}
    print(f"\ndeployed configuration: first answer as Lambda runs the function (AWS_LAMBDA_FUNCTION_NAME, the cursor "
          f"secret's ARN, DynamoDB and Secrets Manager over TLS from throwaway CAs, trust store of the system's "
          f"certificates plus those CAs), median of {runs} alternating runs")
    print(f"| first request | first answer | × {baseline[0]} cold | peak RSS | where the time goes |")
    print("| --- | --- | --- | --- | --- |")
    for name, values in results.items():
        median = medians[name]
        rss = statistics.median(r for _, r in values)
        service = name.split(" ")[0]
        reference = medians.get(f"{service} GET, plain HTTP (reference)")
        if "listing" in name:
            get = medians["items GET, deployed, hashed directory"]
            note = f"secret fetch and signing ≈ {(median - get) * 1000:.1f} ms over the GET"
        elif "deployed" in name:
            note = f"TLS set-up {(median - reference) * 1000:.1f} ms ({(median - reference) / median * 100:.0f}%)"
        else:
            note = "-"
        print(f"| {name} | {median * 1000:.1f} ms | {median / baseline[1]:.2f} | {rss:.1f} MB | {note} |")


def main():
    global RUNTIME_API
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime-api", required=True, help="the runtime-api executable (a release build: it is timed with the bootstraps)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dynamodb", metavar="LOCAL_DYNAMODB",
                        help="the local-dynamodb binary: also time the first DynamoDB-backed answer, plain and TLS")
    parser.add_argument("packages", nargs="+", metavar="NAME=PATH")
    args = parser.parse_args()
    RUNTIME_API = args.runtime_api
    packaged = []
    for spec in args.packages:
        name, _, path = spec.partition("=")
        if not path or not os.access(path, os.X_OK):
            raise SystemExit(f"bench-cold: {spec!r} is not NAME=PATH to an executable bootstrap (make package SERVICE=…)")
        packaged.append((name, path))
    # The REST authorizer is not an HTTP service: it gets its own row, after the table.
    authorizer = next((path for name, path in packaged if name == "authorizer"), None)
    packaged = [(name, path) for name, path in packaged if name != "authorizer"]
    first = event("GET", "/bench/cold-start")
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as directory:
        rows = packaged[:1] + [("c-floor", build_c_floor(directory))] + packaged[1:]
        results = alternate(args.runs, [(name, lambda path=path: cold_start(path, first)[:2]) for name, path in rows])
    baseline_name = packaged[0][0]
    baseline = statistics.median(t for t, _ in results[baseline_name])
    baseline_rss = statistics.median(r for _, r in results[baseline_name])
    print(f"cold start: spawn → first /response, median of {args.runs} alternating runs on this machine")
    print(f"| bootstrap | zip | first response | × {baseline_name} | peak RSS | × {baseline_name} |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, path in rows:
        times = [t for t, _ in results[name]]
        rss = statistics.median(r for _, r in results[name])
        print(f"| {name} | {zip_size(path)} | {statistics.median(times) * 1000:.1f} ms | "
              f"{statistics.median(times) / baseline:.2f} | {rss:.1f} MB | {rss / baseline_rss:.2f} |")
    if authorizer:
        authorizer_cold(args.runs, authorizer, (baseline_name, baseline))
    if args.dynamodb:
        dynamodb_backed(args.runs, packaged, args.dynamodb, (baseline_name, baseline))
        users = next((path for name, path in packaged if name == "users"), None)
        if users:
            telemetry_cost(args.runs, users, args.dynamodb)
        deployed(args.runs, args.dynamodb, (baseline_name, baseline))


if __name__ == "__main__":
    sys.exit(main())
