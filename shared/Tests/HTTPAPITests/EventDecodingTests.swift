import HTTPAPI
import JSONCoding
import Testing

@Suite struct EventDecodingTests {
    @Test func httpAPIv2WithJWTAuthorizer() throws {
        let request = try HTTPRequest(event: Fixtures.event("httpapi-v2-jwt"))
        #expect(request.source == .httpAPI)
        #expect(request.method == "PUT")
        #expect(request.rawPath == "/users/u%2F42")
        #expect(request.routeKey == "PUT /users/{id}")
        #expect(request.pathParameters == ["id": "u/42"])
        // Repeated query keys come from rawQueryString, in order; + is a space in a query.
        #expect(request.query.values("tag") == ["a", "b"])
        #expect(request.query["q"] == "hello world")
        #expect(request.query["plus"] == "1 2")
        // Headers are case-insensitive.
        #expect(request.headers["Content-Type"] == "application/json; charset=utf-8")
        #expect(request.headers["X-MULTI"] == "one,two")
        #expect(request.cookies == ["session=abc123", "theme=dark"])
        #expect(request.cookie("theme") == "dark")
        #expect(request.cookie("missing") == nil)
        #expect(request.stageVariables == ["tableSuffix": "staging"])
        #expect(request.requestID == "JKJaXmPLvHcESHA=")
        #expect(request.sourceIP == "203.0.113.9")
        #expect(request.bodyText == #"{"name":"Ada Lovelace","age":36}"#)
        guard case .jwt(let claims, let scopes) = request.authorizer else {
            Issue.record("expected a JWT authorizer, got \(String(describing: request.authorizer))")
            return
        }
        #expect(claims["email"] == "ada@example.com")
        #expect(scopes == ["users.write", "users.read"])
        #expect(request.authorizer?.claim("sub") == "user-42")
        #expect(request.authorizer?.claim("iat") == "1700000000")
        #expect(request.authorizer?.claim("email_verified") == "true")
    }

    @Test func lambdaAuthorizerAndBase64Body() throws {
        let request = try HTTPRequest(event: Fixtures.event("httpapi-v2-lambda-authorizer-binary"))
        #expect(request.body == [0x00, 0x01, 0x02, 0xFD, 0xFE, 0xFF])
        #expect(request.authorizer == .lambda(["tenant": "acme", "plan": "gold", "limits": ["rps": 10]]))
        #expect(request.authorizer?.claim("tenant") == "acme")
        #expect(request.stage == "prod")
    }

    @Test func iamAuthorizerWithAbsentOptionalMaps() throws {
        let request = try HTTPRequest(event: Fixtures.event("httpapi-v2-iam-minimal"))
        #expect(request.routeKey == nil, "$default is not a route key to dispatch on")
        #expect(request.headers.fields.isEmpty)
        #expect(request.query.isEmpty)
        #expect(request.body.isEmpty)
        guard case .iam(let iam) = request.authorizer else {
            Issue.record("expected IAM")
            return
        }
        #expect(iam["userArn"] == "arn:aws:iam::123456789012:user/Ada")
        #expect(iam["cognitoIdentity"]?["identityId"] == "us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce")
    }

    @Test func functionURL() throws {
        let request = try HTTPRequest(event: Fixtures.event("function-url"))
        #expect(request.source == .functionURL)
        #expect(request.rawPath == "/hello")
        #expect(request.query["name"] == "Ada")
        #expect(request.cookies == ["a=1", "b=2"])
        #expect(request.authorizer == nil)
    }

    @Test func restProxyV1WithCognitoAndMultiValueMaps() throws {
        let request = try HTTPRequest(event: Fixtures.event("rest-v1-cognito"))
        #expect(request.source == .restAPI)
        #expect(request.routeKey == "GET /users/{id}")
        #expect(request.pathParameters == ["id": "42"])
        #expect(request.headers.values("x-multi") == ["first", "second"])
        #expect(request.headers["x-multi"] == "first,second")
        #expect(request.query.values("tag") == ["a", "b"])
        #expect(request.query["q"] == "a b")
        #expect(request.cookies == ["session=abc", "theme=dark"])
        #expect(request.sourceIP == "72.21.198.66")
        #expect(request.stage == "Prod")
        #expect(request.authorizer?.claim("email") == "ada@example.com")
        #expect(request.authorizer?.claim("cognito:username") == "ada")
        #expect(request.body.isEmpty)
    }

    @Test func restProxyV1WithNullMaps() throws {
        let request = try HTTPRequest(event: Fixtures.event("rest-v1-console-test"))
        #expect(request.method == "POST")
        #expect(request.headers.fields.isEmpty)
        #expect(request.pathParameters.isEmpty)
        #expect(request.authorizer == nil)
        #expect(request.bodyText == #"{"name":"x"}"#)
    }

    @Test(arguments: [
        ("[]", "not an object"),
        ("{\"foo\":1}", "not an API Gateway"),
        ("not json", "not JSON"),
        (
            "{\"version\":\"2.0\",\"requestContext\":{\"http\":{\"method\":\"GET\"}},\"body\":\"!!\",\"isBase64Encoded\":true}",
            "not base64"
        ),
    ])
    func rejectsEventsThatAreNotHTTP(event: String, message: String) {
        #expect {
            _ = try HTTPRequest(event: Array(event.utf8))
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
