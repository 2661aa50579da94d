"""The sustained throughput ceiling of every access pattern, from the services' declarations.

    python3 -m ci.capacity [--markdown]        (make capacity; also run by make test)

Each route declares in service.json what one request reads and writes (`accessPatterns`, in 1 KB
items) and each partition key how many values it takes (`cardinality`: item, caller, shards).
From DynamoDB's published limits this prints, per route, the ceiling for the whole service (all
callers together) and for one key (one item, one owner), and fails when a whole-service ceiling is
under 10,000 writes/s or 30,000 items read/s, or a declaration is missing.

DynamoDB's numbers (Developer Guide):
- one partition key value is served by one partition: at most 3,000 read units and 1,000 write
  units per second ("Best practices for designing and using partition keys effectively"); a
  throttled index write throttles the table write ("Global secondary indexes: throughput
  considerations");
- a write unit is one write of up to 1 KB, two in a transaction; a read unit is a strongly
  consistent read of up to 4 KB, or two eventually consistent ones, half as many in a transaction;
  a Query rounds the items it reads up to 4 KB; index reads are eventually consistent ("Read/write
  capacity mode");
- an on-demand table starts with a quota of 40,000 read and 40,000 write request units per
  second ("Service, account, and table quotas"), which AWS raises on request: shown, not a bar,
  since it is a setting and not a property of the key design.
"""
import math
import sys

from ci import declarations

ROOT = declarations.ROOT
PARTITION_READS, PARTITION_WRITES = 3000, 1000
TABLE_QUOTA = 40000
WRITE_BAR, READ_BAR = 10000, 30000
UNBOUNDED = math.inf


class DeclarationError(Exception):
    pass


def services():
    return declarations.every()


def partition_key(service, declaration, op):
    table = declaration.get("tables", {}).get(op["table"])
    if table is None:
        raise DeclarationError(f"{service}: access pattern names table {op['table']!r}, which service.json does not declare")
    if op.get("index"):
        indexes = {i["name"]: i for i in table.get("globalSecondaryIndexes", [])}
        if op["index"] not in indexes:
            raise DeclarationError(f"{service}: access pattern names index {op['index']!r} of {op['table']}, which is not declared")
        return indexes[op["index"]]["partitionKey"]
    return table["partitionKey"]


def values(service, key):
    """How many distinct values a partition key takes: unbounded, or a number of shards."""
    cardinality = key.get("cardinality")
    if cardinality in ("item", "caller"):
        return UNBOUNDED
    if cardinality == "shards" and isinstance(key.get("shards"), int) and key["shards"] > 0:
        return key["shards"]
    raise DeclarationError(f"{service}: partition key {key['name']!r} needs \"cardinality\": \"item\", \"caller\" or "
                           f"\"shards\" with \"shards\": N (how many values it takes bounds its throughput)")


def read_units(op, shards):
    """Units one request spends on one partition, and on the table in all."""
    factor = (1 if op.get("consistent") and not op.get("index") else 0.5) * (2 if op.get("transaction") else 1)
    items = op["items"]
    if op.get("index"):
        if shards is not UNBOUNDED:  # every shard is read for its share of the page
            per_shard = math.ceil(math.ceil(items / shards) / 4) * factor
            return per_shard, per_shard * shards
        units = math.ceil(items / 4) * factor
        return units, units
    return items * factor, items * factor


def pattern_ceilings(service, declaration, pattern):
    """Whole-service req/s (by partitions), the same at the default table quota, the hottest single
    key value's req/s and its name."""
    whole, quota, one, hottest = UNBOUNDED, UNBOUNDED, UNBOUNDED, "—"
    table_units = {}

    def limit(ceiling, name):
        nonlocal one, hottest
        if ceiling < one:
            one, hottest = ceiling, name

    for op in pattern.get("reads", []):
        key = partition_key(service, declaration, op)
        shards = values(service, key)
        per_partition, total = read_units(op, shards)
        if shards is not UNBOUNDED:
            whole = min(whole, PARTITION_READS / per_partition)  # each request reads every shard
        limit(PARTITION_READS / per_partition, f"{op.get('index') or op['table']}.{key['name']}")
        table_units[("read", op["table"])] = table_units.get(("read", op["table"]), 0) + total
    for op in pattern.get("writes", []):
        key = partition_key(service, declaration, op)
        values(service, key)
        per_key = op.get("times", 1) * (2 if op.get("transaction") else 1)
        limit(PARTITION_WRITES / per_key, f"{op['table']}.{key['name']}")
        table_units[("write", op["table"])] = table_units.get(("write", op["table"]), 0) + per_key * op["items"]
        # Every index of the table takes a write per indexed item, under one of its key's values.
        indexed = op.get("indexed", op["items"])
        for index in declaration["tables"][op["table"]].get("globalSecondaryIndexes", []) if indexed else []:
            shards = values(service, index["partitionKey"])
            if shards is not UNBOUNDED:
                whole = min(whole, shards * PARTITION_WRITES / indexed)
            limit(PARTITION_WRITES / indexed, f"{index['name']}.{index['partitionKey']['name']}")
    for units in table_units.values():
        quota = min(quota, TABLE_QUOTA / units)
    return whole, min(whole, quota), one, hottest


def rows(declarations):
    found, problems = [], []
    for service, declaration in declarations:
        patterns = declaration.get("accessPatterns", {})
        for route in declaration["routes"]:
            if route not in patterns:
                problems.append(f"{service}: route {route!r} has no accessPatterns entry in service.json")
        for route, pattern in patterns.items():
            if route not in declaration["routes"]:
                problems.append(f"{service}: accessPatterns names {route!r}, which is not a declared route")
                continue
            try:
                whole, quota, one, hottest = pattern_ceilings(service, declaration, pattern)
            except DeclarationError as error:
                problems.append(str(error))
                continue
            writes = bool(pattern.get("writes"))
            read_items = sum(op["items"] for op in pattern.get("reads", []))
            verdicts = []
            if writes and whole < WRITE_BAR:
                verdicts.append(f"under {WRITE_BAR:,} writes/s")
            if read_items and not writes and whole * read_items < READ_BAR:
                verdicts.append(f"under {READ_BAR:,} items read/s")
            found.append((service, route, whole, quota, one, hottest, read_items, verdicts))
            problems += [f"{service}: {route}: whole-service ceiling {rate(whole)} req/s is {v}" for v in verdicts]
    return found, problems


def rate(value):
    return "unbounded" if value is UNBOUNDED else f"{value:,.0f}"


def main():
    found, problems = rows(services())
    print("| service | route | whole service, req/s (partition-bound) | at the default table quota | one key value, req/s | hottest key | items read |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for service, route, whole, quota, one, hottest, read_items, verdicts in found:
        print(f"| {service} | `{route}` | {rate(whole)}{' ✗' if verdicts else ''} | {rate(quota)} | {rate(one)} | `{hottest}` | {read_items or '—'} |")
    for problem in problems:
        print(f"capacity: {problem}", file=sys.stderr)
    print(f"capacity: {len(found)} access pattern(s), {len(problems)} problem(s) "
          f"(bar: {WRITE_BAR:,} writes/s, {READ_BAR:,} items read/s for the whole service)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
