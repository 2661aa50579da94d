"""Plans, deploys and rolls back an environment with Terraform; the Makefile and the pipeline call it.

    python3 -m ci.deploy plan ENV [--packages DIR] [--out PLAN] [--report JSON]
    python3 -m ci.deploy apply ENV [--plan PLAN]
    python3 -m ci.deploy deploy ENV [SERVICE ...] --packages DIR [--plan PLAN]
    python3 -m ci.deploy rollback ENV SERVICE
    python3 -m ci.deploy destroy ENV
    python3 -m ci.deploy output ENV NAME
    python3 -m ci.deploy verify ENV --packages DIR
    python3 -m ci.deploy rotate-secret ENV NAME

How a service's package reaches its function: `make package` writes a reproducible zip and its
sha256; deploy uploads it to the environment's artifacts bucket under a content-addressed key
(packages/<service>/<sha256>.zip, never overwritten) and plans the environment with that key for
that service. Every other service keeps the package its release pointer names
(releases/<env>/<service>.json in the same bucket, read by Terraform; one that never ran in the
environment is deployed with its current package too), so the plan may change only
the deployed service's resources: deploy checks this before applying and refuses otherwise. After a
successful apply the pointer moves to the new package and keeps the earlier ones, which is what
rollback returns to. A full `plan` right after shows no changes.

Secrets (the cursor secret): Terraform creates each Secrets Manager secret without a value. After
every apply, a secret that has no current value gets one, generated here and stored with
PutSecretValue: never printed, written to a file, passed to Terraform or put in a plan. REST API
keys likewise: made outside Terraform, attached to their usage plans here after each apply.

Settings: the environment's terraform.tfvars.json (artifacts_bucket, region); the state backend
from TF_BACKEND_CONFIG (a file) or TF_STATE_BUCKET (key <name>/<env>.tfstate); ENVIRONMENTS_DIR
to use other Terraform roots (tests). Exits non-zero with one line saying what is wrong.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile

from ci import declarations
from ci.declarations import AUTHORIZER

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HISTORY = 10


class DeployError(Exception):
    pass


class Environment:
    def __init__(self, name):
        base = os.environ.get("ENVIRONMENTS_DIR", os.path.join(ROOT, "environments"))
        self.name = name
        self.dir = os.path.join(base, name)
        tfvars = os.path.join(self.dir, "terraform.tfvars.json")
        if not os.path.isfile(tfvars):
            known = sorted(d for d in os.listdir(base) if os.path.isfile(os.path.join(base, d, "terraform.tfvars.json")))
            raise DeployError(f"no environment {name!r}: use ENV={' or ENV='.join(known)}")
        with open(tfvars) as f:
            self.settings = json.load(f)
        # As Terraform reads them: *.auto.tfvars.json after terraform.tfvars.json, in name order.
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".auto.tfvars.json"):
                with open(os.path.join(self.dir, name)) as f:
                    self.settings.update(json.load(f))
        self.bucket = self.settings["artifacts_bucket"]
        self._s3 = None
        self._shown = {}

    # Terraform

    def terraform(self, *args, capture=False, check=True):
        env = dict(os.environ, TF_IN_AUTOMATION="1", TF_INPUT="0")
        if not os.path.isfile(env.get("TF_CLI_CONFIG_FILE", "/")):
            env["TF_CLI_CONFIG_FILE"] = "/dev/null"
        command = ["terraform", f"-chdir={self.dir}", *args]
        result = subprocess.run(command, env=env, text=True, stdout=subprocess.PIPE if capture else sys.stderr)
        if check and result.returncode not in (0, 2 if "-detailed-exitcode" in args else 0):
            raise DeployError(f"terraform {args[0]} failed in {self.dir} (exit {result.returncode}; its output is above)")
        return result

    def init(self):
        # The provider is the one the committed lock file names, checked against its hashes.
        args = ["init", "-input=false", "-reconfigure", "-lockfile=readonly", "-no-color"]
        plugins = os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins")
        if os.path.isdir(plugins):
            args.append(f"-plugin-dir={plugins}")
        if os.environ.get("TF_BACKEND_CONFIG"):
            args.append(f"-backend-config={os.environ['TF_BACKEND_CONFIG']}")
        elif os.environ.get("TF_STATE_BUCKET"):
            args += [f"-backend-config=bucket={os.environ['TF_STATE_BUCKET']}",
                     f"-backend-config=key={self.settings['name']}/{self.name}.tfstate",
                     f"-backend-config=region={os.environ.get('TF_STATE_REGION', self.settings['region'])}"]
        else:
            raise DeployError("set TF_STATE_BUCKET to the state bucket (made by environments/bootstrap), "
                              "or TF_BACKEND_CONFIG to a backend configuration file")
        # Each `make plan/logs/info` starts here: an init with the same arguments, backend file,
        # lock file and configuration as the last one would change nothing, so it is skipped.
        stamp = os.path.join(self.dir, ".terraform", "init.sha256")
        fingerprint = self.init_fingerprint(args)
        try:
            with open(stamp) as f:
                if f.read() == fingerprint:
                    return
        except FileNotFoundError:
            pass
        self.terraform(*args, capture=True)
        with open(stamp, "w") as f:
            f.write(fingerprint)

    def init_fingerprint(self, args):
        digest = hashlib.sha256(json.dumps(args).encode())
        backend = os.environ.get("TF_BACKEND_CONFIG")
        files = [backend] if backend else []
        # What init reads: the root's and every local module's .tf files, and the lock file.
        for top in (self.dir, os.path.join(self.dir, "..", "..", "modules")):
            for folder, dirs, names in os.walk(top):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".tf") or n == ".terraform.lock.hcl"]
        for path in files:
            digest.update(path.encode() + b"\0")
            with open(path, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
        return digest.hexdigest()

    def plan(self, out, releases=None, destroy=False):
        """Plans into `out`; returns the resource changes as (address, actions) pairs."""
        os.makedirs(os.path.dirname(out), exist_ok=True)
        # No state lock: a plan writes nothing, and the plan roles may not write the lock file.
        # A deploy plans again itself (with the lock), so a plan of a moving state is never applied.
        args = ["plan", "-input=false", "-no-color", "-lock=false", f"-out={out}"]
        if destroy:
            args.append("-destroy")
        with tempfile.TemporaryDirectory() as work:
            if releases:
                var_file = os.path.join(work, "releases.tfvars.json")
                with open(var_file, "w") as f:
                    json.dump({"releases": releases}, f)
                args.append(f"-var-file={var_file}")
            self.terraform(*args)
        return self.changes(out)

    def apply(self, *args):
        self.terraform("apply", "-input=false", "-no-color", *args)
        self.set_missing_secrets()
        self.attach_usage_plan_keys()

    # REST API keys: made outside Terraform, attached to their usage plans here

    def attach_usage_plan_keys(self):
        """Makes each usage plan hold exactly the API key ids tfvars lists for it (rest.usage_plans):
        attached here because Terraform's usage plan key resource reads the key's value into the state."""
        shown = self.terraform("output", "-json", "usage_plan_keys", capture=True, check=False)
        wanted = json.loads(shown.stdout) if shown.returncode == 0 and shown.stdout.strip() else {}
        if not wanted:
            return
        import boto3
        apigateway = boto3.client("apigateway", region_name=self.settings["region"])
        for plan, keys in sorted(wanted.items()):
            held = {k["id"] for k in apigateway.get_usage_plan_keys(usagePlanId=plan, limit=500)["items"]}
            for key in sorted(set(keys) - held):
                apigateway.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
                print(f"deploy {self.name}: usage plan {plan} now accepts API key {key}", file=sys.stderr)
            for key in sorted(held - set(keys)):
                apigateway.delete_usage_plan_key(usagePlanId=plan, keyId=key)
                print(f"deploy {self.name}: usage plan {plan} no longer accepts API key {key}", file=sys.stderr)

    # Secrets

    @property
    def secretsmanager(self):
        import boto3
        return boto3.client("secretsmanager", region_name=self.settings["region"])

    def secret_arns(self):
        shown = self.terraform("output", "-json", "secret_arns", capture=True, check=False)
        return json.loads(shown.stdout) if shown.returncode == 0 and shown.stdout.strip() else {}

    def set_missing_secrets(self):
        """Gives every secret without a current value a new random one (never shown)."""
        for name, arn in sorted(self.secret_arns().items()):
            stages = self.secretsmanager.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
            if not any("AWSCURRENT" in labels for labels in stages.values()):
                self.put_new_secret(name, arn)

    def put_new_secret(self, name, arn):
        self.secretsmanager.put_secret_value(SecretId=arn, SecretString=secrets.token_urlsafe(48))
        print(f"deploy {self.name}: set a new {name} secret (generated, not shown)", file=sys.stderr)

    def rotate_secret(self, name):
        arns = self.secret_arns()
        if name not in arns:
            raise DeployError(f"no secret {name!r} in {self.name}: secrets are {', '.join(sorted(arns)) or 'none (apply first)'}")
        self.put_new_secret(name, arns[name])

    def changes(self, plan):
        """A saved plan's resource changes as (address, actions) pairs, no-ops and reads left out."""
        return [(change["address"], change["change"]["actions"]) for change in self.resource_changes(plan)]

    def resource_changes(self, plan):
        # A saved plan never changes; reading one costs a Terraform run with the provider loaded.
        key = (os.path.abspath(plan), os.stat(plan).st_mtime_ns)
        if key not in self._shown:
            shown = json.loads(self.terraform("show", "-json", plan, capture=True).stdout)
            self._shown[key] = [change for change in shown.get("resource_changes", [])
                                if change["change"]["actions"] not in (["no-op"], ["read"])]
        return self._shown[key]

    # Artifacts and release pointers

    @property
    def s3(self):
        if self._s3 is None:
            import boto3
            self._s3 = boto3.client("s3", region_name=self.settings["region"])
        return self._s3

    def publish(self, service, packages):
        """Uploads the service's package under its content address (once); returns its release."""
        release, data = read_package(service, packages)
        if not self.exists(release["s3_key"]):
            self.s3.put_object(Bucket=self.bucket, Key=release["s3_key"], Body=data, ContentType="application/zip")
        return release

    def exists(self, key):
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except self.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def pointer(self, service):
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self.pointer_key(service))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def pointer_key(self, service):
        return f"releases/{self.name}/{service}.json"

    def record(self, service, release, history):
        pointer = dict(release, service=service, history=history[:HISTORY],
                       deployed_at=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       commit=os.environ.get("CI_COMMIT_SHA") or git_commit())
        self.s3.put_object(Bucket=self.bucket, Key=self.pointer_key(service), Body=json.dumps(pointer, indent=2),
                           ContentType="application/json")


def read_package(service, packages):
    """The release a package makes (content-addressed key, sha256 hex and base64) and its bytes."""
    directory = os.path.join(packages, service)
    try:
        with open(os.path.join(directory, "package.json")) as f:
            manifest = json.load(f)
        with open(os.path.join(directory, "bootstrap.zip"), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise DeployError(f"no package for {service} in {packages}: run `make package SERVICE={service}` first") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["sha256"]:
        raise DeployError(f"{directory}/bootstrap.zip does not match its package.json (sha256 {digest[:12]}… vs "
                          f"{manifest['sha256'][:12]}…): package it again")
    release = {"s3_key": f"packages/{service}/{digest}.zip", "sha256": digest,
               "code_sha256": base64.b64encode(bytes.fromhex(digest)).decode()}
    return release, data


def git_commit():
    result = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() or None


def declared_services(environment=None):
    """The declared services, and the authorizer where the environment runs a REST API."""
    services = declarations.names()
    if environment is not None and environment.settings.get("api_type", "http") == "rest":
        services.append(AUTHORIZER)
    return services


def service_prefix(service):
    if service == AUTHORIZER:
        return "module.infrastructure.module.authorizer[0]."
    return f'module.infrastructure.module.service["{service}"].'


def describe(changes):
    return "; ".join(f"{address} ({'/'.join(actions)})" for address, actions in changes) or "nothing"


def check_scope(changes, services):
    """Refuses a plan that changes anything outside the given services' resources."""
    outside = [(a, actions) for a, actions in changes if not any(a.startswith(service_prefix(s)) for s in services)]
    if outside:
        raise DeployError(f"deploying {', '.join(services)} would also change {describe(outside)}: review and apply "
                          f"those first with `make plan ENV=...` and `make apply ENV=...`")


def short(release):
    return release["sha256"][:12] if release else "none"


def release_for_terraform(release):
    return {"s3_key": release["s3_key"], "code_sha256": release["code_sha256"]}


def deploy(environment, services, packages, saved_plan=None):
    every = declared_services(environment)
    unknown = [s for s in services if s not in every]
    if AUTHORIZER in unknown:
        raise DeployError(f"{environment.name} runs an HTTP API (api_type \"http\"), which has no authorizer function: "
                          f"set \"api_type\": \"rest\" in its terraform.tfvars.json to deploy one")
    if unknown:
        raise DeployError(f"no service {', '.join(unknown)}: services are {', '.join(every)}")
    services = services or every
    services = services + first_deploys(environment, services, every, packages)
    releases = {s: environment.publish(s, packages) for s in services}
    environment.init()
    with tempfile.TemporaryDirectory() as work:
        # Always its own plan: a saved plan comes from a job with less trust (the plan role's), so
        # it is only what was reviewed, and this plan must match it.
        plan = os.path.join(work, "deploy.tfplan")
        changes = environment.plan(plan, {s: release_for_terraform(r) for s, r in releases.items()})
        detailed = environment.resource_changes(plan)
        if saved_plan:
            check_matches_saved(detailed, environment.resource_changes(saved_plan), saved_plan)
        check_no_administrators_change(detailed, environment.name)
        if set(services) != set(every):
            check_scope(changes, services)
        print(f"deploy {environment.name}: changes {describe(changes)}", file=sys.stderr)
        environment.apply(plan)
    for service, release in releases.items():
        current = environment.pointer(service)
        if current and current["sha256"] == release["sha256"]:
            print(f"deploy {environment.name}: {service} already runs {short(release)}", file=sys.stderr)
            continue
        history = ([{k: current[k] for k in ("s3_key", "code_sha256", "sha256")}] + current["history"]) if current else []
        environment.record(service, release, history)
        print(f"deploy {environment.name}: {service} now runs {short(release)} (was {short(current)})", file=sys.stderr)


def comparable(change):
    """What a reviewer sees of one resource change: its address, actions and planned values."""
    planned = change["change"]
    return {"address": change["address"], "actions": planned["actions"], "before": planned.get("before"),
            "after": planned.get("after"), "after_unknown": planned.get("after_unknown")}


def check_matches_saved(changes, saved, path):
    """Refuses when this deploy's plan differs from the saved, reviewed one in any resource change."""
    mine = {c["address"]: comparable(c) for c in changes}
    theirs = {c["address"]: comparable(c) for c in saved}
    differing = sorted(a for a in mine.keys() | theirs.keys() if mine.get(a) != theirs.get(a))
    if differing:
        raise DeployError(f"the environment's plan now differs from the reviewed plan {os.path.basename(path)} in "
                          f"{', '.join(differing[:5])}{' and more' if len(differing) > 5 else ''}: run the pipeline again "
                          f"to plan and review the current state")


def check_no_administrators_change(changes, name):
    """Key policies and log subscriptions are no pipeline's to change (the CI roles' guards deny
    kms:PutKeyPolicy and logs:PutSubscriptionFilter): refuse before applying anything rather than
    fail halfway through the apply."""
    for change in changes:
        planned = change["change"]
        before, after = planned.get("before") or {}, planned.get("after") or {}
        if change["type"] in ("aws_kms_key", "aws_kms_key_policy") and "update" in planned["actions"] and before.get("policy") != after.get("policy"):
            what = "key policy"
        elif change["type"] == "aws_cloudwatch_log_subscription_filter":
            what = "log subscription"
        else:
            continue
        raise DeployError(f"{change['address']}'s {what} would change, which no CI role may do: an administrator "
                          f"applies it with `make apply ENV={name}`, then deploy again")


def first_deploys(environment, services, every, packages):
    """The other services that have never run in this environment: every function needs a package,
    so a one-service deploy to a new environment deploys them too (none has a running version to
    keep). Their packages must be in the packages directory."""
    never = [s for s in every if s not in services and environment.pointer(s) is None]
    missing = [s for s in never if not os.path.isfile(os.path.join(packages, s, "package.json"))]
    if missing:
        raise DeployError(f"{', '.join(missing)} never ran in {environment.name} and has no package in {packages}: "
                          f"deploy every service once with `make deploy ENV={environment.name}`")
    for service in never:
        print(f"deploy {environment.name}: {service} never ran here; deploying its current package too", file=sys.stderr)
    return never


def verify(environment, packages):
    """Refuses unless every function of the environment runs exactly these packages: a release
    tag's pipeline promotes to production only what staging runs (reproducible packages rebuild
    byte for byte, so the tag's build matches the one main deployed). It asks Lambda for each
    function's code hash, not the release pointers: what runs, not what was recorded."""
    import boto3
    lambda_ = boto3.client("lambda", region_name=environment.settings["region"])
    environment.init()
    shown = environment.terraform("output", "-json", "function_names", capture=True, check=False)
    functions = json.loads(shown.stdout) if shown.returncode == 0 and shown.stdout.strip() else {}
    differing = []
    for service in declared_services(environment):
        built = read_package(service, packages)[0]
        if service not in functions:
            differing.append(f"{service} has no function")
            continue
        running = lambda_.get_function_configuration(FunctionName=functions[service])["CodeSha256"]
        if running != built["code_sha256"]:
            differing.append(f"{service} runs {base64.b64decode(running).hex()[:12]}, this build is {short(built)}")
    if differing:
        raise DeployError(f"{environment.name} does not run this build ({'; '.join(differing)}): deploy this commit to "
                          f"{environment.name} first (the default branch's pipeline), then tag it")
    print(f"verify {environment.name}: runs this build ({', '.join(declared_services(environment))})", file=sys.stderr)


def rollback(environment, service):
    current = environment.pointer(service)
    if not current or not current["history"]:
        raise DeployError(f"{service} has no earlier release in {environment.name} to roll back to")
    previous, *rest = current["history"]
    environment.init()
    with tempfile.TemporaryDirectory() as work:
        plan = os.path.join(work, "rollback.tfplan")
        changes = environment.plan(plan, {service: release_for_terraform(previous)})
        check_scope(changes, [service])
        print(f"rollback {environment.name}: changes {describe(changes)}", file=sys.stderr)
        environment.apply(plan)
    environment.record(service, previous, rest)
    print(f"rollback {environment.name}: {service} now runs {short(previous)} (was {short(current)})", file=sys.stderr)


def plan(environment, packages, out, report):
    """A full plan; with --packages, of those packages (uploaded only by deploy). Exit status 0: no
    changes, 2: changes."""
    releases = {s: release_for_terraform(read_package(s, packages)[0]) for s in declared_services(environment)} if packages else None
    environment.init()
    with tempfile.TemporaryDirectory() as work:
        changes = environment.plan(out or os.path.join(work, "plan.tfplan"), releases)
    if report:
        # GitLab's merge-request Terraform report: counts of creations, updates and deletions.
        counts = {"create": 0, "update": 0, "delete": 0}
        for _, actions in changes:
            for action in actions:
                if action in counts:
                    counts[action] += 1
        with open(report, "w") as f:
            json.dump(counts, f)
    print(f"plan {environment.name}: {len(changes)} change(s): {describe(changes)}", file=sys.stderr)
    return 2 if changes else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("plan")
    p.add_argument("env")
    p.add_argument("--packages")
    p.add_argument("--out")
    p.add_argument("--report")
    p = commands.add_parser("apply")
    p.add_argument("env")
    p.add_argument("--plan")
    p = commands.add_parser("deploy")
    p.add_argument("env")
    p.add_argument("services", nargs="*")
    p.add_argument("--packages", required=True)
    p.add_argument("--plan", help="apply this saved plan (made by `plan --packages` with the same packages)")
    p = commands.add_parser("rollback")
    p.add_argument("env")
    p.add_argument("service")
    p = commands.add_parser("destroy")
    p.add_argument("env")
    p = commands.add_parser("output", help="print one of the environment's outputs (e.g. api_endpoint)")
    p.add_argument("env")
    p.add_argument("name")
    p = commands.add_parser("verify", help="refuse unless the environment runs exactly these packages")
    p.add_argument("env")
    p.add_argument("--packages", required=True)
    p = commands.add_parser("rotate-secret", help="store a new random value for one of the environment's secrets")
    p.add_argument("env")
    p.add_argument("name", help="e.g. cursor (invalidates outstanding page cursors)")
    args = parser.parse_args()

    if args.command in ("plan", "apply", "deploy", "rollback"):
        # The declarations are Terraform's input: a wrong one is refused here, in the schema's words.
        problems = declarations.check()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise DeployError(f"{problems[0]}{more}; services/service.schema.json describes each field, "
                              ".venv/bin/python -m ci.declarations --check lists every problem")
    environment = Environment(args.env)
    if args.command == "plan":
        return plan(environment, args.packages, args.out and os.path.abspath(args.out), args.report)
    if args.command == "apply":
        environment.init()
        environment.apply(*([os.path.abspath(args.plan)] if args.plan else ["-auto-approve"]))
    elif args.command == "deploy":
        deploy(environment, args.services, args.packages, args.plan and os.path.abspath(args.plan))
    elif args.command == "rollback":
        rollback(environment, args.service)
    elif args.command == "verify":
        verify(environment, args.packages)
    elif args.command == "rotate-secret":
        environment.init()
        environment.rotate_secret(args.name)
    elif args.command == "output":
        environment.init()
        print(environment.terraform("output", "-raw", args.name, capture=True).stdout)
    elif args.command == "destroy":
        environment.init()
        environment.terraform("destroy", "-input=false", "-no-color", "-auto-approve")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DeployError as error:
        print(f"deploy: {error}", file=sys.stderr)
        sys.exit(1)
