import JSONCoding

/// A case that did not get the expected answer, with everything needed to see why.
public struct ContractFailure: Sendable, CustomStringConvertible {
    public var file: String
    public var caseName: String
    public var differences: [ContractDifference]
    public var message: String?
    public var expected: JSONValue?
    public var actual: JSONValue?

    public var description: String {
        var lines = ["✗ \(file) › \"\(caseName)\""]
        if let message { lines.append("  \(message)") }
        lines += differences.map { "  \($0)" }
        if let expected { lines.append("  expected: \(expected.jsonString)") }
        if let actual { lines.append("  actual:   \(actual.jsonString)") }
        return lines.joined(separator: "\n")
    }
}

public enum ContractRunner {
    /// Replays a scenario's cases in order through `invoke` (the function under test: the handler
    /// in-process, or the packaged bootstrap). Stops at the first failing case, since later cases
    /// build on its captures. Returns the failure, if any.
    public static func run(
        _ scenario: ContractScenario, invoke: (JSONValue) async throws -> [UInt8]
    ) async -> ContractFailure? {
        var captures = ContractCaptures()
        for item in scenario.cases {
            let event: JSONValue
            do { event = try captures.substitute(item.event) } catch {
                return ContractFailure(
                    file: scenario.file, caseName: item.name, differences: [], message: error.description)
            }
            let answer: [UInt8]
            do { answer = try await invoke(event) } catch {
                return ContractFailure(
                    file: scenario.file, caseName: item.name, differences: [],
                    message: "the function failed: \(error)", expected: item.expect)
            }
            let actual = ContractResponse.normalize(answer)
            var matcher = ContractMatcher(captures: captures)
            check(item.expect, against: actual, with: &matcher)
            if !matcher.differences.isEmpty {
                return ContractFailure(
                    file: scenario.file, caseName: item.name, differences: matcher.differences, expected: item.expect,
                    actual: actual)
            }
            captures = matcher.captures
        }
        return nil
    }

    /// Status, the expected headers (others may vary), cookies, base64 flag and the whole body.
    static func check(_ expect: JSONValue, against actual: JSONValue, with matcher: inout ContractMatcher) {
        matcher.compare(expect["statusCode"]!, actual["statusCode"], at: "statusCode")
        // The body before the headers: a Location header uses the id the body captures.
        for key in ["body", "cookies", "isBase64Encoded"] {
            switch (expect[key], actual[key]) {
            case (nil, nil): break
            case (let e?, let a): matcher.compare(e, a, at: key)
            case (nil, let a?):
                matcher.differences.append(.init(path: key, expected: "(absent)", actual: ContractMatcher.show(a)))
            }
        }
        for (name, value) in expect["headers"]?.objectValue ?? JSONObject() {
            matcher.compare(value, actual["headers"]?[name.lowercased()], at: "headers.\(name.lowercased())")
        }
    }

    /// Problems between a service's declared routes and its corpus: a declared route without a
    /// case, or a case for a route the service no longer declares. REST `/{proxy+}` catch-all
    /// cases exercise the handler's own routing and belong to no declared route.
    public static func drift(declaredRoutes: Set<String>, scenarios: [ContractScenario], service: String) -> [String] {
        var covered = Set<String>()
        var problems: [String] = []
        for scenario in scenarios {
            for item in scenario.cases {
                guard let key = ContractScenario.routeKey(of: item.event) else {
                    problems.append(
                        "\(scenario.file) › \"\(item.name)\": the event has neither routeKey nor httpMethod/resource")
                    continue
                }
                if key == "$default" || key.hasSuffix(" /{proxy+}") { continue }
                if declaredRoutes.contains(key) {
                    covered.insert(key)
                } else {
                    problems.append(
                        "\(scenario.file) › \"\(item.name)\": route \(key) is not declared in services/\(service)/service.json "
                            + "(the route was removed or renamed: update or delete the case)")
                }
            }
        }
        for route in declaredRoutes.subtracting(covered).sorted() {
            problems.append(
                "services/\(service): route \(route) has no contract case (record one with make run RECORD=1)")
        }
        return problems
    }
}
