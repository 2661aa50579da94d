"""The GitLab test job fans out exactly make test's phases: a phase added to one and not the other
would go untested in the pipeline (or run only there)."""
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def make_test_phases(makefile):
    """make test's phases: its prerequisite (make check) and its two lanes."""
    phases = re.search(r"^test: ([^#\n=]+) ## ", makefile, re.M).group(1).split()
    for lane in ("SWIFT_PHASES", "PROGRAM_PHASES"):
        phases += re.search(rf"^{lane} := (.+)$", makefile, re.M).group(1).split()
    return sorted(phases)


def matrix_phases(pipeline):
    job = re.search(r"^test:\n(.*?)^\S", pipeline, re.M | re.S).group(1)
    items = re.search(r"- PHASES:\n((?:\s+- .+\n)+)", job).group(1)
    return sorted(target for line in items.splitlines() for target in line.strip()[2:].split())


class PipelinePhases(unittest.TestCase):
    def test_the_test_job_runs_every_phase_of_make_test_once(self):
        phases = make_test_phases(read("Makefile"))
        self.assertIn("check", phases)
        self.assertIn("test-new-service", phases)
        self.assertEqual(matrix_phases(read(".gitlab-ci.yml")), phases)


if __name__ == "__main__":
    unittest.main()
