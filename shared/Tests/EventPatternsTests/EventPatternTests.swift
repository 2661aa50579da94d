import EventPatterns
import JSONCoding
import Testing

/// EventBridge's matching rules, case by case. The oracle: the EventBridge User Guide's pages
/// "Creating event patterns" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html),
/// "Content filtering" (…/eb-event-patterns-content-based-filtering.html), "Arrays in event patterns"
/// (…/eb-event-patterns-arrays.html) and "Matching null values and empty strings"
/// (…/eb-event-patterns-null-values.html); where they are silent, the README of aws/event-ruler,
/// the library EventBridge matches with (named "event-ruler" below).
@Suite struct EventPatternTests {
    static let ec2: JSONValue = try! JSONValue.parse(
        """
        {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "EC2 Instance State-change Notification",
         "source": "aws.ec2", "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
         "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
         "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}}
        """)

    func matches(_ pattern: String, _ event: JSONValue) throws -> Bool {
        try EventPattern(json: pattern).matches(event)
    }

    func matches(_ pattern: String, detail: String) throws -> Bool {
        try matches(pattern, ["source": "orders", "detail": try JSONValue.parse(detail)])
    }

    /// "Creating event patterns": the EC2 example; every field the pattern names must match, the
    /// others are ignored.
    @Test func theGuidesExampleSelectsByEveryNamedField() throws {
        let pattern = """
            {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
             "detail": {"state": ["terminated"]}}
            """
        #expect(try matches(pattern, Self.ec2))
        #expect(try !matches(#"{"source": ["aws.ec2"], "detail": {"state": ["running"]}}"#, Self.ec2))
        #expect(try !matches(#"{"source": ["aws.s3"]}"#, Self.ec2))
        #expect(try matches(#"{"detail": {"state": ["pending", "terminated"]}}"#, Self.ec2), "any value of the list")
        #expect(try !matches(#"{"detail": {"missing": ["x"]}}"#, Self.ec2), "a named field must be there")
    }

    /// "Matching is exact, character by character, without case folding"; a value's type counts;
    /// "300, 300.0, and 3.0e2 are not considered equal".
    @Test func valuesMatchExactlyTypeIncluded() throws {
        #expect(try matches(#"{"detail": {"n": [5]}}"#, detail: #"{"n": 5}"#))
        #expect(try !matches(#"{"detail": {"n": ["5"]}}"#, detail: #"{"n": 5}"#))
        #expect(try !matches(#"{"detail": {"b": ["true"]}}"#, detail: #"{"b": true}"#))
        #expect(try matches(#"{"detail": {"b": [true]}}"#, detail: #"{"b": true}"#))
        #expect(try !matches(#"{"detail": {"n": [300]}}"#, detail: #"{"n": 300.0}"#))
        #expect(try !matches(#"{"detail": {"s": ["Alice"]}}"#, detail: #"{"s": "alice"}"#))
        #expect(
            try !matches(#"{"detail": {"s": ["caf\u00e9"]}}"#, detail: #"{"s": "cafe\u0301"}"#),
            "code by code, not canonically")
        #expect(try matches(#"{"detail": {"s": [{"prefix": "cafe"}]}}"#, detail: #"{"s": "cafe\u0301"}"#))
    }

    /// "Matching null values and empty strings": null and "" are not interchangeable.
    @Test func nullAndTheEmptyStringAreDifferentValues() throws {
        #expect(try matches(#"{"detail": {"id": [null]}}"#, detail: #"{"id": null}"#))
        #expect(try !matches(#"{"detail": {"id": [null]}}"#, detail: #"{"id": ""}"#))
        #expect(try matches(#"{"detail": {"id": [""]}}"#, detail: #"{"id": ""}"#))
        #expect(try !matches(#"{"detail": {"id": [""]}}"#, detail: #"{"id": null}"#))
    }

    /// "Arrays in event patterns": an array in the event matches when it shares a value with the
    /// pattern's list; event-ruler: the fields of one sub-pattern match within one array element.
    @Test func arraysMatchByIntersectionAndObjectsWithinOneElement() throws {
        #expect(
            try matches(
                #"{"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0", "x"]}"#, Self.ec2))
        #expect(try matches(#"{"detail": {"tags": ["b"]}}"#, detail: #"{"tags": ["a", ["b"]]}"#))
        #expect(try !matches(#"{"detail": {"tags": ["c"]}}"#, detail: #"{"tags": ["a", "b"]}"#))
        let employees =
            #"{"employees": [{"firstName": "Anna", "lastName": "Smith"}, {"firstName": "Peter", "lastName": "Jones"}]}"#
        #expect(
            try matches(
                #"{"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}}"#, detail: employees))
        #expect(
            try !matches(
                #"{"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}}"#, detail: employees))
    }

    /// "Content filtering": prefix, suffix, each also ignoring case; equals-ignore-case; all on strings only.
    @Test func prefixSuffixAndCaseInsensitiveEquality() throws {
        #expect(try matches(#"{"time": [{"prefix": "2017-12-22"}]}"#, Self.ec2))
        #expect(try !matches(#"{"time": [{"prefix": "2017-10-02"}]}"#, Self.ec2))
        #expect(
            try matches(
                #"{"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}"#,
                detail: #"{"service": "eventbridge"}"#))
        #expect(try matches(#"{"detail": {"file": [{"suffix": ".png"}]}}"#, detail: #"{"file": "a/b.png"}"#))
        #expect(try !matches(#"{"detail": {"file": [{"suffix": ".png"}]}}"#, detail: #"{"file": "a/b.PNG"}"#))
        #expect(
            try matches(
                #"{"detail": {"file": [{"suffix": {"equals-ignore-case": ".png"}}]}}"#, detail: #"{"file": "a/b.PNG"}"#)
        )
        #expect(try matches(#"{"detail": {"name": [{"equals-ignore-case": "alice"}]}}"#, detail: #"{"name": "ALICE"}"#))
        #expect(try !matches(#"{"detail": {"n": [{"prefix": "1"}]}}"#, detail: #"{"n": 12}"#), "a number is no string")
    }

    /// "Content filtering": wildcard; event-ruler: no two stars in a row, `\*` and `\\` escapes only.
    @Test func wildcards() throws {
        let png = #"{"detail": {"file": [{"wildcard": "dir/*.png"}]}}"#
        #expect(try matches(png, detail: #"{"file": "dir/a.png"}"#))
        #expect(try matches(png, detail: #"{"file": "dir/.png"}"#), "a star may stand for nothing")
        #expect(try matches(png, detail: #"{"file": "dir/sub/a.png"}"#))
        #expect(try !matches(png, detail: #"{"file": "other/a.png"}"#))
        #expect(try matches(#"{"detail": {"f": [{"wildcard": "*a*b*"}]}}"#, detail: #"{"f": "xaybz"}"#))
        #expect(try !matches(#"{"detail": {"f": [{"wildcard": "*a*b*"}]}}"#, detail: #"{"f": "xbya"}"#))
        #expect(try matches(#"{"detail": {"f": [{"wildcard": "a\\*b"}]}}"#, detail: #"{"f": "a*b"}"#))
        #expect(try !matches(#"{"detail": {"f": [{"wildcard": "a\\*b"}]}}"#, detail: #"{"f": "axb"}"#))
        #expect(throws: EventPatternError.self) { try EventPattern(json: #"{"f": [{"wildcard": "a**b"}]}"#) }
        #expect(throws: EventPatternError.self) { try EventPattern(json: #"{"f": [{"wildcard": "a\\nb"}]}"#) }
    }

    /// "Content filtering": anything-but, with a value, a list of strings or of numbers, or a prefix,
    /// suffix, equals-ignore-case or wildcard. event-ruler: a missing field is not "anything but".
    @Test func anythingBut() throws {
        let state = #"{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}"#
        #expect(try matches(state, detail: #"{"state": "running"}"#))
        #expect(try !matches(state, detail: #"{"state": "stopped"}"#))
        #expect(try !matches(state, detail: #"{}"#), "no value, nothing to be anything but")
        #expect(try matches(state, detail: #"{"state": ["stopped", "running"]}"#), "one element left is enough")
        #expect(try !matches(#"{"detail": {"n": [{"anything-but": [100, 200]}]}}"#, detail: #"{"n": 100.0}"#))
        #expect(
            try matches(#"{"detail": {"n": [{"anything-but": 100}]}}"#, detail: #"{"n": "100"}"#),
            "another type is not excluded")
        #expect(
            try !matches(
                #"{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}"#, detail: #"{"state": "initializing"}"#
            ))
        #expect(
            try matches(
                #"{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}"#, detail: #"{"state": "running"}"#))
        #expect(try !matches(#"{"detail": {"f": [{"anything-but": {"suffix": ".txt"}}]}}"#, detail: #"{"f": "a.txt"}"#))
        #expect(
            try !matches(
                #"{"detail": {"s": [{"anything-but": {"equals-ignore-case": ["Stopped"]}}]}}"#,
                detail: #"{"s": "STOPPED"}"#))
        #expect(
            try !matches(
                #"{"detail": {"f": [{"anything-but": {"wildcard": "*/lib/*"}}]}}"#, detail: #"{"f": "/usr/lib/x"}"#))
        #expect(throws: EventPatternError.self) { try EventPattern(json: #"{"s": [{"anything-but": ["a", 1]}]}"#) }
        #expect(throws: EventPatternError.self) {
            try EventPattern(json: #"{"s": [{"anything-but": {"prefix": ""}}]}"#)
        }
    }

    /// "Content filtering": numeric matching on JSON numbers, from -5.0e9 to 5.0e9.
    @Test func numericRanges() throws {
        let range = #"{"detail": {"c": [{"numeric": [">", 0, "<=", 5]}]}}"#
        #expect(try matches(range, detail: #"{"c": 5}"#))
        #expect(try matches(range, detail: #"{"c": 0.5}"#))
        #expect(try !matches(range, detail: #"{"c": 0}"#))
        #expect(try !matches(range, detail: #"{"c": 5.01}"#))
        #expect(try !matches(range, detail: #"{"c": "3"}"#), "a string is no number")
        #expect(
            try matches(#"{"detail": {"c": [{"numeric": ["=", 300]}]}}"#, detail: #"{"c": 3.0e2}"#),
            "numeric = compares values")
        #expect(try matches(#"{"detail": {"c": [{"numeric": ["<", 10]}]}}"#, detail: #"{"c": [20, 3]}"#))
        for invalid in [
            #"["<", 5, ">", 1]"#, #"["!=", 1]"#, #"[">", "1"]"#, #"[">", 6e9]"#, #"[">", 1.1234567]"#, #"[">"]"#,
        ] {
            #expect(throws: EventPatternError.self, "\(invalid)") {
                try EventPattern(json: #"{"c": [{"numeric": \#(invalid)}]}"#)
            }
        }
    }

    /// "Content filtering": exists, on leaf fields; event-ruler: null is a value, an empty array
    /// none, and an object no leaf.
    @Test func existence() throws {
        let present = #"{"detail": {"p": [{"exists": true}]}}"#
        let absent = #"{"detail": {"p": [{"exists": false}]}}"#
        #expect(try matches(present, detail: #"{"p": "x"}"#))
        #expect(try matches(present, detail: #"{"p": null}"#))
        #expect(try !matches(present, detail: #"{"q": 1}"#))
        #expect(try matches(absent, detail: #"{"q": 1}"#))
        #expect(try matches(absent, detail: #"{"p": []}"#))
        #expect(try matches(absent, detail: #"{"p": {"nested": 1}}"#))
        #expect(try matches(#"{"extra": {"p": [{"exists": false}]}}"#, Self.ec2), "no parent, no field")
    }

    /// "Content filtering": IP address matching, IPv4 and IPv6, by CIDR block.
    @Test func addressesByCIDRBlock() throws {
        let v4 = #"{"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}"#
        #expect(try matches(v4, detail: #"{"ip": "10.0.0.255"}"#))
        #expect(try !matches(v4, detail: #"{"ip": "10.0.1.0"}"#))
        #expect(try !matches(v4, detail: #"{"ip": "::ffff:10.0.0.1"}"#), "an IPv6 address is not in an IPv4 block")
        let v6 = #"{"detail": {"ip": [{"cidr": "2001:db8::/32"}]}}"#
        #expect(try matches(v6, detail: #"{"ip": "2001:db8:ffff::1"}"#))
        #expect(try !matches(v6, detail: #"{"ip": "2001:db9::1"}"#))
        #expect(try !matches(v6, detail: #"{"ip": "not an address"}"#))
        #expect(throws: EventPatternError.self) { try EventPattern(json: #"{"ip": [{"cidr": "10.0.0.0/33"}]}"#) }
        #expect(throws: EventPatternError.self) { try EventPattern(json: #"{"ip": [{"cidr": "10.0.0.0/+8"}]}"#) }
        #expect(try !matches(v4, detail: #"{"ip": "+10.0.0.1"}"#), "a sign is no digit")
    }

    /// "Content filtering": `$or` between patterns, at any level, each alternative a whole pattern.
    @Test func alternatives() throws {
        let either = #"{"detail": {"$or": [{"c": [{"numeric": [">", 10]}]}, {"d": ["yes"]}]}}"#
        #expect(try matches(either, detail: #"{"c": 11}"#))
        #expect(try matches(either, detail: #"{"c": 1, "d": "yes"}"#))
        #expect(try !matches(either, detail: #"{"c": 1, "d": "no"}"#))
        let top = #"{"source": ["orders"], "$or": [{"detail-type": ["a"]}, {"detail": {"x": [1]}}]}"#
        #expect(try matches(top, ["source": "orders", "detail-type": "b", "detail": ["x": 1]]))
        #expect(try !matches(top, ["source": "orders", "detail-type": "b", "detail": ["x": 2]]))
        #expect(throws: EventPatternError.self) { try EventPattern(json: #"{"$or": [{"a": [1]}]}"#) }
    }

    /// What EventBridge refuses as an invalid pattern, each in one sentence naming its place.
    @Test(arguments: [
        (#"["a"]"#, "a pattern must be a JSON object"),
        (#"{"source": "aws.ec2"}"#, #""source" must be an object or an array, not a string"#),
        (#"{"source": []}"#, #""source" is an empty array"#),
        (#"{"detail": {}}"#, #""detail" is an empty object"#),
        (#"{"detail": {"x": [{"regex": "a"}]}}"#, #""detail.x": unknown comparison "regex""#),
        (#"{"x": [{"prefix": "a", "suffix": "b"}]}"#, "takes exactly one"),
        (#"{"x": [[1]]}"#, "lists an array"),
        (#"{"x": [{"exists": "yes"}]}"#, "exists takes true or false"),
        ("{nope", "the pattern is not JSON"),
    ])
    func invalidPatternsAreRefused(pattern: String, fragment: String) {
        #expect {
            try EventPattern(json: pattern)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("invalid event pattern: ") && text.contains(fragment)
        }
    }
}
