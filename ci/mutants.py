"""make mutants: proves the checks can fail. Each mutant is a small, named change to one file,
applied to a scratch copy of the tracked tree (never the working tree), and the check named as its
killer must fail on it; every killer must first pass on the unchanged copy. A surviving mutant
fails the target. The report lists mutant → killer and what each took.

    python3 -m ci.mutants --local-api PATH [--only SUBSTRING]

The scratch copy lives in .build/mutants/tree (git-ignored) and is kept between runs, synced file
by file, so its Swift build is incremental: the first run builds it whole (minutes on 2 cores), each
Swift mutant then costs one module's rebuild, a link and its killing suite."""
import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICE_TF = "modules/infrastructure/modules/service/main.tf"
BOOTSTRAP_POLICIES = "environments/bootstrap/policies.tf"

# Killers: what a mutant must make fail.
MODULE = ("terraform", "modules/infrastructure", "tests/module.tftest.hcl")
BOOTSTRAP = ("terraform", "environments/bootstrap", "tests/trust.tftest.hcl")
CONTRACT = ("contract",)
SCHEMA_TESTS = ("python", "test_service_schema.py")


def swift(*suites):
    """Killer: these Swift test targets or suites, run in the scratch copy's build."""
    return ("swift", *suites)


ITEMS_API = "services/items/Sources/Items/ItemsAPI.swift"
LOCAL_DYNAMODB = "shared/Sources/LocalDynamoDB/"

# (name, file, text, replacement, killer): the first occurrence of `text` is replaced.
MUTANTS = [
    ("a function role reaches every table", SERVICE_TF,
     'Resource = flatten([for table in aws_dynamodb_table.this : [table.arn, "${table.arn}/index/*"]])',
     'Resource = ["*"]', MODULE),
    ("a route's permission opens every path", SERVICE_TF,
     'can(regex("^\\\\{.*\\\\}$", segment)) ? "*" : segment', '"*"', MODULE),
    ("a JWT route loses its scopes", SERVICE_TF,
     'authorization_scopes = each.value.authorization == "JWT" && length(each.value.scopes) > 0 ? each.value.scopes : null',
     "authorization_scopes = null", MODULE),
    ("Terraform opens a NONE route not marked public", "modules/infrastructure/variables.tf",
     '(r.authorization == "NONE") == r.public', "true", MODULE),
    ("the boundary lets functions reach every table", BOOTSTRAP_POLICIES,
     'Resource  = flatten([for t in local.arn[each.key].tables : [t, "${t}/index/*"]])', 'Resource  = "*"', BOOTSTRAP),
    ("the boundary's data access loses its source-function condition", BOOTSTRAP_POLICIES,
     '        Condition = { ArnLike = { "lambda:SourceFunctionArn" = local.arn[each.key].functions } }\n      },\n      {\n        Sid      = "LogGroupsOfThisEnvironment"',
     '      },\n      {\n        Sid      = "LogGroupsOfThisEnvironment"', BOOTSTRAP),
    ("CI roles may invoke functions", BOOTSTRAP_POLICIES,
     'invocations = ["lambda:InvokeFunction", ', "invocations = [", BOOTSTRAP),
    ("one audience for every CI role", "environments/bootstrap/main.tf",
     '"${local.issuer}:aud" = local.audience[each.key]', '"${local.issuer}:aud" = "swiftapi-ci"', BOOTSTRAP),
    ("a 401 recorded as a 403", "services/users/contracts/authorization.json",
     '"statusCode": 401', '"statusCode": 403', CONTRACT),
    ("a compared header changes in a corpus", "services/users/contracts/authorization.json",
     '"content-type": "application/json"', '"content-type": "text/plain"', CONTRACT),
    ("the schema lets a NONE route go without public", "services/service.schema.json",
     '"then": { "required": ["public"], "properties": { "public": { "const": true } } },', '"then": {},', SCHEMA_TESTS),
    ("plans run on a wrong declaration", "ci/deploy.py",
     'if args.command in ("plan", "apply", "deploy", "rollback"):', "if False:", SCHEMA_TESTS),
    # Swift: authorization, tenant isolation, writes, the runtime, TLS, tokens, the local DynamoDB.
    ("a route's scope check is removed", "shared/Sources/HTTPAPI/RouteAccess.swift",
     "guard scopes.isEmpty || scopes.contains(where: granted.contains) else {", "guard true else {", swift("RouteAccessTests")),
    ("another owner's record is returned", "shared/Sources/ServiceKit/Caller.swift",
     "owner == subject || has(adminScope)", "true", swift("ItemsAPITests")),
    ("a create no longer refuses an existing user", "services/users/Sources/Users/UsersAPI.swift",
     '.put(table: table, item: try Records.item(user), condition: .notExists("pk")),',
     ".put(table: table, item: try Records.item(user)),", swift("UsersAPITests")),
    ("the idempotency key is no longer the caller's", "shared/Sources/ServiceKit/Idempotency.swift",
     '"\\(caller)\\u{0}\\(route)\\u{0}\\(key)"', '"\\(route)\\u{0}\\(key)"', swift("ServiceKitTests", "UsersAPITests")),
    ("a cursor's signature is not checked", "shared/Sources/ServiceKit/Cursor.swift",
     "Self.constantTimeEqual(signature, try await self.signature(payload, scope: scope))", "!signature.isEmpty",
     swift("ServiceKitTests")),
    ("the handler is not cancelled at the deadline", "shared/Sources/LambdaRuntime/BlockingAwait.swift",
     "    task.cancel()\n", "", swift("RuntimeLoopTests")),
    ("the deadline margin changes", "shared/Sources/LambdaRuntime/LambdaRuntime.swift",
     "defaultDeadlineMarginMilliseconds: Int64 = 100", "defaultDeadlineMarginMilliseconds: Int64 = 50",
     swift("RuntimeLoopTests")),
    ("TLS stops verifying certificates", "shared/Sources/AWSCore/HTTPTransport.swift",
     "configuration.certificateVerification = .fullVerification", "configuration.certificateVerification = .none",
     swift("TLSTransportTests")),
    ("a token for another audience is accepted", "shared/Sources/JWT/JWTAuthorizer.swift",
     "audience.contains(where: audiences.contains)", "!audiences.isEmpty", swift("JWTTests")),
    ("an expired token is accepted", "shared/Sources/JWT/JWTAuthorizer.swift",
     "guard exp > seconds else", "guard exp > 0 else", swift("JWTTests")),
    ("RSA signatures are compared by their digest only", "shared/Sources/JWT/SignatureKeys.swift",
     "return recovered == expected", "return recovered.suffix(32) == expected.suffix(32)", swift("WycheproofTests")),
    ("the local DynamoDB evaluates a put's condition as true", LOCAL_DYNAMODB + "EngineWrites.swift",
     "try !condition.evaluate(old ?? [:])", "false", swift("DynamoDBTests")),
    ("the local DynamoDB skips an index key's type check", LOCAL_DYNAMODB + "TableKeys.swift",
     "            if value.typeName != attributeTypes[name] {\n                throw .validation(\n"
     "                    \"One or more parameter values were invalid: Type mismatch for Index Key",
     "            if false {\n                throw .validation(\n"
     "                    \"One or more parameter values were invalid: Type mismatch for Index Key", swift("DynamoDBTests")),
    ("a contract's ulid matcher accepts anything", "shared/Sources/ContractTesting/ContractMatching.swift",
     'case "ulid": text.map(Self.isULID) ?? false', 'case "ulid": true', swift("ContractTestingTests")),
]


class Scratch:
    """The persistent copy of the tracked tree, and the killers run in it."""

    def __init__(self, local_api):
        self.path = os.path.join(ROOT, ".build", "mutants", "tree")
        self.local_api = local_api
        self.initialised = set()
        self.sync()

    def sync(self):
        """Copies each tracked file whose bytes differ and removes files no longer tracked; an
        unchanged file keeps its inode and time, so the Swift build stays incremental."""
        tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True, capture_output=True).stdout.decode().split("\0")
        tracked = {path for path in tracked if path and os.path.isfile(os.path.join(ROOT, path))}
        for path in tracked:
            source, target = os.path.join(ROOT, path), os.path.join(self.path, path)
            if not os.path.isfile(target) or not filecmp.cmp(source, target, shallow=False):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(source, target)
        for directory, subdirectories, files in os.walk(self.path):
            subdirectories[:] = [d for d in subdirectories if d not in (".build", ".terraform", ".venv")]
            for name in files:
                path = os.path.relpath(os.path.join(directory, name), self.path)
                if path not in tracked and not name.startswith((".terraform", "terraform.tfstate")):
                    os.remove(os.path.join(directory, name))
        venv = os.path.join(self.path, ".venv")
        if not os.path.islink(venv):
            os.symlink(os.path.join(ROOT, ".venv"), venv)

    def build_swift(self):
        done = subprocess.run(["swift", "build", "--build-tests"], cwd=self.path, capture_output=True, text=True)
        return done.returncode == 0, (done.stdout + done.stderr)[-1500:]

    def run(self, killer):
        """(passed, output tail) of one killer in the scratch copy."""
        env = dict(os.environ)
        if not os.path.isfile(env.get("TF_CLI_CONFIG_FILE", "/")):
            env["TF_CLI_CONFIG_FILE"] = "/dev/null"
        if killer[0] == "swift":
            built, tail = self.build_swift()
            if not built:
                return False, tail  # a mutant that does not compile is killed by the compiler
            command = ["swift", "test", "--skip-build", "--no-parallel"] + [a for suite in killer[1:] for a in ("--filter", suite)]
        elif killer[0] == "terraform":
            root = os.path.join(self.path, killer[1])
            if root not in self.initialised:
                plugins = os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins")
                subprocess.run(["terraform", f"-chdir={root}", "init", "-backend=false", "-input=false", "-lockfile=readonly",
                                "-no-color", *([f"-plugin-dir={plugins}"] if os.path.isdir(plugins) else [])],
                               env=env, check=True, capture_output=True)
                self.initialised.add(root)
            command = ["terraform", f"-chdir={root}", "test", "-no-color", f"-filter={killer[2]}"]
        elif killer[0] == "contract":
            command = [self.local_api, "contract"]
        else:
            command = [os.path.join(ROOT, ".venv", "bin", "python"), "-m", "unittest", "discover", "-s", "ci/tests", "-t", ".", "-p", killer[1]]
        done = subprocess.run(command, cwd=self.path, env=env, capture_output=True, text=True)
        return done.returncode == 0, (done.stdout + done.stderr)[-600:]


def describe(killer):
    return {"terraform": lambda k: f"terraform test {k[1]}/{k[2]}", "contract": lambda k: "local-api contract (the corpora replayed)",
            "python": lambda k: f"ci/tests/{k[1]}", "swift": lambda k: "swift test " + " ".join(k[1:])}[killer[0]](killer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the mutants whose name contains this")
    parser.add_argument("--local-api", required=True, help="a built local-api (make mutants builds it)")
    args = parser.parse_args()
    mutants = [m for m in MUTANTS if not args.only or args.only in m[0]]
    scratch = Scratch(os.path.abspath(args.local_api))
    started, failures = time.monotonic(), []
    for killer in dict.fromkeys(m[4] for m in mutants):
        print(f"mutants: first, {describe(killer)} on the unchanged copy", flush=True)
        passed, tail = scratch.run(killer)
        if not passed:
            sys.exit(f"mutants: {describe(killer)} fails on the unchanged tree, so it proves nothing:\n{tail}")
    for name, path, text, replacement, killer in mutants:
        target = os.path.join(scratch.path, path)
        with open(target) as f:
            original = f.read()
        if text not in original:
            failures.append(f"{name}: {path} no longer contains the text it changes; update ci/mutants.py")
            continue
        t0 = time.monotonic()
        with open(target, "w") as f:
            f.write(original.replace(text, replacement, 1))
        try:
            passed, _ = scratch.run(killer)
        finally:
            with open(target, "w") as f:
                f.write(original)
        verdict = "SURVIVED" if passed else "killed"
        print(f"mutants: {verdict:8} {name} → {describe(killer)} ({time.monotonic() - t0:.0f} s)", flush=True)
        if passed:
            failures.append(f"{name} survived {describe(killer)}")
    print(f"mutants: {len(mutants) - len(failures)} of {len(mutants)} killed in {time.monotonic() - started:.0f} s")
    if failures:
        sys.exit("mutants: " + "; ".join(failures))


if __name__ == "__main__":
    main()
