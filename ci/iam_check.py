"""Checks the CI roles and the function boundaries as IAM stores them, and fails on a path out of an
environment, to another environment's data, or past the pipeline's gates.

    python3 -m ci.iam_check [--name swiftapi] [--region eu-west-1]     (AWS credentials from the environment)

Every Allow statement must be safe on its own: the guard denies environments/bootstrap adds are a
second line (checked to be present), never the reason a check passes. A finding names the role (or
boundary), the policy and the statement:

- a write that could reach a CI role; a role or role-policy write without the environment's boundary;
- a destructive action on "*" without a condition, or with one every request meets (global keys);
- any CI role that reads table items, stream records, secret values or log events, subscribes a log
  group to a destination, or runs a function (invoking one is reading its data: a function trusts
  the event's authorizer context), opens a function URL, lets a principal other than API Gateway
  invoke, or attaches another account's layer;
- a key-policy write, or a key grant that an AWS service does not make for its own resource;
- a plan role that writes; any CI role that reads another environment's state, changes another
  environment's resources or creates under another environment's API, or writes DNS records that
  are not its environment's;
- a function boundary that grants table data or secret values outside the environment's function
  code (without lambda:SourceFunctionArn), or no longer grants them to it;
- a trust that accepts a token of another project, any audience, or any branch for a deploy role;
  two CI roles that accept the same token (audience and subject) where one of them deploys.
Exit status 0: no finding; 1: findings (one line each).
"""
import argparse
import fnmatch
import itertools
import json
import re
import sys
import urllib.parse

ROLE_WRITES = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
               "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"]
CI_ROLE_WRITES = ROLE_WRITES + ["iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRole",
                                "iam:TagRole", "iam:UntagRole", "iam:UpdateRole", "iam:PassRole"]
TABLE_READS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect",
               "dynamodb:ExportTableToPointInTime"]
LOG_READS = ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:StartLiveTail", "logs:GetLogRecord", "logs:Unmask"]
INVOCATIONS = ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:InvokeAsync", "lambda:CreateFunctionUrlConfig",
               "lambda:UpdateFunctionUrlConfig"]
# Verbs that delete, overwrite or re-permission: never on "*" without a condition.
DESTRUCTIVE = re.compile(r"^(Delete|Schedule|Put|Update|Disable|Remove|Detach|Change|Revoke|Retire|Create|Attach|Set|Tag|Untag|Restore|\*)|^(DELETE|PUT|PATCH|POST)$")
KNOWN_DESTRUCTIVE = ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey", "kms:DeleteAlias", "apigateway:DELETE",
                     "apigateway:PATCH", "apigateway:PUT", "route53:ChangeResourceRecordSets", "route53:DeleteHostedZone",
                     "acm:DeleteCertificate", "lambda:DeleteFunction", "dynamodb:DeleteTable", "s3:DeleteObject",
                     "s3:PutBucketPolicy", "iam:PutRolePolicy", "iam:DeleteRole", "logs:DeleteLogGroup",
                     "secretsmanager:DeleteSecret", "secretsmanager:PutSecretValue"]
# Actions that take no resource-level scope (Service Authorization Reference, "Actions defined by
# Amazon CloudWatch Logs"): an HTTP API's access log is set up through them with the caller's
# permissions, so they are allowed on "*" (in the environment's region).
NO_RESOURCE_SCOPE = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                     "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"]
# A name no environment owns, an account that is not this one, a project that is not the pipeline's.
FOREIGN_ACCOUNT = "999999999999"
FOREIGN_RECORD = "probe.not-this-environment.invalid"
FOREIGN_SUBJECT = "project_path:someone-else/fork:ref_type:branch:ref:main"
FOREIGN_AUDIENCE = "sts.amazonaws.com"


def as_list(value):
    return [] if value is None else value if isinstance(value, list) else [value]


def action_matches(patterns, action):
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def resource_matches(patterns, resource):
    return any(fnmatch.fnmatchcase(resource, p) for p in patterns)


def arn_matches(value, pattern):
    """ArnEquals and ArnLike: each of the six colon-separated parts matched on its own, with
    wildcards that do not cross a colon (IAM User Guide, "Amazon Resource Name (ARN) condition
    operators")."""
    parts, patterns = value.split(":", 5), pattern.split(":", 5)
    return len(parts) == len(patterns) == 6 and all(fnmatch.fnmatchcase(v, p) for v, p in zip(parts, patterns, strict=True))


def condition_holds(condition, context):
    """IAM's condition operators that these policies use, with its rules for missing keys and for
    the set qualifiers (IAM User Guide, "IAM JSON policy elements: Condition operators" and
    "Multivalued context keys")."""
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
                # ForAllValues holds on an empty set; ForAnyValue does not; a negated single-valued
                # operator holds on a missing key, a positive one only with IfExists.
                if qualifier == "ForAllValues" or (qualifier != "ForAnyValue" and (if_exists or negated)):
                    continue
                return False
            values = [str(v) for v in as_list(context[key])]
            if base.startswith("Arn"):
                def matches(value, expected=expected):
                    return any(arn_matches(value, e) for e in expected)
            elif base.startswith("String"):
                like = base.endswith("Like")

                def matches(value, expected=expected, like=like):
                    return any(fnmatch.fnmatchcase(value, e) if like else value == e for e in expected)
            elif base == "Bool":
                def matches(value, expected=expected):
                    return value.lower() in [e.lower() for e in expected]
            else:
                raise ValueError(f"condition operator {operator} is not understood by ci/iam_check.py")
            results = [matches(v) != negated for v in values]
            if not (all(results) if qualifier == "ForAllValues" else any(results)):
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


def document(value):
    return json.loads(urllib.parse.unquote(value)) if isinstance(value, str) else value


def numbered(role, policy, body):
    return [Statement(role, f"{policy}:{s.get('Sid') or f'statement {i}'}", s)
            for i, s in enumerate(as_list(document(body).get("Statement")), start=1)]


def managed_statements(iam, owner, arn, name):
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    return numbered(owner, name, version["Document"])


def stored_statements(iam, role):
    """Every statement of a role's inline and attached policies, as IAM returns them."""
    found = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        found += numbered(role, name, iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        found += managed_statements(iam, role, attached["PolicyArn"], attached["PolicyName"])
    return found


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

    def function(self, env, service="users"):
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}-{env}-{service}"

    def table(self, env, service="users"):
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.name}-{env}-{service}"

    def secret(self, env):
        return f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{self.name}-{env}-cursor-secret-AbCdEf"

    def log_group(self, env):
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:/aws/lambda/{self.name}-{env}-users"

    def key(self):
        return f"arn:aws:kms:{self.region}:{self.account}:key/1234abcd"

    def writes_in(self, env):
        """Changes to an environment's resources, each with the request context that names it."""
        tag = {"aws:ResourceTag/environment": env}
        return [
            ("lambda:UpdateFunctionCode", self.function(env), {}),
            ("dynamodb:DeleteTable", self.table(env), {}),
            ("dynamodb:PutItem", self.table(env), {}),
            ("logs:DeleteLogGroup", self.log_group(env), {}),
            ("apigateway:DELETE", f"arn:aws:apigateway:{self.region}::/apis/a1b2c3", tag),
            ("kms:ScheduleKeyDeletion", self.key(), tag),
            ("acm:DeleteCertificate", f"arn:aws:acm:{self.region}:{self.account}:certificate/c1", tag),
            ("secretsmanager:PutSecretValue", self.secret(env), {}),
            ("s3:PutObject", f"arn:aws:s3:::{self.name}-artifacts-{env}/releases/{env}/users.json", {}),
            ("s3:PutObject", self.state(env), {}),
            ("s3:PutObject", f"{self.state(env)}.tflock", {}),
            ("iam:PutRolePolicy", self.role(env), {"iam:PermissionsBoundary": self.boundary(env)}),
            ("iam:PassRole", self.role(env), {"iam:PassedToService": "lambda.amazonaws.com"}),
            ("cloudwatch:DeleteAlarms", f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{self.name}-{env}-users errors", {}),
            ("sns:Subscribe", f"arn:aws:sns:{self.region}:{self.account}:{self.name}-{env}-alarms", {}),
        ]

    def data_reads(self, env):
        return ([(a, self.table(env), {}) for a in TABLE_READS] + [("secretsmanager:GetSecretValue", self.secret(env), {})]
                + [("dynamodb:GetRecords", f"{self.table(env)}/stream/2026-01-01T00:00:00.000", {})]
                + [(a, self.log_group(env), {}) for a in LOG_READS] + [("logs:GetLogRecord", "*", {})])

    def global_context(self):
        """Keys present in every request this account's pipeline makes (IAM User Guide, "AWS global
        condition context keys"): a probe carries them, so an Allow conditioned only on them is
        no narrower than one without a condition."""
        return {"aws:RequestedRegion": self.region, "aws:SecureTransport": "true", "aws:PrincipalAccount": self.account}


def allowed_by(statements, action, resource, context):
    return [s for s in statements if s.body.get("Effect") == "Allow" and statement_applies(s.body, action, resource, context)]


def denied(statements, action, resource, context):
    return any(s.body.get("Effect") == "Deny" and statement_applies(s.body, action, resource, context) for s in statements)


def check_role(role, environment, kind, statements, layout, ci_roles):
    findings = []

    def forbid(action, resource, context, why):
        for s in allowed_by(statements, action, resource, dict(layout.global_context(), **context)):
            findings.append(f"{s}: allows {action} on {resource} ({why})")

    for ci_role in ci_roles:
        for action in CI_ROLE_WRITES:
            forbid(action, ci_role, {"iam:PermissionsBoundary": layout.boundary(environment)}, "a write on a CI role")
    for action in ROLE_WRITES:
        for context in ({}, {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}):
            forbid(action, layout.role(environment), context, "a role write without the environment's boundary")
    for s in statements:
        body = s.body
        # A condition that every request meets (global keys only) is no condition.
        if body.get("Effect") != "Allow" or not condition_holds(body.get("Condition"), layout.global_context()) \
                or "*" not in as_list(body.get("Resource")):
            continue
        actions = as_list(body.get("Action")) or ["*"]
        risky = [a for a in actions if (DESTRUCTIVE.search(a.split(":")[-1]) and not action_matches(NO_RESOURCE_SCOPE, a))
                 or any(fnmatch.fnmatchcase(k.lower(), a.lower()) for k in KNOWN_DESTRUCTIVE)]
        if risky:
            findings.append(f"{s}: allows {', '.join(risky)} on \"*\" without a condition that narrows it")

    # Data: no CI role reads it, directly or by running the code that serves it.
    for env in layout.environments:
        for action, resource, context in layout.data_reads(env):
            forbid(action, resource, context, "a CI role reads data")
    function = layout.function(environment)
    for action in INVOCATIONS:
        forbid(action, function, {}, "invoking a function is reading its data: it trusts the event's authorizer context")
    for principal in ("*", FOREIGN_ACCOUNT, None):
        context = {} if principal is None else {"lambda:Principal": principal}
        forbid("lambda:AddPermission", function, context, "lets a principal other than API Gateway invoke")
    for action in ("lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"):
        forbid(action, function, {"lambda:Layer": [f"arn:aws:lambda:{layout.region}:{FOREIGN_ACCOUNT}:layer:x:1"]},
               "runs another account's layer in a function")
    forbid("logs:PutSubscriptionFilter", layout.log_group(environment), {}, "sends a log group's events elsewhere")
    tag = {"aws:ResourceTag/environment": environment}
    forbid("kms:PutKeyPolicy", layout.key(), tag, "a key policy can hand the key to anyone")
    for context in (tag, dict(tag, **{"kms:ViaService": f"dynamodb.{layout.region}.amazonaws.com"}),
                    dict(tag, **{"kms:GrantIsForAWSResource": "false"})):
        forbid("kms:CreateGrant", layout.key(), context, "a key grant that no AWS service makes for its own resource")

    if kind == "plan":
        for action, resource, context in layout.writes_in(environment):
            forbid(action, resource, context, "a plan role writes")
    for other in layout.environments:
        if other == environment:
            continue
        forbid("s3:GetObject", layout.state(other), {}, f"reads {other}'s state")
        forbid("kms:Decrypt", layout.state_key, {"kms:EncryptionContext:aws:s3:arn": layout.state(other)}, f"decrypts {other}'s state")
        for action, resource, context in layout.writes_in(other):
            forbid(action, resource, context, f"changes {other}")
        forbid("apigateway:POST", f"arn:aws:apigateway:{layout.region}::/restapis/a1b2c3/stages",
               {"aws:ResourceTag/environment": other, "aws:RequestTag/environment": environment},
               f"creates under {other}'s API")
    zones = {r for s in statements for r in as_list(s.body.get("Resource")) if ":hostedzone/" in r}
    for zone in sorted(zones | {"arn:aws:route53:::hostedzone/ZPROBE"}):
        forbid("route53:ChangeResourceRecordSets", zone,
               {"route53:ChangeResourceRecordSetsNormalizedRecordNames": [FOREIGN_RECORD],
                "route53:ChangeResourceRecordSetsRecordTypes": ["A"]},
               "writes a DNS record that is not its environment's")

    # The second line: the guards must be there too.
    if not all(denied(statements, "iam:PutRolePolicy", r, {"iam:PermissionsBoundary": layout.boundary(environment)}) for r in ci_roles):
        findings.append(f"{role}: no Deny guards the CI roles")
    if not denied(statements, "iam:CreateRole", layout.role(environment), {}):
        findings.append(f"{role}: no Deny refuses role writes without the boundary")
    if not all(denied(statements, action, function, {}) for action in INVOCATIONS):
        findings.append(f"{role}: no Deny refuses invoking functions")
    if not denied(statements, "kms:PutKeyPolicy", layout.key(), tag):
        findings.append(f"{role}: no Deny refuses key-policy writes")
    if not denied(statements, "logs:PutSubscriptionFilter", layout.log_group(environment), {}):
        findings.append(f"{role}: no Deny refuses log subscriptions")
    return findings


def check_boundary(environment, statements, layout):
    """The boundary grants table data and secret values only to the environment's function code."""
    findings = []
    own = {"lambda:SourceFunctionArn": layout.function(environment)}
    for action, resource, _ in layout.data_reads(environment):
        if action.startswith("logs:"):
            continue
        for context, why in (({}, "without lambda:SourceFunctionArn: any role under the boundary reads it"),
                             ({"lambda:SourceFunctionArn": f"arn:aws:lambda:{layout.region}:{FOREIGN_ACCOUNT}:function:x"},
                              "to another account's function"),
                             *[({"lambda:SourceFunctionArn": layout.function(other)}, f"to {other}'s functions")
                               for other in layout.environments if other != environment]):
            for s in allowed_by(statements, action, resource, context):
                findings.append(f"{s}: allows {action} on {resource} {why}")
    for action, resource in (("dynamodb:GetItem", layout.table(environment)), ("secretsmanager:GetSecretValue", layout.secret(environment))):
        if not allowed_by(statements, action, resource, own):
            findings.append(f"{layout.name}-{environment}-function-boundary: no longer allows {action} to {environment}'s functions")
    return findings


def trust_accepts(trust, provider, claims):
    """Whether a trust policy lets a web-identity token with these claims ({issuer}:aud, :sub) in
    through the OIDC provider `provider` (an ARN)."""
    statements = as_list(document(trust).get("Statement"))

    def applies(s):
        return (action_matches(as_list(s.get("Action")), "sts:AssumeRoleWithWebIdentity")
                and provider in as_list((s.get("Principal") or {}).get("Federated"))
                and condition_holds(s.get("Condition"), claims))
    return (any(s.get("Effect") == "Allow" and applies(s) for s in statements)
            and not any(s.get("Effect") == "Deny" and applies(s) for s in statements))


def trust_values(trust, issuer, claim):
    """The values and patterns a trust policy names for one claim, with `*` made concrete."""
    found = set()
    for s in as_list(document(trust).get("Statement")):
        for tests in (s.get("Condition") or {}).values():
            for value in as_list(tests.get(f"{issuer}:{claim}")):
                found.add(value.replace("*", "probe").replace("?", "p"))
    return found


def check_trusts(roles, provider, issuer, project):
    """roles: {name: (kind, trust policy)}. Each trust on its own, then every pair with a deploy role."""
    findings = []
    aud, sub = f"{issuer}:aud", f"{issuer}:sub"
    for name, (kind, trust) in sorted(roles.items()):
        auds = sorted(trust_values(trust, issuer, "aud")) or [FOREIGN_AUDIENCE]
        if any(trust_accepts(trust, provider, {aud: a, sub: FOREIGN_SUBJECT}) for a in auds):
            findings.append(f"{name} trust: accepts another project's token ({FOREIGN_SUBJECT})")
        if any(trust_accepts(trust, provider, {aud: FOREIGN_AUDIENCE, sub: s}) for s in trust_values(trust, issuer, "sub")):
            findings.append(f"{name} trust: accepts a token of any audience ({FOREIGN_AUDIENCE}), not only its own")
        branch = f"project_path:{project}:ref_type:branch:ref:probe-unprotected-branch"
        if kind == "deploy" and any(trust_accepts(trust, provider, {aud: a, sub: branch}) for a in auds):
            findings.append(f"{name} trust: any branch may deploy (accepts {branch})")
    for (first, (kind1, trust1)), (second, (kind2, trust2)) in itertools.combinations(sorted(roles.items()), 2):
        if "deploy" not in (kind1, kind2):
            continue
        auds = trust_values(trust1, issuer, "aud") | trust_values(trust2, issuer, "aud") | {FOREIGN_AUDIENCE}
        subs = trust_values(trust1, issuer, "sub") | trust_values(trust2, issuer, "sub")
        shared = [(a, s) for a, s in itertools.product(sorted(auds), sorted(subs))
                  if trust_accepts(trust1, provider, {aud: a, sub: s}) and trust_accepts(trust2, provider, {aud: a, sub: s})]
        if shared:
            a, s = shared[0]
            findings.append(f"{first} and {second} trusts: both accept one token (aud {a}, sub {s}): a job that may "
                            f"use one can use the other")
    return findings


def check(iam, name, region, account, state_key):
    roles = [r for r in paginate(iam, "list_roles", "Roles") if r["RoleName"].startswith(f"{name}-ci-")]
    parsed = {}
    for r in roles:
        match = re.fullmatch(rf"{re.escape(name)}-ci-([a-z0-9]+)-(plan|deploy)", r["RoleName"])
        if match:
            parsed[r["RoleName"]] = (r, *match.groups())
    if not parsed:
        return [f"no CI roles named {name}-ci-<environment>-plan|deploy: apply environments/bootstrap first"]
    layout = Layout(name, region, account, sorted({env for _, env, _ in parsed.values()}), state_key)
    ci_arns = [r["Arn"] for r, _, _ in parsed.values()]
    findings = []
    for role, (_, environment, kind) in sorted(parsed.items()):
        findings += check_role(role, environment, kind, stored_statements(iam, role), layout, ci_arns)
    for environment in layout.environments:
        boundary = layout.boundary(environment)
        try:
            statements = managed_statements(iam, f"{name}-{environment}-function-boundary", boundary, "boundary")
        except iam.exceptions.NoSuchEntityException:
            findings.append(f"{name}-{environment}-function-boundary: missing (environments/bootstrap creates it)")
            continue
        findings += check_boundary(environment, statements, layout)
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    trusts = {role: (kind, r["AssumeRolePolicyDocument"]) for role, (r, _, kind) in parsed.items()}
    projects = sorted(set(re.findall(r"project_path:([^:*]+):", json.dumps([document(t) for _, t in trusts.values()]))))
    for provider in providers:
        issuer = provider.split(":oidc-provider/", 1)[1]
        findings += check_trusts(trusts, provider, issuer, projects[0] if projects else "group/project")
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
