"""ci/aws_web_identity.py sends the job's ID token, a credential, only over TLS (or to a stand-in on
this machine): the endpoint check, and the one line a refused endpoint gets. The exchange itself
runs against a trust-enforcing STS stand-in in tests/integration/test_pipeline_on_moto.py."""
import os
import subprocess
import sys
import unittest

from ci import aws_web_identity

SCRIPT = aws_web_identity.__file__
ROLE = "arn:aws:iam::123456789012:role/swiftapi-ci-staging-plan"


def clean_env(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(overrides)
    return env


class Endpoint(unittest.TestCase):
    def endpoint(self, **variables):
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(clean_env(**variables))
            return aws_web_identity.endpoint()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def test_regional_and_global_sts(self):
        self.assertEqual(self.endpoint(AWS_DEFAULT_REGION="eu-west-1"), "https://sts.eu-west-1.amazonaws.com/")
        self.assertEqual(self.endpoint(AWS_REGION="us-east-2", AWS_DEFAULT_REGION="eu-west-1"), "https://sts.us-east-2.amazonaws.com/")
        self.assertEqual(self.endpoint(), "https://sts.amazonaws.com/")

    def test_explicit_endpoints_are_https_or_this_machine(self):
        self.assertEqual(self.endpoint(AWS_ENDPOINT_URL_STS="https://sts.example.com"), "https://sts.example.com")
        self.assertEqual(self.endpoint(AWS_ENDPOINT_URL="http://127.0.0.1:5000"), "http://127.0.0.1:5000")
        self.assertEqual(self.endpoint(AWS_ENDPOINT_URL_STS="http://localhost:8000/"), "http://localhost:8000/")
        for url in ("http://sts.example.com", "http://127.0.0.1.example.com", "ftp://127.0.0.1/"):
            with self.assertRaises(ValueError, msg=url):
                self.endpoint(AWS_ENDPOINT_URL_STS=url)

    def test_a_plain_http_endpoint_is_refused_in_one_line_without_the_token(self):
        token = "eyJhbGciOiJSUzI1NiJ9.secret-claims.signature"
        result = subprocess.run([sys.executable, SCRIPT, ROLE, "job-1"], input=token, capture_output=True, text=True,
                                env=clean_env(AWS_ENDPOINT_URL_STS="http://sts.example.com"), timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertIn("aws-oidc: the STS endpoint http://sts.example.com is not https", result.stderr)
        self.assertNotIn("secret-claims", result.stderr)


if __name__ == "__main__":
    unittest.main()
