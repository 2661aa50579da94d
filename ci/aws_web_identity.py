#!/usr/bin/env python3
"""Exchanges a GitLab ID token for a one-hour AWS role session (STS AssumeRoleWithWebIdentity) with
Python's standard library only, so no installed tool, and nothing a cache could have planted, ever
holds the token. ci/aws-oidc.sh calls it: the token on stdin, the credentials on stdout as
"ACCESS_KEY_ID SECRET_ACCESS_KEY SESSION_TOKEN".

    python3 ci/aws_web_identity.py ROLE_ARN SESSION_NAME < token

The endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else STS in AWS_REGION or
AWS_DEFAULT_REGION, else STS's global endpoint; https only (plain http only to this machine, for
tests). The call is unsigned: the token is the credential
(STS API Reference, AssumeRoleWithWebIdentity). A refusal is one line on stderr, exit status 1.
"""
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree

NAMESPACE = "{https://sts.amazonaws.com/doc/2011-06-15/}"


def endpoint():
    explicit = os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
    if explicit:
        # The token is a credential: over TLS only, but to a stand-in on this machine (tests).
        parsed = urllib.parse.urlsplit(explicit)
        if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost", "::1")):
            raise ValueError(f"the STS endpoint {explicit} is not https: the token would cross the network in the clear")
        return explicit
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return f"https://sts.{region}.amazonaws.com/" if region else "https://sts.amazonaws.com/"


def exchange(role_arn, session_name, token, url):
    form = urllib.parse.urlencode({
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role_arn,
        "RoleSessionName": session_name, "WebIdentityToken": token, "DurationSeconds": "3600",
    }).encode()
    request = urllib.request.Request(url, data=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(refusal(error.read()) or f"HTTP {error.code}") from None
    credentials = ElementTree.fromstring(body).find(f".//{NAMESPACE}Credentials")
    if credentials is None:
        raise RuntimeError("the answer holds no Credentials")
    return [credentials.findtext(f"{NAMESPACE}{field}") for field in ("AccessKeyId", "SecretAccessKey", "SessionToken")]


def refusal(body):
    try:
        error = ElementTree.fromstring(body).find(f".//{NAMESPACE}Error")
    except ElementTree.ParseError:
        return None
    return None if error is None else f"{error.findtext(f'{NAMESPACE}Code')}: {error.findtext(f'{NAMESPACE}Message')}"


def main():
    if len(sys.argv) != 3:
        print("usage: python3 ci/aws_web_identity.py ROLE_ARN SESSION_NAME < token", file=sys.stderr)
        return 2
    token = sys.stdin.read().strip()
    try:
        url = endpoint()
    except ValueError as error:
        print(f"aws-oidc: {error}; set AWS_ENDPOINT_URL_STS to an https URL or leave it unset", file=sys.stderr)
        return 1
    try:
        print(" ".join(exchange(sys.argv[1], sys.argv[2], token, url)))
    except (RuntimeError, OSError, ElementTree.ParseError) as error:
        print(f"aws-oidc: AssumeRoleWithWebIdentity for {sys.argv[1]} was refused ({error}); check the role's trust: "
              f"its audience (the job's id_tokens aud), project path and ref", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
