"""Runs the pipeline's jobs locally, in order, as .gitlab-ci.yml writes them (before_script and
script lines, job variables), against moto: the OIDC bootstrap is applied first, each job exchanges
an ID token for its role's session, and the environments' state lives in the bootstrap's S3 bucket.

What cannot run here: the `test` job (this test is part of it) and invoking the deployed functions
(moto cannot run Lambda code), so the smoke job checks the same build behind the local gateway
(SMOKE_BASE_URL). Run by `make test-terraform`.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

import yaml

from moto_stack import ROOT, MotoStack, free_port

sys.path.insert(0, os.path.join(ROOT, "ci"))
import iam_check  # noqa: E402

ORDER = ["build", "plan:staging", "deploy:staging", "smoke:staging", "plan:production", "deploy:production"]
PROJECT = "acme/swift-api"
# An ID token's shape (moto does not verify the signature; AWS does, against GitLab's keys).
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZS9zd2lmdC1hcGk6cmVmX3R5cGU6YnJhbmNoOnJlZjptYWluIn0.c2ln"


def resolve(pipeline, name):
    """A job with its `extends` chain merged, as GitLab does (deep merge of mappings)."""
    job = pipeline[name]
    parents = job.get("extends", [])
    merged = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = merge(merged, resolve(pipeline, parent))
    return merge(merged, {k: v for k, v in job.items() if k != "extends"})


def included_jobs(pipeline, variables):
    """The jobs GitLab would create for a pipeline with these predefined variables: workflow rules,
    then each job's rules (first match wins; `when: never` excludes; no match excludes)."""
    def value(term):
        term = term.strip()
        if term.startswith("$"):
            return variables.get(term[1:])
        return term.strip('"')

    def holds(expression):
        for alternative in expression.split("||"):
            terms = []
            for term in alternative.split("&&"):
                for operator in ("==", "!="):
                    if operator in term:
                        left, right = term.split(operator)
                        terms.append((value(left) == value(right)) == (operator == "=="))
                        break
                else:
                    terms.append(bool(value(term)))
            if all(terms):
                return True
        return False

    def decided(rules):
        for rule in rules:
            if "if" not in rule or holds(rule["if"]):
                return rule.get("when", "on_success") != "never"
        return False

    if not decided(pipeline["workflow"]["rules"]):
        return []
    reserved = {"workflow", "stages", "variables", "default", "include"}
    names = [name for name in pipeline if name not in reserved and not name.startswith(".")]
    return [name for name in names if "rules" not in resolve(pipeline, name) or decided(resolve(pipeline, name)["rules"])]


def merge(base, override):
    result = dict(base)
    for key, value in override.items():
        result[key] = merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


class PipelineOnMoto(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ROOT, ".gitlab-ci.yml")) as f:
            cls.pipeline = yaml.safe_load(f)
        cls.stack = MotoStack()
        cls.gateway = None

    @classmethod
    def tearDownClass(cls):
        if cls.gateway:
            os.killpg(cls.gateway.pid, signal.SIGTERM)
            cls.gateway.wait()
        cls.stack.stop()

    def test_gates_order_the_deploys(self):
        staging, production = resolve(self.pipeline, "deploy:staging"), resolve(self.pipeline, "deploy:production")
        for job, tier in ((staging, "staging"), (production, "production")):
            self.assertEqual(job["rules"], [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "when": "manual", "allow_failure": False}])
            self.assertEqual(job["environment"]["deployment_tier"], tier)
            self.assertEqual(job["resource_group"], tier)
            self.assertIn("AWS_ID_TOKEN", job["id_tokens"])
        self.assertIn("smoke:staging", production["needs"])
        self.assertIn("deploy:staging", resolve(self.pipeline, "smoke:staging")["needs"])
        self.assertNotIn("AWS_ACCESS_KEY_ID", json.dumps(self.pipeline))
        self.assertNotIn("TF_VAR_", json.dumps(self.pipeline), "no secret reaches Terraform through CI/CD variables")

    def test_merge_requests_never_plan_or_deploy_production(self):
        merge_request = included_jobs(self.pipeline, {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main",
                                                      "CI_MERGE_REQUEST_IID": "7", "LAMBDA_ARCHITECTURE": "x86_64"})
        self.assertEqual(sorted(merge_request), ["build", "plan:staging", "test"])
        branch = included_jobs(self.pipeline, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature", "CI_DEFAULT_BRANCH": "main"})
        self.assertEqual(sorted(branch), ["build", "plan:staging", "test"])
        default = included_jobs(self.pipeline, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"})
        self.assertEqual(sorted(default), sorted(ORDER + ["test"]))
        # A branch pipeline while a merge request is open is left to the merge-request pipeline.
        self.assertEqual(included_jobs(self.pipeline, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature",
                                                       "CI_OPEN_MERGE_REQUESTS": "acme/swift-api!7"}), [])

    def test_every_job_runs_in_order_against_moto(self):
        stack = self.stack
        stack.point_root_at_moto("environments/bootstrap", static_credentials=True, local_backend=False)
        stack.terraform("environments/bootstrap", "init", "-input=false")
        stack.terraform("environments/bootstrap", "apply", "-auto-approve", "-input=false", f"-var=project_path={PROJECT}")
        outputs = {k: v["value"] for k, v in json.loads(stack.terraform("environments/bootstrap", "output", "-json")).items()}

        iam = stack.client("iam")
        trust = iam.get_role(RoleName="swiftapi-ci-production-deploy")["Role"]["AssumeRolePolicyDocument"]
        condition = trust["Statement"][0]["Condition"]
        self.assertEqual(condition["StringEquals"]["gitlab.com:aud"], "sts.amazonaws.com")
        subjects = condition["StringEquals"]["gitlab.com:sub"]
        self.assertEqual([subjects] if isinstance(subjects, str) else subjects, [f"project_path:{PROJECT}:ref_type:branch:ref:main"])
        self.assert_policies_pass_the_checker_and_regressions_fail(iam, stack.client("s3"), outputs["state_bucket"])

        # The buckets refuse plain HTTP, which is all moto on 127.0.0.1 speaks: prove it, then lift
        # the policy for the rest of the run.
        s3 = stack.client("s3")
        buckets = [outputs["state_bucket"], *outputs["artifacts_buckets"].values()]
        with self.assertRaises(s3.exceptions.ClientError) as refused:
            s3.put_object(Bucket=outputs["state_bucket"], Key="probe", Body=b"x")
        self.assertEqual(refused.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        for bucket in buckets:
            s3.delete_bucket_policy(Bucket=bucket)

        for environment in ("staging", "production"):
            stack.point_root_at_moto(f"environments/{environment}", static_credentials=False, local_backend=False)
        gateway = self.start_local_gateway()
        shutil.rmtree(os.path.join(ROOT, self.pipeline["variables"]["PLANS"]), ignore_errors=True)

        variables = {k: str(v) for k, v in self.pipeline["variables"].items()}
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        base.update(CI_COMMIT_BRANCH="main", CI_DEFAULT_BRANCH="main", CI_PIPELINE_SOURCE="push", CI_PROJECT_ID="1",
                    CI_COMMIT_SHA=subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
                    AWS_ENDPOINT_URL=stack.endpoint, AWS_DEFAULT_REGION="eu-west-1",
                    ENVIRONMENTS_DIR=os.path.join(stack.tree, "environments"), SMOKE_BASE_URL=gateway,
                    SMOKE_TOKEN=self.token("smoke-test", "users.read", "items.read"),
                    TF_STATE_BUCKET=outputs["state_bucket"])
        logs = []
        for number, name in enumerate(ORDER, start=1):
            job = resolve(self.pipeline, name)
            env = dict(base, **variables, **{k: str(v) for k, v in job.get("variables", {}).items()}, CI_JOB_ID=str(number))
            if "id_tokens" in job:
                env["AWS_ID_TOKEN"] = ID_TOKEN
            environment = env.get("ENVIRONMENT")
            if environment:
                env["AWS_PLAN_ROLE_ARN"] = outputs["role_arns"][f"{environment}-plan"]
                env["AWS_DEPLOY_ROLE_ARN"] = outputs["role_arns"][f"{environment}-deploy"]
                env["TF_BACKEND_CONFIG"] = stack.s3_backend_config(outputs["state_bucket"], environment)
            lines = job.get("before_script", []) + job["script"]
            result = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(lines)], cwd=ROOT, env=env,
                                    capture_output=True, text=True)
            logs.append(result.stdout + result.stderr)
            if result.returncode != 0:
                sys.stderr.write(result.stdout[-3000:] + result.stderr[-4000:])
            self.assertEqual(result.returncode, 0, f"job {name} failed")
            if name.startswith(("plan:", "deploy:")):
                self.assertIn("aws-oidc: assumed arn:aws:iam::", result.stderr, f"{name} runs with its role's session")

        lambda_ = stack.client("lambda")
        for environment in ("staging", "production"):
            for service in ("users", "items"):
                with open(os.path.join(ROOT, variables["PACKAGES"], service, "package.json")) as f:
                    digest = json.load(f)["sha256"]
                function = lambda_.get_function(FunctionName=f"swiftapi-{environment}-{service}")["Configuration"]
                self.assertEqual(function["CodeSha256"], base64.b64encode(bytes.fromhex(digest)).decode())
        state = stack.client("s3").list_objects_v2(Bucket=outputs["state_bucket"])["Contents"]
        self.assertEqual(sorted(o["Key"] for o in state), ["swiftapi/production.tfstate", "swiftapi/staging.tfstate"])

        # The secrets exist, with values set by the deploy jobs, and no value is in a saved plan (the
        # plan jobs' artifacts), a state file or a job's log.
        secrets = stack.client("secretsmanager")
        values = [secrets.get_secret_value(SecretId=f"swiftapi-{e}-cursor-secret")["SecretString"] for e in ("staging", "production")]
        self.assertEqual(len(set(values)), 2, "each environment has its own secret")
        plans = os.path.join(ROOT, variables["PLANS"])
        artifacts = [open(os.path.join(plans, name), "rb").read() for name in sorted(os.listdir(plans))]
        self.assertEqual(len(artifacts), 4, "a saved plan and a report per environment")
        states = [s3.get_object(Bucket=outputs["state_bucket"], Key=o["Key"])["Body"].read() for o in state]
        for value in values:
            for blob in artifacts + states:
                self.assertNotIn(value.encode(), blob)
            for log in logs:
                self.assertNotIn(value, log)

    def assert_policies_pass_the_checker_and_regressions_fail(self, iam, s3, state_bucket):
        """ci/iam_check.py on the roles as IAM stores them: no finding, and a finding that names the
        statement for each regression put back."""
        encryption = s3.get_bucket_encryption(Bucket=state_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        state_key = encryption["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]

        def findings():
            return iam_check.check(iam, "swiftapi", "eu-west-1", "123456789012", state_key)

        self.assertEqual(findings(), [])
        legacy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "FunctionRoles", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole"],
             "Resource": "arn:aws:iam::123456789012:role/swiftapi-staging-*"},
            {"Sid": "UnscopableServices", "Effect": "Allow", "Action": ["apigateway:*", "kms:ScheduleKeyDeletion"], "Resource": "*"}]}
        iam.put_role_policy(RoleName="swiftapi-ci-staging-deploy", PolicyName="legacy", PolicyDocument=json.dumps(legacy))
        found = findings()
        self.assertTrue(any(f.startswith("swiftapi-ci-staging-deploy legacy:FunctionRoles: allows iam:PutRolePolicy") and "boundary" in f for f in found), found)
        self.assertTrue(any(f.startswith("swiftapi-ci-staging-deploy legacy:UnscopableServices: allows") and "kms:ScheduleKeyDeletion" in f for f in found), found)
        iam.delete_role_policy(RoleName="swiftapi-ci-staging-deploy", PolicyName="legacy")
        iam.attach_role_policy(RoleName="swiftapi-ci-staging-plan", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        found = findings()
        self.assertTrue(any(f.startswith("swiftapi-ci-staging-plan ReadOnlyAccess:") and "production.tfstate" in f for f in found), found)
        self.assertTrue(any(f.startswith("swiftapi-ci-staging-plan ReadOnlyAccess:") and "reads table items" in f for f in found), found)
        iam.detach_role_policy(RoleName="swiftapi-ci-staging-plan", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        self.assertEqual(findings(), [])

    def token(self, subject, *scopes):
        """A token the local gateway accepts (its development key), as the smoke job's SMOKE_TOKEN."""
        arguments = [arg for scope in scopes for arg in ("--scope", scope)]
        return subprocess.run([self.local_api, "token", subject, *arguments], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()

    def start_local_gateway(self):
        subprocess.run(["swift", "build", "--product", "local-api"], cwd=ROOT, check=True, capture_output=True)
        binary = os.path.join(subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True,
                                             text=True, check=True).stdout.strip(), "local-api")
        self.__class__.local_api = binary
        port = free_port()
        self.__class__.gateway = subprocess.Popen(
            [binary, "--port", str(port), "--dynamodb-port", str(free_port()), "--in-memory"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/users", timeout=1)
                return url
            except urllib.error.HTTPError:
                return url
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
