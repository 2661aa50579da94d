"""The services' declarations (services/<name>/service.json), read in one place for every CI tool."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def route_access(declaration):
    """ROUTE_ACCESS as modules/infrastructure writes it (shared/Sources/HTTPAPI/RouteAccess.swift):
    route key -> the scopes of which any one opens it, or None for a route declared public."""
    return json.dumps({key: None if route.get("authorization") == "NONE" else route.get("scopes", [])
                       for key, route in sorted(declaration["routes"].items())}, separators=(",", ":"))
