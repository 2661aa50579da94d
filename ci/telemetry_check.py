"""The packaged users bootstrap's metrics and traces, as Lambda would forward them, checked against
AWS's published formats by code independent of the runtime that writes them.

    python3 -m ci.telemetry_check --bootstrap .build/dist/users/bootstrap --dynamodb LOCAL_DYNAMODB --runtime-api RUNTIME_API

The bootstrap runs over the project's Runtime API emulator (runtime-api) with the environment Terraform gives it
(METRICS_NAMESPACE, METRICS_SERVICE), JSON logs, a sampled trace header and an X-Ray daemon address
(a UDP socket here), against the local DynamoDB told to throttle the first two item operations.
Checked: every stdout line is JSON; every metric line follows the Embedded Metric Format
specification; the cold start is reported once, with its init duration; the throttled call shows
up as retries and throttles; each DynamoDB call arrives as an X-Ray subsegment of the trace, the
throttled one flagged. Exit status 1 with one line per failure.
"""
import argparse
import json
import re
import socket
import sys

from ci import bootstraps
from ci import servers

TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793"
TRACE_PARENT = "53995c3f42cd8ad8"
UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
         "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
         "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
         "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}


def emf_problems(line):
    """CloudWatch User Guide, "Specification: Embedded metric format": the _aws metadata (Timestamp
    in epoch milliseconds, CloudWatchMetrics directives with Namespace, Dimensions as arrays of
    dimension-key arrays of at most 30, Metrics of at most 100 with a Name and an optional known
    Unit), every dimension key a string member at the top level, every metric a number or an
    array of at most 100 numbers at the top level."""
    problems = []
    metadata = line.get("_aws", {})
    if not isinstance(metadata.get("Timestamp"), int) or metadata["Timestamp"] < 1_700_000_000_000:
        problems.append("_aws.Timestamp is not epoch milliseconds")
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return problems + ["_aws.CloudWatchMetrics is not a non-empty array"]
    for directive in directives:
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 1024:
            problems.append("a directive has no Namespace")
        for dimension_set in directive.get("Dimensions", []):
            if not isinstance(dimension_set, list) or len(dimension_set) > 30:
                problems.append(f"dimension set {dimension_set} is not an array of at most 30 keys")
                continue
            for key in dimension_set:
                if not isinstance(line.get(key), str):
                    problems.append(f"dimension {key} is not a top-level string")
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list) or not 1 <= len(metrics) <= 100:
            problems.append("a directive's Metrics is not an array of 1 to 100")
            continue
        for metric in metrics:
            name = metric.get("Name")
            value = line.get(name)
            if "Unit" in metric and metric["Unit"] not in UNITS:
                problems.append(f"metric {name} has unit {metric['Unit']}")
            numbers = value if isinstance(value, list) else [value]
            if not numbers or len(numbers) > 100 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
                problems.append(f"metric {name} has no top-level numeric value ({value!r})")
    return problems


def subsegment_problems(document):
    """X-Ray Developer Guide, "AWS X-Ray segment documents": an independent subsegment has a name,
    a 16-hex-digit id, the trace id, its parent's id, type "subsegment", start and end times in
    epoch seconds; an AWS call's carries namespace "aws" and its operation."""
    problems = []
    for field, pattern in (("id", r"[0-9a-f]{16}"), ("trace_id", re.escape(TRACE_ROOT)), ("parent_id", TRACE_PARENT),
                           ("type", "subsegment"), ("namespace", "aws"), ("name", r"DynamoDB")):
        if not re.fullmatch(pattern, str(document.get(field, ""))):
            problems.append(f"subsegment {field} is {document.get(field)!r}")
    start, end = document.get("start_time"), document.get("end_time")
    if not (isinstance(start, float) and isinstance(end, float) and 1.7e9 < start <= end):
        problems.append(f"subsegment times {start!r}..{end!r} are not epoch seconds")
    if not document.get("aws", {}).get("operation"):
        problems.append("subsegment has no aws.operation")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--dynamodb", required=True, help="the local-dynamodb executable")
    parser.add_argument("--runtime-api", required=True, help="the runtime-api executable")
    args = parser.parse_args()

    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(2)
    port = servers.free_port()
    database = servers.Server([args.dynamodb, "--port", str(port), "--in-memory", "--throttle-next", "2"], port)
    try:
        bootstraps.create_tables(database.endpoint, "users")
        env = {"AWS_ENDPOINT_URL_DYNAMODB": database.endpoint, "METRICS_NAMESPACE": "swiftapi/check",
               "METRICS_SERVICE": "users", "AWS_LAMBDA_LOG_FORMAT": "JSON", "LOG_LEVEL": "INFO",
               "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}"}
        events = [bootstraps.event("GET", "/users/01ARZ3NDEKTSV4RRFFQ69G5FAV", subject="01ARZ3NDEKTSV4RRFFQ69G5FAV"),
                  bootstraps.event("GET", "/users/01ARZ3NDEKTSV4RRFFQ69G5FAV", subject="01ARZ3NDEKTSV4RRFFQ69G5FAV")]
        run = bootstraps.run(args.runtime_api, args.bootstrap, events, bootstraps.environment(args.bootstrap, **env),
                             trace=f"Root={TRACE_ROOT};Parent={TRACE_PARENT};Sampled=1")
        answers, lines = [(a.kind, a.json()) for a in run.answers], run.lines
        datagrams = []
        try:
            while True:
                datagrams.append(daemon.recv(65536))
        except socket.timeout:
            pass
    finally:
        database.stop()
        daemon.close()

    failures = []
    if [a[1].get("statusCode") for a in answers] != [404, 404]:
        failures.append(f"the reads answered {answers} (want two 404s: no such user)")
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            failures.append(f"a stdout line is not JSON: {line[:120]}")
    metric_lines = [p for p in parsed if "_aws" in p]
    for p in parsed:
        if "_aws" in p:
            failures += [f"EMF: {problem}: {json.dumps(p)[:200]}" for problem in emf_problems(p)]
        elif not {"timestamp", "level", "message"} <= set(p):
            failures.append(f"a log line lost Lambda's JSON fields: {json.dumps(p)[:200]}")
    cold = [p for p in metric_lines if "ColdStart" in p]
    if len(cold) != 1 or not isinstance(cold[0].get("InitDuration"), (int, float)):
        failures.append(f"the cold start is reported {len(cold)} times (want once, with InitDuration)")
    routes = [p for p in metric_lines if p.get("Route") == "GET /users/{id}" and p.get("StatusClass") == "4xx"]
    if len(routes) != 2:
        failures.append(f"{len(routes)} route lines for GET /users/{{id}} 4xx (want 2, one per request)")
    for route in routes:
        # Latency by route (its percentiles over every status), Requests by route and status class.
        published = sorted((tuple(d) for directive in route["_aws"]["CloudWatchMetrics"] for d in directive["Dimensions"]
                            for m in directive["Metrics"] if m["Name"] in ("Latency", "Requests")), key=len)
        if published != [("Service", "Route"), ("Service", "Route", "StatusClass")] or route.get("Requests") != 1:
            failures.append(f"a route line publishes Latency and Requests by {published} with Requests={route.get('Requests')} "
                            f"(want Latency by Service, Route and Requests=1 by Service, Route, StatusClass)")
    reads = [p for p in metric_lines if p.get("Operation") == "GetItem"]
    retries = sum(p.get("DynamoDBRetries", 0) for p in reads)
    throttles = sum(p.get("DynamoDBThrottles", 0) for p in reads)
    if retries < 2 or throttles < 2:
        failures.append(f"GetItem shows {retries} retries and {throttles} throttles (the local DynamoDB throttled 2)")
    segments = []
    for datagram in datagrams:
        header, _, body = datagram.partition(b"\n")
        if json.loads(header) != {"format": "json", "version": 1}:
            failures.append(f"an X-Ray datagram's header is {header!r}")
        segments.append(json.loads(body))
    if len(segments) < 2:
        failures.append(f"{len(segments)} X-Ray subsegments arrived (want one per DynamoDB call: 2)")
    for segment in segments:
        failures += [f"X-Ray: {problem}" for problem in subsegment_problems(segment)]
    if not any(s.get("throttle") and s.get("aws", {}).get("retries", 0) >= 2 for s in segments):
        failures.append("no subsegment shows the throttled call (throttle: true, retries >= 2)")

    for failure in failures:
        print(f"telemetry-check: {failure}", file=sys.stderr)
    print(f"telemetry-check: {len(lines)} stdout lines ({len(metric_lines)} metric lines), {len(segments)} subsegments; "
          f"{len(failures)} failure(s)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
