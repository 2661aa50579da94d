"""Bounded fuzzing of the local DynamoDB over HTTP: random and mutated requests (deep nesting,
huge values, wrong types, unknown parameters, broken JSON, every operation) for a fixed time
with a fixed seed. Fails on any 5xx answer, a dropped connection, or a server that no longer
answers; a 4xx is the expected answer to nonsense.

    python3 -m ci.conformance.fuzz --local-dynamodb BINARY [--seconds 20] [--seed 20261201]
"""
import argparse
import http.client
import json
import os
import random
import sys
import time

from ci import servers

OPERATIONS = ["PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem", "BatchGetItem",
              "TransactWriteItems", "TransactGetItems", "CreateTable", "DescribeTable", "UpdateTable", "DeleteTable",
              "ListTables", "UpdateTimeToLive", "DescribeTimeToLive", "TagResource", "UntagResource", "ListTagsOfResource"]
TABLE = {"TableName": "fuzz", "BillingMode": "PAY_PER_REQUEST",
         "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
         "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
         "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}],
         "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}
SEEDS = [
    ("PutItem", {"TableName": "fuzz", "Item": dict(KEY, g={"S": "x"}, n={"N": "5"}, l={"L": [{"S": "v"}]}, m={"M": {"k": {"BOOL": True}}}),
                 "ConditionExpression": "attribute_not_exists(pk) OR n < :v", "ExpressionAttributeValues": {":v": {"N": "9"}}}),
    ("UpdateItem", {"TableName": "fuzz", "Key": KEY, "UpdateExpression": "SET n = if_not_exists(n, :z) + :v, l = list_append(l, :l) REMOVE m.k ADD s :s",
                    "ExpressionAttributeValues": {":z": {"N": "0"}, ":v": {"N": "1"}, ":l": {"L": [{"S": "w"}]}, ":s": {"SS": ["a"]}},
                    "ReturnValues": "UPDATED_NEW"}),
    ("UpdateItem", {"TableName": "fuzz", "Key": KEY, "AttributeUpdates": {"n": {"Action": "ADD", "Value": {"N": "2"}}},
                    "Expected": {"g": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "x"}]}}}),
    ("Query", {"TableName": "fuzz", "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b", "FilterExpression": "contains(l, :v)",
               "ExpressionAttributeValues": {":p": {"S": "a"}, ":a": {"N": "0"}, ":b": {"N": "9"}, ":v": {"S": "v"}}, "Limit": 5}),
    ("Query", {"TableName": "fuzz", "IndexName": "byG", "KeyConditions": {"g": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}},
               "QueryFilter": {"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}}, "ReturnConsumedCapacity": "INDEXES"}),
    ("Scan", {"TableName": "fuzz", "ScanFilter": {"n": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"N": "6"}]}},
              "Segment": 0, "TotalSegments": 2}),
    ("BatchWriteItem", {"RequestItems": {"fuzz": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "2"}}}},
                                                  {"DeleteRequest": {"Key": {"pk": {"S": "c"}, "sk": {"N": "3"}}}}]}}),
    ("TransactWriteItems", {"TransactItems": [{"ConditionCheck": {"TableName": "fuzz", "Key": KEY, "ConditionExpression": "attribute_exists(pk)"}},
                                              {"Put": {"TableName": "fuzz", "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}}}}]}),
    ("GetItem", {"TableName": "fuzz", "Key": KEY, "ProjectionExpression": "l[0], m.k, #n", "ExpressionAttributeNames": {"#n": "n"}}),
    ("UpdateTable", {"TableName": "fuzz", "AttributeDefinitions": [{"AttributeName": "h", "AttributeType": "N"}],
                     "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "byH", "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                                                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}}]}),
    ("TagResource", {"ResourceArn": "arn:aws:dynamodb:local:000000000000:table/fuzz", "Tags": [{"Key": "a", "Value": "b"}]}),
    ("CreateTable", dict(TABLE, TableName="fuzz2")),
]
EXPRESSION_PARTS = ["(", ")", " AND ", " OR ", "NOT ", "a", "#n", ":v", "=", "<>", " BETWEEN ", " IN ", ",", "size(", "begins_with(",
                    "attribute_exists(", "if_not_exists(", "list_append(", "SET ", "REMOVE ", "ADD ", "DELETE ", "[", "]", ".", "+", "-",
                    "0", "99999999999", "\u0000", "\u00e9", " "]


def random_value(rng, depth=0):
    kinds = ["S", "N", "B", "BOOL", "NULL", "SS", "NS", "L", "M", "junk"]
    kind = rng.choice(kinds if depth < 40 else kinds[:7])
    if kind == "S":
        return {"S": rng.choice(["", "a", "x" * rng.randint(0, 5000), "\u2603" * 10, "\ud7ff"])}
    if kind == "N":
        return {"N": rng.choice(["0", "-1", "1E+126", "1E-131", "1" * 40, "nan", "", "1e2", "  5", "-0.0000"])}
    if kind == "B":
        return {"B": rng.choice(["", "AAEC", "not base64!", "A" * 1000])}
    if kind == "BOOL":
        return {"BOOL": rng.choice([True, False, "true", 1])}
    if kind == "NULL":
        return {"NULL": rng.choice([True, False])}
    if kind in ("SS", "NS"):
        return {kind: [rng.choice(["a", "1", "1", ""]) for _ in range(rng.randint(0, 4))]}
    if kind == "L":
        return {"L": [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    if kind == "M":
        return {"M": {rng.choice(["k", "", "pk", "a.b"]): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}}
    return rng.choice([None, 7, "x", [], {"S": "a", "N": "1"}, {"Q": "1"}])


def deep(rng, levels):
    value = {"S": "leaf"}
    for _ in range(levels):
        value = rng.choice([{"M": {"m": value}}, {"L": [value]}])
    return value


def expression(rng):
    kind = rng.random()
    if kind < 0.15:
        return "(" * rng.randint(1, 3000) + "a = :v" + ")" * rng.randint(0, 3000)
    if kind < 0.25:
        return "NOT " * rng.randint(1, 1200) + "attribute_exists(a)"
    if kind < 0.35:
        return "SET a = " + "if_not_exists(a, " * rng.randint(1, 800) + ":v" + ")" * rng.randint(0, 800)
    if kind < 0.4:
        return "a" + ".b" * rng.randint(1, 100) + " = :v"
    return "".join(rng.choice(EXPRESSION_PARTS) for _ in range(rng.randint(1, 60)))


def mutate(rng, value, depth=0):
    """A random change somewhere in a request."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        choice = rng.random()
        copy = dict(value)
        if choice < 0.2:
            del copy[key]
        elif choice < 0.4:
            copy[key] = random_value(rng)
        elif choice < 0.5:
            copy[rng.choice(["Unknown", "Expected", "ConditionalOperator", "Select", "ReturnValues", "Limit", "ExclusiveStartKey"])] = rng.choice(
                [random_value(rng), "OR", "COUNT", 0, -1, {"pk": {"S": "a"}}, "ALL_NEW"])
        elif choice < 0.65 and ("Expression" in key or key in ("Select",)):
            copy[key] = expression(rng)
        elif choice < 0.75:
            copy[key] = deep(rng, rng.randint(30, 400))
        else:
            copy[key] = mutate(rng, value[key], depth + 1)
        return copy
    if isinstance(value, list) and value and rng.random() < 0.7:
        copy = list(value)
        index = rng.randrange(len(copy))
        copy[index] = mutate(rng, copy[index], depth + 1)
        if rng.random() < 0.2:
            copy = copy * rng.randint(2, 60)
        return copy
    return rng.choice([random_value(rng), expression(rng), None, 10 ** rng.randint(0, 30), -1, "", [], {}])


def request(rng):
    roll = rng.random()
    if roll < 0.7:
        op, body = rng.choice(SEEDS)
        for _ in range(rng.randint(1, 4)):
            body = mutate(rng, body)
        return op, json.dumps(body).encode()
    op = rng.choice(OPERATIONS)
    if roll < 0.8:
        return op, rng.choice([b"{", b"[]", b"null", b"{\"TableName\": ", b"\xff\xfe", b"{}" * 1000, ("[" * 600 + "]" * 600).encode()])
    return op, json.dumps({k: random_value(rng) for k in rng.sample(["TableName", "Key", "Item", "RequestItems", "TransactItems"], 2)}).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-dynamodb", required=True)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", "20")))
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    server = servers.local_dynamodb(args.local_dynamodb)
    failures, sent, refused = [], 0, 0
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        headers = {"Content-Type": "application/x-amz-json-1.0", "Authorization": "AWS4-HMAC-SHA256 Credential=fuzz"}
        connection.request("POST", "/", json.dumps(TABLE).encode(), dict(headers, **{"X-Amz-Target": "DynamoDB_20120810.CreateTable"}))
        connection.getresponse().read()
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline and len(failures) < 10:
            op, body = request(rng)
            try:
                connection.request("POST", "/", body, dict(headers, **{"X-Amz-Target": f"DynamoDB_20120810.{op}"}))
                response = connection.getresponse()
                text = response.read()
            except (OSError, http.client.HTTPException) as error:
                failures.append(f"{op}: the connection failed ({error}) on {body[:200]!r}")
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                if server.process.poll() is not None:
                    failures.append("the server died")
                    break
                continue
            sent += 1
            if response.status >= 500:
                failures.append(f"{op}: {response.status} {text[:200]!r} on {body[:300]!r}")
            elif response.status >= 400:
                refused += 1
        if server.process.poll() is not None:
            failures.append("the server is no longer running")
    finally:
        server.stop()
    for failure in failures:
        print(f"dynamodb-fuzz: ✗ {failure}")
    print(f"dynamodb-fuzz: {sent} requests in {args.seconds:.0f} s (seed {args.seed}), {refused} refused with 4xx, "
          f"{len(failures)} crash(es) or 5xx")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
