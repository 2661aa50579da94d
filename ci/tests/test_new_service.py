"""`make new`: the scaffold registers a service in both lists, and the lists match services/."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from ci import declarations
from ci import new_service

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REGISTRY = os.path.join("tools", "local-api", "Sources", "LocalAPI", "Registry.swift")


def declared_services(root):
    services = os.path.join(root, "services")
    return sorted(n for n in os.listdir(services) if os.path.exists(os.path.join(services, n, "service.json")))


def read(path):
    with open(path) as f:
        return f.read()


class RepositoryListsTests(unittest.TestCase):
    def test_root_package_lists_exactly_the_services_with_a_declaration(self):
        self.assertEqual(new_service.registered_in_package(read(os.path.join(ROOT, "Package.swift"))),
                         declared_services(ROOT))

    def test_every_service_package_has_the_generated_shape(self):
        for name in declared_services(ROOT):
            with self.subTest(service=name):
                self.assertEqual(read(os.path.join(ROOT, "services", name, "Package.swift")),
                                 new_service.package_swift(name),
                                 f"regenerate with: python3 -m ci.new_service --package {name} > services/{name}/Package.swift")
                link = os.path.join(ROOT, "services", name, "Sources", new_service.module(name), "service.json")
                self.assertEqual(os.readlink(link), new_service.DECLARATION_LINK, "the module embeds its service.json")


class ScaffoldTests(unittest.TestCase):
    """Runs the scaffold in a copy holding the files it edits, never in the working tree."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="new-service-")
        self.addCleanup(shutil.rmtree, self.root)
        for path in ("ci/__init__.py", "ci/new_service.py", "Package.swift", REGISTRY):
            os.makedirs(os.path.dirname(os.path.join(self.root, path)), exist_ok=True)
            shutil.copy(os.path.join(ROOT, path), os.path.join(self.root, path))
        for name in declared_services(ROOT):
            os.makedirs(os.path.join(self.root, "services", name))
            shutil.copy(os.path.join(ROOT, "services", name, "service.json"), os.path.join(self.root, "services", name))

    def new(self, *args):
        return subprocess.run([sys.executable, "-m", "ci.new_service", *args], cwd=self.root,
                              capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})

    def test_registers_the_service_in_the_package_and_the_registry(self):
        result = self.new("order-lines")
        self.assertEqual(result.returncode, 0, result.stderr)
        package = read(os.path.join(self.root, "Package.swift"))
        self.assertEqual(new_service.registered_in_package(package), declared_services(self.root))
        self.assertIn("order-lines", declared_services(self.root))
        registry = read(os.path.join(self.root, REGISTRY))
        self.assertRegex(registry, r"(?m)^import OrderLines$")
        self.assertRegex(registry, r"(?m)^        OrderLinesAPI\.self,$")
        imports = re.findall(r"(?m)^import (\w+)$", registry)
        self.assertEqual(imports, sorted(imports), "swift format keeps imports sorted")

    def test_scaffolds_a_declared_route_its_table_and_a_one_line_bootstrap(self):
        self.assertEqual(self.new("orders").returncode, 0)
        service = os.path.join(self.root, "services", "orders")
        declaration = json.loads(read(os.path.join(service, "service.json")))
        self.assertEqual(declarations.problems("orders", declaration), [], "the scaffold matches services/service.schema.json")
        dashed = json.loads(read(os.path.join(self.root, "services", "order-lines", "service.json"))) \
            if self.new("order-lines").returncode == 0 else None
        self.assertEqual(declarations.problems("order-lines", dashed), [], "a dashed name too")
        self.assertTrue(declaration["routes"], "the scaffold declares a route")
        for key, route in declaration["routes"].items():
            self.assertEqual(route["authorization"], "JWT", f"{key} must be authorized")
            self.assertTrue(route["scopes"], f"{key} must require a scope")
        openapi = json.loads(read(os.path.join(service, "openapi.json")))
        self.assertTrue(openapi["paths"])
        self.assertEqual(read(os.path.join(service, "Package.swift")), new_service.package_swift("orders"))
        self.assertEqual(read(os.path.join(service, "Sources", "Orders", "service.json")), read(os.path.join(service, "service.json")),
                         "the module embeds its service.json through a link")
        self.assertEqual(read(os.path.join(service, "Sources", "OrdersBootstrap", "main.swift")).strip().splitlines()[-1],
                         "ServiceBootstrap.run(OrdersAPI.self)")

    def test_refuses_a_taken_name_in_one_line_and_changes_nothing(self):
        before = read(os.path.join(self.root, "Package.swift")), read(os.path.join(self.root, REGISTRY))
        result = self.new("users")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr.strip().count("\n"), 0)
        self.assertIn("already exists", result.stderr)
        self.assertEqual((read(os.path.join(self.root, "Package.swift")), read(os.path.join(self.root, REGISTRY))), before)

    def test_refuses_names_that_are_not_service_names(self):
        for name in ("Orders", "local-api", "shared", "9lives", "a", "orders/../x"):
            with self.subTest(name=name):
                result = self.new(name)
                self.assertEqual(result.returncode, 2)
                self.assertIn("is not a service name", result.stderr)
        self.assertEqual(declared_services(self.root), declared_services(ROOT))


if __name__ == "__main__":
    unittest.main()
