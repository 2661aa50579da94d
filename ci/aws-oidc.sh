#!/usr/bin/env bash
# shellcheck shell=bash
# Sourced by pipeline jobs: `source ci/aws-oidc.sh plan|deploy`. Exchanges the job's GitLab ID
# token (id_tokens: AWS_ID_TOKEN) for a one-hour session of AWS_PLAN_ROLE_ARN or AWS_DEPLOY_ROLE_ARN
# (environment-scoped CI/CD variables) and exports it for Terraform, boto3 and the AWS CLI.
aws_oidc_kind=${1:?usage: source ci/aws-oidc.sh plan|deploy}
aws_oidc_role_variable="AWS_$(echo "$aws_oidc_kind" | tr '[:lower:]' '[:upper:]')_ROLE_ARN"
if [ -z "${AWS_ID_TOKEN:-}" ]; then
  echo "aws-oidc: no AWS_ID_TOKEN; give the job id_tokens: AWS_ID_TOKEN (see .gitlab-ci.yml)" >&2
  return 1
fi
if [ -z "${!aws_oidc_role_variable:-}" ]; then
  echo "aws-oidc: set the CI/CD variable $aws_oidc_role_variable for this environment (terraform output role_arns in environments/bootstrap)" >&2
  return 1
fi
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
aws_oidc_credentials=$(.venv/bin/aws sts assume-role-with-web-identity \
  --role-arn "${!aws_oidc_role_variable}" \
  --role-session-name "gitlab-${CI_PROJECT_ID:-local}-${CI_JOB_ID:-0}" \
  --web-identity-token "$AWS_ID_TOKEN" --duration-seconds 3600 \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text) || {
  echo "aws-oidc: AssumeRoleWithWebIdentity for ${!aws_oidc_role_variable} was refused (check the role's trust: project path, branch, audience)" >&2
  return 1
}
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$aws_oidc_credentials"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
echo "aws-oidc: assumed ${!aws_oidc_role_variable}" >&2
unset aws_oidc_kind aws_oidc_role_variable aws_oidc_credentials
