import AWSCore
import Crypto
import JSONCoding
import JWT
import LambdaRuntime
import LambdaTesting
import Logging
import RESTAuthorizer
import Synchronization
import Testing
import _CryptoExtras

/// The REST API's authorizer against the tokens API Gateway's own JWT authorizer accepts and refuses
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html:
/// kid must match a JWKS key, signature RS256/ES256, iss, aud or client_id, exp, nbf, scopes), and
/// the answers a REQUEST authorizer gives API Gateway
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
@Suite struct RequestAuthorizerTests {
    static let issuer = "https://auth.staging.example.com/"
    static let methodARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/staging/GET/users/ada"
    static let now: Int64 = 1_795_400_000_000
    // One RSA key for the suite: generating 2048-bit keys is slow.
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    // swift-crypto's P-256 key is not Sendable: kept as bytes, rebuilt where used.
    static let ecBytes = P256.Signing.PrivateKey().rawRepresentation
    static var ec: P256.Signing.PrivateKey { try! P256.Signing.PrivateKey(rawRepresentation: ecBytes) }

    /// A settable wall clock, in milliseconds.
    final class TestClock: Sendable {
        let milliseconds: Mutex<Int64>
        init(_ start: Int64) { milliseconds = Mutex(start) }
        var now: Int64 { milliseconds.withLock { $0 } }
        func advance(_ by: Int64) { milliseconds.withLock { $0 += by } }
    }

    static func jwks(
        rsa: _RSA.Signing.PublicKey? = RequestAuthorizerTests.rsa.publicKey, rsaKid: String = "rsa-1",
        ec: P256.Signing.PublicKey? = RequestAuthorizerTests.ec.publicKey, extra: [JSONValue] = []
    ) -> [UInt8] {
        var keys: [JSONValue] = extra
        if let rsa {
            let components = try! rsa.getKeyPrimitives()
            keys.append([
                "kty": "RSA", "kid": .string(rsaKid), "use": "sig", "alg": "RS256",
                "n": .string(Base64.encodeURL(Array(components.modulus))),
                "e": .string(Base64.encodeURL(Array(components.publicExponent))),
            ])
        }
        if let ec {
            let point = Array(ec.rawRepresentation)
            keys.append([
                "kty": "EC", "crv": "P-256", "kid": "ec-1", "alg": "ES256",
                "x": .string(Base64.encodeURL(Array(point[..<32]))),
                "y": .string(Base64.encodeURL(Array(point[32...]))),
            ])
        }
        return JSONValue.object(["keys": .array(keys)]).serialized()
    }

    static func token(
        alg: String = "RS256", kid: String? = nil, claims overrides: JSONObject = [:], signer: RSAKeyOrEC? = nil
    ) throws -> String {
        var claims: JSONObject = [
            "sub": "ada", "iss": .string(issuer), "aud": "swiftapi-staging", "exp": .number(String(now / 1000 + 600)),
            "scope": "users.read items.read",
        ]
        for (name, value) in overrides { claims[name] = value }
        let header: JSONValue = [
            "alg": .string(alg), "typ": "JWT", "kid": .string(kid ?? (alg == "ES256" ? "ec-1" : "rsa-1")),
        ]
        let signed =
            Base64.encodeURL(header.serialized()) + "." + Base64.encodeURL(JSONValue.object(claims).serialized())
        let message = Array(signed.utf8)
        let signature: [UInt8]
        switch signer ?? (alg == "ES256" ? .ec(ec) : .rsa(rsa)) {
        case .rsa(let key):
            signature = Array(try key.signature(for: message, padding: .insecurePKCS1v1_5).rawRepresentation)
        case .ec(let key): signature = Array(try key.signature(for: message).rawRepresentation)
        case .none: signature = []
        }
        return signed + "." + Base64.encodeURL(signature)
    }

    enum RSAKeyOrEC {
        case rsa(_RSA.Signing.PrivateKey)
        case ec(P256.Signing.PrivateKey)
        case none
    }

    static let routes: [String: [String]] = [
        "GET /users/{id}": ["users.read", "users.admin"], "GET /users": ["users.admin"], "POST /items": [],
    ]

    /// A counting JWKS endpoint.
    final class Issuer: Sendable {
        let documents: Mutex<[[UInt8]]>
        let fetches = Mutex(0)
        init(_ documents: [[UInt8]]) { self.documents = Mutex(documents) }
        func fetch() throws -> [UInt8] {
            let count = fetches.withLock {
                $0 += 1
                return $0
            }
            return documents.withLock { $0[min(count - 1, $0.count - 1)] }
        }
    }

    static func authorizer(
        _ issuer: Issuer = Issuer([jwks()]), clock: TestClock = TestClock(now)
    ) async throws -> RequestAuthorizer {
        let now: @Sendable () -> Int64 = { clock.now }
        let keys = try await JWKSKeys(now: now) { try issuer.fetch() }
        return RequestAuthorizer(
            configuration: AuthorizerConfiguration(
                issuer: Self.issuer, audiences: ["swiftapi-staging"], routeScopes: routes),
            keys: keys, now: now)
    }

    static func event(_ token: String?, method: String = "GET", resource: String = "/users/{id}") -> JSONValue {
        var headers: JSONObject = ["Host": "abc123.execute-api.eu-west-1.amazonaws.com"]
        if let token { headers["Authorization"] = .string("Bearer \(token)") }
        return [
            "type": "REQUEST", "methodArn": .string(methodARN), "resource": .string(resource), "path": "/users/ada",
            "httpMethod": .string(method), "headers": .object(headers),
        ]
    }

    func statement(_ answer: JSONValue) -> JSONValue? { answer["policyDocument"]?["Statement"]?.arrayValue?.first }

    func answer(_ decision: RequestAuthorizer.Decision) -> JSONValue? {
        if case .answer(let answer) = decision { return answer }
        return nil
    }

    @Test(arguments: ["RS256", "ES256"])
    func aValidTokenWithTheRoutesScopeIsAllowedOnThatRouteOnly(alg: String) async throws {
        let authorizer = try await Self.authorizer()
        let answer = try #require(answer(await authorizer.decide(Self.event(try Self.token(alg: alg)))))
        #expect(answer["principalId"] == "ada")
        let statement = try #require(answer["policyDocument"]?["Statement"]?.arrayValue?.first)
        #expect(statement["Effect"] == "Allow")
        #expect(statement["Action"] == "execute-api:Invoke")
        // The route's template, not the caller's path: a cached answer serves /users/bob too.
        #expect(statement["Resource"] == "arn:aws:execute-api:eu-west-1:123456789012:abc123/staging/GET/users/*")
        #expect(answer["context"]?["sub"] == "ada")
        #expect(answer["context"]?["scope"] == "users.read items.read")
        #expect(answer["context"]?["iss"] == JSONValue.string(Self.issuer))
    }

    @Test func aValidTokenWithoutTheRoutesScopeIsDenied() async throws {
        let authorizer = try await Self.authorizer()
        let answer = try #require(answer(await authorizer.decide(Self.event(try Self.token(), resource: "/users"))))
        #expect(statement(answer)?["Effect"] == "Deny")
        #expect(statement(answer)?["Resource"] == "arn:aws:execute-api:eu-west-1:123456789012:abc123/staging/GET/users")
    }

    @Test func scpListsGrantScopesAndReachTheContextAsText() async throws {
        let authorizer = try await Self.authorizer()
        let token = try Self.token(claims: ["scope": .null, "scp": ["users.admin"]])
        let answer = try #require(answer(await authorizer.decide(Self.event(token, resource: "/users"))))
        #expect(statement(answer)?["Effect"] == "Allow")
        #expect(answer["context"]?["scope"] == "users.admin")
        #expect(answer["context"]?["scp"] == "users.admin")
    }

    @Test func aRouteTheAuthorizerWasNotToldAboutIsDenied() async throws {
        let authorizer = try await Self.authorizer()
        let answer = try #require(
            answer(await authorizer.decide(Self.event(try Self.token(), method: "DELETE", resource: "/admin"))))
        #expect(statement(answer)?["Effect"] == "Deny")
    }

    @Test func aRouteWithoutScopesTakesAnyValidToken() async throws {
        let authorizer = try await Self.authorizer()
        let answer = try #require(
            answer(await authorizer.decide(Self.event(try Self.token(), method: "POST", resource: "/items"))))
        #expect(statement(answer)?["Effect"] == "Allow")
        #expect(
            statement(answer)?["Resource"] == "arn:aws:execute-api:eu-west-1:123456789012:abc123/staging/POST/items")
    }

    static func refused() throws -> [(String, String?)] {
        let forged = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let unsigned = try token(alg: "none", kid: "rsa-1", signer: RSAKeyOrEC.none)
        return [
            ("no token", nil),
            ("expired", try token(claims: ["exp": .number(String(now / 1000 - 1))])),
            ("no exp", try token(claims: ["exp": .null])),
            ("not yet valid", try token(claims: ["nbf": .number(String(now / 1000 + 60))])),
            ("wrong audience", try token(claims: ["aud": "another-api"])),
            ("wrong issuer", try token(claims: ["iss": "https://evil.example.com/"])),
            ("no sub", try token(claims: ["sub": .null])),
            ("alg none", unsigned),
            (
                "alg none, no signature part",
                String(unsigned.dropLast(unsigned.count - unsigned.lastIndex(of: ".")!.utf16Offset(in: unsigned)))
            ),
            ("unknown kid", try token(kid: "rotated-away")),
            ("signed by another key", try token(signer: .rsa(forged))),
            ("RS256 header on an EC key's kid", try token(alg: "RS256", kid: "ec-1")),
            (
                "HS256 with the public key as secret",
                try {
                    // Algorithm confusion: an HS256 token "signed" with the RSA key's public bytes.
                    let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": "rsa-1"]
                    let claims: JSONValue = [
                        "sub": "ada", "iss": .string(issuer), "aud": "swiftapi-staging", "exp": 4_102_444_800,
                    ]
                    let signed = Base64.encodeURL(header.serialized()) + "." + Base64.encodeURL(claims.serialized())
                    let secret = Array(rsa.publicKey.derRepresentation)
                    return signed + "."
                        + Base64.encodeURL(AWSCore.HMAC.sha256(key: secret, message: Array(signed.utf8)))
                }()
            ),
            ("not a JWT", "abc.def"),
            // NumericDate (RFC 7519 §2) is a JSON number a clock reaches: anything else is refused.
            ("exp beyond any clock", try token(claims: ["exp": .number("1e19")])),
            ("exp infinite", try token(claims: ["exp": .number("1e400")])),
            ("exp as a string", try token(claims: ["exp": .string("4102444800")])),
            ("nbf as a string", try token(claims: ["nbf": .string(String(now / 1000 + 60))])),
            ("nbf beyond any clock", try token(claims: ["nbf": .number("-1e19")])),
            // One token, one spelling (RFC 7515 §2: base64url, no padding): a valid token respelled
            // in the standard alphabet with padding is refused, so no cache or denylist is bypassed.
            ("respelled in standard base64", try respelled(try token())),
        ]
    }

    /// The token with its signature in standard base64 with padding.
    static func respelled(_ token: String) throws -> String {
        let parts = token.split(separator: ".")
        let signature = try #require(Base64.decodeURL(parts[2]))
        let standard = Base64.encode(signature)
        #expect(standard.contains("=") && standard != String(parts[2]))
        return parts[0] + "." + parts[1] + "." + standard
    }

    @Test func everyBadTokenIsRefusedAs401() async throws {
        let authorizer = try await Self.authorizer()
        for (name, token) in try Self.refused() {
            let decision = await authorizer.decide(Self.event(token))
            guard case .refused = decision else {
                Issue.record("\(name): expected a refusal, got \(decision)")
                continue
            }
        }
    }

    @Test func aRefusalIsTheErrorAPIGatewayMapsTo401() async throws {
        let authorizer = try await Self.authorizer()
        let context = LambdaContext(
            requestID: "r", deadlineMilliseconds: Self.now + 3000, invokedFunctionARN: "arn",
            logger: Logger(label: "test"))
        await #expect {
            _ = try await authorizer.handle(Self.event(nil).serialized(), context: context)
        } throws: { error in
            ErrorReport(error).errorMessage == "Unauthorized"
        }
        let allowed = try await authorizer.handle(Self.event(try Self.token()).serialized(), context: context)
        #expect(try JSONValue.parse(allowed)["principalId"] == "ada")
    }

    @Test func anUnknownKidRefreshesTheJWKSOncePerInterval() async throws {
        let rotated = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let issuer = Issuer([Self.jwks(), Self.jwks(rsa: rotated.publicKey, rsaKid: "rsa-2")])
        let clock = TestClock(Self.now)
        let authorizer = try await Self.authorizer(issuer, clock: clock)
        #expect(issuer.fetches.withLock { $0 } == 1, "fetched at init")
        // A token naming a key id the cache lacks is retried after a refresh: the issuer rotated.
        clock.advance(31_000)
        let token = try Self.token(kid: "rsa-2", signer: .rsa(rotated))
        #expect(answer(await authorizer.decide(Self.event(token))) != nil)
        #expect(issuer.fetches.withLock { $0 } == 2)
        // Made-up key ids within the interval do not fetch again.
        for kid in ["x", "y", "z"] {
            #expect(
                await authorizer.decide(Self.event(try Self.token(kid: kid)))
                    == .refused("signature does not verify with the configured keys"))
        }
        #expect(issuer.fetches.withLock { $0 } == 2)
        // Known key ids never fetch.
        clock.advance(60_000)
        #expect(answer(await authorizer.decide(Self.event(token))) != nil)
        #expect(issuer.fetches.withLock { $0 } == 2)
    }

    @Test func aFailedRefreshKeepsTheCachedKeys() async throws {
        struct Refused: Error {}
        final class Flaky: Sendable {
            let calls = Mutex(0)
            func fetch() throws -> [UInt8] {
                let n = calls.withLock {
                    $0 += 1
                    return $0
                }
                if n > 1 { throw Refused() }
                return RequestAuthorizerTests.jwks()
            }
        }
        let flaky = Flaky()
        let clock = TestClock(Self.now)
        let keys = try await JWKSKeys(now: { clock.now }) { try flaky.fetch() }
        clock.advance(31_000)
        #expect(await keys.keys(for: "unknown").count == 2)
        #expect(flaky.calls.withLock { $0 } == 2)
    }

    @Test func publishedJWKSKeepsOnlySigningKeysAndSaysWhyItSkippedTheRest() throws {
        let odd: (Int) -> JSONValue = { bytes in
            .string(Base64.encodeURL([0xC1] + [UInt8](repeating: 0x35, count: bytes - 2) + [0x01]))
        }
        let document = try JSONValue.parse(
            Self.jwks(extra: [
                ["kty": "oct", "kid": "hmac", "k": .string(Base64.encodeURL(Array(repeating: 7, count: 32)))],
                ["kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"],
                ["kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"],
                // Usable kinds, unusable keys: one must not take the others down.
                ["kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"],
                ["kty": "RSA", "kid": "rsa-1024", "n": odd(128), "e": "AQAB"],
                ["kty": "RSA", "kid": "rsa-8200", "n": odd(1025), "e": "AQAB"],
                ["kty": "RSA", "kid": "padded", "n": "AQAB==", "e": "AQAB"],
            ]))
        let (keys, skipped) = try JWTAuthorizer.signingKeys(publishedJWKS: document)
        #expect(keys.map(\.kid) == ["rsa-1", "ec-1"])
        for kid in ["hmac", "enc", "ed", "p384", "rsa-1024", "rsa-8200", "padded"] {
            #expect(skipped.contains { $0.contains("key \(kid)") }, "\(kid) skipped with its reason: \(skipped)")
        }
        #expect {
            try JWTAuthorizer.signingKeys(publishedJWKS: ["keys": [["kty": "EC", "kid": "p384", "crv": "P-384"]]])
        } throws: { error in
            "\(error)".contains("no usable") && "\(error)".contains("p384")
        }
    }

    @Test func aJWKSLargerThanAnyProviderPublishesIsRefused() async throws {
        let padding: JSONValue = ["kty": "oct", "kid": .string(String(repeating: "x", count: JWKSKeys.maxBytes))]
        await #expect(throws: JWTAuthorizer.KeyError.self) {
            _ = try await Self.authorizer(Issuer([Self.jwks(extra: [padding])]))
        }
    }

    /// OpenID Connect Discovery 1.0 §4: without JWKS_URL the keys are where the issuer's metadata
    /// says (Okta, Entra ID and Google publish them away from `<issuer>/.well-known/jwks.json`).
    @Test func withoutJWKSURLTheKeysAreFoundThroughOpenIDDiscovery() async throws {
        let environment = [
            "JWT_ISSUER": Self.issuer, "JWT_AUDIENCE": "swiftapi-staging",
            "ROUTE_SCOPES": #"{"GET /users/{id}":["users.read"]}"#,
        ]
        let asked = Mutex<[String]>([])
        func provider(_ metadata: JSONValue) -> RequestAuthorizer.Get {
            { url in
                asked.withLock { $0.append(url) }
                return url.hasSuffix("/openid-configuration") ? metadata.serialized() : Self.jwks()
            }
        }
        let good: JSONValue = ["issuer": .string(Self.issuer), "jwks_uri": "https://keys.example.com/oauth2/v1/keys"]
        let authorizer = try await RequestAuthorizer.start(
            environment: environment, logger: Logger(label: "test"), get: provider(good))
        #expect(
            asked.withLock { $0 } == [
                "https://auth.staging.example.com/.well-known/openid-configuration",
                "https://keys.example.com/oauth2/v1/keys",
            ])
        let token = try Self.token(alg: "ES256", claims: ["exp": 4_102_444_800])
        let allowed = try #require(answer(await authorizer.decide(Self.event(token))))
        #expect(statement(allowed)?["Effect"] == "Allow")
        let refused: [JSONValue] = [
            ["issuer": "https://evil.example.com/", "jwks_uri": "https://keys.example.com/keys"],
            ["issuer": .string(Self.issuer), "jwks_uri": "http://keys.example.com/keys"],
            ["issuer": .string(Self.issuer)],
        ]
        for metadata in refused {
            await #expect(throws: JWTAuthorizer.KeyError.self) {
                _ = try await RequestAuthorizer.start(
                    environment: environment, logger: Logger(label: "test"), get: provider(metadata))
            }
        }
        asked.withLock { $0 = [] }
        _ = try await RequestAuthorizer.start(
            environment: environment.merging(["JWKS_URL": "https://keys.example.com/jwks"]) { $1 },
            logger: Logger(label: "test"), get: provider(good))
        #expect(asked.withLock { $0 } == ["https://keys.example.com/jwks"])
    }

    @Test func theConfigurationComesFromTheEnvironmentOrSaysWhatIsWrong() throws {
        let good = [
            "JWT_ISSUER": Self.issuer, "JWT_AUDIENCE": "swiftapi-staging, other",
            "ROUTE_SCOPES": #"{"GET /users/{id}":["users.read"],"POST /items":[]}"#,
        ]
        let configuration = try AuthorizerConfiguration(environment: good)
        #expect(configuration.audiences == ["swiftapi-staging", "other"])
        #expect(configuration.jwksURL == nil)
        #expect(configuration.discoveryURL == "https://auth.staging.example.com/.well-known/openid-configuration")
        #expect(configuration.routeScopes == ["GET /users/{id}": ["users.read"], "POST /items": []])
        let bad: [([String: String], String)] = [
            (good.merging(["JWT_ISSUER": "http://auth.example.com/"]) { $1 }, "JWT_ISSUER"),
            (good.merging(["JWT_AUDIENCE": " , "]) { $1 }, "JWT_AUDIENCE"),
            (good.merging(["JWKS_URL": "http://auth.example.com/jwks"]) { $1 }, "JWKS_URL"),
            (good.merging(["ROUTE_SCOPES": #"{"GET /x":"users.read"}"#]) { $1 }, "ROUTE_SCOPES"),
            (good.filter { $0.key != "ROUTE_SCOPES" }, "ROUTE_SCOPES"),
        ]
        for (environment, named) in bad {
            #expect {
                _ = try AuthorizerConfiguration(environment: environment)
            } throws: { error in
                "\(error)".hasPrefix(named)
            }
        }
    }
}
