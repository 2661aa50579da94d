"""What the integration tests share: a moto_server on 127.0.0.1 and a copy of the Terraform roots
pointed at it. The copy carries the only test-specific configuration (override files), so nothing
test-only is committed into the environments."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "ci"))
import servers  # noqa: E402
from servers import free_port  # noqa: E402,F401  (the integration tests' one port helper)
ENDPOINT_SERVICES = ["acm", "apigateway", "apigatewayv2", "dynamodb", "iam", "kms", "lambda", "logs", "route53", "s3", "secretsmanager", "sts"]


def tfvars(environment):
    with open(os.path.join(ROOT, "environments", environment, "terraform.tfvars.json")) as f:
        return json.load(f)


class MotoStack:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="moto-stack-")
        try:
            self.server = servers.moto()
        except BaseException:
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        self.endpoint = self.server.endpoint
        self.tree = os.path.join(self.work, "tree")
        self.copy_tree()

    def stop(self):
        self.server.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def client(self, name):
        import boto3
        return boto3.client(name, endpoint_url=self.endpoint, region_name="eu-west-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def copy_tree(self):
        ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")
        for part in ("modules", "environments"):
            shutil.copytree(os.path.join(ROOT, part), os.path.join(self.tree, part), symlinks=True, ignore=ignore)
        for declaration in os.listdir(os.path.join(ROOT, "services")):
            source = os.path.join(ROOT, "services", declaration, "service.json")
            if os.path.isfile(source):
                os.makedirs(os.path.join(self.tree, "services", declaration))
                shutil.copy(source, os.path.join(self.tree, "services", declaration))
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
        run_env = dict(os.environ, **(env or {}))
        if not os.path.isfile(run_env.get("TF_CLI_CONFIG_FILE", "/")):
            run_env["TF_CLI_CONFIG_FILE"] = "/dev/null"
        plugins = os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins")
        if args[0] == "init" and os.path.isdir(plugins):
            args = (*args, f"-plugin-dir={plugins}")
        return subprocess.run(["terraform", f"-chdir={os.path.join(self.tree, root)}", *args, "-no-color"],
                              env=run_env, capture_output=True, text=True, check=True).stdout
