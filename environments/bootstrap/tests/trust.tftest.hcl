# The roles' trust policies, with a mock provider: who can become which role.
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
}

variables {
  project_path = "acme/swift-api"
}

run "deploy_roles_trust_only_this_projects_protected_branches" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.ci["production-deploy"].assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:main"]
    error_message = "Only main of acme/swift-api may assume the production deploy role."
  }
  assert {
    condition     = jsondecode(aws_iam_role.ci["staging-deploy"].assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:main"]
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
    condition     = alltrue([for key, role in aws_iam_role.ci : alltrue([for s in jsondecode(role.assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"] : startswith(s, "project_path:acme/swift-api:")])])
    error_message = "Every subject is pinned to the project path."
  }
}

run "plan_roles_are_read_only_and_deploy_roles_stay_in_their_environment" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.ci["staging-plan"].assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"] == ["project_path:acme/swift-api:ref_type:branch:ref:*"]
    error_message = "Plan roles serve merge requests from any branch of the project."
  }
  assert {
    condition     = aws_iam_role_policy_attachment.plan_read_only["staging-plan"].policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess" && !contains(keys(aws_iam_role_policy.deploy), "staging-plan")
    error_message = "Plan roles only read."
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.deploy["staging-deploy"].policy).Statement : alltrue([for r in flatten([s.Resource]) : r == "*" || strcontains(r, "staging") || strcontains(r, "bucket")])]) && !strcontains(aws_iam_role_policy.deploy["staging-deploy"].policy, "production")
    error_message = "The staging deploy role names only staging resources."
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
    condition     = length(jsondecode(aws_iam_role.ci["staging-deploy"].assume_role_policy).Statement[0].Condition.StringLike["gitlab.com:sub"]) == 2
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
