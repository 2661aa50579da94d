"""modules/infrastructure/README.md's Inputs and Outputs tables are the ones ci/module_readme.py
generates from the module's variables and outputs: one added, removed or re-described without
`make module-readme` fails here."""
import re
import unittest

from ci import module_readme


class ModuleReadme(unittest.TestCase):
    def test_the_tables_are_generated_from_the_terraform_files(self):
        with open(module_readme.README) as f:
            readme = f.read()
        self.assertIn(module_readme.tables(), readme, "stale: run make module-readme")

    def test_every_variable_and_output_has_a_described_row(self):
        inputs, outputs = module_readme.tables().split("## Outputs")
        for kind, table in (("variable", inputs), ("output", outputs)):
            names = [name for name, _ in module_readme.blocks(kind)]
            self.assertGreater(len(names), 5)
            for name in names:
                row = re.search(rf"^\| `{name}` \| (.*) \|$", table, re.M)
                self.assertTrue(row, f"{kind} {name} has no row")
                self.assertTrue(row.group(1).rsplit(" | ", 1)[-1].strip(), f"{kind} {name} has no description")

    def test_an_object_default_lists_its_attributes(self):
        row = re.search(r"^\| `authorizer_function` \| object \| (.+?) \|", module_readme.tables(), re.M)
        self.assertEqual(row.group(1), '`memory = 256`, `timeout = 10`, `architecture = "x86_64"`')


if __name__ == "__main__":
    unittest.main()
