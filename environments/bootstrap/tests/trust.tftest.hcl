# The roles' trust policies and names, with a mock provider: who can become which role, with which
# token. What the roles may do is checked on the policies as IAM stores them (ci/iam_check.py,
# against moto); here only what the mock can show: audiences, subjects, sizes, validations.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::123456789012:oidc-provider/gitlab.com" }
  }
  # ARNs as long as the real ones: the policies' sizes are asserted below.
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::swiftapi-terraform-state-123456789012" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
  }
  mock_resource "aws_iam_policy" {
    defaults = { arn = "arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary" }
  }
}

override_resource {
  target = aws_iam_role.apigateway_logs
  values = { arn = "arn:aws:iam::123456789012:role/swiftapi-apigateway-logs" }
}

variables {
  project_path = "acme/swift-api"
}

run "rest_access_logs_have_the_account_setting_they_need" {
  command = apply

  assert {
    condition     = aws_api_gateway_account.this.cloudwatch_role_arn == aws_iam_role.apigateway_logs.arn && aws_iam_role_policy_attachment.apigateway_logs.policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    error_message = "API Gateway's account setting names a role with AWS's push-to-CloudWatch-Logs policy (REST stages refuse access logging without it)."
  }
  assert {
    condition     = jsondecode(aws_iam_role.apigateway_logs.assume_role_policy).Statement[0].Principal == { Service = "apigateway.amazonaws.com" } && jsondecode(aws_iam_role.apigateway_logs.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "Only API Gateway, for this account, assumes the logging role."
  }
  assert {
    condition     = !startswith(aws_iam_role.apigateway_logs.name, "swiftapi-staging-") && !startswith(aws_iam_role.apigateway_logs.name, "swiftapi-production-") && !startswith(aws_iam_role.apigateway_logs.name, "swiftapi-ci-")
    error_message = "The logging role is outside the names a deploy role may change."
  }
}

# The whole document, every statement: a boundary widened anywhere (another environment's tables,
# data reads without lambda:SourceFunctionArn, a wildcard) fails here.
run "the_function_boundary_is_exactly_its_environments" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_policy.function_boundary["staging"].policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "TablesOfThisEnvironmentFromItsFunctions"
          Effect    = "Allow"
          Action    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
          Resource  = ["arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-*", "arn:aws:dynamodb:eu-west-1:123456789012:table/swiftapi-staging-*/index/*"]
          Condition = { ArnLike = { "lambda:SourceFunctionArn" = "arn:aws:lambda:eu-west-1:123456789012:function:swiftapi-staging-*" } }
        },
        {
          Sid      = "LogGroupsOfThisEnvironment"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = [for kind in ["lambda", "apigateway", "vpc"] : "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/${kind}/swiftapi-staging-*:*"]
        },
        {
          Sid       = "SecretsOfThisEnvironmentFromItsFunctions"
          Effect    = "Allow"
          Action    = ["secretsmanager:GetSecretValue"]
          Resource  = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:swiftapi-staging-*"
          Condition = { ArnLike = { "lambda:SourceFunctionArn" = "arn:aws:lambda:eu-west-1:123456789012:function:swiftapi-staging-*" } }
        },
        {
          Sid       = "KeyOfThisEnvironmentThroughServices"
          Effect    = "Allow"
          Action    = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
          Resource  = "arn:aws:kms:eu-west-1:123456789012:key/*"
          Condition = { StringEquals = { "aws:ResourceTag/environment" = "staging", "kms:ViaService" = ["dynamodb.eu-west-1.amazonaws.com", "lambda.eu-west-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com"] } }
        },
        { Sid = "Tracing", Effect = "Allow", Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource = "*" },
        {
          Sid       = "NetworkInterfacesInThisEnvironmentsSubnets"
          Effect    = "Allow"
          Action    = ["ec2:CreateNetworkInterface"]
          Resource  = ["arn:aws:ec2:eu-west-1:123456789012:subnet/*", "arn:aws:ec2:eu-west-1:123456789012:security-group/*"]
          Condition = { StringEquals = { "aws:ResourceTag/environment" = "staging" } }
        },
        {
          Sid      = "NetworkInterfaces"
          Effect   = "Allow"
          Action   = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
          Resource = "arn:aws:ec2:eu-west-1:123456789012:network-interface/*"
        },
        { Sid = "DescribeNetwork", Effect = "Allow", Action = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource = "*" },
      ]
    }
    error_message = "The staging function boundary is exactly staging's tables and secrets (from its functions only), log groups, key through services, tracing and network interfaces."
  }
}

run "each_role_accepts_only_its_own_audience" {
  command = apply

  assert {
    condition     = alltrue([for key, role in aws_iam_role.ci : length(jsondecode(role.assume_role_policy).Statement) == 1 && jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:aud"] == "swiftapi-ci-${key}"])
    error_message = "Every role accepts one audience, its own name (a job's token is good for the one role it declares)."
  }
  assert {
    condition     = length(distinct([for role in aws_iam_role.ci : jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:aud"]])) == 4
    error_message = "No two roles share an audience."
  }
  assert {
    condition     = aws_iam_openid_connect_provider.gitlab.client_id_list == toset(["swiftapi-ci-production-deploy", "swiftapi-ci-production-plan", "swiftapi-ci-staging-deploy", "swiftapi-ci-staging-plan"])
    error_message = "The OIDC provider registers exactly the roles' audiences."
  }
  assert {
    condition     = alltrue([for role in aws_iam_role.ci : jsondecode(role.assume_role_policy).Statement[0].Principal.Federated == aws_iam_openid_connect_provider.gitlab.arn && jsondecode(role.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity" && jsondecode(role.assume_role_policy).Statement[0].Effect == "Allow"])
    error_message = "Roles are assumed through GitLab's OIDC provider only."
  }
}

run "production_deploys_only_from_protected_release_tags" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.ci["production-deploy"].assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:tag:ref:release-*"]
    error_message = "Only release tags of acme/swift-api may assume the production deploy role, never a branch."
  }
  assert {
    condition     = jsondecode(aws_iam_role.ci["staging-deploy"].assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:main"] && !can(jsondecode(aws_iam_role.ci["staging-deploy"].assume_role_policy).Statement[0].Condition.StringLike)
    error_message = "Only main of acme/swift-api may assume the staging deploy role (exact match)."
  }
  assert {
    condition     = alltrue([for key, role in aws_iam_role.ci : alltrue([for s in flatten([for _, test in jsondecode(role.assume_role_policy).Statement[0].Condition : lookup(test, "gitlab.com:sub", [])]) : startswith(s, "project_path:acme/swift-api:ref_type:")])])
    error_message = "Every subject is pinned to the project path."
  }
}

run "merge_requests_plan_staging_only" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.ci["staging-plan"].assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:*", "project_path:acme/swift-api:ref_type:tag:ref:release-*"]
    error_message = "The staging plan role serves merge requests from any branch, and release tags (which check what staging runs)."
  }
  assert {
    condition     = jsondecode(aws_iam_role.ci["production-plan"].assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:main", "project_path:acme/swift-api:ref_type:tag:ref:release-*"]
    error_message = "Only main and release tags plan production."
  }
}

run "ci_roles_are_named_outside_the_deployable_pattern" {
  command = apply

  assert {
    condition     = alltrue([for role in aws_iam_role.ci : startswith(role.name, "swiftapi-ci-") && !startswith(role.name, "swiftapi-staging-") && !startswith(role.name, "swiftapi-production-")])
    error_message = "CI roles are swiftapi-ci-*, never inside swiftapi-<env>-*."
  }
  assert {
    condition     = alltrue([for key, policy in aws_iam_policy.ci : !strcontains(policy.policy, "production") if startswith(key, "staging-")])
    error_message = "The staging roles name no production resource."
  }
  assert {
    condition     = length(aws_iam_role_policy.guards) == 4
    error_message = "Every CI role carries the guards."
  }
}

run "policies_fit_iams_size_limits" {
  command = apply

  # IAM's limits, whitespace not counted (jsonencode writes none): a role's inline policies hold at
  # most 10,240 characters together, a managed policy 6,144 (IAM User Guide, "IAM and AWS STS quotas").
  assert {
    condition     = alltrue([for key, _ in aws_iam_role.ci : length(aws_iam_role_policy.guards[key].policy) + length(aws_iam_role_policy.state[key].policy) <= 10240])
    error_message = "A CI role's inline policies exceed IAM's 10,240 characters."
  }
  assert {
    condition     = alltrue([for policy in aws_iam_policy.ci : length(policy.policy) <= 6144])
    error_message = "A CI role's managed policy exceeds IAM's 6,144 characters: split it (policies.tf, deploy_policies)."
  }
  assert {
    condition     = sort(keys(aws_iam_role_policy_attachment.ci)) == sort(flatten([for env in ["staging", "production"] : concat(["${env}-plan/${env}-read", "${env}-deploy/${env}-read"], [for part in ["resources", "edge", "monitoring", "network"] : "${env}-deploy/${env}-deploy-${part}"])]))
    error_message = "Plan roles carry their environment's read policy; deploy roles that and its four deploy policies; nothing crosses environments."
  }
}

run "extra_protected_branches_for_staging" {
  command = plan
  variables {
    environments = {
      staging    = { deploy_refs = ["branch:main", "branch:release"] }
      production = { deploy_refs = ["tag:release-*"] }
    }
  }
  assert {
    condition     = length(jsondecode(aws_iam_role.ci["staging-deploy"].assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:sub"]) == 2
    error_message = "Each listed protected branch may deploy staging."
  }
}

run "route53_writes_only_the_environments_names" {
  command = apply
  variables {
    environments = {
      staging    = { deploy_refs = ["branch:main"], hosted_zone_id = "Z123", record_names = ["API.staging.example.com."] }
      production = { deploy_refs = ["tag:release-*"] }
    }
  }
  assert {
    condition = [for s in jsondecode(aws_iam_policy.ci["staging-deploy-edge"].policy).Statement : s.Condition if s.Sid == "RecordsOfThisEnvironmentInItsHostedZone"] == [{
      "ForAllValues:StringLike"   = { "route53:ChangeResourceRecordSetsNormalizedRecordNames" = ["api.staging.example.com", "_*.api.staging.example.com"] }
      "ForAllValues:StringEquals" = { "route53:ChangeResourceRecordSetsRecordTypes" = ["A", "AAAA", "CNAME"] }
    }]
    error_message = "A deploy writes only its environment's names (normalized: lower case, no trailing dot) and their types."
  }
  assert {
    condition     = alltrue([for key, policy in aws_iam_policy.ci : !strcontains(policy.policy, "route53:ChangeResourceRecordSets") if startswith(key, "production-")])
    error_message = "An environment without a hosted zone writes no records."
  }
}

run "rejects_wildcard_projects" {
  command = plan
  variables {
    project_path = "acme/*"
  }
  expect_failures = [var.project_path]
}

run "rejects_wildcard_deploy_branches" {
  command = plan
  variables {
    environments = { production = { deploy_refs = ["branch:*"] } }
  }
  expect_failures = [var.environments]
}

run "rejects_deploy_tags_without_a_prefix" {
  command = plan
  variables {
    environments = { production = { deploy_refs = ["tag:*"] } }
  }
  expect_failures = [var.environments]
}

run "rejects_refs_without_their_kind" {
  command = plan
  variables {
    environments = { production = { deploy_refs = ["main"] } }
  }
  expect_failures = [var.environments]
}

run "rejects_a_hosted_zone_without_record_names" {
  command = plan
  variables {
    environments = { staging = { deploy_refs = ["branch:main"], hosted_zone_id = "Z123" } }
  }
  expect_failures = [var.environments]
}

run "rejects_an_environment_named_like_the_ci_roles" {
  command = plan
  variables {
    environments = { ci = { deploy_refs = ["branch:main"] } }
  }
  expect_failures = [var.environments]
}

run "no_ci_role_may_invoke_a_function_or_open_its_url" {
  command = apply

  assert {
    condition = alltrue([for role, guards in aws_iam_role_policy.guards : contains(jsondecode(guards.policy).Statement, {
      Sid      = "NeverInvokeAFunctionOrOpenAFunctionUrl"
      Effect   = "Deny"
      Action   = ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:InvokeAsync", "lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"]
      Resource = "*"
    })])
    error_message = "Every CI role's guards deny invoking a function, invoking it asynchronously and creating or changing a function URL, whatever its other policies allow."
  }
}
