"""DynamoDB conformance: the cases of suite.py, whose oracle is DynamoDB's documentation, driven
through boto3 with client-side validation off, against the local DynamoDB (every case must
pass) and against moto (reported, never failing the run: agreeing with moto proves nothing).

    python3 -m ci.conformance.run --local-dynamodb .build/debug/local-dynamodb [--moto] [--report FILE] [--markdown]

Prints each local failure with the rule and the page it comes from, then one summary line per
target; `--markdown` prints the parity table the README shows. Exit status 1 when a case fails
on the local DynamoDB.
"""
import argparse
import json
import os
import sys
import time
import traceback
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
from botocore import xform_name
from botocore.exceptions import ClientError

from ci import servers
from ci.conformance import suite

REGION = "us-east-1"


class Target:
    def __init__(self, name, endpoint):
        self.name, self.endpoint = name, endpoint
        config = botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}, read_timeout=30)
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        self.clients = {kind: session.client(kind, endpoint_url=endpoint, config=config) for kind in ("dynamodb", "dynamodbstreams")}
        self.values = {}

    def call(self, kind, op, params):
        client = self.clients[kind]
        return getattr(client, xform_name(op))(**self.resolve(params))

    def resolve(self, value):
        if isinstance(value, str):
            for name, replacement in self.values.items():
                value = value.replace("{" + name + "}", replacement)
            return value
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def prepare(self):
        for table in suite.FIXTURES:
            self.call("dynamodb", "CreateTable", table)
        arn = self.call("dynamodb", "DescribeTable", {"TableName": suite.HASH})["Table"]["TableArn"]
        _, _, _, region, account, _ = arn.split(":", 5)
        self.values.update(region=region, account=account)
        streams = self.call("dynamodbstreams", "ListStreams", {"TableName": suite.STREAM}).get("Streams", [])
        if streams:
            stream = streams[0]["StreamArn"]
            shards = self.call("dynamodbstreams", "DescribeStream", {"StreamArn": stream})["StreamDescription"]["Shards"]
            self.values.update(stream=stream, shard=shards[0]["ShardId"] if shards else "none")

    def raw(self, target, body):
        """A request botocore would not build: signed, with any target and body."""
        request = botocore.awsrequest.AWSRequest(method="POST", url=self.endpoint + "/", data=body.encode(),
                                                 headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials("testing", "testing"), "dynamodb", REGION).add_auth(request)
        http = urllib.request.Request(self.endpoint + "/", data=body.encode(), headers=dict(request.headers), method="POST")
        try:
            with urllib.request.urlopen(http, timeout=10) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            document = json.loads(error.read() or b"{}")
            code = (document.get("__type") or document.get("code") or "").split("#")[-1]
            raise ClientError({"Error": {"Code": code, "Message": document.get("message", "")},
                               "ResponseMetadata": {"HTTPStatusCode": error.code}}, target) from None

    def wait_index_active(self, table, index):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            described = self.call("dynamodb", "DescribeTable", {"TableName": table})["Table"]
            statuses = [i.get("IndexStatus") for i in described.get("GlobalSecondaryIndexes", []) if i["IndexName"] == index]
            if statuses == ["ACTIVE"] and described.get("TableStatus") == "ACTIVE":
                return
            time.sleep(0.1)
        raise RuntimeError(f"index {index} of {table} did not become ACTIVE")

    def perform(self, case, op, params):
        client = self.clients[case.client]
        if op == "raw":
            return self.raw(params["target"], params["body"])
        if op == "wait-index-active":
            return self.wait_index_active(params["TableName"], params["IndexName"])
        if op == "stream-records":
            return suite.records_for(params["key"])(client)
        kind = "dynamodbstreams" if op in ("ListStreams", "DescribeStream", "GetShardIterator", "GetRecords") else "dynamodb"
        return self.call(kind, op, params)

    def run(self, case):
        """(passed, detail)"""
        try:
            for op, params in case.setup:
                self.perform(case, op, params)
        except Exception as error:  # a setup the target cannot do
            return False, f"setup failed: {describe(error)}"
        try:
            response = self.perform(case, case.op, case.params)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            message = error.response["Error"].get("Message", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            if isinstance(case.expect, suite.Err):
                if code != case.expect.code:
                    return False, f"expected {case.expect.code}, got {code}: {message}"
                # Every client error DynamoDB documents is an HTTP 400 (Programming.Errors).
                if status != case.expect.status:
                    return False, f"expected HTTP {case.expect.status}, got {status}"
                if case.expect.contains and case.expect.contains.lower() not in message.lower():
                    return False, f"expected a message containing {case.expect.contains!r}, got {message!r}"
                if case.expect.after and not case.expect.after(error.response, self.clients[case.client]):
                    return False, f"refused with {code}, but the refusal changed what it must leave as it was"
                return True, ""
            return False, f"expected success, got {code}: {message}"
        except Exception as error:
            return False, f"the call failed: {describe(error)}"
        if isinstance(case.expect, suite.Err):
            return False, f"expected {case.expect.code}, got success: {summarize(response)}"
        if case.expect.check:
            try:
                if not case.expect.check(response, self.clients[case.client]):
                    return False, f"the result is not as documented: {summarize(response)}"
            except Exception as error:
                return False, f"checking the result failed: {describe(error)} in {summarize(response)}"
        return True, ""


def describe(error):
    return f"{type(error).__name__}: {error}"[:300]


def summarize(value):
    text = json.dumps(value, default=str)
    return text[:300] + ("…" if len(text) > 300 else "")


def area(case):
    return case.ref.split(":", 1)[1]


def markdown(results, targets):
    """The parity table: per documentation page, how many of its cases each target passes."""
    rows = {}
    for case in suite.CASES:
        # What the documentation leaves out, the case names "(observed)": DynamoDB's observed answer.
        basis = "observed" if case.rule.startswith("(observed)") else "documented"
        row = rows.setdefault((case.ref, basis), {"cases": 0, **{t: 0 for t in targets}})
        row["cases"] += 1
        for t in targets:
            row[t] += results[t][case.id][0]
    lines = ["| behaviour (documentation page) | cases | DynamoDB | " + " | ".join(targets) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in targets) + " |"]
    for (ref, basis), row in sorted(rows.items()):
        cells = " | ".join(f"{row[t]}/{row['cases']}" for t in targets)
        lines.append(f"| [{area_title(ref)}]({suite.doc(ref)}) | {row['cases']} | {basis} | {cells} |")
    totals = " | ".join(f"**{sum(r[0] for r in results[t].values())}/{len(suite.CASES)}**" for t in targets)
    lines.append(f"| **all** | {len(suite.CASES)} | | {totals} |")
    return "\n".join(lines)


def area_title(ref):
    kind, _, page = ref.partition(":")
    return page if kind == "api" else page.replace(".", " ").replace("-", " ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-dynamodb", required=True, help="the local-dynamodb binary")
    parser.add_argument("--moto", action="store_true", help="also report moto's agreement with the documentation")
    parser.add_argument("--report", help="write every case's result as JSON here")
    parser.add_argument("--markdown", action="store_true", help="print the README's parity table")
    args = parser.parse_args()
    started = [("local", servers.local_dynamodb(args.local_dynamodb))]
    if args.moto:
        started.append(("moto", servers.moto()))
    results = {}
    try:
        for name, server in started:
            target = Target(name, server.endpoint)
            target.prepare()
            results[name] = {}
            clock = time.monotonic()
            for case in suite.CASES:
                results[name][case.id] = target.run(case)
            elapsed = time.monotonic() - clock
            passed = sum(r[0] for r in results[name].values())
            if name == "local":
                for case in suite.CASES:
                    ok, detail = results[name][case.id]
                    if not ok:
                        print(f"conformance: ✗ #{case.id} {case.op}: {case.rule} ({suite.doc(case.ref)}): {detail}")
            label = "pass" if name == "local" else "agree with DynamoDB's documentation (reported, not a failure)"
            print(f"conformance: {name}: {passed}/{len(suite.CASES)} cases {label} ({elapsed:.1f} s)")
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        for _, server in started:
            server.stop()
    if args.report:
        os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
        with open(args.report, "w") as f:
            json.dump([{"id": c.id, "doc": suite.doc(c.ref), "rule": c.rule, "operation": c.op,
                        **{t: {"pass": results[t][c.id][0], "detail": results[t][c.id][1]} for t in results}} for c in suite.CASES], f, indent=1)
    if args.markdown:
        print(markdown(results, list(results)))
    return 0 if all(r[0] for r in results["local"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
