output "oidc_provider_arn" {
  value = aws_iam_openid_connect_provider.gitlab.arn
}

output "role_arns" {
  description = "Set each as the CI/CD variable <ENV>_<KIND>_ROLE_ARN (e.g. staging-plan as STAGING_PLAN_ROLE_ARN)."
  value       = { for key, role in aws_iam_role.ci : key => role.arn }
}

output "function_boundary_arns" {
  description = "The permissions boundary every function role of an environment carries."
  value       = { for env, policy in aws_iam_policy.function_boundary : env => policy.arn }
}

output "state_bucket" {
  description = "Set as the CI/CD variable TF_STATE_BUCKET."
  value       = aws_s3_bucket.this["state"].bucket
}

output "artifacts_buckets" {
  value = { for env, _ in var.environments : env => aws_s3_bucket.this["artifacts-${env}"].bucket }
}
