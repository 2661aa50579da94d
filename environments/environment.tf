# The Terraform root of one environment, shared by environments/staging and environments/production
# (each links it as main.tf): the infrastructure module with every service under services/.
# The environments differ only in their terraform.tfvars.json.
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 6.0"
    }
  }
  # Partial configuration: bucket, key and region come from -backend-config (ci/deploy.py).
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { project = var.name, environment = var.environment, managed-by = "terraform" }
  }
}

locals {
  # Every services/<name>/service.json: the same declarations the router and the local gateway read.
  services = {
    for file in fileset("${path.root}/../../services", "*/service.json") :
    dirname(file) => jsondecode(file("${path.root}/../../services/${file}"))
  }

  # What each service runs: the pointer `make deploy` writes after each deploy
  # (releases/<environment>/<service>.json in the artifacts bucket), unless var.releases proposes
  # another package (a deploy's plan, a rollback).
  pointer_keys = toset(data.aws_s3_objects.releases.keys)
  # What is deployed: the services, and on a REST API the authorizer function.
  deployables = concat(keys(local.services), var.api_type == "rest" ? ["authorizer"] : [])
  deployed = {
    for name in local.deployables : name => jsondecode(data.aws_s3_object.release[name].body)
    if contains(local.pointer_keys, "releases/${var.environment}/${name}.json")
  }
  releases = merge(
    { for name, pointer in local.deployed : name => { s3_bucket = var.artifacts_bucket, s3_key = pointer.s3_key, code_sha256 = pointer.code_sha256 } },
    { for name, release in var.releases : name => merge(release, { s3_bucket = var.artifacts_bucket }) },
  )
}

# The boundary environments/bootstrap creates for this environment's function roles.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_s3_objects" "releases" {
  bucket = var.artifacts_bucket
  prefix = "releases/${var.environment}/"
}

data "aws_s3_object" "release" {
  for_each = { for name in local.deployables : name => "releases/${var.environment}/${name}.json" if contains(local.pointer_keys, "releases/${var.environment}/${name}.json") }
  bucket   = var.artifacts_bucket
  key      = each.value
}

module "infrastructure" {
  source = "../../modules/infrastructure"

  name                 = var.name
  environment          = var.environment
  services             = local.services
  releases             = local.releases
  permissions_boundary = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/${var.name}-${var.environment}-function-boundary"
  api_type             = var.api_type
  rest                 = var.rest
  jwt_authorizer       = var.jwt_authorizer
  cors                 = var.cors
  throttling           = var.throttling
  log_retention_days   = var.log_retention_days
  access_log           = var.access_log
  deletion_protection  = var.deletion_protection
  reserved_concurrency = var.reserved_concurrency
  domain               = var.domain
  network              = var.network
  alarm_subscriptions  = var.alarm_subscriptions
}

variable "name" {
  description = "Project name (resource name prefix)."
  type        = string
}

variable "environment" {
  description = "This environment's name (staging or production)."
  type        = string
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "artifacts_bucket" {
  description = "S3 bucket holding the content-addressed packages and the release pointers (created by environments/bootstrap)."
  type        = string
}

variable "releases" {
  description = "Packages to run instead of the deployed ones, by service: { s3_key, code_sha256 } (written by ci/deploy.py)."
  type        = map(object({ s3_key = string, code_sha256 = string }))
  default     = {}
}


variable "api_type" {
  description = "http (default) or rest: see modules/infrastructure (api_type) and the README's table."
  type        = string
  default     = "http"
}

variable "rest" {
  description = "REST API settings (WAF, resource policy, authorizer cache TTL, usage plans): see modules/infrastructure (rest)."
  type        = any
  default     = {}
}

variable "jwt_authorizer" {
  type    = object({ issuer = string, audience = list(string), jwks_url = optional(string) })
  default = null
}

variable "cors" {
  type    = any
  default = null
}

variable "throttling" {
  type    = object({ burst_limit = number, rate_limit = number })
  default = null
}

variable "log_retention_days" {
  type    = number
  default = null
}

variable "access_log" {
  type    = any
  default = null
}

variable "deletion_protection" {
  type    = bool
  default = null
}

variable "reserved_concurrency" {
  type    = number
  default = null
}

variable "network" {
  description = "none (default), existing or create: see modules/infrastructure (network)."
  type        = any
  default     = null
}

variable "alarm_subscriptions" {
  description = "Who the environment's alarms notify: see modules/infrastructure (alarm_subscriptions)."
  type        = list(object({ protocol = string, endpoint = string }))
  default     = []
}

variable "domain" {
  type    = object({ name = string, zone_id = string, certificate_arn = optional(string) })
  default = null
}

output "api_endpoint" {
  value = module.infrastructure.api_endpoint
}

output "api_type" {
  value = module.infrastructure.api_type
}

output "domain" {
  value = module.infrastructure.domain
}

output "function_names" {
  value = module.infrastructure.function_names
}

output "table_names" {
  value = module.infrastructure.table_names
}

output "log_group_names" {
  value = module.infrastructure.log_group_names
}

output "secret_arns" {
  value = module.infrastructure.secret_arns
}

output "usage_plan_keys" {
  value = module.infrastructure.usage_plan_keys
}

output "monitoring" {
  value = module.infrastructure.monitoring
}

output "buffered_streamed_routes" {
  value = module.infrastructure.buffered_streamed_routes
}
