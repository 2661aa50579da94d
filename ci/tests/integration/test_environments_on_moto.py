"""Applies environments/staging and environments/production against moto_server through the same
entry points a developer and the pipeline use (make deploy / rollback / plan, ci/deploy.py), with
the real packages from `make package`.

The test supplies what is not committed: a copy of the Terraform roots with a local backend and
the provider's endpoints pointed at moto (override files), and the artifacts buckets
(environments/bootstrap creates them in AWS). Run by `make test-terraform`.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import zipfile

from ci.tests.integration.moto_stack import ROOT, SERIAL_DESTROY, MotoStack, tfvars

from ci import declarations
from ci.declarations import AUTHORIZER

PACKAGES = os.path.abspath(os.environ.get("PACKAGES", os.path.join(ROOT, ".build", "dist")))
SERVICES = declarations.names()


class EnvironmentsOnMoto(unittest.TestCase):
    """What each suite below shares; each suite gets its own moto and tree (setUpClass), so
    ci/test-terraform.sh runs them side by side."""

    @classmethod
    def setUpClass(cls):
        for service in SERVICES + [AUTHORIZER]:
            if not os.path.isfile(os.path.join(PACKAGES, service, "package.json")):
                raise unittest.SkipTest(f"no package for {service} in {PACKAGES}: run make package SERVICE={service}")
        cls.stack = MotoStack()
        cls.work, cls.tree = cls.stack.work, cls.stack.tree
        for environment in ("staging", "production"):
            cls.stack.point_root_at_moto(f"environments/{environment}", static_credentials=True, local_backend=True)
        cls.env = dict(os.environ, AWS_ENDPOINT_URL=cls.stack.endpoint, AWS_ACCESS_KEY_ID="testing",
                       AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1",
                       ENVIRONMENTS_DIR=os.path.join(cls.tree, "environments"), **SERIAL_DESTROY)
        cls.aws = {name: cls.stack.client(name) for name in ("s3", "lambda", "dynamodb", "iam", "secretsmanager", "ec2", "apigateway",
                                                              "apigatewayv2", "cloudwatch", "sns", "logs", "kms")}
        for environment in ("staging", "production"):
            cls.aws["s3"].create_bucket(Bucket=tfvars(environment)["artifacts_bucket"],
                                        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
            # What environments/bootstrap creates: the boundary every function role must carry.
            cls.aws["iam"].create_policy(PolicyName=f"swiftapi-{environment}-function-boundary", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}))

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def run_make(self, environment, *args, expect=0, stdout=False, env=None):
        """make TARGET ENV=environment against moto; its stderr (or stdout)."""
        state = self.stack.local_backend_config(environment)
        result = subprocess.run(["make", "--no-print-directory", "-C", ROOT, *args, f"ENV={environment}"],
                                env=dict(env or self.env, TF_BACKEND_CONFIG=state), capture_output=True, text=True)
        if result.returncode != expect:
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            sys.stderr.write(f"moto's last calls (reads that succeeded left out):\n{self.stack.calls()}")
        self.assertEqual(result.returncode, expect, f"make {' '.join(args)} ENV={environment}")
        return result.stdout if stdout else result.stderr

    def plan_changes(self, environment):
        output = self.run_make(environment, "plan")
        return [line for line in output.splitlines() if line.startswith(f"plan {environment}:")][-1]

    def function(self, environment, service):
        return self.aws["lambda"].get_function(FunctionName=f"swiftapi-{environment}-{service}")["Configuration"]

    def manifest(self, packages, service):
        with open(os.path.join(packages, service, "package.json")) as f:
            return json.load(f)

    def code_sha256(self, packages, service):
        return base64.b64encode(bytes.fromhex(self.manifest(packages, service)["sha256"])).decode()

    def rebuilt_package(self, service):
        """A build in which the service's package has one more file (a new build, as far as a deploy
        can tell) and the other packages are as they were."""
        packages = os.path.join(self.work, "rebuilt")
        for other in os.listdir(PACKAGES):
            if other != service and not os.path.exists(os.path.join(packages, other)):
                shutil.copytree(os.path.join(PACKAGES, other), os.path.join(packages, other))
        os.makedirs(os.path.join(packages, service), exist_ok=True)
        archive = os.path.join(packages, service, "bootstrap.zip")
        with zipfile.ZipFile(os.path.join(PACKAGES, service, "bootstrap.zip")) as old, zipfile.ZipFile(archive, "w") as new:
            for info in old.infolist():
                new.writestr(info, old.read(info))
            new.writestr(zipfile.ZipInfo("RELEASE", date_time=(1980, 1, 1, 0, 0, 0)), "2\n")
        with open(archive, "rb") as f:
            manifest = dict(self.manifest(PACKAGES, service), sha256=hashlib.sha256(f.read()).hexdigest())
        with open(os.path.join(packages, service, "package.json"), "w") as f:
            json.dump(manifest, f)
        return packages

    def assert_monitoring_is_deployed(self, environment, functions):
        """Every function, route and table has its alarms; each function's composite alarm notifies
        the environment's topic (encrypted with its key, the tfvars' subscription); the dashboard
        shows every route."""
        prefix = f"swiftapi-{environment}-"
        alarms = self.aws["cloudwatch"].describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        names = {a["AlarmName"] for a in alarms["MetricAlarms"]}
        topic = [t["TopicArn"] for t in self.aws["sns"].list_topics()["Topics"] if t["TopicArn"].endswith(f":{prefix}alarms")]
        self.assertEqual(len(topic), 1)
        key = self.aws["kms"].describe_key(KeyId=f"alias/swiftapi-{environment}")["KeyMetadata"]["Arn"]
        self.assertEqual(self.aws["sns"].get_topic_attributes(TopicArn=topic[0])["Attributes"]["KmsMasterKeyId"], key)
        subscriptions = self.aws["sns"].list_subscriptions_by_topic(TopicArn=topic[0])["Subscriptions"]
        self.assertEqual([(s["Protocol"], s["Endpoint"]) for s in subscriptions], [(a["protocol"], a["endpoint"]) for a in tfvars(environment)["alarm_subscriptions"]])
        composites = {a["AlarmName"]: a for a in alarms["CompositeAlarms"]}
        for function in functions:
            for kind in ("errors", "throttles", "duration", "init errors"):
                self.assertIn(f"{prefix}{function} {kind}", names)
            composite = composites[f"{prefix}{function} unhealthy"]
            self.assertEqual(composite["AlarmActions"], topic)
            self.assertIn(f'ALARM("{prefix}{function} errors")', composite["AlarmRule"])
        body = json.loads(self.aws["cloudwatch"].get_dashboard(DashboardName=f"swiftapi-{environment}")["DashboardBody"])
        labels = {m[-1].get("label") for w in body["widgets"] for m in w.get("properties", {}).get("metrics", []) if isinstance(m[-1], dict)}
        for service in SERVICES:
            with open(os.path.join(ROOT, "services", service, "service.json")) as f:
                declaration = json.load(f)
            for route in declaration["routes"]:
                self.assertIn(f"{prefix}{service} {route} 5xx", names)
                self.assertIn(f"{prefix}{service} {route} latency", names)
                self.assertIn(route, labels, "the dashboard shows every route")
            for table in declaration.get("tables", {}):
                self.assertIn(f"{prefix}{service} table {table} throttles", names)

    def assert_no_monitoring_left(self, environment):
        prefix = f"swiftapi-{environment}-"
        alarms = self.aws["cloudwatch"].describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        self.assertEqual(alarms["MetricAlarms"] + alarms["CompositeAlarms"], [], "the destroy removed the alarms")
        self.assertFalse([t for t in self.aws["sns"].list_topics()["Topics"] if prefix in t["TopicArn"]])
        self.assertFalse([d for d in self.aws["cloudwatch"].list_dashboards()["DashboardEntries"] if d["DashboardName"] == f"swiftapi-{environment}"])

    def assert_the_everyday_commands_show_the_environment(self, environment):
        """make logs / info / alarms against the moto environment, with the caller's credentials."""
        group = f"/aws/lambda/swiftapi-{environment}-users"
        now = int(time.time() * 1000)
        self.aws["logs"].create_log_stream(logGroupName=group, logStreamName="2026/12/07/[$LATEST]test")
        self.aws["logs"].put_log_events(logGroupName=group, logStreamName="2026/12/07/[$LATEST]test", logEvents=[
            {"timestamp": now, "message": json.dumps({"level": "INFO", "message": "written by the test", "requestId": "req-1234"})},
            {"timestamp": now + 1, "message": json.dumps({"level": "ERROR", "message": "another request", "requestId": "req-5678"})}])
        output = self.run_make(environment, "logs", "SERVICE=users", "SINCE=1h", stdout=True)
        self.assertIn('"message": "written by the test"', output, "JSON pretty-printed")
        self.assertIn(" users {", output)
        self.assertIn("another request", output)
        output = self.run_make(environment, "logs", "SERVICE=users", "SINCE=1h", "REQUEST=req-1234", stdout=True)
        self.assertIn("written by the test", output)
        self.assertNotIn("another request", output, "REQUEST filters by request id")
        self.assertIn("no service 'orders' in staging: services are items, users",
                      self.run_make(environment, "logs", "SERVICE=orders", expect=2))

        output = self.run_make(environment, "info", stdout=True)
        self.assertIn(self.aws["apigatewayv2"].get_apis()["Items"][0]["ApiEndpoint"], output)
        for service in SERVICES:
            self.assertRegex(output, rf"{service} +swiftapi-{environment}-{service}: package {self.manifest(PACKAGES, service)['sha256'][:12]} deployed ")
        self.assertRegex(output, r"alarms +(\d+ [A-Z_]+(, )?)+ \(of \d+\)")
        self.assertIn(f"swiftapi-{environment}-users unhealthy: ", output)
        self.assertIn("buffered   GET /items/export (streamed handlers, answered whole: at most 4 MB)", output)

        self.assertIn(f"alarms: nothing is firing in {environment}", self.run_make(environment, "alarms", stdout=True))
        name = f"swiftapi-{environment}-users errors"
        self.aws["cloudwatch"].set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed: 3 datapoints were greater than 1.0")
        output = self.run_make(environment, "alarms", stdout=True)
        self.assertRegex(output, rf"{name}: ALARM since \S+: Threshold Crossed")
        self.assertIn("First: make logs SERVICE=users", output, "the alarm says what to check first")
        self.aws["cloudwatch"].set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")

        anonymous = {k: v for k, v in self.env.items() if not k.startswith("AWS_") or k == "AWS_ENDPOINT_URL"}
        anonymous.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true")
        output = self.run_make(environment, "info", expect=2, env=anonymous)
        self.assertEqual([line for line in output.splitlines() if line.startswith("info:")],
                         ["info: no AWS credentials: sign in (e.g. `aws sso login --profile <p>` and AWS_PROFILE=<p>) or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"])

    def staging_vpcs(self):
        return self.aws["ec2"].describe_vpcs(Filters=[{"Name": "tag:environment", "Values": ["staging"]}])["Vpcs"]

    def assert_functions_run_in_the_private_network(self, environment):
        """network.mode = create (staging's tfvars): each function in the two private subnets with
        its own group, DynamoDB through a gateway endpoint, no NAT gateway."""
        vpcs = self.staging_vpcs()
        self.assertEqual(len(vpcs), 1)
        vpc = vpcs[0]["VpcId"]
        subnets = self.aws["ec2"].describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        self.assertEqual(len({s["AvailabilityZone"] for s in subnets}), 2, "private subnets in two zones")
        for service in SERVICES:
            config = self.function(environment, service)["VpcConfig"]
            self.assertEqual(sorted(config["SubnetIds"]), sorted(s["SubnetId"] for s in subnets))
            group = self.aws["ec2"].describe_security_groups(GroupIds=config["SecurityGroupIds"])["SecurityGroups"][0]
            self.assertEqual(group["GroupName"], f"swiftapi-{environment}-{service}-function")
            self.assertEqual(group["IpPermissions"], [], "no ingress")
            self.assertTrue(all(rule["FromPort"] == 443 and not rule.get("IpRanges") for rule in group["IpPermissionsEgress"]), group)
        endpoints = self.aws["ec2"].describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
        self.assertEqual(sorted((e["ServiceName"].rsplit(".", 1)[1], e["VpcEndpointType"]) for e in endpoints),
                         [("dynamodb", "Gateway"), ("secretsmanager", "Interface")])
        self.assertEqual(self.aws["ec2"].describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"], [])

    def deploy_py(self, environment, *args, expect=0):
        """ci/deploy.py as the pipeline runs it, against moto; its stderr."""
        result = subprocess.run([sys.executable, "-m", "ci.deploy", *args], cwd=ROOT,
                                env=dict(self.env, TF_BACKEND_CONFIG=self.stack.local_backend_config(environment)),
                                capture_output=True, text=True)
        if result.returncode != expect:
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        self.assertEqual(result.returncode, expect, f"ci/deploy.py {' '.join(args)}")
        return result.stderr

    def assert_deploys_apply_only_what_was_reviewed(self, environment, running):
        """The pipeline's deploy plans again and refuses when its plan differs from the saved one the
        plan job showed; verify asks Lambda what runs; a key-policy change is refused before
        anything is applied. `running` holds the packages the environment runs now."""
        before = self.function(environment, "users")
        # A saved plan of other packages (what was reviewed) no longer matches what a deploy of
        # these would do: refused, nothing applied.
        stale = os.path.join(self.work, "reviewed.tfplan")
        self.deploy_py(environment, "plan", environment, "--packages", PACKAGES, "--out", stale, expect=2)
        output = self.deploy_py(environment, "deploy", environment, "--packages", running, "--plan", stale, expect=1)
        self.assertIn("deploy: the environment's plan now differs from the reviewed plan reviewed.tfplan in "
                      'module.infrastructure.module.service["users"].aws_lambda_function.this: run the pipeline again', output)
        self.assertEqual(self.function(environment, "users")["LastModified"], before["LastModified"])
        # (A matching saved plan is applied, and verify passes, in the pipeline's run on moto.)

        # verify compares the functions' code with the build, not the release pointers.
        output = self.deploy_py(environment, "verify", environment, "--packages", PACKAGES, expect=1)
        self.assertRegex(output, rf"(?m)^deploy: {environment} does not run this build \(users runs {self.manifest(running, 'users')['sha256'][:12]}, "
                                 rf"this build is {self.manifest(PACKAGES, 'users')['sha256'][:12]}\)")

        # A key-policy change: no CI role may make it (kms:PutKeyPolicy is denied), so deploy refuses
        # before applying anything instead of failing halfway.
        module = os.path.join(self.tree, "modules", "infrastructure", "main.tf")
        with open(module) as f:
            original = f.read()
        try:
            with open(module, "w") as f:
                f.write(original.replace('Sid       = "CloudWatchAlarmsPublishToThisEnvironmentsTopic"', 'Sid       = "Changed"'))
            output = self.deploy_py(environment, "deploy", environment, "users", "--packages", running, expect=1)
        finally:
            with open(module, "w") as f:
                f.write(original)
        self.assertIn("deploy: module.infrastructure.aws_kms_key.this's key policy would change, which no CI role may do: "
                      f"an administrator applies it with `make apply ENV={environment}`, then deploy again", output)
        self.assertEqual(self.function(environment, "users")["LastModified"], before["LastModified"])

    def assert_secret_stays_out_of_terraform(self, environment):
        """The cursor secret has a value in Secrets Manager, the functions get its ARN, and the value
        is in no state file, plan or output; rotating it stores a new one."""
        variables = self.function(environment, "users")["Environment"]["Variables"]
        self.assertNotIn("CURSOR_SECRET", variables)
        arn = variables["CURSOR_SECRET_ARN"]
        value = self.aws["secretsmanager"].get_secret_value(SecretId=arn)["SecretString"]
        self.assertGreaterEqual(len(value), 48)
        state = self.stack.local_backend_config(environment).replace(".backend.hcl", ".tfstate")
        with open(state) as f:
            text = f.read()
        self.assertIn(arn, text, "the state holds the secret's container")
        self.assertNotIn(value, text, "the state must not hold the secret's value")
        plan = os.path.join(self.work, f"{environment}.tfplan")
        result = subprocess.run([sys.executable, "-m", "ci.deploy", "plan", environment, "--out", plan], cwd=ROOT,
                                env=dict(self.env, TF_BACKEND_CONFIG=self.stack.local_backend_config(environment)),
                                capture_output=True, text=True)
        self.assertIn(result.returncode, (0, 2), result.stderr[-2000:])
        with open(plan, "rb") as f:
            self.assertNotIn(value.encode(), f.read(), "a saved plan must not hold the secret's value")
        output = self.run_make(environment, "rotate-secret", "NAME=cursor")
        self.assertIn(f"deploy {environment}: set a new cursor secret (generated, not shown)", output)
        rotated = self.aws["secretsmanager"].get_secret_value(SecretId=arn)["SecretString"]
        self.assertNotEqual(rotated, value)
        self.assertNotIn(rotated, output)


class StagingOnMoto(EnvironmentsOnMoto):
    def test_staging_deploys_one_service_rolls_back_and_destroys(self):
        # The first deploy of one service to an empty environment: the others never ran, so they
        # go out with their current packages (every function needs one).
        output = self.run_make("staging", "deploy", "SERVICE=users", f"PACKAGES={PACKAGES}")
        self.assertIn("deploy staging: items never ran here; deploying its current package too", output)
        for service in SERVICES:
            function = self.function("staging", service)
            self.assertEqual(function["CodeSha256"], self.code_sha256(PACKAGES, service))
            self.assertEqual(function["Runtime"], "provided.al2023")
            self.assertEqual(function["Handler"], "bootstrap")
            self.assertEqual(function["Environment"]["Variables"]["TABLE_" + service.upper()], f"swiftapi-staging-{service}")
            role = self.aws["iam"].get_role(RoleName=f"swiftapi-staging-{service}-function")["Role"]
            self.assertEqual(role["PermissionsBoundary"]["PermissionsBoundaryArn"],
                             "arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary")
        self.assertIn("0 change(s)", self.plan_changes("staging"))
        self.assert_secret_stays_out_of_terraform("staging")
        self.assert_functions_run_in_the_private_network("staging")
        self.assert_monitoring_is_deployed("staging", SERVICES)
        self.assert_the_everyday_commands_show_the_environment("staging")
        items_before = self.function("staging", "items")

        rebuilt = self.rebuilt_package("users")
        output = self.run_make("staging", "deploy", "SERVICE=users", f"PACKAGES={rebuilt}")
        self.assertTrue('deploy staging: changes module.infrastructure.module.service["users"].aws_lambda_function.this (update)\n' in output,
                        "deploying users changes only the users function")
        self.assertEqual(self.function("staging", "users")["CodeSha256"], self.code_sha256(rebuilt, "users"))
        items_after = self.function("staging", "items")
        self.assertEqual((items_after["CodeSha256"], items_after["LastModified"]), (items_before["CodeSha256"], items_before["LastModified"]),
                         "deploying users must not touch items")
        self.assertIn("0 change(s)", self.plan_changes("staging"))
        self.assert_deploys_apply_only_what_was_reviewed("staging", rebuilt)

        self.run_make("staging", "rollback", "SERVICE=users")
        self.assertEqual(self.function("staging", "users")["CodeSha256"], self.code_sha256(PACKAGES, "users"))
        self.assertIn("0 change(s)", self.plan_changes("staging"))
        output = self.run_make("staging", "rollback", "SERVICE=users", expect=2)
        self.assertIn("users has no earlier release in staging to roll back to", output)

        self.run_make("staging", "destroy", "CONFIRM=staging")
        names = self.aws["lambda"].list_functions()["Functions"]
        self.assertFalse([f for f in names if f["FunctionName"].startswith("swiftapi-staging-")])
        self.assertEqual(self.staging_vpcs(), [], "the destroy removed the network too, with no manual step")
        self.assert_no_monitoring_left("staging")


class RestAndProductionOnMoto(EnvironmentsOnMoto):
    def test_staging_as_a_rest_api_deploys_one_service_and_destroys(self):
        """api_type = "rest" from the same service.json files: the REST API, its resource tree and
        methods behind the Swift authorizer; a one-service deploy touches that service only."""
        override = os.path.join(self.tree, "environments", "staging", "zz_rest.auto.tfvars.json")
        # What the organisation makes outside Terraform: a regional web ACL and a partner's API key
        # (its value is never in Terraform's hands).
        waf = self.stack.client("wafv2").create_web_acl(
            Name="org-edge", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
            VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "org"})["Summary"]
        partner = self.aws["apigateway"].create_api_key(name="partner", enabled=True)
        # A REST API adds no CORS headers to proxy responses (the module refuses cors with it);
        # no VPC keeps this run short (the network is covered by the HTTP run).
        with open(override, "w") as f:
            json.dump({"api_type": "rest", "cors": None, "network": {"mode": "none"},
                       "rest": {"authorizer_ttl_seconds": 120, "waf_web_acl_arn": waf["ARN"],
                                "usage_plans": {"partners": {"api_key_ids": [partner["id"]],
                                                             "throttle": {"burst_limit": 20, "rate_limit": 10},
                                                             "quota": {"limit": 100000, "period": "MONTH"}}}}}, f)
        try:
            output = self.run_make("staging", "deploy", "SERVICE=users", f"PACKAGES={PACKAGES}")
            self.assertIn("deploy staging: authorizer never ran here; deploying its current package too", output)
            self.assertEqual(self.aws["apigatewayv2"].get_apis()["Items"], [], "no HTTP API beside the REST API")
            api = [a for a in self.aws["apigateway"].get_rest_apis()["items"] if a["name"] == "swiftapi-staging-api"]
            self.assertEqual(len(api), 1)
            api_id = api[0]["id"]
            resources = {r["path"]: r for r in self.aws["apigateway"].get_resources(restApiId=api_id, limit=500)["items"]}
            self.assertEqual(sorted(resources), ["/", "/items", "/items/export", "/items/{id}", "/users", "/users/{id}"])
            authorizers = self.aws["apigateway"].get_authorizers(restApiId=api_id)["items"]
            self.assertEqual([(a["type"], a["authorizerResultTtlInSeconds"]) for a in authorizers], [("REQUEST", 120)])
            self.assertIn("swiftapi-staging-authorizer", authorizers[0]["authorizerUri"])
            for service in SERVICES:
                with open(os.path.join(ROOT, "services", service, "service.json")) as f:
                    routes = json.load(f)["routes"]
                for key in routes:
                    method, path = key.split(" ")
                    declared = self.aws["apigateway"].get_method(restApiId=api_id, resourceId=resources[path]["id"], httpMethod=method)
                    self.assertEqual((declared["authorizationType"], declared["authorizerId"]), ("CUSTOM", authorizers[0]["id"]), key)
                    integration = declared["methodIntegration"]
                    self.assertEqual((integration["type"], integration["httpMethod"]), ("AWS_PROXY", "POST"), key)
                    self.assertIn(f"function:swiftapi-staging-{service}/invocations", integration["uri"], key)
            stage = self.aws["apigateway"].get_stage(restApiId=api_id, stageName="staging")
            self.assertTrue(stage["tracingEnabled"])
            self.assertIn("$context.resourcePath", stage["accessLogSettings"]["format"])
            policy = json.loads(self.aws["lambda"].get_policy(FunctionName="swiftapi-staging-authorizer")["Policy"])
            self.assertEqual([s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]],
                             [f"arn:aws:execute-api:eu-west-1:123456789012:{api_id}/authorizers/{authorizers[0]['id']}"])
            stage_arn = f"arn:aws:apigateway:eu-west-1::/restapis/{api_id}/stages/staging"
            self.assertEqual(self.stack.client("wafv2").get_web_acl_for_resource(ResourceArn=stage_arn)["WebACL"]["Name"], "org-edge")
            plans = [p for p in self.aws["apigateway"].get_usage_plans()["items"] if p["name"] == "swiftapi-staging-partners"]
            self.assertEqual([(s["apiId"], s["stage"]) for s in plans[0]["apiStages"]], [(api_id, "staging")])
            self.assertEqual((plans[0]["quota"]["limit"], plans[0]["throttle"]["rateLimit"]), (100000, 10))
            self.assertEqual([k["id"] for k in self.aws["apigateway"].get_usage_plan_keys(usagePlanId=plans[0]["id"])["items"]], [partner["id"]])
            self.assertIn(f"usage plan {plans[0]['id']} now accepts API key {partner['id']}", output)
            value = self.aws["apigateway"].get_api_key(apiKey=partner["id"], includeValue=True)["value"]
            with open(self.stack.local_backend_config("staging").replace(".backend.hcl", ".tfstate")) as f:
                self.assertNotIn(value, f.read(), "the API key's value is not in the state")
            variables = self.function("staging", AUTHORIZER)["Environment"]["Variables"]
            self.assertEqual(json.loads(variables["ROUTE_SCOPES"])["GET /users"], ["users.admin"])
            self.assertIn("0 change(s)", self.plan_changes("staging"))
            self.assert_monitoring_is_deployed("staging", SERVICES + [AUTHORIZER])

            items_before = self.function("staging", "items")
            rebuilt = self.rebuilt_package("users")
            output = self.run_make("staging", "deploy", "SERVICE=users", f"PACKAGES={rebuilt}")
            self.assertTrue('deploy staging: changes module.infrastructure.module.service["users"].aws_lambda_function.this (update)\n' in output,
                            "deploying users changes only the users function, not the REST deployment")
            items_after = self.function("staging", "items")
            self.assertEqual(items_after["LastModified"], items_before["LastModified"])
            self.assertIn("0 change(s)", self.plan_changes("staging"))
            self.run_make("staging", "rollback", "SERVICE=authorizer", expect=2)
        finally:
            self.run_make("staging", "destroy", "CONFIRM=staging")
            os.remove(override)
            # The next staging run starts from an empty environment: no release pointers either.
            listed = self.aws["s3"].list_objects_v2(Bucket=tfvars("staging")["artifacts_bucket"], Prefix="releases/staging/")
            for entry in listed.get("Contents", []):
                self.aws["s3"].delete_object(Bucket=tfvars("staging")["artifacts_bucket"], Key=entry["Key"])
        self.assertEqual(self.aws["apigateway"].get_rest_apis()["items"], [])
        self.assert_no_monitoring_left("staging")
        self.assertFalse([f for f in self.aws["lambda"].list_functions()["Functions"] if f["FunctionName"].startswith("swiftapi-staging-")])

    def test_production_tables_are_protected(self):
        output = self.run_make("production", "deploy", "SERVICE=items", f"PACKAGES={os.path.join(self.work, 'empty')}", expect=2)
        self.assertRegex(output, r"(?m)^deploy: users never ran in production and has no package in .*empty: "
                                 r"deploy every service once with `make deploy ENV=production`$")
        self.run_make("production", "deploy", f"PACKAGES={PACKAGES}")
        for service in SERVICES:
            table = self.aws["dynamodb"].describe_table(TableName=f"swiftapi-production-{service}")["Table"]
            self.assertTrue(table["DeletionProtectionEnabled"])
            self.assertEqual(table["SSEDescription"]["Status"], "ENABLED")
            backups = self.aws["dynamodb"].describe_continuous_backups(TableName=f"swiftapi-production-{service}")
            self.assertEqual(backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertIn("0 change(s)", self.plan_changes("production"))
        # Policies name only the function's own table.
        role = self.aws["iam"].get_role_policy(RoleName="swiftapi-production-users-function", PolicyName="swiftapi-production-users-access")
        tables = [s["Resource"] for s in role["PolicyDocument"]["Statement"] if s["Sid"] == "OwnTablesOnly"][0]
        self.assertTrue(all("table/swiftapi-production-users" in arn for arn in tables), tables)

        output = self.run_make("production", "destroy", "CONFIRM=production", expect=2)
        self.assertTrue("can't be deleted while deletionprotectionenabled is set to true" in " ".join(output.lower().split()),
                        "destroying production must stop at the protected tables")
        for service in SERVICES:  # still there (describe_table raises ResourceNotFoundException otherwise)
            self.aws["dynamodb"].describe_table(TableName=f"swiftapi-production-{service}")
        with open(os.path.join(self.tree, "environments", "production", "zz_test.auto.tfvars.json"), "w") as f:
            json.dump({"deletion_protection": False}, f)
        self.run_make("production", "apply")
        self.run_make("production", "destroy", "CONFIRM=production")
        self.assertFalse([t for t in self.aws["dynamodb"].list_tables()["TableNames"] if t.startswith("swiftapi-production-")])


if __name__ == "__main__":
    unittest.main()
