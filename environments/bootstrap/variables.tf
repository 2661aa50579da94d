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
    Per environment, the GitLab refs whose pipelines may use its roles, each "branch:<name>" or
    "tag:<pattern>" (`*` matches anything; protect in GitLab whatever a ref names):
    deploy_refs, the refs that may deploy it: protected branches by exact name, or protected tags
    by a pattern with a fixed prefix; plan_refs, the refs that may plan it (default: deploy_refs;
    "branch:*" lets merge requests plan); hosted_zone_id and record_names, the Route 53 zone its
    custom domain's records go in and the names a deploy may write there (the domain's name:
    its A/AAAA alias and its certificate's validation record; none: no Route 53 writes).
  EOT
  type = map(object({
    deploy_refs    = list(string)
    plan_refs      = optional(list(string))
    hosted_zone_id = optional(string)
    record_names   = optional(list(string), [])
  }))
  default = {
    staging    = { deploy_refs = ["branch:main"], plan_refs = ["branch:*", "tag:release-*"] }
    production = { deploy_refs = ["tag:release-*"], plan_refs = ["branch:main", "tag:release-*"] }
  }
  validation {
    condition = alltrue([for _, e in var.environments : alltrue([for ref in concat(e.deploy_refs, e.plan_refs == null ? [] : e.plan_refs) :
    can(regex("^(branch|tag):[^:\\s]+$", ref))])])
    error_message = "Refs are \"branch:<name>\" or \"tag:<pattern>\", e.g. \"branch:main\" or \"tag:release-*\"."
  }
  validation {
    # A push makes a branch, so a deploy trusts branches by exact name only; tags by a pattern
    # with a prefix that GitLab protects (Settings > Repository > Protected tags).
    condition = alltrue([for _, e in var.environments : length(e.deploy_refs) > 0 && alltrue([for ref in e.deploy_refs :
    startswith(ref, "branch:") ? !strcontains(ref, "*") : can(regex("^tag:[^*]+", ref))])])
    error_message = "Each environment names at least one deploy ref: a protected branch without wildcards (\"branch:main\") or protected tags with a fixed prefix (\"tag:release-*\")."
  }
  validation {
    condition     = alltrue([for _, e in var.environments : e.hosted_zone_id == null ? length(e.record_names) == 0 : length(e.record_names) > 0])
    error_message = "With hosted_zone_id, name the records a deploy may write there (record_names: the environment's domain name, e.g. [\"api.example.com\"]); without it, none."
  }
  validation {
    # "ci" would put the CI roles (<name>-ci-*) inside a deployable name pattern.
    condition     = alltrue([for env, _ in var.environments : can(regex("^[a-z][a-z0-9]{1,15}$", env)) && env != "ci"])
    error_message = "Environment names are 2-16 lower-case letters and digits, and not \"ci\" (reserved for the CI roles' names)."
  }
}
