# The roles' trust policies and names, with a mock provider: who can become which role. What the
# roles may do is checked on the policies as IAM stores them (ci/iam_check.py, against moto).
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
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::bucket" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/k" }
  }
  mock_resource "aws_iam_policy" {
    defaults = { arn = "arn:aws:iam::123456789012:policy/swiftapi-staging-function-boundary" }
  }
}

variables {
  project_path = "acme/swift-api"
}

run "deploy_roles_trust_only_this_projects_protected_branches" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.ci["production-deploy"].assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:main"]
    error_message = "Only main of acme/swift-api may assume the production deploy role (exact match)."
  }
  assert {
    condition     = jsondecode(aws_iam_role.ci["staging-deploy"].assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:main"]
    error_message = "Only main of acme/swift-api may assume the staging deploy role by default."
  }
  assert {
    condition     = alltrue([for role in aws_iam_role.ci : jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:aud"] == "sts.amazonaws.com"])
    error_message = "Every role requires the pipeline's audience."
  }
  assert {
    condition     = alltrue([for role in aws_iam_role.ci : jsondecode(role.assume_role_policy).Statement[0].Principal.Federated == aws_iam_openid_connect_provider.gitlab.arn && jsondecode(role.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity"])
    error_message = "Roles are assumed through GitLab's OIDC provider only."
  }
  assert {
    condition     = alltrue([for key, role in aws_iam_role.ci : alltrue([for s in flatten([for _, test in jsondecode(role.assume_role_policy).Statement[0].Condition : lookup(test, "gitlab.com:sub", [])]) : startswith(s, "project_path:acme/swift-api:ref_type:branch:ref:")])])
    error_message = "Every subject is pinned to the project path and to a branch."
  }
}

run "merge_requests_plan_staging_only" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.ci["staging-plan"].assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:*"]
    error_message = "The staging plan role serves merge requests from any branch of the project."
  }
  assert {
    condition     = jsondecode(aws_iam_role.ci["production-plan"].assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:main"] && !can(jsondecode(aws_iam_role.ci["production-plan"].assume_role_policy).Statement[0].Condition.StringLike)
    error_message = "Only protected branches plan production."
  }
}

run "ci_roles_are_named_outside_the_deployable_pattern" {
  command = apply

  assert {
    condition     = alltrue([for role in aws_iam_role.ci : startswith(role.name, "swiftapi-ci-") && !startswith(role.name, "swiftapi-staging-") && !startswith(role.name, "swiftapi-production-")])
    error_message = "CI roles are swiftapi-ci-*, never inside swiftapi-<env>-*."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.deploy["staging-deploy"].policy, "production") && !strcontains(aws_iam_role_policy.plan["staging-plan"].policy, "production")
    error_message = "The staging roles name no production resource."
  }
  assert {
    condition     = length(aws_iam_role_policy.guards) == 4
    error_message = "Every CI role carries the guards."
  }
}

run "extra_protected_branches_for_staging" {
  command = plan
  variables {
    environments = {
      staging    = { deploy_refs = ["main", "release"] }
      production = { deploy_refs = ["main"] }
    }
  }
  assert {
    condition     = length(jsondecode(aws_iam_role.ci["staging-deploy"].assume_role_policy).Statement[0].Condition.StringEquals["gitlab.com:sub"]) == 2
    error_message = "Each listed protected branch may deploy staging."
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
    environments = { production = { deploy_refs = ["*"] } }
  }
  expect_failures = [var.environments]
}

run "rejects_an_environment_named_like_the_ci_roles" {
  command = plan
  variables {
    environments = { ci = { deploy_refs = ["main"] } }
  }
  expect_failures = [var.environments]
}
