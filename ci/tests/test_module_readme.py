"""modules/infrastructure/README.md's Inputs and Outputs tables name exactly the module's variables
and outputs: a variable added without a row (or a row left behind by a removed one) fails."""
import glob
import os
import re
import unittest

MODULE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "modules", "infrastructure")


def declared(kind):
    names = []
    for path in glob.glob(os.path.join(MODULE, "*.tf")):
        with open(path) as f:
            names += re.findall(rf'^{kind} "([a-z0-9_]+)"', f.read(), re.M)
    return sorted(names)


def documented(section):
    with open(os.path.join(MODULE, "README.md")) as f:
        text = f.read()
    table = re.search(rf"^## {section}\n(.*?)(?=^## |\Z)", text, re.M | re.S).group(1)
    return sorted(re.findall(r"^\| `([a-z0-9_]+)` \|", table, re.M))


class ModuleReadme(unittest.TestCase):
    def test_every_input_has_a_row(self):
        self.assertGreater(len(declared("variable")), 10)
        self.assertEqual(documented("Inputs"), declared("variable"))

    def test_every_output_has_a_row(self):
        self.assertGreater(len(declared("output")), 5)
        self.assertEqual(documented("Outputs"), declared("output"))


if __name__ == "__main__":
    unittest.main()
