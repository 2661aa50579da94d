"""The CI scripts' own tests: make check runs them with ci/ as the top level (`-m unittest discover -s ci/tests -t ci`),
so they import the scripts as modules."""
