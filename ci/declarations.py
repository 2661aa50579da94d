"""The services' declarations (services/<name>/service.json), read in one place for every CI tool:
which services exist is which directories under services/ hold a service.json.

    python3 ci/declarations.py              the services' names, one per line (shell scripts, make)
    python3 ci/declarations.py --packages   and the REST authorizer: every function ci/build.sh packages
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The REST API's Lambda authorizer (shared/Sources/RESTAuthorizer): packaged, deployed, rolled back
# and guarded like a service, though no service.json declares it.
AUTHORIZER = "authorizer"


def load(service):
    """services/<service>/service.json, parsed; None when the service has no declaration."""
    path = os.path.join(ROOT, "services", service, "service.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def every():
    """(name, declaration) for every declared service, by name."""
    for name in sorted(os.listdir(os.path.join(ROOT, "services"))):
        declaration = load(name)
        if declaration is not None:
            yield name, declaration


def names():
    """Every declared service's name, sorted."""
    return [name for name, _ in every()]


def route_access(declaration):
    """ROUTE_ACCESS as modules/infrastructure writes it (shared/Sources/HTTPAPI/RouteAccess.swift):
    route key -> the scopes of which any one opens it, or None for a route declared public."""
    return json.dumps({key: None if route.get("authorization") == "NONE" else route.get("scopes", [])
                       for key, route in sorted(declaration["routes"].items())}, separators=(",", ":"))


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["--packages"]):
        sys.exit("usage: python3 ci/declarations.py [--packages]")
    print("\n".join(names() + ([AUTHORIZER] if sys.argv[1:] else [])))
