import AWSCore
import Foundation
import JSONCoding
import Testing

@Suite struct SigV4Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func sha256Vectors(input: String, digest: String) {
        #expect(hex(SHA256.hash(Array(input.utf8))) == digest)
    }

    @Test func sha256OfAMillionAs() {
        #expect(
            hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hmacRFC4231Case2() {
        #expect(
            hex(HMAC.sha256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// Generates requests across methods, odd paths, repeated and encoded query keys, header
    /// case and whitespace, session tokens and bodies, and compares every signature with botocore's.
    @Test func signaturesMatchBotocore() async throws {
        var generator = SeededGenerator(seed: 20_261_123)
        let pathPieces = [
            "users", "a b", "%2F", "~tilde", "..", ".", "", "caf%C3%A9", "x!$&'()*+,;=:@", "UPPER", "-_.",
        ]
        let queryPieces = ["a", "b", "a", "%20", "key%3D", "Z", "empty", "x~y", "1"]
        var cases: [JSONValue] = []
        var requests: [(SigV4Signer, SignableRequest, Int64)] = []
        for i in 0..<300 {
            let method = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"].randomElement(using: &generator)!
            let segments = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                pathPieces.randomElement(using: &generator)!
            }
            var path = "/" + segments.joined(separator: "/")
            if Bool.random(using: &generator) { path += "/" }
            let query = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                let key = queryPieces.randomElement(using: &generator)!
                return Bool.random(using: &generator)
                    ? "\(key)=\(queryPieces.randomElement(using: &generator)!)" : "\(key)="
            }.joined(separator: "&")
            var headers: [(name: String, value: String)] = [("Content-Type", "application/x-amz-json-1.0")]
            if Bool.random(using: &generator) { headers.append(("X-Amz-Target", "DynamoDB_20120810.PutItem")) }
            if Bool.random(using: &generator) { headers.append(("X-Custom-Header", "  spaced   value\twith  tabs ")) }
            if Bool.random(using: &generator) { headers.append(("x-MIXED-case", "Value")) }
            if Bool.random(using: &generator) { headers.append(("User-Agent", "ignored/1.0")) }
            let body = (0..<Int.random(in: 0...200, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let port: Int? = [nil, 443, 8000, 4566].randomElement(using: &generator)!
            let scheme = port == 8000 ? "http" : "https"
            let credentials = AWSCredentials(
                accessKeyID: "AKIDEXAMPLE\(i)", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\(i)",
                sessionToken: Bool.random(using: &generator) ? "FwoGZXIvYXdzEBYaD\(i)+token/with=chars" : nil)
            let region = ["us-east-1", "eu-west-1", "ap-southeast-2"].randomElement(using: &generator)!
            let service = ["dynamodb", "lambda", "execute-api"].randomElement(using: &generator)!
            let epoch = Int64.random(in: 1_600_000_000...1_900_000_000, using: &generator)
            let host = "dynamodb.\(region).amazonaws.com"
            let request = SignableRequest(
                method: method, scheme: scheme, host: host, port: port, path: path, query: query, headers: headers,
                body: body)
            requests.append((SigV4Signer(credentials: credentials, region: region, service: service), request, epoch))
            var url = "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")\(path)"
            if !query.isEmpty { url += "?\(query)" }
            cases.append([
                "method": .string(method), "url": .string(url),
                "headers": .array(headers.map { [.string($0.name), .string($0.value)] }),
                "body": .string(Base64.encode(body)), "accessKey": .string(credentials.accessKeyID),
                "secretKey": .string(credentials.secretAccessKey),
                "sessionToken": credentials.sessionToken.map(JSONValue.string) ?? .null,
                "region": .string(region), "service": .string(service), "epochSeconds": .number(String(epoch)),
            ])
        }
        let script = TestSupport.testsDirectory.appendingPathComponent("Scripts/sigv4_reference.py").path
        let result = try TestSupport.run(
            [TestSupport.python, script], input: Data(JSONValue.array(cases).serialized()))
        try #require(result.status == 0, "botocore reference failed: \(result.error)")
        let expected = try #require(try JSONValue.parse(result.output).arrayValue)
        try #require(expected.count == requests.count)
        var mismatches = 0
        for (i, (signer, request, epoch)) in requests.enumerated() {
            var signed = request
            signer.sign(&signed, epochSeconds: epoch)
            let authorization = signed.headers.first { $0.name == "Authorization" }?.value
            if authorization != expected[i].stringValue {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record(
                        "case \(i) \(request.method) \(request.path)?\(request.query): ours \(authorization ?? "-") botocore \(expected[i])"
                    )
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(requests.count) signatures differ from botocore")
    }
}

/// A deterministic generator (SplitMix64) so a failing case can be reproduced.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
