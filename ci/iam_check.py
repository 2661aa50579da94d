#!/usr/bin/env python3
"""Checks the CI roles' policies as IAM stores them, and fails on a path out of their environment.

    ci/iam_check.py [--name swiftapi] [--region eu-west-1]     (AWS credentials from the environment)

Every Allow statement must be safe on its own: the guard denies environments/bootstrap adds are a
second line (checked to be present), never the reason a check passes. A finding names the role,
the policy and the statement:

- a write that could reach a CI role (<name>-ci-*);
- a role or role-policy write allowed without the environment's permissions boundary;
- a destructive action on "*" without a condition;
- a plan role that reads table items or secret values, or any CI role that reads another
  environment's state or changes another environment's resources.
Exit status 0: no finding; 1: findings (one line each).
"""
import argparse
import fnmatch
import re
import sys

ROLE_WRITES = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
               "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"]
CI_ROLE_WRITES = ROLE_WRITES + ["iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRole",
                                "iam:TagRole", "iam:UntagRole", "iam:UpdateRole", "iam:PassRole"]
DATA_READS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect",
              "dynamodb:ExportTableToPointInTime", "secretsmanager:GetSecretValue"]
# Verbs that delete, overwrite or re-permission: never on "*" without a condition.
DESTRUCTIVE = re.compile(r"^(Delete|Schedule|Put|Update|Disable|Remove|Detach|Change|Revoke|Retire|Create|Attach|Set|Tag|Untag|Restore|\*)|^(DELETE|PUT|PATCH|POST)$")
KNOWN_DESTRUCTIVE = ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey", "kms:DeleteAlias", "apigateway:DELETE",
                     "apigateway:PATCH", "apigateway:PUT", "route53:ChangeResourceRecordSets", "route53:DeleteHostedZone",
                     "acm:DeleteCertificate", "lambda:DeleteFunction", "dynamodb:DeleteTable", "s3:DeleteObject",
                     "s3:PutBucketPolicy", "iam:PutRolePolicy", "iam:DeleteRole", "logs:DeleteLogGroup",
                     "secretsmanager:DeleteSecret", "secretsmanager:PutSecretValue"]


def as_list(value):
    return [] if value is None else value if isinstance(value, list) else [value]


def action_matches(patterns, action):
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def resource_matches(patterns, resource):
    return any(fnmatch.fnmatchcase(resource, p) for p in patterns)


def condition_holds(condition, context):
    """IAM's condition operators that these policies use, with its rules for missing keys."""
    for operator, tests in (condition or {}).items():
        qualifier, _, base = operator.rpartition(":")
        if_exists = base.endswith("IfExists")
        base = base.removesuffix("IfExists")
        for key, expected in tests.items():
            expected = [str(v) for v in as_list(expected)]
            present = key in context
            if base == "Null":
                if (expected[0].lower() == "true") != (not present):
                    return False
                continue
            negated = "Not" in base
            if not present:
                if if_exists or negated:
                    continue
                return False
            values = [str(v) for v in as_list(context[key])]
            if base.startswith(("String", "Arn")):
                like = base.endswith("Like")
                def one(value):
                    return any(fnmatch.fnmatchcase(value, e) if like else value == e for e in expected)
            elif base == "Bool":
                def one(value):
                    return value.lower() in [e.lower() for e in expected]
            else:
                raise ValueError(f"condition operator {operator} is not understood by ci/iam_check.py")
            if qualifier == "ForAllValues":
                hit = all(one(v) for v in values)
            else:
                hit = any(one(v) for v in values)
            if hit == negated:
                return False
    return True


def statement_applies(statement, action, resource, context):
    if "Action" in statement and not action_matches(as_list(statement["Action"]), action):
        return False
    if "NotAction" in statement and action_matches(as_list(statement["NotAction"]), action):
        return False
    if "Resource" in statement and not resource_matches(as_list(statement["Resource"]), resource):
        return False
    if "NotResource" in statement and resource_matches(as_list(statement["NotResource"]), resource):
        return False
    return condition_holds(statement.get("Condition"), context)


class Statement:
    def __init__(self, role, origin, body):
        self.role, self.origin, self.body = role, origin, body

    def __str__(self):
        return f"{self.role} {self.origin}"


def stored_statements(iam, role):
    """Every statement of a role's inline and attached policies, as IAM returns them."""
    found = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        found += numbered(role, name, document)
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
        found += numbered(role, attached["PolicyName"], document)
    return found


def numbered(role, policy, document):
    if isinstance(document, str):
        import json
        import urllib.parse
        document = json.loads(urllib.parse.unquote(document))
    return [Statement(role, f"{policy}:{s.get('Sid') or f'statement {i}'}", s)
            for i, s in enumerate(as_list(document.get("Statement")), start=1)]


class Layout:
    """The names environments/bootstrap gives to each environment's resources."""

    def __init__(self, name, region, account, environments, state_key):
        self.name, self.region, self.account, self.environments = name, region, account, environments
        self.state_key = state_key

    def role(self, env, suffix="probe-function"):
        return f"arn:aws:iam::{self.account}:role/{self.name}-{env}-{suffix}"

    def boundary(self, env):
        return f"arn:aws:iam::{self.account}:policy/{self.name}-{env}-function-boundary"

    def state(self, env):
        return f"arn:aws:s3:::{self.name}-terraform-state-{self.account}/{self.name}/{env}.tfstate"

    def writes_in(self, env):
        """Changes to an environment's resources, each with the request context that names it."""
        tag = {"aws:ResourceTag/environment": env}
        arn = f"{self.region}:{self.account}"
        return [
            ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{arn}:function:{self.name}-{env}-users", {}),
            ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{arn}:table/{self.name}-{env}-users", {}),
            ("dynamodb:PutItem", f"arn:aws:dynamodb:{arn}:table/{self.name}-{env}-users", {}),
            ("logs:DeleteLogGroup", f"arn:aws:logs:{arn}:log-group:/aws/lambda/{self.name}-{env}-users", {}),
            ("apigateway:DELETE", f"arn:aws:apigateway:{self.region}::/apis/a1b2c3", tag),
            ("kms:ScheduleKeyDeletion", f"arn:aws:kms:{arn}:key/1234abcd", tag),
            ("kms:PutKeyPolicy", f"arn:aws:kms:{arn}:key/1234abcd", tag),
            ("acm:DeleteCertificate", f"arn:aws:acm:{arn}:certificate/c1", tag),
            ("secretsmanager:PutSecretValue", f"arn:aws:secretsmanager:{arn}:secret:{self.name}-{env}-cursor-secret-AbCdEf", {}),
            ("s3:PutObject", f"arn:aws:s3:::{self.name}-artifacts-{env}/releases/{env}/users.json", {}),
            ("s3:PutObject", self.state(env), {}),
            ("iam:PutRolePolicy", self.role(env), {"iam:PermissionsBoundary": self.boundary(env)}),
            ("iam:PassRole", self.role(env), {"iam:PassedToService": "lambda.amazonaws.com"}),
        ]


def allowed_by(statements, action, resource, context):
    return [s for s in statements if s.body.get("Effect") == "Allow" and statement_applies(s.body, action, resource, context)]


def denied(statements, action, resource, context):
    return any(s.body.get("Effect") == "Deny" and statement_applies(s.body, action, resource, context) for s in statements)


def check_role(role, environment, kind, statements, layout, ci_roles):
    findings = []

    def forbid(action, resource, context, why):
        for s in allowed_by(statements, action, resource, context):
            findings.append(f"{s}: allows {action} on {resource} ({why})")

    for ci_role in ci_roles:
        for action in CI_ROLE_WRITES:
            forbid(action, ci_role, {"iam:PermissionsBoundary": layout.boundary(environment)}, "a write on a CI role")
    for action in ROLE_WRITES:
        for context in ({}, {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}):
            forbid(action, layout.role(environment), context, "a role write without the environment's boundary")
    for s in statements:
        body = s.body
        if body.get("Effect") != "Allow" or body.get("Condition") or "*" not in as_list(body.get("Resource")):
            continue
        actions = as_list(body.get("Action")) or ["*"]
        risky = [a for a in actions if DESTRUCTIVE.search(a.split(":")[-1])
                 or any(fnmatch.fnmatchcase(k.lower(), a.lower()) for k in KNOWN_DESTRUCTIVE)]
        if risky:
            findings.append(f"{s}: allows {', '.join(risky)} on \"*\" without a condition")
    if kind == "plan":
        for action in DATA_READS:
            for env in layout.environments:
                forbid(action, f"arn:aws:dynamodb:{layout.region}:{layout.account}:table/{layout.name}-{env}-users", {}, "a plan role reads table items")
            forbid(action, f"arn:aws:secretsmanager:{layout.region}:{layout.account}:secret:{layout.name}-{environment}-cursor-secret-AbCdEf", {}, "a plan role reads a secret value")
        for action, resource, context in layout.writes_in(environment):
            forbid(action, resource, context, "a plan role writes")
    for other in layout.environments:
        if other == environment:
            continue
        forbid("s3:GetObject", layout.state(other), {}, f"reads {other}'s state")
        forbid("kms:Decrypt", layout.state_key, {"kms:EncryptionContext:aws:s3:arn": layout.state(other)}, f"decrypts {other}'s state")
        for action, resource, context in layout.writes_in(other):
            forbid(action, resource, context, f"changes {other}")
    # The second line: the guards must be there too.
    if not all(denied(statements, "iam:PutRolePolicy", r, {"iam:PermissionsBoundary": layout.boundary(environment)}) for r in ci_roles):
        findings.append(f"{role}: no Deny guards the CI roles")
    if not denied(statements, "iam:CreateRole", layout.role(environment), {}):
        findings.append(f"{role}: no Deny refuses role writes without the boundary")
    return findings


def check(iam, name, region, account, state_key):
    roles = [r for r in paginate(iam, "list_roles", "Roles") if r["RoleName"].startswith(f"{name}-ci-")]
    parsed = {}
    for r in roles:
        match = re.fullmatch(rf"{re.escape(name)}-ci-([a-z0-9]+)-(plan|deploy)", r["RoleName"])
        if match:
            parsed[r["RoleName"]] = (r["Arn"], *match.groups())
    if not parsed:
        return [f"no CI roles named {name}-ci-<environment>-plan|deploy: apply environments/bootstrap first"]
    layout = Layout(name, region, account, sorted({env for _, env, _ in parsed.values()}), state_key)
    ci_arns = [arn for arn, _, _ in parsed.values()]
    findings = []
    for role, (_, environment, kind) in sorted(parsed.items()):
        findings += check_role(role, environment, kind, stored_statements(iam, role), layout, ci_arns)
    return findings


def paginate(client, method, key):
    return [item for page in client.get_paginator(method).paginate() for item in page[key]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="swiftapi")
    parser.add_argument("--region", default="eu-west-1")
    args = parser.parse_args()
    import boto3
    session = boto3.session.Session(region_name=args.region)
    account = session.client("sts").get_caller_identity()["Account"]
    # The key that encrypts the state bucket (its default encryption), for the decrypt probes.
    encryption = session.client("s3").get_bucket_encryption(Bucket=f"{args.name}-terraform-state-{account}")
    state_key = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    findings = check(session.client("iam"), args.name, args.region, account, state_key)
    for finding in findings:
        print(f"iam-check: {finding}")
    print(f"iam-check: {len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
