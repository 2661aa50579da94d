"""services/service.schema.json: every service's declaration matches it, each rule refuses what it
names in a sentence that says where, and it describes the same fields Swift's strict decoder
(ServiceDeclaration.swift) accepts, so neither can grow a field the other refuses."""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from ci import declarations

SWIFT = os.path.join(declarations.ROOT, "shared", "Sources", "HTTPAPI", "ServiceDeclaration.swift")


def users():
    return copy.deepcopy(declarations.load("users"))


class Schema(unittest.TestCase):
    def refused(self, declaration, *fragments, name="users"):
        problems = declarations.problems(name, declaration)
        self.assertTrue(problems, "the schema accepted it")
        for fragment in fragments:
            self.assertTrue(any(fragment in p for p in problems), f"{fragment!r} not in {problems}")
        return problems

    def test_every_service_matches(self):
        self.assertEqual(declarations.check(), [])
        self.assertGreaterEqual(len(declarations.names()), 2)

    def test_a_route_is_never_open_by_omission(self):
        d = users()
        del d["routes"]["POST /users"]["authorization"]
        self.refused(d, "at routes.POST /users: 'authorization' is a required property")
        d = users()
        d["routes"]["POST /users"]["authorization"] = "NONE"
        self.refused(d, "at routes.POST /users: 'public' is a required property")
        d = users()
        d["routes"]["POST /users"]["public"] = True
        self.refused(d, "at routes.POST /users.public: False was expected")
        d = users()
        d["routes"]["POST /users"].update(authorization="NONE", public=True)
        self.assertEqual(declarations.problems("users", d), [])

    def test_route_keys_read_as_method_and_path(self):
        for key in ("GET users", "FETCH /users", "GET /users/{id", "GET  /users", "GET /a/{proxy+}/b"):
            d = users()
            d["routes"][key] = {"authorization": "JWT"}
            self.refused(d, f"{key!r} is refused: A route key is")
        d = users()
        d["routes"]["ANY /files/{proxy+}"] = {"authorization": "JWT"}
        d["routes"]["$default"] = {"authorization": "JWT"}
        self.assertEqual(declarations.problems("users", d), [])

    def test_function_settings_stay_within_lambdas_limits(self):
        for field, value, message in (("memory", 64, "64 is less than the minimum of 128"),
                                      ("memory", 256.5, "256.5 is not of type 'integer'"),
                                      ("timeout", 901, "901 is greater than the maximum of 900"),
                                      ("architecture", "arm", "'arm' is not one of ['x86_64', 'arm64']")):
            d = users()
            d["function"][field] = value
            self.refused(d, f"at function.{field}: {message}")

    def test_a_misspelt_field_is_refused_not_ignored(self):
        d = users()
        d["function"]["memroy"] = 512
        self.refused(d, "at function: Additional properties are not allowed ('memroy' was unexpected)")
        d = users()
        d["tables"]["users"]["ttl"] = "expiresAt"
        self.refused(d, "at tables.users: Additional properties are not allowed ('ttl' was unexpected)")

    def test_tables(self):
        d = users()
        d["tables"]["users"]["stream"] = "EVERYTHING"
        self.refused(d, "at tables.users.stream: 'EVERYTHING' is not one of")
        d = users()
        d["tables"]["users"]["partitionKey"]["type"] = "BOOL"
        self.refused(d, "at tables.users.partitionKey.type: 'BOOL' is not one of ['S', 'N', 'B']")
        d = users()
        del d["tables"]["users"]["globalSecondaryIndexes"][0]["partitionKey"]["shards"]
        self.refused(d, "at tables.users.globalSecondaryIndexes[0].partitionKey: 'shards' is a required property")
        d = users()
        d["tables"]["users"]["localSecondaryIndexes"] = [{"name": "byEmail", "sortKey": {"name": "email", "type": "S"}, "projection": "ALL"}]
        self.refused(d, "at tables.users: 'sortKey' is a required property")
        d["tables"]["users"]["sortKey"] = {"name": "sk", "type": "S"}
        self.assertEqual(declarations.problems("users", d), [])

    def test_objectives(self):
        d = users()
        d["objectives"]["errorRatePercent"] = 0
        self.refused(d, "at objectives.errorRatePercent: 0 is less than or equal to the minimum of 0")
        d = users()
        d["objectives"]["latencyP99Milliseconds"] = 31000
        self.refused(d, "at objectives.latencyP99Milliseconds: 31000 is greater than the maximum of 30000")
        d = users()
        d["routes"]["GET /users"]["objectives"]["durationShareOfTimeout"] = 0.5
        self.refused(d, "at routes.GET /users.objectives: {'latencyP99Milliseconds': 1500, 'durationShareOfTimeout': 0.5} is refused: "
                       "The route's own latency and error objectives; durationShareOfTimeout is the function's")

    def test_names_end_where_the_string_ends(self):
        d = users()
        d["function"]["environment"]["LOG_LEVEL\n"] = "x"
        self.refused(d, "'LOG_LEVEL\\n' is refused: An environment variable's name")
        d = users()
        d["function"]["environment"]["L"] = "x"
        self.refused(d, "'L' is refused: An environment variable's name as Lambda allows")

    def test_the_name_is_the_directory(self):
        self.refused(users(), "\"name\" is 'users'; it must be the directory's name, 'orders'", name="orders")
        d = users()
        d["name"] = "authorizer"
        self.refused(d, "at name: 'authorizer' is refused: The service's name", name="authorizer")

    def test_the_schema_and_swifts_decoder_name_the_same_fields(self):
        with open(declarations.SCHEMA) as f:
            schema = json.load(f)
        defs = schema["$defs"]
        table = defs["table"]["properties"]
        places = {
            "ServiceDeclaration": schema,
            "Function": schema["properties"]["function"],
            "Objectives": defs["objectives"],
            "Route": defs["route"],
            "Throttle": defs["route"]["properties"]["throttle"],
            "KeyAttribute": defs["keyAttribute"],
            "Index": table["globalSecondaryIndexes"]["items"],
            "LocalIndex": table["localSecondaryIndexes"]["items"],
            "Table": defs["table"],
            "AccessPattern": schema["properties"]["accessPatterns"]["additionalProperties"],
            "Operation": defs["operation"],
        }
        self.assertEqual(swift_fields().keys(), places.keys(), "a Swift type the schema does not place, or the reverse")
        for name, fields in swift_fields().items():
            self.assertEqual(fields, set(places[name]["properties"]), f"{name} and the schema differ")

    def plan_with(self, text, command="plan"):
        """ci/deploy.py COMMAND staging in a copy of ci/ whose only service, users, declares `text`;
        its exit status and stderr lines (no Terraform on PATH: nothing gets that far)."""
        root = tempfile.mkdtemp(prefix="schema-plan-")
        self.addCleanup(shutil.rmtree, root)
        shutil.copytree(os.path.join(declarations.ROOT, "ci"), os.path.join(root, "ci"), ignore=shutil.ignore_patterns("tests", "__pycache__"))
        os.makedirs(os.path.join(root, "services", "users"))
        shutil.copy(declarations.SCHEMA, os.path.join(root, "services"))
        with open(os.path.join(root, "services", "users", "service.json"), "w") as f:
            f.write(text)
        args = ["rollback", "staging", "users"] if command == "rollback" else [command, "staging"]
        done = subprocess.run([sys.executable, "-m", "ci.deploy", *args], cwd=root,
                              capture_output=True, text=True, env=dict(os.environ, PATH="/usr/bin:/bin"))
        return done.returncode, done.stderr.splitlines()

    def test_a_plan_refuses_a_wrong_declaration_before_terraform_runs(self):
        d = users()
        d["function"]["memory"] = 64
        hint = "; services/service.schema.json describes each field, .venv/bin/python -m ci.declarations --check lists every problem"
        for command in ("plan", "rollback"):
            self.assertEqual(self.plan_with(json.dumps(d), command), (1, [
                f"deploy: services/users/service.json: at function.memory: 64 is less than the minimum of 128{hint}"]))
        status, lines = self.plan_with('{"name": "users",')
        self.assertEqual(status, 1)
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], r"^deploy: services/users/service.json: not JSON \(Expecting .*\); services/service.schema.json")

def swift_fields():
    """Each Codable struct in ServiceDeclaration.swift and its stored properties."""
    with open(SWIFT) as f:
        source = f.read()
    found, stack = {}, []
    for line in source.splitlines():
        struct = re.match(r"\s*public struct (\w+): Codable", line)
        if struct:
            stack.append((struct.group(1), len(line) - len(line.lstrip())))
            found[struct.group(1)] = set()
            continue
        while stack and line.strip() == "}" and len(line) - len(line.lstrip()) == stack[-1][1]:
            stack.pop()
        field = re.match(r"\s*public var `?(\w+)`?: [^{]*$", line)
        if stack and field:
            found[stack[-1][0]].add(field.group(1))
    return found


if __name__ == "__main__":
    unittest.main()
