"""ci/install-terraform.sh installs only an archive whose SHA-256 the repository records
(ci/terraform.sha256), from a mirror on 127.0.0.1 here, into a scratch directory."""
import functools
import hashlib
import io
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import unittest
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@unittest.skipUnless(ARCH, "install-terraform supports x86_64 and arm64 only")
class InstallTerraform(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="install-terraform-")
        self.addCleanup(shutil.rmtree, self.work)
        self.mirror = os.path.join(self.work, "mirror")
        self.archive = f"terraform_1.11.4_linux_{ARCH}.zip"
        os.makedirs(os.path.join(self.mirror, "1.11.4"))
        # Not HashiCorp's archive: its SHA-256 is not the recorded one.
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w") as z:
            z.writestr(zipfile.ZipInfo("terraform"), "#!/bin/sh\necho 'Terraform v1.11.4 (from the test mirror)'\n")
        self.bytes = data.getvalue()
        with open(os.path.join(self.mirror, "1.11.4", self.archive), "wb") as f:
            f.write(self.bytes)
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=self.mirror))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.target = os.path.join(self.work, "bin")
        os.makedirs(self.target)

    def install(self, script=None, **env):
        # A PATH without any Terraform, so the script installs.
        environment = dict(PATH="/usr/bin:/bin", HOME=self.work, TERRAFORM_RELEASES_URL=self.url, TERRAFORM_INSTALL_DIR=self.target, **env)
        return subprocess.run(["bash", script or os.path.join(ROOT, "ci", "install-terraform.sh")], env=environment,
                              capture_output=True, text=True)

    def test_an_archive_that_does_not_match_the_recorded_sha256_is_refused(self):
        result = self.install()
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"install-terraform: {self.archive} does not match its SHA-256 in ci/terraform.sha256", result.stderr)
        self.assertEqual(os.listdir(self.target), [], "nothing installed")

    def test_a_version_without_a_recorded_sha256_is_refused_in_one_line(self):
        result = self.install(TERRAFORM_VERSION="1.99.0")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip().count("\n"), 0, result.stderr)
        self.assertIn(f"no SHA-256 recorded for terraform_1.99.0_linux_{ARCH}.zip in ci/terraform.sha256", result.stderr)

    def test_the_recorded_archive_installs(self):
        # The same script in a copy of ci/ whose record names the mirror's archive.
        copy = os.path.join(self.work, "tree", "ci")
        os.makedirs(copy)
        shutil.copy(os.path.join(ROOT, "ci", "install-terraform.sh"), copy)
        with open(os.path.join(copy, "terraform.sha256"), "w") as f:
            f.write(f"{hashlib.sha256(self.bytes).hexdigest()}  {self.archive}\n")
        result = self.install(script=os.path.join(copy, "install-terraform.sh"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Terraform v1.11.4 (from the test mirror)", result.stdout)
        self.assertTrue(os.access(os.path.join(self.target, "terraform"), os.X_OK))

    def test_every_recorded_line_is_a_sha256_and_an_archive_name(self):
        with open(os.path.join(ROOT, "ci", "terraform.sha256")) as f:
            lines = [line.split() for line in f if line.strip()]
        self.assertTrue(lines)
        for digest, name in lines:
            self.assertRegex(digest, r"^[0-9a-f]{64}$")
            self.assertRegex(name, r"^terraform_\d+\.\d+\.\d+_linux_(amd64|arm64)\.zip$")


if __name__ == "__main__":
    unittest.main()
