"""The services' declarations (services/<name>/service.json), read in one place for every CI tool:
which services exist is which directories under services/ hold a service.json.

    python3 -m ci.declarations              the services' names, one per line (shell scripts, make)
    python3 -m ci.declarations --packages   and the REST authorizer: every function ci/build.sh packages
    python3 -m ci.declarations --check              every declaration against services/service.schema.json,
                                            one line per problem (needs the jsonschema of .venv)

services/service.schema.json is the file's one reference. Swift decodes it strictly as well, and
Terraform keeps only the checks that need every service at once or the environment's API type.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "services", "service.schema.json")
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


def names():
    """Every declared service's name, sorted: the directories under services/ with a service.json."""
    services = os.path.join(ROOT, "services")
    return sorted(n for n in os.listdir(services) if os.path.isfile(os.path.join(services, n, "service.json")))


def every():
    """(name, declaration) for every declared service, by name."""
    for name in names():
        yield name, load(name)


def route_access(declaration):
    """ROUTE_ACCESS as modules/infrastructure writes it (shared/Sources/HTTPAPI/RouteAccess.swift):
    route key -> the scopes of which any one opens it, or None for a route declared public."""
    return json.dumps({key: None if route.get("authorization") == "NONE" else route.get("scopes", [])
                       for key, route in sorted(declaration["routes"].items())}, separators=(",", ":"))


def problems(name, declaration):
    """What is wrong with one service's declaration, one sentence each naming where: the schema's
    findings, and a name that is not its directory's."""
    import jsonschema  # only the checks need it; listing the services runs on a bare python3

    with open(SCHEMA) as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    found = [f"services/{name}/service.json: {_where(error)}{_message(error)}"
             for error in sorted(validator.iter_errors(declaration), key=lambda e: list(map(str, e.absolute_path)))]
    if isinstance(declaration, dict) and declaration.get("name") != name:
        found.append(f"services/{name}/service.json: \"name\" is {declaration.get('name')!r}; it must be the directory's name, {name!r}")
    return found


def _where(error):
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    return f"at {path.lstrip('.')}: " if path else ""


def _message(error):
    # A pattern or an exclusion reads better as the rule it stands for, which the schema describes.
    rule = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator in ("pattern", "not") and rule:
        return f"{error.instance!r} is refused: {rule}"
    return error.message


def check():
    """Every declaration's problems, for every service (a file that is not JSON is one)."""
    found = []
    for name in names():
        try:
            declaration = load(name)
        except json.JSONDecodeError as error:
            found.append(f"services/{name}/service.json: not JSON ({error})")
            continue
        found += problems(name, declaration)
    return found


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        found = check()
        print("\n".join(found) or f"declarations: {len(names())} service.json files match services/service.schema.json")
        sys.exit(1 if found else 0)
    if sys.argv[1:] not in ([], ["--packages"]):
        sys.exit("usage: python3 -m ci.declarations [--packages | --check]")
    print("\n".join(names() + ([AUTHORIZER] if sys.argv[1:] else [])))
