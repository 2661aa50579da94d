"""ci/iam_check.py on policy documents: the evaluator's IAM rules, and the findings it must make.
Each regression the delivery-trust work closed is put back here and must fail by name; the same
checker runs on the bootstrap as IAM stores it in tests/integration/test_pipeline_on_moto.py."""
import unittest

from ci import iam_check
from ci.iam_check import Layout, Statement, check_boundary, check_role, check_trusts, condition_holds, trust_accepts

ACCOUNT = "123456789012"
LAYOUT = Layout("swiftapi", "eu-west-1", ACCOUNT, ["production", "staging"], f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/state")
CI_ROLES = [f"arn:aws:iam::{ACCOUNT}:role/swiftapi-ci-{e}-{k}" for e in ("staging", "production") for k in ("plan", "deploy")]
BOUNDARY = LAYOUT.boundary("staging")
FUNCTIONS = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:swiftapi-staging-*"
TAGGED = {"StringEquals": {"aws:ResourceTag/environment": "staging"}}
GUARDS = [
    {"Sid": "NeverTheCIRoles", "Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*"], "Resource": f"arn:aws:iam::{ACCOUNT}:role/swiftapi-ci-*"},
    {"Sid": "NeverRoleWritesWithoutTheBoundary", "Effect": "Deny", "Action": iam_check.ROLE_WRITES, "Resource": "*",
     "Condition": {"ArnNotEquals": {"iam:PermissionsBoundary": BOUNDARY}}},
    {"Sid": "NeverInvokeAFunctionOrOpenAFunctionUrl", "Effect": "Deny", "Action": iam_check.INVOCATIONS, "Resource": "*"},
    {"Sid": "NeverKeyPolicies", "Effect": "Deny", "Action": ["kms:PutKeyPolicy"], "Resource": "*"},
    {"Sid": "NeverSubscribeToLogsOrUnmaskThem", "Effect": "Deny", "Action": ["logs:PutSubscriptionFilter"], "Resource": "*"},
]
REGION = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
GOOD = GUARDS + [
    {"Sid": "WriteRolesOnlyWithTheBoundary", "Effect": "Allow", "Action": iam_check.ROLE_WRITES,
     "Resource": f"arn:aws:iam::{ACCOUNT}:role/swiftapi-staging-*", "Condition": {"ArnEquals": {"iam:PermissionsBoundary": BOUNDARY}}},
    {"Sid": "ManageFunctionsOfThisEnvironment", "Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction"],
     "Resource": FUNCTIONS, "Condition": {"ForAllValues:StringLike": {"lambda:Layer": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:*"}}},
    {"Sid": "LetApiGatewayInvokeFunctionsOfThisEnvironment", "Effect": "Allow", "Action": ["lambda:AddPermission"], "Resource": FUNCTIONS,
     "Condition": {"StringEquals": {"lambda:Principal": "apigateway.amazonaws.com"}}},
    {"Sid": "ManageKeysOfThisEnvironment", "Effect": "Allow", "Action": ["kms:ScheduleKeyDeletion", "kms:DescribeKey"],
     "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*", "Condition": TAGGED},
    {"Sid": "GrantsOnlyForTablesAndFunctionsOfThisEnvironment", "Effect": "Allow", "Action": ["kms:CreateGrant"],
     "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
     "Condition": {"StringEquals": {"aws:ResourceTag/environment": "staging", "kms:ViaService": ["dynamodb.eu-west-1.amazonaws.com"]},
                   "Bool": {"kms:GrantIsForAWSResource": "true"}}},
    {"Sid": "CreateApisTaggedWithThisEnvironment", "Effect": "Allow", "Action": ["apigateway:POST"],
     "Resource": ["arn:aws:apigateway:eu-west-1::/apis", "arn:aws:apigateway:eu-west-1::/restapis"],
     "Condition": {"StringEquals": {"aws:RequestTag/environment": "staging"}}},
    {"Sid": "ManageApisOfThisEnvironment", "Effect": "Allow", "Action": ["apigateway:POST", "apigateway:DELETE"],
     "Resource": ["arn:aws:apigateway:eu-west-1::/restapis/*"], "Condition": TAGGED},
    {"Sid": "RecordsOfThisEnvironmentInItsHostedZone", "Effect": "Allow", "Action": ["route53:ChangeResourceRecordSets"],
     "Resource": "arn:aws:route53:::hostedzone/Z123",
     "Condition": {"ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames": ["api.staging.example.com", "_*.api.staging.example.com"]},
                   "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["A", "AAAA", "CNAME"]}}},
    {"Sid": "StateOfThisEnvironment", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": LAYOUT.state("staging")},
    {"Sid": "UnscopedReads", "Effect": "Allow", "Action": ["logs:DescribeLogGroups", "sts:GetCallerIdentity"], "Resource": "*"},
    {"Sid": "DeliverHttpApiAccessLogs", "Effect": "Allow", "Action": iam_check.NO_RESOURCE_SCOPE, "Resource": "*", "Condition": REGION},
]
GOOD_BOUNDARY = [
    {"Sid": "TablesOfThisEnvironmentFromItsFunctions", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
     "Resource": [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/swiftapi-staging-*"],
     "Condition": {"ArnLike": {"lambda:SourceFunctionArn": FUNCTIONS}}},
    {"Sid": "SecretsOfThisEnvironmentFromItsFunctions", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
     "Resource": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:swiftapi-staging-*",
     "Condition": {"ArnLike": {"lambda:SourceFunctionArn": FUNCTIONS}}},
    {"Sid": "LogGroupsOfThisEnvironment", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
     "Resource": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/swiftapi-staging-*:*"},
]
# The deploy role's statement before the boundary (environments/bootstrap until that change).
OLD_FUNCTION_ROLES = {"Sid": "FunctionRoles", "Effect": "Allow", "Action": [
    "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole"],
    "Resource": f"arn:aws:iam::{ACCOUNT}:role/swiftapi-staging-*"}
OLD_UNSCOPED = {"Sid": "UnscopableServices", "Effect": "Allow", "Action": ["apigateway:*", "kms:CreateKey", "kms:ScheduleKeyDeletion", "route53:*"], "Resource": "*"}
# The part of AWS's ReadOnlyAccess that matters here (it allows every Get, List and Describe).
READ_ONLY_ACCESS = {"Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Query", "dynamodb:Scan", "s3:Get*", "s3:List*", "logs:Get*"], "Resource": "*"}
# What the delivery-trust work replaced (issue 23, items 2 to 4), each as it stood.
OLD_LAMBDA = {"Sid": "ManageFunctionsOfThisEnvironment", "Effect": "Allow", "Action": ["lambda:*"], "Resource": FUNCTIONS}
OLD_KEYS = {"Sid": "ManageKeysOfThisEnvironment", "Effect": "Allow", "Action": ["kms:DescribeKey", "kms:PutKeyPolicy", "kms:CreateGrant"],
            "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*", "Condition": TAGGED}
OLD_API_CREATES = {"Sid": "CreateResourcesTaggedWithThisEnvironment", "Effect": "Allow", "Action": ["apigateway:POST", "kms:CreateKey"],
                   "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/environment": "staging"}}}
OLD_ZONE = {"Sid": "RecordsInTheHostedZoneOfThisEnvironment", "Effect": "Allow", "Action": ["route53:ChangeResourceRecordSets"],
            "Resource": "arn:aws:route53:::hostedzone/Z123"}
OLD_BOUNDARY = [dict(s, Sid=s["Sid"].replace("FromItsFunctions", ""), Condition=None) if s["Sid"].endswith("FromItsFunctions") else s for s in GOOD_BOUNDARY]

PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com"
PROJECT = "acme/swift-api"


def trust(audience, *subjects):
    operator = "StringLike" if any("*" in s for s in subjects) else "StringEquals"
    condition = {"StringEquals": {"gitlab.com:aud": audience}}
    condition.setdefault(operator, {})["gitlab.com:sub"] = [f"project_path:{PROJECT}:ref_type:{s}" for s in subjects]
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": PROVIDER},
                                                   "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}


TRUSTS = {
    "swiftapi-ci-staging-plan": ("plan", trust("swiftapi-ci-staging-plan", "branch:ref:*", "tag:ref:release-*")),
    "swiftapi-ci-staging-deploy": ("deploy", trust("swiftapi-ci-staging-deploy", "branch:ref:main")),
    "swiftapi-ci-production-plan": ("plan", trust("swiftapi-ci-production-plan", "branch:ref:main", "tag:ref:release-*")),
    "swiftapi-ci-production-deploy": ("deploy", trust("swiftapi-ci-production-deploy", "tag:ref:release-*")),
}
# Before: one audience for every role, both deploy roles on main.
OLD_TRUSTS = {
    "swiftapi-ci-staging-plan": ("plan", trust("sts.amazonaws.com", "branch:ref:*")),
    "swiftapi-ci-staging-deploy": ("deploy", trust("sts.amazonaws.com", "branch:ref:main")),
    "swiftapi-ci-production-plan": ("plan", trust("sts.amazonaws.com", "branch:ref:main")),
    "swiftapi-ci-production-deploy": ("deploy", trust("sts.amazonaws.com", "branch:ref:main")),
}


def findings(role, kind, documents, ci_roles=CI_ROLES):
    statements = [Statement(role, f"policy:{d.get('Sid') or 'statement'}", d) for d in documents]
    return check_role(role, "staging", kind, statements, LAYOUT, ci_roles)


def boundary_findings(documents):
    return check_boundary("staging", [Statement("swiftapi-staging-function-boundary", f"boundary:{d['Sid']}", d) for d in documents], LAYOUT)


def named(found, *fragments):
    return any(all(fragment in f for fragment in fragments) for f in found)


class Conditions(unittest.TestCase):
    def test_missing_keys_follow_iam(self):
        self.assertFalse(condition_holds({"StringEquals": {"k": "v"}}, {}))
        self.assertTrue(condition_holds({"StringNotEquals": {"k": "v"}}, {}))
        self.assertTrue(condition_holds({"StringEqualsIfExists": {"k": "v"}}, {}))
        self.assertTrue(condition_holds({"BoolIfExists": {"k": "false"}}, {}))
        self.assertFalse(condition_holds({"ForAnyValue:StringEquals": {"k": ["v"]}}, {}))
        self.assertTrue(condition_holds({"ForAllValues:StringLike": {"k": ["v*"]}}, {}), "ForAllValues holds on an empty set")
        self.assertTrue(condition_holds({"Null": {"k": "true"}}, {}))
        self.assertFalse(condition_holds({"Null": {"k": "false"}}, {}))

    def test_like_and_lists(self):
        self.assertTrue(condition_holds({"ArnLike": {"k": "arn:aws:s3:::b/staging*"}}, {"k": "arn:aws:s3:::b/staging.tfstate"}))
        self.assertFalse(condition_holds({"ArnLike": {"k": "arn:aws:s3:::b/staging*"}}, {"k": "arn:aws:s3:::b/production.tfstate"}))
        self.assertTrue(condition_holds({"ForAnyValue:StringEquals": {"k": ["environment"]}}, {"k": ["owner", "environment"]}))
        self.assertTrue(condition_holds({"StringEquals": {"k": ["a", "b"]}}, {"k": "b"}))

    def test_set_qualifiers_with_negation(self):
        own = "arn:aws:lambda:eu-west-1:1:layer:*"
        mixed = {"k": ["arn:aws:lambda:eu-west-1:1:layer:a:1", "arn:aws:lambda:eu-west-1:2:layer:b:1"]}
        self.assertTrue(condition_holds({"ForAnyValue:StringNotLike": {"k": own}}, mixed), "one foreign layer is enough")
        self.assertFalse(condition_holds({"ForAllValues:StringLike": {"k": own}}, mixed))
        self.assertFalse(condition_holds({"ForAnyValue:StringNotLike": {"k": own}}, {"k": ["arn:aws:lambda:eu-west-1:1:layer:a:1"]}))

    def test_arn_operators_match_each_part_on_its_own(self):
        # IAM User Guide, "Amazon Resource Name (ARN) condition operators": a wildcard stays within
        # its colon-separated part, and ArnEquals takes wildcards as ArnLike does.
        role = "arn:aws:iam::*:role/swiftapi-staging-*"
        self.assertTrue(condition_holds({"ArnLike": {"k": role}}, {"k": f"arn:aws:iam::{ACCOUNT}:role/swiftapi-staging-users"}))
        self.assertFalse(condition_holds({"ArnLike": {"k": role}}, {"k": f"arn:aws:iam::{ACCOUNT}:extra:role/swiftapi-staging-users"}))
        self.assertTrue(condition_holds({"ArnEquals": {"k": role}}, {"k": f"arn:aws:iam::{ACCOUNT}:role/swiftapi-staging-users"}))
        self.assertTrue(condition_holds({"ArnLike": {"k": "arn:aws:s3:::b/*"}}, {"k": "arn:aws:s3:::b/a:b/c"}), "the resource part keeps its colons")
        self.assertFalse(condition_holds({"ArnLike": {"k": "arn:aws:s3:::b/*"}}, {"k": "not-an-arn"}))

    def test_trust_evaluation(self):
        claims = {"gitlab.com:aud": "swiftapi-ci-production-deploy", "gitlab.com:sub": f"project_path:{PROJECT}:ref_type:tag:ref:release-7"}
        document = TRUSTS["swiftapi-ci-production-deploy"][1]
        self.assertTrue(trust_accepts(document, PROVIDER, claims))
        self.assertFalse(trust_accepts(document, PROVIDER, dict(claims, **{"gitlab.com:aud": "swiftapi-ci-staging-plan"})))
        self.assertFalse(trust_accepts(document, PROVIDER, dict(claims, **{"gitlab.com:sub": f"project_path:{PROJECT}:ref_type:branch:ref:main"})))
        self.assertFalse(trust_accepts(document, "arn:aws:iam::1:oidc-provider/other", claims))


class Findings(unittest.TestCase):
    def test_the_bounded_policy_passes(self):
        self.assertEqual(findings("swiftapi-ci-staging-deploy", "deploy", GOOD), [])
        self.assertEqual(boundary_findings(GOOD_BOUNDARY), [])
        self.assertEqual(check_trusts(TRUSTS, PROVIDER, "gitlab.com", PROJECT), [])

    def test_the_old_function_roles_statement_fails_by_name(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + [OLD_FUNCTION_ROLES])
        self.assertTrue(named(found, "policy:FunctionRoles: allows iam:PutRolePolicy", "without the environment's boundary"), found)

    def test_old_ci_role_names_inside_the_pattern_fail(self):
        # Before: the CI roles were swiftapi-staging-deploy, inside role/swiftapi-staging-*.
        found = findings("swiftapi-staging-deploy", "deploy", GOOD + [OLD_FUNCTION_ROLES],
                         ci_roles=[f"arn:aws:iam::{ACCOUNT}:role/swiftapi-staging-deploy"])
        self.assertTrue(named(found, "FunctionRoles: allows iam:UpdateAssumeRolePolicy", "a write on a CI role"), found)

    def test_schedule_key_deletion_on_anything_fails_by_name(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + [OLD_UNSCOPED])
        self.assertTrue(named(found, "policy:UnscopableServices: allows", "kms:ScheduleKeyDeletion", 'on "*" without a condition'), found)
        self.assertTrue(named(found, "UnscopableServices: allows apigateway:DELETE", "changes production"), found)

    def test_read_only_access_on_a_plan_role_fails(self):
        found = findings("swiftapi-ci-staging-plan", "plan", GUARDS + [READ_ONLY_ACCESS])
        self.assertTrue(named(found, "allows dynamodb:GetItem", "reads data"), found)
        self.assertTrue(named(found, "allows logs:GetLogEvents", "reads data"), found)
        self.assertTrue(named(found, "allows s3:GetObject on arn:aws:s3:::swiftapi-terraform-state-123456789012/swiftapi/production.tfstate"), found)

    def test_a_condition_every_request_meets_narrows_nothing(self):
        regional = [{"Sid": "RegionalKeys", "Effect": "Allow", "Action": ["kms:ScheduleKeyDeletion"], "Resource": "*", "Condition": REGION},
                    {"Sid": "RegionalReads", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*",
                     "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + regional)
        self.assertTrue(named(found, "policy:RegionalKeys: allows kms:ScheduleKeyDeletion on \"*\" without a condition that narrows it"), found)
        self.assertTrue(named(found, "policy:RegionalReads: allows dynamodb:GetItem", "reads data"), found)

    def test_streams_log_records_and_subscriptions_are_data(self):
        tables = {"Sid": "ManageTablesOfThisEnvironment", "Effect": "Allow", "Action": ["dynamodb:*"],
                  "Resource": [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/swiftapi-staging-*"]}
        logs = {"Sid": "ManageLogGroupsOfThisEnvironment", "Effect": "Allow",
                "Action": ["logs:PutSubscriptionFilter", "logs:Unmask", "logs:CreateLogGroup"],
                "Resource": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/swiftapi-staging-*"}
        records = {"Sid": "UnscopedLogReads", "Effect": "Allow", "Action": ["logs:GetLogRecord"], "Resource": "*"}
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + [tables, logs, records])
        self.assertTrue(named(found, "ManageTablesOfThisEnvironment: allows dynamodb:GetRecords", "/stream/", "reads data"), found)
        self.assertTrue(named(found, "ManageLogGroupsOfThisEnvironment: allows logs:PutSubscriptionFilter", "sends a log group's events elsewhere"), found)
        self.assertTrue(named(found, "ManageLogGroupsOfThisEnvironment: allows logs:Unmask", "reads data"), found)
        self.assertTrue(named(found, "UnscopedLogReads: allows logs:GetLogRecord", "reads data"), found)

    def test_missing_guards_are_findings(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD[len(GUARDS):])
        for missing in ("no Deny guards the CI roles", "no Deny refuses role writes without the boundary",
                        "no Deny refuses invoking functions", "no Deny refuses key-policy writes", "no Deny refuses log subscriptions"):
            self.assertIn(f"swiftapi-ci-staging-deploy: {missing}", found)

    # Issue 23, item 1: every job's token was a production deploy token.
    def test_one_audience_for_every_role_fails_by_name(self):
        found = check_trusts(OLD_TRUSTS, PROVIDER, "gitlab.com", PROJECT)
        self.assertTrue(named(found, "swiftapi-ci-production-deploy and swiftapi-ci-staging-deploy trusts: both accept one token"), found)
        self.assertTrue(named(found, "swiftapi-ci-production-deploy and swiftapi-ci-production-plan trusts: both accept one token"), found)
        self.assertTrue(named(found, "swiftapi-ci-production-deploy trust: accepts a token of any audience"), found)

    def test_a_deploy_role_trusting_every_branch_fails_by_name(self):
        trusts = dict(TRUSTS, **{"swiftapi-ci-staging-deploy": ("deploy", trust("swiftapi-ci-staging-deploy", "branch:ref:*"))})
        found = check_trusts(trusts, PROVIDER, "gitlab.com", PROJECT)
        self.assertTrue(named(found, "swiftapi-ci-staging-deploy trust: any branch may deploy"), found)
        self.assertTrue(named(found, "swiftapi-ci-staging-deploy and swiftapi-ci-staging-plan trusts") is False, found)

    def test_another_projects_token_fails_by_name(self):
        wide = trust("swiftapi-ci-staging-plan", "branch:ref:*")
        wide["Statement"][0]["Condition"]["StringLike"]["gitlab.com:sub"] = ["project_path:*"]
        found = check_trusts(dict(TRUSTS, **{"swiftapi-ci-staging-plan": ("plan", wide)}), PROVIDER, "gitlab.com", PROJECT)
        self.assertTrue(named(found, "swiftapi-ci-staging-plan trust: accepts another project's token"), found)

    # Item 2: a deploy role read data around the guard.
    def test_lambda_star_fails_by_name(self):
        good = [s for s in GOOD if s["Sid"] != "ManageFunctionsOfThisEnvironment"]
        found = findings("swiftapi-ci-staging-deploy", "deploy", good + [OLD_LAMBDA])
        for action in ("lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:CreateFunctionUrlConfig"):
            self.assertTrue(named(found, f"policy:ManageFunctionsOfThisEnvironment: allows {action}", "reading its data"), found)
        self.assertTrue(named(found, "allows lambda:AddPermission", "a principal other than API Gateway"), found)
        self.assertTrue(named(found, "allows lambda:UpdateFunctionConfiguration", "another account's layer"), found)

    # Item 3: a backdoor role under the boundary, and the key handed away.
    def test_boundary_without_the_source_function_fails_by_name(self):
        found = boundary_findings(OLD_BOUNDARY)
        self.assertTrue(named(found, "boundary:TablesOfThisEnvironment: allows dynamodb:GetItem", "without lambda:SourceFunctionArn"), found)
        self.assertTrue(named(found, "boundary:SecretsOfThisEnvironment: allows secretsmanager:GetSecretValue", "without lambda:SourceFunctionArn"), found)
        too_narrow = [dict(s, Condition={"ArnLike": {"lambda:SourceFunctionArn": "arn:aws:lambda:eu-west-1:1:function:nothing"}}) for s in GOOD_BOUNDARY]
        self.assertIn("swiftapi-staging-function-boundary: no longer allows dynamodb:GetItem to staging's functions", boundary_findings(too_narrow))

    def test_key_policy_writes_and_open_grants_fail_by_name(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + [OLD_KEYS])
        self.assertTrue(named(found, "policy:ManageKeysOfThisEnvironment: allows kms:PutKeyPolicy", "hand the key to anyone"), found)
        self.assertTrue(named(found, "policy:ManageKeysOfThisEnvironment: allows kms:CreateGrant", "no AWS service makes"), found)

    # Item 4: scope gaps.
    def test_api_creates_by_request_tag_alone_fail_by_name(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + [OLD_API_CREATES])
        self.assertTrue(named(found, "policy:CreateResourcesTaggedWithThisEnvironment: allows apigateway:POST", "creates under production's API"), found)

    def test_writes_to_the_whole_hosted_zone_fail_by_name(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + [OLD_ZONE])
        self.assertTrue(named(found, "policy:RecordsInTheHostedZoneOfThisEnvironment: allows route53:ChangeResourceRecordSets", "not its environment's"), found)


if __name__ == "__main__":
    unittest.main()
