"""ci/capacity.py: the ceilings it computes from DynamoDB's per-partition limits, and the designs it
refuses (the low-cardinality indexes users and items had)."""
import copy
import json
import os
import unittest

from ci import capacity


def declaration(name):
    with open(os.path.join(capacity.ROOT, "services", name, "service.json")) as f:
        return json.load(f)


class Capacity(unittest.TestCase):
    def test_the_services_pass_the_bar(self):
        found, problems = capacity.rows(capacity.services())
        self.assertEqual(problems, [])
        self.assertGreaterEqual(len(found), 12)

    def test_sharded_listing_and_writes(self):
        found, _ = capacity.rows([("users", declaration("users"))])
        rows = {route: (whole, one) for _, route, whole, _, one, _, _, _ in found}
        # 16 shards x 1,000 write units, one indexed item per create.
        self.assertEqual(rows["POST /users"][0], 16000)
        # A page of 20 reads ceil(2/4) units of 4 KB, eventually consistent, on every shard.
        self.assertEqual(rows["GET /users"][0], 3000 / 0.5)

    def test_one_partition_key_value_for_every_user_fails(self):
        users = declaration("users")
        index = users["tables"]["users"]["globalSecondaryIndexes"][0]
        index["partitionKey"] = {"name": "kind", "type": "S", "cardinality": "shards", "shards": 1}
        _, problems = capacity.rows([("users", users)])
        self.assertIn("users: POST /users: whole-service ceiling 1,000 req/s is under 10,000 writes/s", problems)

    def test_a_status_index_with_four_values_fails(self):
        items = declaration("items")
        items["tables"]["items"]["globalSecondaryIndexes"].append(
            {"name": "byStatus", "partitionKey": {"name": "status", "type": "S", "cardinality": "shards", "shards": 4},
             "sortKey": {"name": "id", "type": "S"}, "projection": "ALL"})
        _, problems = capacity.rows([("items", items)])
        self.assertTrue(any(p.startswith("items: POST /items: whole-service ceiling 4,000 req/s") for p in problems), problems)

    def test_undeclared_cardinality_and_routes_are_problems(self):
        items = copy.deepcopy(declaration("items"))
        del items["tables"]["items"]["globalSecondaryIndexes"][0]["partitionKey"]["cardinality"]
        del items["accessPatterns"]["GET /items"]
        _, problems = capacity.rows([("items", items)])
        self.assertIn("items: route 'GET /items' has no accessPatterns entry in service.json", problems)
        self.assertTrue(any("partition key 'owner' needs \"cardinality\"" in p for p in problems), problems)


if __name__ == "__main__":
    unittest.main()
