"""The REST API authorizer's contract: its packaged bootstrap against a recorded corpus of REST
REQUEST authorizer events (shared/contracts/authorizer.json), over the project's Runtime API
emulator (runtime-api).

    python3 -m ci.authorizer_contract replay --bootstrap DIST/authorizer/bootstrap --runtime-api RUNTIME_API
    python3 -m ci.authorizer_contract record --bootstrap DIST/authorizer/bootstrap --runtime-api RUNTIME_API

The bootstrap fetches the corpus's JWKS at init over HTTPS (a server on 127.0.0.1 whose certificate
comes from a throwaway CA, trusted through SSL_CERT_FILE), then answers every event: an Allow or
Deny policy with the token's claims as context, or the error "Unauthorized" (API Gateway's 401).
Replay fails on any difference, and checks that init refuses a JWKS server it cannot verify.

`record` makes the corpus: an RSA and a P-256 key (openssl, in a temporary directory, discarded),
the public JWKS, tokens valid until 2100 and tokens every verifier must refuse, the REST events
that carry them (shaped as API Gateway sends them), and the bootstrap's answers, each checked
against what the case is about before it is written.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile

from ci import bootstraps
from ci import servers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "shared", "contracts", "authorizer.json")
ISSUER = "https://auth.staging.example.com/"
AUDIENCE = "swiftapi-staging"
API = "arn:aws:execute-api:eu-west-1:123456789012:abc123def4/staging"
ROUTE_SCOPES = {"GET /users/{id}": ["users.read", "users.admin"], "GET /users": ["users.admin"],
                "POST /items": ["items.write"], "DELETE /items/{id}": ["items.write", "items.admin"]}
FAR = 4102444800  # 2100-01-01: recorded tokens outlive the corpus


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def environment(jwks_url):
    """The authorizer function's settings for the corpus (what modules/infrastructure sets)."""
    return {"JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE, "JWKS_URL": jwks_url, "ROUTE_SCOPES": json.dumps(ROUTE_SCOPES),
            "AWS_LAMBDA_FUNCTION_NAME": "swiftapi-staging-authorizer"}


def run(runtime_api, bootstrap, jwks, events, trust_ca=True):
    """Runs the bootstrap over the events; returns [(kind, parsed body)] and the JWKS fetch count."""
    with tempfile.TemporaryDirectory(prefix="authorizer-contract-") as directory:
        context, ca = servers.throwaway_tls(directory)
        keys = servers.StaticTLSServer("/jwks.json", jwks, context)
        env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "ERROR", **environment(keys.url)}
        # Without the test CA the system's trust store is used, which must refuse the throwaway certificate.
        if trust_ca:
            env["SSL_CERT_FILE"] = ca
        try:
            answers = bootstraps.run(runtime_api, bootstrap, events, env, timeout=60).answers
        finally:
            keys.stop()
        return [(a.kind, a.json()) for a in answers], keys.fetches


def replay(runtime_api, bootstrap):
    with open(CORPUS) as f:
        corpus = json.load(f)
    cases = corpus["cases"]
    answers, fetches = run(runtime_api, bootstrap, corpus["jwks"], [case["event"] for case in cases])
    failures = []
    if answers and answers[0][0] == "init-error":
        raise SystemExit(f"authorizer-contract: init failed: {answers[0][1].get('errorMessage')}")
    if fetches != 1:
        failures.append(f"the JWKS was fetched {fetches} times, not once at init")
    for case, (kind, body) in zip(cases, answers, strict=True):
        expected = case["expect"]
        got = {"error": body.get("errorMessage")} if kind == "error" else {"answer": body}
        if got != expected:
            failures.append(f"{case['name']}: expected {json.dumps(expected, sort_keys=True)}\n      got {json.dumps(got, sort_keys=True)}")
    # Init must verify the JWKS server's certificate: with the system's trust store only, it fails.
    refused, _ = run(runtime_api, bootstrap, corpus["jwks"], [cases[0]["event"]], trust_ca=False)
    if not refused or refused[0][0] != "init-error":
        failures.append(f"init accepted a JWKS server whose certificate no trusted CA signed: {refused[:1]}")
    for failure in failures:
        print(f"✗ {failure}")
    print(f"authorizer-contract (packaged bootstrap {bootstrap}): {len(cases)} cases: "
          + ("all pass" if not failures else f"{len(failures)} failure(s)"))
    return 1 if failures else 0


# Recording

def openssl(directory, *arguments, data=None):
    return subprocess.run(["openssl", *arguments], cwd=directory, input=data, check=True, capture_output=True).stdout


def der_integers(der):
    """The two INTEGERs of a DER SEQUENCE (an ECDSA signature), as unsigned big-endian bytes."""
    assert der[0] == 0x30
    index = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    values = []
    while index < len(der):
        assert der[index] == 0x02
        length = der[index + 1]
        values.append(der[index + 2:index + 2 + length].lstrip(b"\0"))
        index += 2 + length
    return values


def keys(directory):
    """RSA-2048 and P-256 signing functions and the public JWKS."""
    openssl(directory, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem")
    openssl(directory, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.pem")
    modulus = openssl(directory, "rsa", "-in", "rsa.pem", "-noout", "-modulus").decode().strip().split("=", 1)[1]
    point = openssl(directory, "ec", "-in", "ec.pem", "-pubout", "-outform", "DER")[-64:]
    jwks = {"keys": [
        {"kty": "RSA", "kid": "rsa-2026", "use": "sig", "alg": "RS256", "n": b64url(bytes.fromhex(modulus)), "e": "AQAB"},
        {"kty": "EC", "kid": "ec-2026", "use": "sig", "alg": "ES256", "crv": "P-256",
         "x": b64url(point[:32]), "y": b64url(point[32:])},
    ]}

    def sign(alg, data):
        if alg == "RS256":
            return openssl(directory, "dgst", "-sha256", "-sign", "rsa.pem", data=data)
        r, s = der_integers(openssl(directory, "dgst", "-sha256", "-sign", "ec.pem", data=data))
        return r.rjust(32, b"\0") + s.rjust(32, b"\0")
    return sign, jwks


def token(sign, alg="RS256", kid=None, signature=None, **claims):
    header = {"alg": alg, "typ": "JWT", "kid": kid or ("ec-2026" if alg == "ES256" else "rsa-2026")}
    body = {"sub": "ada", "iss": ISSUER, "aud": AUDIENCE, "exp": FAR, "iat": 1795400000, "scope": "users.read items.write"}
    body.update({k: v for k, v in claims.items() if v is not None})
    for k in [k for k, v in claims.items() if v is None]:
        body.pop(k, None)
    signed = f"{b64url(json.dumps(header, separators=(',', ':')).encode())}.{b64url(json.dumps(body, separators=(',', ':')).encode())}"
    if signature is None:
        signature = b64url(sign(alg, signed.encode())) if alg in ("RS256", "ES256") else ""
    return f"{signed}.{signature}"


def event(route, path, authorization, request_id):
    """A REST API's REQUEST authorizer input, as API Gateway sends it (developer guide, "Input to
    an API Gateway Lambda authorizer", REQUEST type)."""
    method, resource = route.split(" ")
    headers = {"Accept": "application/json", "Host": "abc123def4.execute-api.eu-west-1.amazonaws.com",
               "User-Agent": "curl/8.5.0", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Port": "443",
               "X-Forwarded-Proto": "https"}
    if authorization is not None:
        headers["Authorization"] = authorization
    parameters = {"id": path.rsplit("/", 1)[1]} if "{id}" in resource else {}
    return {
        "type": "REQUEST", "methodArn": f"{API}/{method}{path}", "resource": resource, "path": path,
        "httpMethod": method, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {}, "multiValueQueryStringParameters": {}, "pathParameters": parameters,
        "stageVariables": {},
        "requestContext": {
            "resourceId": "r3s0urce", "resourcePath": resource, "httpMethod": method,
            "extendedRequestId": f"{request_id}=", "requestTime": "02/Dec/2026:00:00:00 +0000",
            "path": f"/staging{path}", "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": "staging",
            "domainPrefix": "abc123def4", "requestTimeEpoch": 1795400000000, "requestId": request_id,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
            "domainName": "abc123def4.execute-api.eu-west-1.amazonaws.com", "apiId": "abc123def4",
        },
    }


def record(runtime_api, bootstrap):
    with tempfile.TemporaryDirectory(prefix="authorizer-keys-") as directory:
        sign, jwks = keys(directory)
        bearer = lambda **kw: "Bearer " + token(sign, **kw)  # noqa: E731
        # (name, route, path, authorization, what the answer must be: Allow, Deny or Unauthorized)
        plan = [
            ("RS256 token with the route's scope", "GET /users/{id}", "/users/ada", bearer(), "Allow"),
            ("ES256 token with the route's scope", "GET /users/{id}", "/users/ada", bearer(alg="ES256"), "Allow"),
            ("scp list grants the scope", "GET /users", "/users", bearer(scope=None, scp=["users.admin"]), "Allow"),
            ("client_id stands in for aud", "POST /items", "/items", bearer(aud=None, client_id=AUDIENCE), "Allow"),
            ("another path of the same route", "DELETE /items/{id}", "/items/01JD5WZ3V8Q0", bearer(), "Allow"),
            ("valid token without the route's scope", "GET /users", "/users", bearer(), "Deny"),
            ("a route the authorizer was not told about", "PUT /users/{id}", "/users/ada", bearer(), "Deny"),
            ("no Authorization header", "GET /users/{id}", "/users/ada", None, "Unauthorized"),
            ("not a bearer token", "GET /users/{id}", "/users/ada", "Basic YWRhOnNlY3JldA==", "Unauthorized"),
            ("expired", "GET /users/{id}", "/users/ada", bearer(exp=1600000000), "Unauthorized"),
            ("not yet valid", "GET /users/{id}", "/users/ada", bearer(nbf=FAR - 1), "Unauthorized"),
            ("wrong audience", "GET /users/{id}", "/users/ada", bearer(aud="another-api"), "Unauthorized"),
            ("wrong issuer", "GET /users/{id}", "/users/ada", bearer(iss="https://evil.example.com/"), "Unauthorized"),
            ("alg none", "GET /users/{id}", "/users/ada", bearer(alg="none"), "Unauthorized"),
            ("unknown kid", "GET /users/{id}", "/users/ada", bearer(kid="rsa-2025"), "Unauthorized"),
            ("RS256 header on the EC key", "GET /users/{id}", "/users/ada", bearer(kid="ec-2026"), "Unauthorized"),
            ("signature of another token", "GET /users/{id}", "/users/ada",
             bearer(signature=token(sign, sub="eve").rsplit(".", 1)[1]), "Unauthorized"),
            ("no sub", "GET /users/{id}", "/users/ada", bearer(sub=None), "Unauthorized"),
        ]
    events = [event(route, path, authorization, f"contract-{i}") for i, (_, route, path, authorization, _) in enumerate(plan)]
    answers, _ = run(runtime_api, bootstrap, jwks, events)
    if answers and answers[0][0] == "init-error":
        raise SystemExit(f"authorizer-contract: init failed: {answers[0][1].get('errorMessage')}")
    cases = []
    for (name, route, _, _, verdict), evt, (kind, body) in zip(plan, events, answers, strict=True):
        if verdict == "Unauthorized":
            ok = kind == "error" and body.get("errorMessage") == "Unauthorized"
            expect = {"error": "Unauthorized"}
        else:
            statement = (body.get("policyDocument") or {}).get("Statement", [{}])[0]
            method, resource = route.split(" ")
            ok = (kind == "response" and statement.get("Effect") == verdict
                  and statement.get("Resource") == f"{API}/{method}/" + "/".join(
                      "*" if s.startswith("{") else s for s in resource.strip("/").split("/"))
                  and body.get("principalId") == "ada")
            expect = {"answer": body}
        if not ok:
            raise SystemExit(f"authorizer-contract: {name}: expected {verdict}, the bootstrap answered {kind} {body}")
        cases.append({"name": name, "event": evt, "expect": expect})
    os.makedirs(os.path.dirname(CORPUS), exist_ok=True)
    with open(CORPUS, "w") as f:
        json.dump({"_comment": "Recorded by `python3 -m ci.authorizer_contract record`; replayed by `make contract`. "
                               "The signing keys were discarded: only the public JWKS is here.",
                   "jwks": jwks, "cases": cases}, f, indent=2)
        f.write("\n")
    print(f"authorizer-contract: recorded {len(cases)} cases to {os.path.relpath(CORPUS, ROOT)}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["replay", "record"])
    parser.add_argument("--bootstrap", required=True, help="the packaged authorizer (make package SERVICE=authorizer)")
    parser.add_argument("--runtime-api", required=True, help="the runtime-api executable")
    args = parser.parse_args()
    if not os.access(args.bootstrap, os.X_OK):
        raise SystemExit(f"authorizer-contract: no executable {args.bootstrap}: run `make package SERVICE=authorizer`")
    return (replay if args.mode == "replay" else record)(args.runtime_api, args.bootstrap)


if __name__ == "__main__":
    sys.exit(main())
