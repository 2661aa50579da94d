"""ci/mutants.py's list stays applicable: make check cannot run the mutants (make mutants does), but
it fails as soon as a source change leaves a mutant with nothing to change."""
import os
import unittest

from ci import mutants


class MutantList(unittest.TestCase):
    def test_each_mutant_changes_its_file(self):
        for name, path, text, replacement, killer in mutants.MUTANTS:
            with self.subTest(name):
                with open(os.path.join(mutants.ROOT, path)) as f:
                    self.assertIn(text, f.read(), f"{path} no longer contains what this mutant changes")
                self.assertNotEqual(text, replacement)
                self.assertTrue(mutants.describe(killer))

    def test_names_are_unique_and_the_list_is_long_enough(self):
        names = [m[0] for m in mutants.MUTANTS]
        self.assertEqual(len(names), len(set(names)))
        self.assertGreaterEqual(len(names), 25)


if __name__ == "__main__":
    unittest.main()
