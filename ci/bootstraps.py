"""Packaged bootstraps run as Lambda runs them, for the benchmarks and checks that need one: API
Gateway events signed in with every scope, the environment a function gets, its declared tables in
a local DynamoDB, and a run over an emulated Runtime API that keeps what the process printed."""
import base64
import json
import os
import subprocess
import tempfile

from ci import declarations

SCOPES = "users.read users.write items.read items.write"
# What a packaged service gets from Lambda and Terraform outside AWS: a region, credentials the
# local DynamoDB accepts, its tables' names and, instead of the secret's ARN, the secret itself.
ENVIRONMENT = {"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "CURSOR_SECRET": "bench-" + "x" * 40, "TABLE_USERS": "bench-users", "TABLE_ITEMS": "bench-items",
               "LOG_LEVEL": "ERROR", "PATH": "/usr/bin:/bin"}



def seed_items(endpoint, table, owner, first, last):
    """Items first..last-1 of `owner` in `table`, in the record shape the items service writes
    (Records.record), 25 to a batch."""
    import boto3
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    for start in range(first, last, 25):
        requests = []
        for n in range(start, min(start + 25, last)):
            item_id = f"01J{n:023d}"
            requests.append({"PutRequest": {"Item": {
                "pk": {"S": f"ITEM#{item_id}"}, "id": {"S": item_id}, "owner": {"S": owner},
                "title": {"S": f"Item {n}"}, "status": {"S": "open"}, "statusKey": {"S": f"open#{item_id}"},
                "version": {"N": "1"}, "createdAt": {"S": "2026-12-07T00:00:00.000Z"},
                "updatedAt": {"S": "2026-12-07T00:00:00.000Z"}}}})
        client.batch_write_item(RequestItems={table: requests})

def environment(bootstrap, **extra):
    """ENVIRONMENT for the packaged bootstrap at .../<service>/bootstrap, with the ROUTE_ACCESS its
    service.json gives it (none for a function that is not a service: minimal, authorizer)."""
    declaration = declarations.load(os.path.basename(os.path.dirname(os.path.abspath(bootstrap))))
    access = {"ROUTE_ACCESS": declarations.route_access(declaration)} if declaration else {}
    return {**ENVIRONMENT, **access, **extra}


def event(method, path, body=None, subject="bench", query=None):
    """An API Gateway v2 event for `method path` (and `query`, a dict), signed in as `subject` with
    every read/write scope."""
    text = json.dumps(body) if body is not None else None
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        **({"queryStringParameters": query} if query else {}),
        "headers": {"host": "bench.local", **({"content-type": "application/json"} if text else {})},
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.local", "requestId": "cold-1",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "bench"},
            "authorizer": {"jwt": {"claims": {"sub": subject, "scope": SCOPES}, "scopes": None}},
            "stage": "$default", "time": "01/Dec/2026:00:00:00 +0000", "timeEpoch": 1795400000000,
        },
        **({"body": text} if text else {}),
        "isBase64Encoded": False,
    }


def create_tables(endpoint, service):
    """The service's declared tables with their keys and secondary indexes, via boto3."""
    import boto3
    tables = declarations.load(service).get("tables", {})
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")

    def schema(keys):
        return [{"AttributeName": k["name"], "KeyType": kind} for k, kind in keys]

    def projection(index):
        declared = {"ProjectionType": index["projection"]}
        if index.get("nonKeyAttributes"):
            declared["NonKeyAttributes"] = index["nonKeyAttributes"]
        return declared

    for declared, table in tables.items():
        keys = [(table["partitionKey"], "HASH")] + ([(table["sortKey"], "RANGE")] if "sortKey" in table else [])
        attributes = {k["name"]: k["type"] for k, _ in keys}
        extra = {}
        globals_ = table.get("globalSecondaryIndexes", [])
        if globals_:
            extra["GlobalSecondaryIndexes"] = [
                {"IndexName": index["name"], "Projection": projection(index),
                 "KeySchema": schema([(index["partitionKey"], "HASH")] + ([(index["sortKey"], "RANGE")] if "sortKey" in index else []))}
                for index in globals_]
            for index in globals_:
                for key in (index["partitionKey"], index.get("sortKey")):
                    if key:
                        attributes[key["name"]] = key["type"]
        locals_ = table.get("localSecondaryIndexes", [])
        if locals_:
            extra["LocalSecondaryIndexes"] = [
                {"IndexName": index["name"], "Projection": projection(index),
                 "KeySchema": schema([(table["partitionKey"], "HASH"), (index["sortKey"], "RANGE")])} for index in locals_]
            for index in locals_:
                attributes[index["sortKey"]["name"]] = index["sortKey"]["type"]
        client.create_table(TableName=ENVIRONMENT[f"TABLE_{declared.upper().replace('-', '_')}"],
                            BillingMode="PAY_PER_REQUEST", KeySchema=schema(keys),
                            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
                            **extra)


class Answer:
    """One answer as the Runtime API emulator took it: kind ("response", "error" or "init-error"),
    body (bytes), seconds from the process's spawn to its end, the parts its body arrived in and
    when the first did, and for a streamed response its content type and error ({type, document}
    from its trailers, or None)."""

    def __init__(self, fields):
        self.kind = fields["kind"]
        self.body = base64.b64decode(fields["body"])
        self.seconds = fields["seconds"]
        self.body_parts = fields["bodyParts"]
        self.first_part_seconds = fields.get("firstBodyPartSeconds")
        self.stream = fields.get("stream")

    def json(self):
        return json.loads(self.body)


class Run:
    """A bootstrap's run: its answers, the lines it printed on stdout, its peak RSS in MB (VmHWM
    while it ran) and its exit status when it ended by itself (after /init/error)."""

    def __init__(self, document, lines):
        self.answers = [Answer(fields) for fields in document["answers"]]
        self.lines = lines
        self.peak_rss = document["peakRSSMegabytes"]
        self.exit_status = document["exitStatus"]


def run(runtime_api, bootstrap, events, env, trace=None, timeout=30):
    """One process of `bootstrap`, with the environment `env` (whole), served `events` in order by
    the project's Runtime API emulator (`runtime_api`: the runtime-api executable), until it asks
    for more or its start-up fails. `trace`: the Lambda-Runtime-Trace-Id header of every event."""
    with tempfile.TemporaryDirectory(prefix="bootstrap-run-") as directory:
        events_file, output = os.path.join(directory, "events.json"), os.path.join(directory, "stdout")
        with open(events_file, "w") as f:
            json.dump(events, f)
        done = subprocess.run([runtime_api, "--events", events_file, "--timeout", str(timeout), "--stdout", output,
                               *(["--trace", trace] if trace else []), bootstrap],
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip() or f"runtime-api exited with status {done.returncode}")
        with open(output, errors="replace") as f:
            return Run(json.loads(done.stdout), f.read().splitlines())
