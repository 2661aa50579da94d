"""The Amazon Linux 2023 checks of ci/package.py, on small binaries made to break each rule."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

from ci import package


def compile_c(directory, name, source, *flags):
    path = os.path.join(directory, name)
    with open(path + ".c", "w") as f:
        f.write(source)
    result = subprocess.run(["gcc", "-O1", "-o", path, path + ".c", *flags], capture_output=True, text=True)
    if result.returncode != 0:
        raise unittest.SkipTest(f"cannot build the {name} probe here: {result.stderr.strip()[:200]}")
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


class CheckBinaryTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.arch = package.host_architecture()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_plain_binary_passes(self):
        binary = compile_c(self.dir, "plain", "int main(void){return 0;}")
        self.assertLessEqual(package.check_binary(binary, self.arch), package.MAX_GLIBC)

    def test_glibc_235_symbol_is_named(self):
        binary = compile_c(self.dir, "hypot", '#include <math.h>\n#include <stdlib.h>\n'
                           'int main(int c,char**v){return (int)hypotf(atof(v[0]),2.0f);}', "-lm")
        versions = package.glibc_versions(binary)
        if max(versions) <= package.MAX_GLIBC:
            self.skipTest("this libm does not version hypotf past 2.34")
        with self.assertRaisesRegex(package.PackageError, r"hypotf@GLIBC_2\.35"):
            package.check_binary(binary, self.arch)

    def test_library_missing_from_al2023_is_named(self):
        binary = compile_c(self.dir, "zlib", "extern const char *zlibVersion(void);"
                           "int main(void){return zlibVersion()[0]=='x';}", "-lz")
        with self.assertRaisesRegex(package.PackageError, r"libz\.so\.1"):
            package.check_binary(binary, self.arch)

    def test_icu_symbols_are_detected(self):
        binary = compile_c(self.dir, "icu", "void *ucol_open(const char *l, int *s){return 0;}"
                           "int main(void){return ucol_open(0,0)!=0;}")
        with self.assertRaisesRegex(package.PackageError, r"ICU.*ucol_open"):
            package.check_binary(binary, self.arch)

    def test_wrong_architecture_is_named(self):
        binary = compile_c(self.dir, "arch", "int main(void){return 0;}")
        other = "arm64" if self.arch == "x86_64" else "x86_64"
        with self.assertRaisesRegex(package.PackageError, f"declares {other}"):
            package.check_binary(binary, other)


class GlibcShimTests(unittest.TestCase):
    """shared/Sources/CGlibcCompat binds hypot to each architecture's glibc baseline: the version
    every glibc has (AL2023's 2.34 included), never Debian's 2.35 or the other architecture's."""

    SHIM = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "Sources", "CGlibcCompat", "glibc_compat.c")
    BASELINES = {"x86_64": "GLIBC_2.2.5", "aarch64": "GLIBC_2.17"}

    def compile_for(self, target):
        clang = shutil.which("clang")
        if not clang:
            self.skipTest("no clang to cross-compile the shim")
        with tempfile.TemporaryDirectory() as work:
            obj = os.path.join(work, "shim.o")
            subprocess.run([clang, f"--target={target}-linux-gnu", "-c", self.SHIM, "-o", obj], check=True)
            header = subprocess.run(["readelf", "-h", obj], capture_output=True, text=True, check=True).stdout
            symbols = subprocess.run(["objdump", "-t", obj], capture_output=True, text=True, check=True).stdout
        return header, symbols

    def test_each_architecture_binds_hypot_to_its_own_baseline(self):
        for target, baseline in self.BASELINES.items():
            with self.subTest(target=target):
                header, symbols = self.compile_for(target)
                self.assertIn("AArch64" if target == "aarch64" else "X86-64", header)
                undefined = [line.split()[-1] for line in symbols.splitlines() if "*UND*" in line]
                self.assertEqual(undefined, [f"hypot@{baseline}"])
                self.assertRegex(symbols, r"(?m)\bF \.text\s+\S+\s+hypotf$", "hypotf is defined, not imported")

    def test_packaging_for_another_architecture_is_refused_in_one_line(self):
        other = "arm64" if package.host_architecture() == "x86_64" else "x86_64"
        result = subprocess.run([sys.executable, "-m", "ci.package",
                                 "--product", "users-bootstrap", "--name", "users", "--architecture", other,
                                 "--out", tempfile.gettempdir()], cwd=package.declarations.ROOT, capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertIn(f"users declares {other} but this machine builds {package.host_architecture()}", result.stderr)

    def test_an_architecture_without_a_baseline_does_not_compile(self):
        clang = shutil.which("clang")
        if not clang:
            self.skipTest("no clang to cross-compile the shim")
        result = subprocess.run([clang, "--target=riscv64-linux-gnu", "-fsyntax-only", self.SHIM],
                                capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no glibc baseline known", result.stderr)


class DeclaredScopesTests(unittest.TestCase):
    def test_every_route_scope_of_every_service_once_sorted(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..")
        scopes = package.declared_scopes()
        self.assertEqual(scopes, sorted(set(scopes)))
        for service in ("users", "items"):
            with open(os.path.join(root, "services", service, "service.json")) as f:
                routes = json.load(f)["routes"]
            for key, route in routes.items():
                self.assertTrue(set(route.get("scopes", [])) <= set(scopes), key)
        self.assertIn("users.admin", scopes)


class StripTests(unittest.TestCase):
    def test_unread_sections_go_and_the_program_still_runs(self):
        with tempfile.TemporaryDirectory() as d:
            binary = compile_c(d, "probe", '#include <stdio.h>\nint main(void){puts("still runs");return 0;}',
                               "-Wl,--build-id")
            self.assertTrue({".eh_frame", ".note.gnu.build-id"} <= package.section_names(binary), "the probe has them")
            package.strip(binary)
            self.assertFalse(package.UNREAD_SECTIONS & package.section_names(binary))
            self.assertEqual(subprocess.run([binary], capture_output=True, text=True).stdout, "still runs\n")


class ReproducibleZipTests(unittest.TestCase):
    def test_same_input_gives_identical_bytes_whatever_the_mtime(self):
        with tempfile.TemporaryDirectory() as d:
            source = os.path.join(d, "bootstrap")
            with open(source, "wb") as f:
                f.write(os.urandom(4096))
            first, second = os.path.join(d, "a.zip"), os.path.join(d, "b.zip")
            package.reproducible_zip({"bootstrap": source}, first)
            os.utime(source, (1_000_000_000, 1_000_000_000))
            os.chmod(source, 0o600)
            package.reproducible_zip({"bootstrap": source}, second)
            self.assertEqual(read(first), read(second))
            with zipfile.ZipFile(first) as z:
                info = z.getinfo("bootstrap")
                self.assertEqual(info.external_attr >> 16, 0o100755, "bootstrap must be executable in Lambda")
                self.assertEqual(info.date_time, package.FIXED_TIME)


if __name__ == "__main__":
    unittest.main()
