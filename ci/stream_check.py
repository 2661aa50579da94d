"""The packaged items bootstrap's export, streamed as Lambda streams a response, in memory that does
not grow with the number of items; checked by code independent of the runtime that writes it.

    python3 -m ci.stream_check --bootstrap .build/dist/items/bootstrap --dynamodb LOCAL_DYNAMODB --runtime-api RUNTIME_API

One owner gets 1,000 items, then 10,000 (written straight to the local DynamoDB). Each time, a
fresh process of the bootstrap serves GET /items/export over the project's Runtime API emulator
(runtime-api), which reads the answer as Lambda does, with STREAMING_ROUTES naming the route (what a deployment whose integration
streams sets), then again without it (a buffered integration: the answer gathered first).
Checked (Lambda Developer Guide, "Implementing response streaming in a custom runtime"; API Gateway
Developer Guide, "Lambda proxy integration format for response streaming"): the streaming response
mode and the HTTP integration content type; a JSON prelude with status 200 and the NDJSON type,
then eight NUL bytes; every item exactly once, one JSON object per line; the body arriving as it
is read, not at once (its first part at least a quarter of the run before its end: measured, a
streamed export spreads over 70-95% of its run, a gathered one over about 1%); no error trailers. Memory: the streamed export's peak RSS (VmHWM) for 10,000 items stays
within 1.5 MB of its peak for 1,000, while the gathered one grows (so the measurement can see
growth). And STREAMING_ROUTES naming a route the service does not serve fails its start-up.
Exit status 1 with one line per failure.
"""
import argparse
import json
import sys

from ci import bootstraps
from ci import servers

OWNER = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
ROUTE = "GET /items/export"
COUNTS = (1_000, 10_000)
FLAT_MEGABYTES = 1.5
STREAMED_SHARE = 0.25
INTEGRATION_TYPE = "application/vnd.awslambda.http-integration-response"


def seed(endpoint, first, last):
    bootstraps.seed_items(endpoint, bootstraps.ENVIRONMENT["TABLE_ITEMS"], OWNER, first, last)

def export(runtime_api, bootstrap, endpoint, streaming):
    """One export by a fresh process: (its answer, peak RSS in MB)."""
    env = bootstraps.environment(bootstrap, AWS_ENDPOINT_URL_DYNAMODB=endpoint, STREAMING_ROUTES=ROUTE if streaming else "")
    run = bootstraps.run(runtime_api, bootstrap, [bootstraps.event("GET", "/items/export", subject=OWNER)], env, timeout=60)
    answer = run.answers[0]
    if answer.kind != "response":
        raise RuntimeError(f"the export answered {answer.kind}: {answer.body[:300]!r}")
    return answer, run.peak_rss


def refuses_unknown_routes(runtime_api, bootstrap, endpoint):
    """STREAMING_ROUTES naming a route the service does not serve is an /init/error saying so."""
    env = bootstraps.environment(bootstrap, AWS_ENDPOINT_URL_DYNAMODB=endpoint,
                                 STREAMING_ROUTES="GET /items/export,GET /nowhere")
    run = bootstraps.run(runtime_api, bootstrap, [bootstraps.event("GET", "/items/export", subject=OWNER)], env)
    kinds = [(a.kind, a.json().get("errorMessage", "")) for a in run.answers]
    if run.exit_status in (0, None) or kinds != [("init-error", "STREAMING_ROUTES names GET /nowhere, which items does not serve")]:
        return [f"STREAMING_ROUTES with an unknown route: exit {run.exit_status}, answers {kinds}"]
    return []


def problems_of_stream(answer, count):
    problems = []
    stream, body = answer.stream, answer.body
    if stream is None:
        return ["the export was not streamed (no streaming response mode)"]
    if stream["contentType"] != INTEGRATION_TYPE:
        problems.append(f"content type {stream['contentType']!r}")
    if stream["error"]:
        problems.append(f"the stream ended with an error in its trailers: {stream['error']}")
    spread = answer.seconds - (answer.first_part_seconds or answer.seconds)
    if spread < STREAMED_SHARE * answer.seconds:
        problems.append(f"{count} items arrived at once ({spread * 1000:.1f} ms from the first of {answer.body_parts} "
                        f"parts to the end, of {answer.seconds * 1000:.1f} ms), not as they were read")
    prelude, delimiter, rest = body.partition(b"\0" * 8)
    if not delimiter:
        return problems + ["no eight-NUL delimiter after the prelude"]
    head = json.loads(prelude)
    if head.get("statusCode") != 200 or head.get("headers", {}).get("content-type") != "application/x-ndjson":
        problems.append(f"prelude {head}")
    lines = rest.decode().splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    if len(ids) != count or len(set(ids)) != count or any(json.loads(line)["owner"] != OWNER for line in lines):
        problems.append(f"{len(ids)} lines ({len(set(ids))} distinct items) for {count} items")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--dynamodb", required=True, help="the local-dynamodb executable")
    parser.add_argument("--runtime-api", required=True, help="the runtime-api executable")
    args = parser.parse_args()

    port = servers.free_port()
    database = servers.Server([args.dynamodb, "--port", str(port), "--in-memory"], port)
    failures = []
    peaks = {}
    try:
        bootstraps.create_tables(database.endpoint, "items")
        failures += refuses_unknown_routes(args.runtime_api, args.bootstrap, database.endpoint)
        seeded = 0
        for count in COUNTS:
            seed(database.endpoint, seeded, count)
            seeded = count
            answer, peaks[("streamed", count)] = export(args.runtime_api, args.bootstrap, database.endpoint, streaming=True)
            failures += [f"{count} items: {p}" for p in problems_of_stream(answer, count)]
            answer, peaks[("gathered", count)] = export(args.runtime_api, args.bootstrap, database.endpoint, streaming=False)
            if answer.stream is not None or answer.json().get("statusCode") != 200:
                failures.append(f"{count} items without STREAMING_ROUTES: not a buffered 200 answer")
    finally:
        database.stop()

    low, high = COUNTS
    streamed = peaks[("streamed", high)] - peaks[("streamed", low)]
    gathered = peaks[("gathered", high)] - peaks[("gathered", low)]
    if streamed > FLAT_MEGABYTES:
        failures.append(f"the streamed export's peak RSS grew {streamed:.1f} MB from {low:,} to {high:,} items "
                        f"(allowed {FLAT_MEGABYTES} MB)")
    if gathered <= streamed + 2 * FLAT_MEGABYTES:
        failures.append(f"the gathered export grew only {gathered:.1f} MB: the measurement cannot tell")
    for failure in failures:
        print(f"stream-check: {failure}", file=sys.stderr)
    print(f"stream-check: peak RSS {low:,} → {high:,} items: streamed {peaks[('streamed', low)]:.1f} → "
          f"{peaks[('streamed', high)]:.1f} MB, gathered {peaks[('gathered', low)]:.1f} → {peaks[('gathered', high)]:.1f} MB; "
          f"{len(failures)} failure(s)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
