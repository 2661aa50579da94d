"""The tooling's own tests: make check runs them from the repository's root
(`-m unittest discover -s ci/tests -t .`), importing the package as `ci`. integration/ is left
without an __init__.py so that discovery passes over its slow suites; ci/test-terraform.sh runs
them by name (ci.tests.integration.*)."""
