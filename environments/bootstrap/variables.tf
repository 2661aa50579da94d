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
  description = <<-EOT
    Per environment: deploy_refs, the protected branches whose pipelines may deploy it; plan_refs,
    the branches that may plan it (default: deploy_refs; ["*"] lets merge requests plan);
    hosted_zone_id, the Route 53 zone its custom domain's records go in (none: no Route 53 writes).
  EOT
  type = map(object({
    deploy_refs    = list(string)
    plan_refs      = optional(list(string))
    hosted_zone_id = optional(string)
  }))
  default = {
    staging    = { deploy_refs = ["main"], plan_refs = ["*"] }
    production = { deploy_refs = ["main"] }
  }
  validation {
    condition     = alltrue([for _, e in var.environments : length(e.deploy_refs) > 0 && alltrue([for ref in e.deploy_refs : !strcontains(ref, "*")])])
    error_message = "Each environment names at least one protected branch, without wildcards."
  }
  validation {
    # "ci" would put the CI roles (<name>-ci-*) inside a deployable name pattern.
    condition     = alltrue([for env, _ in var.environments : can(regex("^[a-z][a-z0-9]{1,15}$", env)) && env != "ci"])
    error_message = "Environment names are 2-16 lower-case letters and digits, and not \"ci\" (reserved for the CI roles' names)."
  }
}
