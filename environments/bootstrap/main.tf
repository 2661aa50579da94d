# Applied once per AWS account, by a person, before the pipeline can run: GitLab's OIDC provider,
# per environment a plan role and a deploy role, the permissions boundary every function role must
# carry, the Terraform state bucket and the artifacts buckets. No IAM user, no access keys.
#
# The CI roles are named <name>-ci-<env>-<kind>: outside <name>-<env>-*, the only names a deploy
# role may create roles under, and denied to every CI role explicitly (policies.tf).
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 6.0"
    }
  }
  # Its own state stays local the first time; migrate it into the state bucket with
  # `terraform init -migrate-state -backend-config=...` once that exists.
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { project = var.name, managed-by = "terraform", stack = "ci-bootstrap" }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  issuer    = trimprefix(var.gitlab_url, "https://")
  # GitLab's default `sub` already carries every component its sub-claim settings allow
  # (project_path, ref_type, ref); the README says what the rest of the trust relies on.
  # A ref is "branch:<name>" or "tag:<pattern>" (variables.tf).
  subject = { for ref in distinct(flatten([for _, e in var.environments : concat(e.deploy_refs, coalesce(e.plan_refs, e.deploy_refs))])) :
    ref => "project_path:${var.project_path}:ref_type:${replace(ref, "/^(branch|tag):/", "$1:ref:")}"
  }
  # Per environment a plan role (configuration reads) and a deploy role. Each role accepts only its
  # own audience, its name, so a job's ID token is good for the one role the job declares.
  roles = merge(
    { for env, settings in var.environments : "${env}-plan" => {
      environment = env, kind = "plan"
      subjects    = [for ref in coalesce(settings.plan_refs, settings.deploy_refs) : local.subject[ref]]
    } },
    { for env, settings in var.environments : "${env}-deploy" => {
      environment = env, kind = "deploy"
      subjects    = [for ref in settings.deploy_refs : local.subject[ref]]
    } },
  )
  audience = { for key, _ in local.roles : key => "${var.name}-ci-${key}" }
  bucket_names = merge(
    { state = "${var.name}-terraform-state-${local.account}" },
    { for env, _ in var.environments : "artifacts-${env}" => "${var.name}-artifacts-${env}" },
  )
}

resource "aws_iam_openid_connect_provider" "gitlab" {
  url            = var.gitlab_url
  client_id_list = sort(values(local.audience))
}

resource "aws_iam_role" "ci" {
  for_each             = local.roles
  name                 = "${var.name}-ci-${each.key}"
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.gitlab.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      # Exact subjects where no pattern is asked for (StringLike only for patterns such as
      # "branch:*" or "tag:release-*").
      Condition = merge(
        { StringEquals = merge({ "${local.issuer}:aud" = local.audience[each.key] },
        anytrue([for s in each.value.subjects : strcontains(s, "*")]) ? {} : { "${local.issuer}:sub" = each.value.subjects }) },
        anytrue([for s in each.value.subjects : strcontains(s, "*")]) ? { StringLike = { "${local.issuer}:sub" = each.value.subjects } } : {},
      )
    }]
  })
  tags = { environment = each.value.environment }
}
