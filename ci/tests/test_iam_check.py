"""ci/iam_check.py on policy documents: the evaluator's IAM rules, and the findings it must make.
The same checker runs on the bootstrap as IAM stores it in tests/integration/test_pipeline_on_moto.py."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import iam_check  # noqa: E402
from iam_check import Layout, Statement, check_role, condition_holds  # noqa: E402

ACCOUNT = "123456789012"
LAYOUT = Layout("swiftapi", "eu-west-1", ACCOUNT, ["production", "staging"], f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/state")
CI_ROLES = [f"arn:aws:iam::{ACCOUNT}:role/swiftapi-ci-{e}-{k}" for e in ("staging", "production") for k in ("plan", "deploy")]
BOUNDARY = LAYOUT.boundary("staging")
GUARDS = [
    {"Sid": "NeverTheCIRoles", "Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*"], "Resource": f"arn:aws:iam::{ACCOUNT}:role/swiftapi-ci-*"},
    {"Sid": "NeverRoleWritesWithoutTheBoundary", "Effect": "Deny", "Action": iam_check.ROLE_WRITES, "Resource": "*",
     "Condition": {"ArnNotEquals": {"iam:PermissionsBoundary": BOUNDARY}}},
]
GOOD = GUARDS + [
    {"Sid": "WriteRolesOnlyWithTheBoundary", "Effect": "Allow", "Action": iam_check.ROLE_WRITES,
     "Resource": f"arn:aws:iam::{ACCOUNT}:role/swiftapi-staging-*", "Condition": {"ArnEquals": {"iam:PermissionsBoundary": BOUNDARY}}},
    {"Sid": "ManageKeysOfThisEnvironment", "Effect": "Allow", "Action": ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"],
     "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*", "Condition": {"StringEquals": {"aws:ResourceTag/environment": "staging"}}},
    {"Sid": "StateOfThisEnvironment", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": LAYOUT.state("staging")},
    {"Sid": "UnscopedReads", "Effect": "Allow", "Action": ["logs:DescribeLogGroups", "sts:GetCallerIdentity"], "Resource": "*"},
]
# The deploy role's statement before the boundary (environments/bootstrap until this change).
OLD_FUNCTION_ROLES = {"Sid": "FunctionRoles", "Effect": "Allow", "Action": [
    "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole"],
    "Resource": f"arn:aws:iam::{ACCOUNT}:role/swiftapi-staging-*"}
OLD_UNSCOPED = {"Sid": "UnscopableServices", "Effect": "Allow", "Action": ["apigateway:*", "kms:CreateKey", "kms:ScheduleKeyDeletion", "route53:*"], "Resource": "*"}
# The part of AWS's ReadOnlyAccess that matters here (it allows every Get, List and Describe).
READ_ONLY_ACCESS = {"Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Query", "dynamodb:Scan", "s3:Get*", "s3:List*"], "Resource": "*"}


def findings(role, kind, documents, ci_roles=CI_ROLES):
    statements = [Statement(role, f"policy:{d.get('Sid') or 'statement'}", d) for d in documents]
    return check_role(role, "staging", kind, statements, LAYOUT, ci_roles)


class Conditions(unittest.TestCase):
    def test_missing_keys_follow_iam(self):
        self.assertFalse(condition_holds({"StringEquals": {"k": "v"}}, {}))
        self.assertTrue(condition_holds({"StringNotEquals": {"k": "v"}}, {}))
        self.assertTrue(condition_holds({"StringEqualsIfExists": {"k": "v"}}, {}))
        self.assertFalse(condition_holds({"ForAnyValue:StringEquals": {"k": ["v"]}}, {}))
        self.assertTrue(condition_holds({"Null": {"k": "true"}}, {}))
        self.assertFalse(condition_holds({"Null": {"k": "false"}}, {}))

    def test_like_and_lists(self):
        self.assertTrue(condition_holds({"ArnLike": {"k": "arn:aws:s3:::b/staging*"}}, {"k": "arn:aws:s3:::b/staging.tfstate"}))
        self.assertFalse(condition_holds({"ArnLike": {"k": "arn:aws:s3:::b/staging*"}}, {"k": "arn:aws:s3:::b/production.tfstate"}))
        self.assertTrue(condition_holds({"ForAnyValue:StringEquals": {"k": ["environment"]}}, {"k": ["owner", "environment"]}))
        self.assertTrue(condition_holds({"StringEquals": {"k": ["a", "b"]}}, {"k": "b"}))


class Findings(unittest.TestCase):
    def test_the_bounded_policy_passes(self):
        self.assertEqual(findings("swiftapi-ci-staging-deploy", "deploy", GOOD), [])

    def test_the_old_function_roles_statement_fails_by_name(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + [OLD_FUNCTION_ROLES])
        self.assertTrue(any("policy:FunctionRoles: allows iam:PutRolePolicy" in f and "without the environment's boundary" in f for f in found), found)

    def test_old_ci_role_names_inside_the_pattern_fail(self):
        # Before: the CI roles were swiftapi-staging-deploy, inside role/swiftapi-staging-*.
        found = findings("swiftapi-staging-deploy", "deploy", GOOD + [OLD_FUNCTION_ROLES],
                         ci_roles=[f"arn:aws:iam::{ACCOUNT}:role/swiftapi-staging-deploy"])
        self.assertTrue(any("FunctionRoles: allows iam:UpdateAssumeRolePolicy" in f and "a write on a CI role" in f for f in found), found)

    def test_schedule_key_deletion_on_anything_fails_by_name(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD + [OLD_UNSCOPED])
        self.assertTrue(any("policy:UnscopableServices: allows" in f and "kms:ScheduleKeyDeletion" in f and 'on "*" without a condition' in f for f in found), found)
        self.assertTrue(any("UnscopableServices: allows apigateway:DELETE" in f and "changes production" in f for f in found), found)

    def test_read_only_access_on_a_plan_role_fails(self):
        found = findings("swiftapi-ci-staging-plan", "plan", GUARDS + [READ_ONLY_ACCESS])
        self.assertTrue(any("allows dynamodb:GetItem" in f and "reads table items" in f for f in found), found)
        self.assertTrue(any("allows s3:GetObject on arn:aws:s3:::swiftapi-terraform-state-123456789012/swiftapi/production.tfstate" in f for f in found), found)

    def test_missing_guards_are_findings(self):
        found = findings("swiftapi-ci-staging-deploy", "deploy", GOOD[2:])
        self.assertIn("swiftapi-ci-staging-deploy: no Deny guards the CI roles", found)
        self.assertIn("swiftapi-ci-staging-deploy: no Deny refuses role writes without the boundary", found)


if __name__ == "__main__":
    unittest.main()
