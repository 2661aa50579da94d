"""One boto3 workload against two DynamoDB endpoints.

    dynamodb_workload.py diff URL_A URL_B    # run the same mixed operations on both, compare results
    dynamodb_workload.py bench URL [URL...]  # operations per second of a put/get/update/query mix

`diff` exits 1 and prints each differing step when the endpoints disagree.
"""
import decimal
import json
import sys
import time

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

deserializer = TypeDeserializer()


def client(url):
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="local",
        aws_secret_access_key="local", config=Config(retries={"max_attempts": 1}))


def plain(value):
    """Attribute values → comparable Python values (Decimal numbers, sorted sets)."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"):
        return canonical(deserializer.deserialize(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def canonical(value):
    if isinstance(value, decimal.Decimal):
        return str(value.normalize()) if value != 0 else "0"
    if isinstance(value, (set, frozenset)):
        return sorted(canonical(v) for v in value)
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, (bytes, bytearray)) or type(value).__name__ == "Binary":
        return bytes(value.value if hasattr(value, "value") else value).hex()
    return value


def outcome(call):
    try:
        response = call()
    except ClientError as error:
        result = {"error": error.response["Error"]["Code"]}
        reasons = error.response.get("CancellationReasons")
        if reasons:
            result["reasons"] = [r.get("Code") for r in reasons]
        return result
    response.pop("ResponseMetadata", None)
    response.pop("ConsumedCapacity", None)
    # moto adds an empty ItemCollectionMetrics that AWS only returns when asked for.
    if response.get("ItemCollectionMetrics") == {}:
        response.pop("ItemCollectionMetrics")
    if "TableDescription" in response:
        response = {"TableStatus": response["TableDescription"]["TableStatus"]}
    if "Items" in response and "ScanFilter" not in response:
        response["Items"] = sorted((plain(i) for i in response["Items"]), key=lambda item: json.dumps(item, sort_keys=True))
    return plain(response)


def mixed_operations(db):
    """Yields (step name, thunk) pairs covering the data plane."""
    t = "diff-table"
    yield "create", lambda: db.create_table(
        TableName=t, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "owner", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "byOwner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    for i in range(12):
        yield f"put {i}", lambda i=i: db.put_item(TableName=t, Item={
            "pk": {"S": "p" if i < 8 else "q"}, "sk": {"N": str(i)}, "owner": {"S": "ada" if i % 3 == 0 else "bob"},
            "n": {"N": f"{i}.50"}, "tags": {"SS": ["a", f"t{i}"]}, "doc": {"M": {"list": {"L": [{"N": "1"}, {"S": "x"}]}}}})
    key = {"pk": {"S": "p"}, "sk": {"N": "1"}}
    yield "get", lambda: db.get_item(TableName=t, Key=key)
    yield "get projected", lambda: db.get_item(TableName=t, Key=key, ProjectionExpression="#n, doc.#l", ExpressionAttributeNames={"#n": "n", "#l": "list"})
    yield "get missing", lambda: db.get_item(TableName=t, Key={"pk": {"S": "zz"}, "sk": {"N": "1"}})
    yield "conditional put fails", lambda: db.put_item(TableName=t, Item=key, ConditionExpression="attribute_not_exists(pk)")
    yield "update arithmetic", lambda: db.update_item(
        TableName=t, Key=key, UpdateExpression="SET n = n + :d, c = if_not_exists(c, :z) + :one, doc.#l = list_append(doc.#l, :more) ADD tags :t REMOVE #o",
        ExpressionAttributeNames={"#l": "list", "#o": "owner"},
        ExpressionAttributeValues={":d": {"N": "0.25"}, ":z": {"N": "0"}, ":one": {"N": "1"}, ":more": {"L": [{"BOOL": True}]}, ":t": {"SS": ["new"]}},
        ReturnValues="ALL_NEW")
    yield "update updated_old", lambda: db.update_item(
        TableName=t, Key=key, UpdateExpression="SET n = :v DELETE tags :t", ExpressionAttributeValues={":v": {"N": "7"}, ":t": {"SS": ["a"]}},
        ReturnValues="UPDATED_OLD")
    yield "update condition fails", lambda: db.update_item(
        TableName=t, Key=key, UpdateExpression="SET n = :v", ConditionExpression="n > :big",
        ExpressionAttributeValues={":v": {"N": "1"}, ":big": {"N": "100"}})
    yield "update key attribute", lambda: db.update_item(TableName=t, Key=key, UpdateExpression="SET sk = :v", ExpressionAttributeValues={":v": {"N": "9"}})
    yield "query range", lambda: db.query(
        TableName=t, KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b", ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "2"}, ":b": {"N": "6"}})
    yield "query reverse limit", lambda: db.query(
        TableName=t, KeyConditionExpression="pk = :p AND sk > :a", ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "0"}}, ScanIndexForward=False, Limit=3)
    yield "query filter", lambda: db.query(
        TableName=t, KeyConditionExpression="pk = :p", FilterExpression="contains(tags, :t) AND (#o IN (:o) OR size(tags) > :two)", ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"S": "a"}, ":o": {"S": "ada"}, ":two": {"N": "2"}})
    yield "query count", lambda: db.query(TableName=t, KeyConditionExpression="pk = :p", Select="COUNT", ExpressionAttributeValues={":p": {"S": "q"}})
    yield "query index", lambda: db.query(TableName=t, IndexName="byOwner", KeyConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"},
                                          ExpressionAttributeValues={":o": {"S": "ada"}})
    yield "scan filter", lambda: db.scan(TableName=t, FilterExpression="attribute_type(n, :t) AND NOT begins_with(pk, :q)",
                                         ExpressionAttributeValues={":t": {"S": "N"}, ":q": {"S": "q"}})
    yield "batch write", lambda: db.batch_write_item(RequestItems={t: [
        {"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": str(i)}}}} for i in range(20)] + [{"DeleteRequest": {"Key": {"pk": {"S": "q"}, "sk": {"N": "11"}}}}]})
    yield "batch get", lambda: {"Responses": {t: sorted((plain(i) for i in db.batch_get_item(RequestItems={t: {"Keys": [
        {"pk": {"S": "b"}, "sk": {"N": str(i)}} for i in range(0, 20, 2)]}})["Responses"][t]), key=lambda item: json.dumps(item, sort_keys=True))}}
    yield "transact ok", lambda: db.transact_write_items(TransactItems=[
        {"Put": {"TableName": t, "Item": {"pk": {"S": "tx"}, "sk": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": t, "Key": key, "UpdateExpression": "SET n = :v", "ExpressionAttributeValues": {":v": {"N": "8"}}}}])
    yield "transact cancelled", lambda: db.transact_write_items(TransactItems=[
        {"Put": {"TableName": t, "Item": {"pk": {"S": "tx"}, "sk": {"N": "2"}}}},
        {"ConditionCheck": {"TableName": t, "Key": key, "ConditionExpression": "n = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}}}])
    yield "transact get", lambda: db.transact_get_items(TransactItems=[
        {"Get": {"TableName": t, "Key": {"pk": {"S": "tx"}, "sk": {"N": "1"}}}}, {"Get": {"TableName": t, "Key": {"pk": {"S": "tx"}, "sk": {"N": "2"}}}}])
    yield "delete returning", lambda: db.delete_item(TableName=t, Key=key, ReturnValues="ALL_OLD")
    yield "delete condition fails", lambda: db.delete_item(TableName=t, Key={"pk": {"S": "p"}, "sk": {"N": "2"}}, ConditionExpression="#o = :x", ExpressionAttributeNames={"#o": "owner"},
                                                            ExpressionAttributeValues={":x": {"S": "nobody"}})
    yield "missing table", lambda: db.get_item(TableName="no-such-table", Key=key)
    yield "final scan", lambda: db.scan(TableName=t)


def diff(url_a, url_b):
    a, b = client(url_a), client(url_b)
    failures = 0
    steps = list(zip(mixed_operations(a), mixed_operations(b)))
    for (name, call_a), (_, call_b) in steps:
        ra, rb = outcome(call_a), outcome(call_b)
        if ra != rb:
            failures += 1
            print(f"DIFF {name}:\n  A {json.dumps(ra, sort_keys=True)}\n  B {json.dumps(rb, sort_keys=True)}")
    print(f"{len(steps) - failures} passed, {failures} failed")
    return 1 if failures else 0


def bench(urls, items=200, seconds=4.0):
    """A put/get/update/query mix over a table of `items` items in partitions of 20, after seeding
    it with BatchWriteItem. Returns operations per second per URL."""
    partitions = max(1, items // 20)
    results = {}
    for url in urls:
        db = client(url)
        table = f"bench-{int(time.time() * 1000)}"
        db.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        for start in range(0, items, 25):
            db.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": {"pk": {"S": f"p{i % partitions}"}, "sk": {"N": str(i)}, "v": {"N": "0"}, "body": {"S": "x" * 200}}}}
                for i in range(start, min(start + 25, items))]})
        operations = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            i = operations
            key = {"pk": {"S": f"p{i % partitions}"}, "sk": {"N": str(i % items)}}
            match i % 4:
                case 0: db.put_item(TableName=table, Item={**key, "v": {"N": str(i)}, "body": {"S": "x" * 200}})
                case 1: db.get_item(TableName=table, Key=key)
                case 2: db.update_item(TableName=table, Key=key, UpdateExpression="ADD v :one", ExpressionAttributeValues={":one": {"N": "1"}})
                case 3: db.query(TableName=table, KeyConditionExpression="pk = :p AND sk >= :s", ExpressionAttributeValues={":p": key["pk"], ":s": {"N": str(i % items)}}, Limit=10)
            operations += 1
        elapsed = time.perf_counter() - started
        results[url] = operations / elapsed
        print(f"  {url}: {operations} ops in {elapsed:.1f}s = {results[url]:.0f} ops/s")
    return results


if __name__ == "__main__":
    mode, *urls = sys.argv[1:]
    if mode == "diff":
        sys.exit(diff(*urls))
    for items in (200, 20000):
        print(f"{items} items:")
        results = bench(urls, items=items)
        if len(urls) == 2:
            a, b = (results[u] for u in urls)
            print(f"  ratio: {a / b:.1f}x")
