"""Packaged bootstraps run as Lambda runs them, for the benchmarks and checks that need one: API
Gateway events signed in with every scope, the environment a function gets, its declared tables in
a local DynamoDB, and a run over an emulated Runtime API that keeps what the process printed."""
import json
import os
import subprocess
import time

import declarations
import servers

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


def run(bootstrap, events, env=None, trace=None, timeout=30):
    """Serves `events` with one process of `bootstrap`; returns its answers (kind, parsed body) and
    the lines it printed on stdout. `trace`: the Lambda-Runtime-Trace-Id header of every event."""
    api = servers.RuntimeAPI(events, trace=trace)
    process = subprocess.Popen([bootstrap], env=environment(bootstrap, **(env or {}), AWS_LAMBDA_RUNTIME_API=api.address),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        # Done when it asks for the next event, as Lambda sees it (what it writes after posting an
        # answer, its metric lines, comes before that), or when its start-up failed.
        deadline = time.monotonic() + timeout
        while not api.idle.wait(0.01) and not any(kind == "init-error" for kind, _, _ in api.answers):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{bootstrap} answered {len(api.answers)} of {len(events)} events in {timeout} s")
    finally:
        process.kill()
        output, _ = process.communicate()
        api.stop()
    answers = [(kind, json.loads(body) if body and index not in api.streams else body or None)
               for index, (kind, body, _) in enumerate(api.answers)]
    return answers, output.decode(errors="replace").splitlines()
