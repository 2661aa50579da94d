"""What the integration tests share: a moto_server on 127.0.0.1 and a copy of the Terraform roots
pointed at it. The copy carries the only test-specific configuration (override files), so nothing
test-only is committed into the environments."""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ci import declarations
from ci import servers
from ci.iam_check import trust_accepts
from ci.servers import free_port  # noqa: F401  (the integration tests' one port helper)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ENDPOINT_SERVICES = ["acm", "apigateway", "apigatewayv2", "dynamodb", "iam", "kms", "lambda", "logs", "route53", "s3", "secretsmanager", "sts"]


def tfvars(environment):
    with open(os.path.join(ROOT, "environments", environment, "terraform.tfvars.json")) as f:
        return json.load(f)


class MotoStack:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="moto-stack-")
        try:
            self.log = os.path.join(self.work, "moto.log")
            self.server = servers.moto(log=self.log)
        except BaseException:
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        self.endpoint = self.server.endpoint
        self.tree = os.path.join(self.work, "tree")
        self.copy_tree()

    def stop(self):
        self.server.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def calls(self, last=80):
        """moto's log of the last calls that could change something or failed (reads that succeeded
        left out): what a failing Terraform run met, since Terraform's message names only its final
        error, and a connection the client reset shows up there. The whole log
        is kept in a temporary file, named at the end."""
        with open(self.log, errors="replace") as f:
            log = f.read()
        with tempfile.NamedTemporaryFile("w", prefix="moto-", suffix=".log", delete=False) as kept:
            kept.write(log)
        lines = [line for line in log.splitlines(keepends=True) if not re.search(r'"(GET|HEAD) [^"]*" [23]\d\d ', line)]
        return "".join(lines[-last:]) + f"(moto's whole log: {kept.name})\n"

    def client(self, name):
        import boto3
        return boto3.client(name, endpoint_url=self.endpoint, region_name="eu-west-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def copy_tree(self):
        ignore = shutil.ignore_patterns(".terraform", "*.tfstate*")
        for part in ("modules", "environments"):
            shutil.copytree(os.path.join(ROOT, part), os.path.join(self.tree, part), symlinks=True, ignore=ignore)
        for service in declarations.names():
            os.makedirs(os.path.join(self.tree, "services", service))
            shutil.copy(os.path.join(ROOT, "services", service, "service.json"), os.path.join(self.tree, "services", service))
        # moto 5.2.1 does not keep a function's kms_key_arn or logging_config (AWS does), so every
        # plan against it would show them as changes.
        self.write("modules/infrastructure/modules/service/moto_override.tf",
                   'resource "aws_lambda_function" "this" {\n  lifecycle {\n    ignore_changes = [kms_key_arn, logging_config]\n  }\n}\n')

    def point_root_at_moto(self, root, static_credentials, local_backend):
        """Override file for a Terraform root: provider endpoints at moto, optionally fixed test
        credentials (else the environment's, e.g. an assumed role) and a local backend."""
        endpoints = "\n".join(f'    {name} = "{self.endpoint}"' for name in ENDPOINT_SERVICES)
        credentials = '  access_key = "testing"\n  secret_key = "testing"\n' if static_credentials else ""
        backend = 'terraform {\n  backend "local" {}\n}\n' if local_backend else ""
        self.write(f"{root}/moto_override.tf", f"""{backend}provider "aws" {{
{credentials}  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}
""")

    def s3_backend_config(self, bucket, name):
        """A backend configuration for the environments' S3 backend, on moto."""
        path = os.path.join(self.work, f"{name}.s3.backend.hcl")
        with open(path, "w") as f:
            f.write(f'bucket = "{bucket}"\nkey = "swiftapi/{name}.tfstate"\nregion = "eu-west-1"\n'
                    f'endpoints = {{ s3 = "{self.endpoint}" }}\nuse_path_style = true\n'
                    'skip_credentials_validation = true\nskip_requesting_account_id = true\n'
                    'skip_metadata_api_check = true\n')
        return path

    def local_backend_config(self, name):
        path = os.path.join(self.work, f"{name}.backend.hcl")
        with open(path, "w") as f:
            f.write(f'path = "{os.path.join(self.work, name + ".tfstate")}"\n')
        return path

    def write(self, relative, text):
        with open(os.path.join(self.tree, relative), "w") as f:
            f.write(text)

    def terraform(self, root, *args, env=None):
        run_env = dict(os.environ, **SERIAL_DESTROY, **(env or {}))
        if not os.path.isfile(run_env.get("TF_CLI_CONFIG_FILE", "/")):
            run_env["TF_CLI_CONFIG_FILE"] = "/dev/null"
        plugins = os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins")
        if args[0] == "init":
            args = (*args, "-lockfile=readonly", *([f"-plugin-dir={plugins}"] if os.path.isdir(plugins) else []))
        done = subprocess.run(["terraform", f"-chdir={os.path.join(self.tree, root)}", *args, "-no-color"],
                              env=run_env, capture_output=True, text=True)
        if done.returncode != 0:
            # What Terraform said is the failure: a bare exit status explains nothing.
            raise RuntimeError(f"terraform {' '.join(args[:2])} in {root} failed ({done.returncode}):\n"
                               f"{done.stderr[-4000:]}{done.stdout[-2000:]}\nWhat moto met last:\n{self.calls(last=30)}")
        return done.stdout


# Destroys run one resource at a time against moto. Observed on a loaded machine, with Lambda
# policy edits already serialised (ci/moto_server.py): parallel RemovePermission calls on one
# function left a statement that GetPolicy kept returning, and Terraform waited five minutes
# and failed. AWS is not affected; here it costs seconds.
SERIAL_DESTROY = {"TF_CLI_ARGS_destroy": "-parallelism=1"}


def web_identity_token(**claims):
    """A token of the shape GitLab's ID tokens have (the stand-in below reads its claims; AWS also
    verifies the signature against GitLab's published keys)."""
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'RS256', 'kid': 'test'})}.{part(claims)}.c2ln"


class TrustEnforcingSTS(ThreadingHTTPServer):
    """STS on 127.0.0.1 in front of moto, doing what moto does not: AssumeRoleWithWebIdentity is
    refused (403 AccessDenied, as STS answers) unless the role's trust policy, read from moto's IAM
    and evaluated by ci/iam_check.py, accepts the token's aud and sub through the OIDC provider.
    Every other call, and the accepted exchanges, go to moto. `exchanges` records each attempt
    as (role name, aud, sub, accepted)."""

    daemon_threads = True

    def __init__(self, stack, issuer="gitlab.com"):
        super().__init__(("127.0.0.1", 0), _TrustEnforcingHandler)
        self.stack, self.issuer, self.exchanges = stack, issuer, []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self):
        self.shutdown()
        self.server_close()

    def accepts(self, role_arn, token):
        iam = self.stack.client("iam")
        trust = iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        provider = f"arn:aws:iam::{role_arn.split(':')[4]}:oidc-provider/{self.issuer}"
        accepted = trust_accepts(trust, provider, {f"{self.issuer}:aud": claims.get("aud"), f"{self.issuer}:sub": claims.get("sub")})
        self.exchanges.append((role_arn.rsplit("/", 1)[1], claims.get("aud"), claims.get("sub"), accepted))
        return accepted


class _TrustEnforcingHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("Action") == "AssumeRoleWithWebIdentity" and not self.server.accepts(form["RoleArn"], form["WebIdentityToken"]):
            self.answer(403, b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                             b'<Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>'
                             b'</Error></ErrorResponse>', "text/xml")
            return
        request = urllib.request.Request(self.server.stack.endpoint + self.path, data=body, method="POST",
                                         headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                self.answer(response.status, response.read(), response.headers.get("Content-Type", "text/xml"))
        except urllib.error.HTTPError as error:
            self.answer(error.code, error.read(), error.headers.get("Content-Type", "text/xml"))

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
