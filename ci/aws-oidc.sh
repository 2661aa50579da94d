#!/usr/bin/env bash
# shellcheck shell=bash
# Sourced first by each pipeline job that uses AWS: `source ci/aws-oidc.sh plan|deploy`. Exchanges
# the job's GitLab ID token (id_tokens: AWS_ID_TOKEN, whose aud is the one role the job needs) for
# a one-hour session of AWS_PLAN_ROLE_ARN or AWS_DEPLOY_ROLE_ARN (environment-scoped CI/CD
# variables), exports it for Terraform, boto3 and the AWS CLI, and removes the token from the
# environment whatever the outcome: nothing the job runs afterwards can use it for another role.
# The exchange is Python's standard library only (ci/aws_web_identity.py), never a cached tool.
aws_oidc_kind=${1:?usage: source ci/aws-oidc.sh plan|deploy}
aws_oidc_role_variable="AWS_$(echo "$aws_oidc_kind" | tr '[:lower:]' '[:upper:]')_ROLE_ARN"
if [ -z "${AWS_ID_TOKEN:-}" ]; then
  echo "aws-oidc: no AWS_ID_TOKEN; give the job id_tokens: AWS_ID_TOKEN with its role's audience (see .gitlab-ci.yml)" >&2
  return 1
fi
if [ -z "${!aws_oidc_role_variable:-}" ]; then
  unset AWS_ID_TOKEN
  echo "aws-oidc: set the CI/CD variable $aws_oidc_role_variable for this environment (terraform output role_arns in environments/bootstrap)" >&2
  return 1
fi
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
aws_oidc_credentials=$(printf '%s' "$AWS_ID_TOKEN" | python3 "$(dirname "${BASH_SOURCE[0]}")/aws_web_identity.py" \
  "${!aws_oidc_role_variable}" "gitlab-${CI_PROJECT_ID:-local}-${CI_JOB_ID:-0}") || aws_oidc_credentials=
unset AWS_ID_TOKEN
if [ -z "$aws_oidc_credentials" ]; then
  unset aws_oidc_kind aws_oidc_role_variable aws_oidc_credentials
  return 1
fi
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$aws_oidc_credentials"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
echo "aws-oidc: assumed ${!aws_oidc_role_variable}" >&2
unset aws_oidc_kind aws_oidc_role_variable aws_oidc_credentials
