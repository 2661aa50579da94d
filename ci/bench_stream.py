"""Benchmark of a streamed export against the paged listing (make bench), through the local gateway
as `make run` serves them (release build, in-process handlers, the local DynamoDB in memory).

    python3 -m ci.bench_stream --local-api .build/release/local-api [--counts 1000,50000] [--runs 3]

One owner gets the counts' items in turn (written straight to the local DynamoDB). For each count:
GET /items/export read as it arrives (time to the head, to the first item line, to the end), and
the same items through GET /items?limit=100 page after page, each page a request (time to the first
page, to the last). Medians of `runs`; throughput is the NDJSON or JSON bytes over the whole time.
"""
import argparse
import http.client
import json
import statistics
import subprocess
import sys
import time
import urllib.parse

from ci import bootstraps
from ci import servers

OWNER = "bench"


def seed(port, first, last):
    bootstraps.seed_items(f"http://127.0.0.1:{port}", "items", OWNER, first, last)

def export(port, token):
    """(seconds to the head, to the first item line, to the end, bytes, lines)."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    started = time.perf_counter()
    connection.request("GET", "/items/export", headers={"authorization": f"Bearer {token}"})
    response = connection.getresponse()
    head = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"export answered {response.status}: {response.read()[:200]!r}")
    first_line = None
    size = lines = 0
    while chunk := response.read1(65536):
        size += len(chunk)
        lines += chunk.count(b"\n")
        if first_line is None and lines:
            first_line = time.perf_counter() - started
    total = time.perf_counter() - started
    connection.close()
    return head, first_line, total, size, lines


def listing(port, token):
    """(seconds to the first page, to the last, bytes, items)."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    started = time.perf_counter()
    first = None
    cursor = None
    size = items = 0
    while True:
        query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        connection.request("GET", "/items?" + urllib.parse.urlencode(query), headers={"authorization": f"Bearer {token}"})
        body = connection.getresponse().read()
        page = json.loads(body)
        size += len(body)
        items += len(page["items"])
        first = first or time.perf_counter() - started
        cursor = page.get("nextCursor")
        if not cursor:
            break
    total = time.perf_counter() - started
    connection.close()
    return first, total, size, items


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-api", required=True)
    parser.add_argument("--counts", default="1000,50000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]

    port, dynamodb = servers.free_port(), servers.free_port()
    gateway = servers.Server([args.local_api, "--port", str(port), "--dynamodb-port", str(dynamodb), "--in-memory"], port,
                             ready_path="/ready")
    try:
        token = subprocess.run([args.local_api, "token", OWNER, "--scope", "items.read"], capture_output=True, text=True,
                               check=True).stdout.strip()
        print(f"GET /items/export (streamed) against GET /items?limit=100 page by page, through the local gateway "
              f"(release, in-process); medians of {args.runs}")
        print("| items | export: head | first item | all | MB/s | list: first page | all | MB/s |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        seeded = 0
        for count in counts:
            seed(dynamodb, seeded, count)
            seeded = count
            exports = [export(port, token) for _ in range(args.runs)]
            listings = [listing(port, token) for _ in range(args.runs)]
            if any(e[4] != count for e in exports) or any(page[3] != count for page in listings):
                raise RuntimeError(f"expected {count} items, the export had {[e[4] for e in exports]}, "
                                   f"the listing {[page[3] for page in listings]}")

            def median(rows, i):
                return statistics.median(row[i] for row in rows)
            ms = lambda seconds: f"{seconds * 1000:.1f} ms"  # noqa: E731
            print(f"| {count:,} | {ms(median(exports, 0))} | {ms(median(exports, 1))} | {ms(median(exports, 2))} | "
                  f"{median(exports, 3) / median(exports, 2) / 1e6:.1f} | {ms(median(listings, 0))} | "
                  f"{ms(median(listings, 1))} | {median(listings, 2) / median(listings, 1) / 1e6:.1f} |")
    finally:
        gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
