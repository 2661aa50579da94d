# Applied once per AWS account, by a person, before the pipeline can run: GitLab's OIDC provider,
# per environment a plan role (any branch of this project, read-only) and a deploy role (protected
# branches only), the Terraform state bucket and the artifacts buckets. No IAM user, no access keys.
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
  subject   = "project_path:${var.project_path}:ref_type"
  # Who may assume which role: plan roles from any branch of the project (merge-request plans),
  # deploy roles only from the protected branches allowed to deploy that environment.
  roles = merge(
    { for env, _ in var.environments : "${env}-plan" => { environment = env, kind = "plan", subjects = ["${local.subject}:branch:ref:*"] } },
    { for env, settings in var.environments : "${env}-deploy" => { environment = env, kind = "deploy", subjects = [for ref in settings.deploy_refs : "${local.subject}:branch:ref:${ref}"] } },
  )
  bucket_names = merge(
    { state = "${var.name}-terraform-state-${local.account}" },
    { for env, _ in var.environments : "artifacts-${env}" => "${var.name}-artifacts-${env}" },
  )
}

resource "aws_iam_openid_connect_provider" "gitlab" {
  url            = var.gitlab_url
  client_id_list = [var.audience]
}

resource "aws_iam_role" "ci" {
  for_each             = local.roles
  name                 = "${var.name}-${each.key}"
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.gitlab.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${local.issuer}:aud" = var.audience }
        # StringLike for the plan role's branch wildcard; deploy subjects have none.
        StringLike = { "${local.issuer}:sub" = each.value.subjects }
      }
    }]
  })
}

# Plan roles read everything (to refresh state) and may only take the state lock.
resource "aws_iam_role_policy_attachment" "plan_read_only" {
  for_each   = { for key, role in local.roles : key => role if role.kind == "plan" }
  role       = aws_iam_role.ci[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "state" {
  for_each = local.roles
  name     = "terraform-state"
  role     = aws_iam_role.ci[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StateOfThisEnvironment"
        Effect   = "Allow"
        Action   = each.value.kind == "deploy" ? ["s3:GetObject", "s3:PutObject"] : ["s3:GetObject"]
        Resource = "${aws_s3_bucket.this["state"].arn}/${var.name}/${each.value.environment}.tfstate"
      },
      {
        Sid      = "LockOfThisEnvironment"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = "${aws_s3_bucket.this["state"].arn}/${var.name}/${each.value.environment}.tfstate.tflock"
      },
      {
        Sid      = "ListState"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = aws_s3_bucket.this["state"].arn
      },
      {
        Sid      = "StateKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = aws_kms_key.buckets.arn
      },
    ]
  })
}

# Deploy roles manage only their environment's resources (names start with <name>-<env>-).
resource "aws_iam_role_policy" "deploy" {
  # checkov:skip=CKV_AWS_355:API Gateway, KMS key creation, ACM and Route 53 have no resource-level scoping for create calls; every other statement names its resources.
  # checkov:skip=CKV_AWS_290:Same as CKV_AWS_355: only the create calls that AWS cannot scope use "*".
  # checkov:skip=CKV_AWS_289:iam:*Role* actions are limited to role/<name>-<env>-*; no permissions management elsewhere.
  # checkov:skip=CKV_AWS_287:Read actions on "*" are the ones Terraform needs to refresh API Gateway, ACM and Route 53, which have no resource-level read scoping.
  # checkov:skip=CKV_AWS_286:iam:PassRole is limited to role/<name>-<env>-* roles, passed to Lambda only.
  # checkov:skip=CKV_AWS_288:Same as CKV_AWS_287.
  for_each = { for key, role in local.roles : key => role if role.kind == "deploy" }
  name     = "deploy-${each.value.environment}"
  role     = aws_iam_role.ci[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Functions"
        Effect   = "Allow"
        Action   = ["lambda:*"]
        Resource = "arn:${local.partition}:lambda:${var.region}:${local.account}:function:${var.name}-${each.value.environment}-*"
      },
      {
        Sid      = "Tables"
        Effect   = "Allow"
        Action   = ["dynamodb:*"]
        Resource = "arn:${local.partition}:dynamodb:${var.region}:${local.account}:table/${var.name}-${each.value.environment}-*"
      },
      {
        Sid    = "LogGroups"
        Effect = "Allow"
        Action = ["logs:*"]
        Resource = [
          "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/lambda/${var.name}-${each.value.environment}-*",
          "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/apigateway/${var.name}-${each.value.environment}-*",
        ]
      },
      {
        Sid      = "FunctionRoles"
        Effect   = "Allow"
        Action   = ["iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole"]
        Resource = "arn:${local.partition}:iam::${local.account}:role/${var.name}-${each.value.environment}-*"
      },
      {
        Sid      = "Artifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
        Resource = [aws_s3_bucket.this["artifacts-${each.value.environment}"].arn, "${aws_s3_bucket.this["artifacts-${each.value.environment}"].arn}/*"]
      },
      {
        Sid      = "UnscopableServices"
        Effect   = "Allow"
        Action   = ["apigateway:*", "kms:CreateKey", "kms:CreateAlias", "kms:DeleteAlias", "kms:List*", "kms:Describe*", "kms:Get*", "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "acm:*", "route53:*", "logs:DescribeLogGroups", "sts:GetCallerIdentity"]
        Resource = "*"
      },
    ]
  })
}

resource "aws_kms_key" "buckets" {
  description         = "${var.name}: Terraform state and artifacts"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersTheKeyThroughIAM"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

# The state bucket and one artifacts bucket per environment, configured alike.
resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18:CloudTrail data events record access; a log bucket per bucket adds nothing.
  # checkov:skip=CKV_AWS_144:State is versioned and packages rebuild byte-for-byte; cross-region replication is an account-level decision.
  # checkov:skip=CKV2_AWS_62:Nothing consumes these buckets' events.
  for_each = local.bucket_names
  bucket   = each.value
}

resource "aws_s3_bucket_versioning" "all" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "all" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.buckets.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "all" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [each.value.arn, "${each.value.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

variable "name" {
  description = "Project name (the same as in the environments' terraform.tfvars.json)."
  type        = string
  default     = "swiftapi"
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "gitlab_url" {
  description = "The GitLab instance that issues the ID tokens."
  type        = string
  default     = "https://gitlab.com"
  validation {
    condition     = startswith(var.gitlab_url, "https://") && !endswith(var.gitlab_url, "/")
    error_message = "gitlab_url must be an https:// URL without a trailing slash, e.g. https://gitlab.com."
  }
}

variable "audience" {
  description = "The aud claim the pipeline's id_tokens carry (.gitlab-ci.yml: id_tokens.AWS_ID_TOKEN.aud)."
  type        = string
  default     = "sts.amazonaws.com"
}

variable "project_path" {
  description = "The GitLab project allowed to assume the roles, e.g. \"acme/swift-api\"."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$", var.project_path)) && !strcontains(var.project_path, "*")
    error_message = "project_path must be the project's full path, e.g. \"acme/swift-api\" (no wildcards)."
  }
}

variable "environments" {
  description = "Per environment, the protected branches whose pipelines may deploy it."
  type        = map(object({ deploy_refs = list(string) }))
  default = {
    staging    = { deploy_refs = ["main"] }
    production = { deploy_refs = ["main"] }
  }
  validation {
    condition     = alltrue([for _, e in var.environments : length(e.deploy_refs) > 0 && alltrue([for ref in e.deploy_refs : !strcontains(ref, "*")])])
    error_message = "Each environment names at least one protected branch, without wildcards."
  }
}

output "oidc_provider_arn" {
  value = aws_iam_openid_connect_provider.gitlab.arn
}

output "role_arns" {
  description = "Set these as environment-scoped CI/CD variables: AWS_PLAN_ROLE_ARN and AWS_DEPLOY_ROLE_ARN."
  value       = { for key, role in aws_iam_role.ci : key => role.arn }
}

output "state_bucket" {
  description = "Set as the CI/CD variable TF_STATE_BUCKET."
  value       = aws_s3_bucket.this["state"].bucket
}

output "artifacts_buckets" {
  value = { for env, _ in var.environments : env => aws_s3_bucket.this["artifacts-${env}"].bucket }
}
