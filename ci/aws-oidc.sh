#!/usr/bin/env bash
# shellcheck shell=bash
# Sourced first by each pipeline job that uses AWS: `source ci/aws-oidc.sh`. Exchanges the job's
# GitLab ID token (id_tokens: AWS_ID_TOKEN, whose aud is the one role the job needs) for a one-hour
# session of the role CI_ROLE_ARN names (the job's variables map it from the CI/CD variable
# <ENV>_<KIND>_ROLE_ARN), exports it for Terraform, boto3 and the AWS CLI, and removes the token
# from the environment whatever the outcome: nothing the job runs afterwards can use it for another
# role. The exchange is Python's standard library only (ci/aws_web_identity.py), never a cached tool.
if [ -z "${AWS_ID_TOKEN:-}" ]; then
  echo "aws-oidc: no AWS_ID_TOKEN; give the job id_tokens: AWS_ID_TOKEN with its role's audience (see .gitlab-ci.yml)" >&2
  return 1
fi
# Empty, or the unexpanded "$NAME" of a CI/CD variable nobody set.
if [[ "${CI_ROLE_ARN:-}" != arn:* ]]; then
  unset AWS_ID_TOKEN
  echo "aws-oidc: the job's CI_ROLE_ARN (${CI_ROLE_ARN:-empty}) is not a role ARN: set the CI/CD variable it names (<ENV>_<KIND>_ROLE_ARN, from terraform output role_arns in environments/bootstrap)" >&2
  return 1
fi
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
aws_oidc_credentials=$(printf '%s' "$AWS_ID_TOKEN" | python3 "$(dirname "${BASH_SOURCE[0]}")/aws_web_identity.py" \
  "$CI_ROLE_ARN" "gitlab-${CI_PROJECT_ID:-local}-${CI_JOB_ID:-0}") || aws_oidc_credentials=
unset AWS_ID_TOKEN
if [ -z "$aws_oidc_credentials" ]; then
  unset aws_oidc_credentials
  return 1
fi
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$aws_oidc_credentials"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
echo "aws-oidc: assumed $CI_ROLE_ARN" >&2
unset aws_oidc_credentials
