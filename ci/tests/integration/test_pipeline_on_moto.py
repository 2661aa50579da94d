"""Runs the pipeline's jobs locally, in order, as .gitlab-ci.yml writes them (before_script and
script lines, job variables, id_tokens), against moto: the OIDC bootstrap is applied first, then
the default branch's pipeline (staging) and a release tag's (production). Each job gets an ID token
with the audience it declares and its pipeline's subject, and exchanges it through an STS stand-in
that evaluates the role's trust policy as STS would (moto does not); the environments' state lives
in the bootstrap's S3 bucket.

What cannot run here: the `test` job (this test is part of it) and invoking the deployed functions
(moto cannot run Lambda code), so the smoke job checks the same build behind the local gateway
(SMOKE_BASE_URL). Run by `make test-terraform`.
"""
import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

import yaml

from ci.tests.integration.moto_stack import ROOT, SERIAL_DESTROY, MotoStack, TrustEnforcingSTS, free_port, web_identity_token

from ci import iam_check

PROJECT = "acme/swift-api"
# The two pipelines that deploy, each with its predefined variables, its jobs in order and the
# subject GitLab puts in its ID tokens.
MAIN = {"variables": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"},
        "jobs": ["build", "plan:staging", "deploy:staging", "smoke:staging", "plan:production"],
        "sub": f"project_path:{PROJECT}:ref_type:branch:ref:main"}
RELEASE = {"variables": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "release-1", "CI_DEFAULT_BRANCH": "main"},
           "jobs": ["build", "plan:production", "smoke:staging", "deploy:production"],
           "sub": f"project_path:{PROJECT}:ref_type:tag:ref:release-1"}
# A name for staging's custom domain records (a hosted zone made in moto), for the Route 53 checks.
STAGING_DOMAIN = "api.staging.example.com"


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
                if "=~" in term:
                    left, pattern = term.split("=~")
                    found = value(left)
                    terms.append(found is not None and re.search(pattern.strip().strip("/"), found) is not None)
                    continue
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


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def merge(base, override):
    result = dict(base)
    for key, value in override.items():
        result[key] = merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def expand(variables, env):
    """A job's variables with $NAME references expanded from the project's CI/CD variables, as GitLab does."""
    return {k: re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), str(v)) for k, v in variables.items()}


def role_of(job):
    """(environment, kind) of the role a job assumes, from the CI/CD variable its CI_ROLE_ARN names."""
    match = re.fullmatch(r"\$(STAGING|PRODUCTION)_(PLAN|DEPLOY)_ROLE_ARN", job["variables"]["CI_ROLE_ARN"])
    assert match, job["variables"]["CI_ROLE_ARN"]
    return match.group(1).lower(), match.group(2).lower()


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
        self.assertEqual(staging["rules"], [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "when": "manual", "allow_failure": False}])
        self.assertEqual(production["rules"], [{"if": "$CI_COMMIT_TAG =~ /^release-/", "when": "manual", "allow_failure": False}])
        for job, tier in ((staging, "staging"), (production, "production")):
            self.assertEqual(job["environment"]["deployment_tier"], tier)
            self.assertEqual(job["resource_group"], tier)
            # An apply that auto-cancel stops leaves the state locked or half-applied.
            self.assertIs(job["interruptible"], False)
            self.assertRegex(job["timeout"], r"^\d+h$|^\d+ ?m")
        self.assertIn("smoke:staging", production["needs"])
        self.assertIn({"job": "deploy:staging", "optional": True}, resolve(self.pipeline, "smoke:staging")["needs"])
        self.assertNotIn("AWS_ACCESS_KEY_ID", json.dumps(self.pipeline))
        self.assertNotIn("TF_VAR_", json.dumps(self.pipeline), "no secret reaches Terraform through CI/CD variables")

    def test_each_job_holds_only_its_own_roles_token_and_trusts_no_cache(self):
        """A job's token is good for one role: the audience of the role its script assumes. Jobs
        with a token use no cache and are not interruptible; saved plans are for developers only."""
        reserved = {"workflow", "stages", "variables", "default", "include"}
        jobs = {name: resolve(self.pipeline, name) for name in self.pipeline if name not in reserved and not name.startswith(".")}
        holding = {name: job for name, job in jobs.items() if "id_tokens" in job}
        self.assertEqual(sorted(holding), ["deploy:production", "deploy:staging", "plan:production", "plan:staging", "smoke:staging"])
        for name, job in holding.items():
            self.assertEqual(list(job["id_tokens"]), ["AWS_ID_TOKEN"], name)
            # The audience is the role's name; the role's ARN comes from the CI/CD variable named for
            # the same environment and kind (unscoped: plan jobs name no GitLab environment).
            environment, kind = role_of(job)
            self.assertEqual(job["variables"]["ENVIRONMENT"], environment, name)
            self.assertEqual(job["id_tokens"]["AWS_ID_TOKEN"]["aud"], f"swiftapi-ci-{environment}-{kind}", name)
            self.assertEqual(job["before_script"][0], "source ci/aws-oidc.sh", f"{name} exchanges its token before it runs anything")
            self.assertEqual(job["cache"], [], f"{name} holds a token: it must use no cache another ref could write")
            self.assertIs(job["interruptible"], False, name)
        for name in set(jobs) - set(holding):
            self.assertNotIn("aws-oidc", json.dumps(jobs[name]), f"{name} holds no token and assumes no role")
        self.assertTrue(self.pipeline["default"]["cache"], "build and test keep their caches")
        for name in ("plan:staging", "plan:production"):
            self.assertEqual(jobs[name]["artifacts"]["access"], "developer", name)
        # Which roles the jobs use: only deploy jobs the deploy roles, nothing on a branch but staging's plan role.
        self.assertEqual(sorted(job["id_tokens"]["AWS_ID_TOKEN"]["aud"] for job in holding.values() if role_of(job)[1] == "deploy"),
                         ["swiftapi-ci-production-deploy", "swiftapi-ci-staging-deploy"])
        self.assertEqual([name for name, job in holding.items() if role_of(job)[1] == "deploy"], ["deploy:staging", "deploy:production"])
        # Only the deploy jobs name a GitLab environment: its protection gates who may run them.
        self.assertEqual(sorted(name for name, job in jobs.items() if "environment" in job), ["deploy:production", "deploy:staging"])

    def test_merge_requests_never_plan_or_deploy_production(self):
        merge_request = included_jobs(self.pipeline, {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main",
                                                      "CI_MERGE_REQUEST_IID": "7", "LAMBDA_ARCHITECTURE": "x86_64"})
        self.assertEqual(sorted(merge_request), ["build", "mutants", "plan:staging", "test"])
        branch = included_jobs(self.pipeline, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature", "CI_DEFAULT_BRANCH": "main"})
        self.assertEqual(sorted(branch), ["build", "mutants", "plan:staging", "test"])
        self.assertEqual(sorted(included_jobs(self.pipeline, MAIN["variables"])), sorted(MAIN["jobs"] + ["mutants", "test"]))
        # Production deploys only from a release tag's pipeline, which plans and deploys nothing of staging.
        self.assertEqual(sorted(included_jobs(self.pipeline, RELEASE["variables"])), sorted(RELEASE["jobs"] + ["mutants", "test"]))
        self.assertEqual(included_jobs(self.pipeline, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1", "CI_DEFAULT_BRANCH": "main"}), [])
        # A branch pipeline while a merge request is open is left to the merge-request pipeline.
        self.assertEqual(included_jobs(self.pipeline, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature",
                                                       "CI_OPEN_MERGE_REQUESTS": "acme/swift-api!7"}), [])

    def test_every_job_runs_in_order_against_moto(self):
        stack = self.stack
        zone = stack.client("route53").create_hosted_zone(Name="staging.example.com", CallerReference="pipeline-test")["HostedZone"]["Id"].split("/")[-1]
        stack.point_root_at_moto("environments/bootstrap", static_credentials=True, local_backend=False)
        stack.write("environments/bootstrap/zz_test.auto.tfvars.json", json.dumps({"environments": {
            "staging": {"deploy_refs": ["branch:main"], "plan_refs": ["branch:*", "tag:release-*"],
                        "hosted_zone_id": zone, "record_names": [STAGING_DOMAIN]},
            "production": {"deploy_refs": ["tag:release-*"], "plan_refs": ["branch:main", "tag:release-*"]}}}))
        stack.terraform("environments/bootstrap", "init", "-input=false")
        stack.terraform("environments/bootstrap", "apply", "-auto-approve", "-input=false", f"-var=project_path={PROJECT}")
        outputs = {k: v["value"] for k, v in json.loads(stack.terraform("environments/bootstrap", "output", "-json")).items()}

        iam = stack.client("iam")
        trust = iam.get_role(RoleName="swiftapi-ci-production-deploy")["Role"]["AssumeRolePolicyDocument"]
        condition = trust["Statement"][0]["Condition"]
        self.assertEqual(condition["StringEquals"]["gitlab.com:aud"], "swiftapi-ci-production-deploy")
        subjects = condition["StringLike"]["gitlab.com:sub"]
        self.assertEqual([subjects] if isinstance(subjects, str) else subjects, [f"project_path:{PROJECT}:ref_type:tag:ref:release-*"])
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=outputs["oidc_provider_arn"])
        self.assertEqual(sorted(provider["ClientIDList"]), sorted(f"swiftapi-ci-{role}" for role in outputs["role_arns"]))
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
        sts = TrustEnforcingSTS(stack)
        self.addCleanup(sts.stop)
        # The jobs' packages and saved plans go to this run's directory (the pipeline's own paths are
        # relative; here they are absolute, so nothing of the checkout is rewritten while other tests read it).
        variables = {k: str(v) for k, v in self.pipeline["variables"].items()}
        variables.update(PACKAGES=os.path.join(stack.work, "dist"), PLANS=os.path.join(stack.work, "plans"))
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | SERIAL_DESTROY
        base.update(CI_PROJECT_ID="1", CI_COMMIT_SHA=subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
                    AWS_ENDPOINT_URL=stack.endpoint, AWS_ENDPOINT_URL_STS=sts.endpoint, AWS_DEFAULT_REGION="eu-west-1",
                    ENVIRONMENTS_DIR=os.path.join(stack.tree, "environments"), SMOKE_BASE_URL=gateway,
                    SMOKE_TOKEN=self.token("smoke-test", "users.read", "items.read"),
                    TF_STATE_BUCKET=outputs["state_bucket"])
        logs = []
        number = 0
        for pipeline in (MAIN, RELEASE):
            for name in pipeline["jobs"]:
                number += 1
                job = resolve(self.pipeline, name)
                env = dict(base, **pipeline["variables"], **variables, CI_JOB_ID=str(number),
                           **{f"{e.upper()}_{k.upper()}_ROLE_ARN": outputs["role_arns"][f"{e}-{k}"]
                              for e in ("staging", "production") for k in ("plan", "deploy")})
                # GitLab expands $NAME in a job's variables from the project's CI/CD variables.
                env.update(expand(job.get("variables", {}), env))
                token = None
                if "id_tokens" in job:
                    token = web_identity_token(aud=job["id_tokens"]["AWS_ID_TOKEN"]["aud"], sub=pipeline["sub"])
                    env["AWS_ID_TOKEN"] = token
                environment = env.get("ENVIRONMENT")
                if environment:
                    env["TF_BACKEND_CONFIG"] = stack.s3_backend_config(outputs["state_bucket"], environment)
                # After the job's own lines: the token did not outlive its exchange.
                lines = job.get("before_script", []) + job["script"] + ['[ -z "${AWS_ID_TOKEN+set}" ] || { echo "AWS_ID_TOKEN outlived the exchange" >&2; exit 97; }']
                result = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(lines)], cwd=ROOT, env=env,
                                        capture_output=True, text=True)
                logs.append(result.stdout + result.stderr)
                if result.returncode != 0:
                    sys.stderr.write(result.stdout[-3000:] + result.stderr[-4000:])
                self.assertEqual(result.returncode, 0, f"job {name} failed")
                if token:
                    role = outputs["role_arns"]["-".join(role_of(job))]
                    self.assertEqual(env["CI_ROLE_ARN"], role, name)
                    self.assertIn(f"aws-oidc: assumed {role}", result.stderr, f"{name} runs with its role's session")
                    self.assert_token_opens_no_other_role(sts, token, role, outputs["role_arns"].values(), name)
            if pipeline is RELEASE:
                self.assertIn("verify staging: runs this build", logs[-2], "the release promotes what staging runs")

        lambda_ = stack.client("lambda")
        for environment in ("staging", "production"):
            for service in ("users", "items"):
                with open(os.path.join(variables["PACKAGES"], service, "package.json")) as f:
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
        plans = variables["PLANS"]
        artifacts = [read_bytes(os.path.join(plans, name)) for name in sorted(os.listdir(plans))]
        self.assertEqual(len(artifacts), 4, "a saved plan and a report per environment")
        states = [s3.get_object(Bucket=outputs["state_bucket"], Key=o["Key"])["Body"].read() for o in state]
        for value in values:
            for blob in artifacts + states:
                self.assertNotIn(value.encode(), blob)
            for log in logs:
                self.assertNotIn(value, log)

    def assert_token_opens_no_other_role(self, sts, token, own, roles, job):
        """The job's token, exchanged for any other CI role, is refused by that role's trust."""
        for role in roles:
            if role == own:
                continue
            result = subprocess.run([sys.executable, os.path.join(ROOT, "ci", "aws_web_identity.py"), role, "probe"], input=token,
                                    env=dict(os.environ, AWS_ENDPOINT_URL_STS=sts.endpoint), capture_output=True, text=True)
            self.assertEqual(result.returncode, 1, f"{job}'s token opened {role}")
            self.assertIn("AccessDenied", result.stderr)

    def assert_policies_pass_the_checker_and_regressions_fail(self, iam, s3, state_bucket):
        """ci/iam_check.py on the roles and boundaries as IAM stores them: no finding, and a finding
        that names the statement for each regression put back (issue 23's items 1 to 4, and older ones)."""
        encryption = s3.get_bucket_encryption(Bucket=state_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        state_key = encryption["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]

        def findings():
            return iam_check.check(iam, "swiftapi", "eu-west-1", "123456789012", state_key)

        def fails_with(*fragments):
            found = findings()
            self.assertTrue(any(all(f in line for f in fragments) for line in found), (fragments, found))

        self.assertEqual(findings(), [])

        # 1. One audience for every role, and both deploy roles on main.
        trusts = {name: iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] for name in ("swiftapi-ci-staging-deploy", "swiftapi-ci-production-deploy")}
        old = json.loads(json.dumps(trusts["swiftapi-ci-staging-deploy"]))
        old["Statement"][0]["Condition"] = {"StringEquals": {"gitlab.com:aud": "sts.amazonaws.com", "gitlab.com:sub": f"project_path:{PROJECT}:ref_type:branch:ref:main"}}
        for name in trusts:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(old))
        fails_with("swiftapi-ci-production-deploy and swiftapi-ci-staging-deploy trusts: both accept one token")
        for name, document in trusts.items():
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(document))

        # 2. lambda:* on the environment's functions (Invoke, AddPermission for anyone, any layer).
        self.put_back(iam, "swiftapi-ci-staging-deploy", {"Sid": "ManageFunctions", "Effect": "Allow", "Action": "lambda:*",
                                                          "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:swiftapi-staging-*"})
        fails_with("legacy:ManageFunctions: allows lambda:InvokeFunction")
        fails_with("legacy:ManageFunctions: allows lambda:AddPermission", "other than API Gateway")
        self.take_back(iam, "swiftapi-ci-staging-deploy")

        # 3. The boundary without lambda:SourceFunctionArn, and key-policy writes.
        boundary = "arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary"
        current = iam.get_policy(PolicyArn=boundary)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=boundary, VersionId=current)["PolicyVersion"]["Document"]
        document = json.loads(json.dumps(document))
        for statement in document["Statement"]:
            if statement.get("Sid", "").endswith("FromItsFunctions"):
                del statement["Condition"]
        version = iam.create_policy_version(PolicyArn=boundary, PolicyDocument=json.dumps(document), SetAsDefault=True)["PolicyVersion"]["VersionId"]
        fails_with("boundary:TablesOfThisEnvironmentFromItsFunctions: allows dynamodb:GetItem", "without lambda:SourceFunctionArn")
        fails_with("boundary:SecretsOfThisEnvironmentFromItsFunctions: allows secretsmanager:GetSecretValue", "without lambda:SourceFunctionArn")
        iam.set_default_policy_version(PolicyArn=boundary, VersionId=current)
        iam.delete_policy_version(PolicyArn=boundary, VersionId=version)
        self.put_back(iam, "swiftapi-ci-staging-deploy", {"Sid": "ManageKeys", "Effect": "Allow", "Action": ["kms:PutKeyPolicy", "kms:CreateGrant"],
                                                          "Resource": "arn:aws:kms:eu-west-1:123456789012:key/*",
                                                          "Condition": {"StringEquals": {"aws:ResourceTag/environment": "staging"}}})
        fails_with("legacy:ManageKeys: allows kms:PutKeyPolicy")
        fails_with("legacy:ManageKeys: allows kms:CreateGrant")
        self.take_back(iam, "swiftapi-ci-staging-deploy")

        # 4. API Gateway creates on the request's tag alone; the whole hosted zone.
        self.put_back(iam, "swiftapi-ci-staging-deploy", {"Sid": "CreateTagged", "Effect": "Allow", "Action": "apigateway:POST", "Resource": "*",
                                                          "Condition": {"StringEquals": {"aws:RequestTag/environment": "staging"}}})
        fails_with("legacy:CreateTagged: allows apigateway:POST", "creates under production's API")
        self.take_back(iam, "swiftapi-ci-staging-deploy")
        zone = [r for s in iam_check.stored_statements(iam, "swiftapi-ci-staging-deploy") for r in iam_check.as_list(s.body.get("Resource")) if ":hostedzone/" in r][0]
        self.put_back(iam, "swiftapi-ci-staging-deploy", {"Sid": "Records", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets", "Resource": zone})
        fails_with("legacy:Records: allows route53:ChangeResourceRecordSets", "not its environment's")
        self.take_back(iam, "swiftapi-ci-staging-deploy")

        # Its review: log subscriptions (every event of a log group sent elsewhere), a plan role
        # holding the state lock.
        self.put_back(iam, "swiftapi-ci-staging-deploy", {"Sid": "ManageLogGroups", "Effect": "Allow", "Action": ["logs:PutSubscriptionFilter", "logs:CreateLogGroup"],
                                                          "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/swiftapi-staging-*"})
        fails_with("legacy:ManageLogGroups: allows logs:PutSubscriptionFilter", "events elsewhere")
        self.take_back(iam, "swiftapi-ci-staging-deploy")
        self.put_back(iam, "swiftapi-ci-staging-plan", {"Sid": "LockOfThisEnvironment", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
                                                        "Resource": f"arn:aws:s3:::{state_bucket}/swiftapi/staging.tfstate.tflock"})
        fails_with("swiftapi-ci-staging-plan legacy:LockOfThisEnvironment: allows s3:PutObject", "a plan role writes")
        self.take_back(iam, "swiftapi-ci-staging-plan")

        # Older regressions: role writes without the boundary, destructive actions on "*", ReadOnlyAccess.
        self.put_back(iam, "swiftapi-ci-staging-deploy",
                      {"Sid": "FunctionRoles", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole"],
                       "Resource": "arn:aws:iam::123456789012:role/swiftapi-staging-*"},
                      {"Sid": "UnscopableServices", "Effect": "Allow", "Action": ["apigateway:*", "kms:ScheduleKeyDeletion"], "Resource": "*"})
        fails_with("swiftapi-ci-staging-deploy legacy:FunctionRoles: allows iam:PutRolePolicy", "boundary")
        fails_with("swiftapi-ci-staging-deploy legacy:UnscopableServices: allows", "kms:ScheduleKeyDeletion")
        self.take_back(iam, "swiftapi-ci-staging-deploy")
        iam.attach_role_policy(RoleName="swiftapi-ci-staging-plan", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        fails_with("swiftapi-ci-staging-plan ReadOnlyAccess:", "production.tfstate")
        fails_with("swiftapi-ci-staging-plan ReadOnlyAccess:", "reads data")
        iam.detach_role_policy(RoleName="swiftapi-ci-staging-plan", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        self.assertEqual(findings(), [])

    @staticmethod
    def put_back(iam, role, *statements):
        iam.put_role_policy(RoleName=role, PolicyName="legacy", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))

    @staticmethod
    def take_back(iam, role):
        iam.delete_role_policy(RoleName=role, PolicyName="legacy")

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
