import EventSources
import JSONCoding
import Testing

/// The stream event source mapping's rules, from the Lambda Developer Guide: "Parameters for
/// DynamoDB event source mappings" (services-ddb-params.html), "Configuring error handling for
/// DynamoDB event sources" (services-dynamodb-errors.html), "Configuring partial batch response
/// with DynamoDB and Lambda" (services-ddb-batchfailurereporting.html) and "Using AWS Lambda with
/// Amazon DynamoDB" (with-ddb.html, the invocation record).
@Suite struct StreamMappingTests {
    static func records(_ numbers: ClosedRange<Int>, at arrival: Int64 = 0) -> [StreamMapping.Record] {
        numbers.map {
            StreamMapping.Record(
                sequenceNumber: "\(100 + $0)", arrivalMilliseconds: arrival, payload: ["n": .number("\($0)")])
        }
    }

    static func sequences(_ step: StreamMapping.Step) -> [String] {
        guard case .invoke(let batch) = step else { return [] }
        return batch.map(\.sequenceNumber)
    }

    static func failures(_ sequences: String...) -> StreamMapping.Outcome {
        .answered(["batchItemFailures": .array(sequences.map { ["itemIdentifier": .string($0)] })])
    }

    @Test func settingsHoldLambdasRanges() throws {
        let defaults = try StreamMappingSettings()
        #expect(defaults.batchSize == 100 && defaults.batchingWindowSeconds == 0)
        #expect(defaults.maximumRetryAttempts == -1 && defaults.maximumRecordAgeSeconds == -1)
        for invalid in [
            { try StreamMappingSettings(batchSize: 0) }, { try StreamMappingSettings(batchSize: 10_001) },
            { try StreamMappingSettings(batchingWindowSeconds: 301) },
            { try StreamMappingSettings(maximumRetryAttempts: -2) },
            { try StreamMappingSettings(maximumRecordAgeSeconds: 59) },
        ] as [() throws -> StreamMappingSettings] {
            #expect(throws: StreamMappingError.self) { try invalid() }
        }
    }

    /// Batches of the batch size, in stream order; the next only when the previous is done.
    @Test func batchesGoInOrderOneAtATime() throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings(batchSize: 2))
        mapping.receive(Self.records(1...5), now: 0)
        #expect(Self.sequences(mapping.next(now: 0)) == ["101", "102"])
        #expect(Self.sequences(mapping.next(now: 0)) == ["101", "102"], "the same batch until it is finished")
        #expect(mapping.finish(.answered(nil), now: 1) == nil)
        #expect(Self.sequences(mapping.next(now: 1)) == ["103", "104"])
        _ = mapping.finish(.answered(nil), now: 2)
        #expect(Self.sequences(mapping.next(now: 2)) == ["105"])
        _ = mapping.finish(.answered(nil), now: 3)
        #expect(mapping.next(now: 3) == .wait(until: nil))
    }

    /// "the next batching window begins as soon as the previous function invocation completes";
    /// a full batch does not wait for it.
    @Test func aBatchingWindowGathersRecordsUntilItCloses() throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings(batchSize: 3, batchingWindowSeconds: 5))
        mapping.receive(Self.records(1...2), now: 1_000)
        #expect(mapping.next(now: 1_000) == .wait(until: 6_000))
        #expect(mapping.next(now: 4_000) == .wait(until: 6_000), "the window does not move")
        mapping.receive(Self.records(3...3), now: 2_000)
        #expect(Self.sequences(mapping.next(now: 2_000)) == ["101", "102", "103"], "full: sent at once")
        _ = mapping.finish(.answered(nil), now: 2_500)
        mapping.receive(Self.records(4...4), now: 3_000)
        #expect(mapping.next(now: 3_000) == .wait(until: 7_500))
        #expect(Self.sequences(mapping.next(now: 7_500)) == ["104"])
        var fresh = StreamMapping(settings: try StreamMappingSettings(batchSize: 3, batchingWindowSeconds: 5))
        fresh.receive(Self.records(1...1), now: 1_000)
        #expect(Self.sequences(fresh.next(now: 6_000)) == ["101"], "a first window closes too")
    }

    /// With neither limit set, a failing batch is retried until its records are as old as the
    /// stream keeps them: 24 hours.
    @Test func withoutLimitsAFailingBatchLastsAsLongAsTheStreamKeepsIt() throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings())
        mapping.receive(Self.records(1...1, at: 0), now: 0)
        _ = mapping.next(now: 0)
        _ = mapping.finish(.functionError("Boom"), now: 1)
        #expect(Self.sequences(mapping.next(now: 86_400_000)) == ["101"])
        _ = mapping.finish(.functionError("Boom"), now: 86_400_001)
        guard case .discard(let discarded) = mapping.next(now: 86_400_001) else {
            Issue.record("expected the batch to be discarded after 24 hours")
            return
        }
        #expect(discarded.condition == .recordAgeExceeded)
    }

    /// A failed batch is retried whole, and the shard waits for it, until the retries are used up;
    /// then it is discarded and the shard moves on.
    @Test func aFailedBatchIsRetriedUntilItsRetriesAreUsedUp() throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings(batchSize: 2, maximumRetryAttempts: 2))
        mapping.receive(Self.records(1...3), now: 0)
        for attempt in 1...2 {
            #expect(Self.sequences(mapping.next(now: Int64(attempt))) == ["101", "102"])
            #expect(mapping.finish(.functionError("Boom"), now: Int64(attempt)) == nil)
        }
        #expect(Self.sequences(mapping.next(now: 3)) == ["101", "102"])
        let finished = mapping.finish(.functionError("Boom"), now: 3)
        let discarded = try #require(finished)
        #expect(discarded.records.map(\.sequenceNumber) == ["101", "102"])
        #expect(discarded.condition == .retryAttemptsExhausted && discarded.invocations == 3)
        #expect(Self.sequences(mapping.next(now: 4)) == ["103"])
    }

    /// With retries unbounded (-1), a failing batch is retried until a record is older than the
    /// maximum age.
    @Test func aBatchOlderThanTheMaximumAgeIsDiscarded() throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings(maximumRecordAgeSeconds: 60))
        mapping.receive(Self.records(1...2, at: 0), now: 0)
        #expect(Self.sequences(mapping.next(now: 0)) == ["101", "102"])
        _ = mapping.finish(.functionError("Boom"), now: 30_000)
        #expect(Self.sequences(mapping.next(now: 60_000)) == ["101", "102"])
        _ = mapping.finish(.functionError("Boom"), now: 60_001)
        guard case .discard(let discarded) = mapping.next(now: 60_001) else {
            Issue.record("expected the batch to be discarded")
            return
        }
        #expect(discarded.condition == .recordAgeExceeded && discarded.records.count == 2 && discarded.invocations == 2)
        #expect(mapping.next(now: 60_001) == .wait(until: nil))
    }

    /// Bisect splits a failed batch in two and retries each; "Splitting batches doesn't consume the
    /// retry quota", so the bad record alone gets the one retry, and only it is discarded.
    @Test func bisectingIsolatesTheBadRecord() throws {
        var mapping = StreamMapping(
            settings: try StreamMappingSettings(batchSize: 4, maximumRetryAttempts: 1, bisectOnFunctionError: true))
        mapping.receive(Self.records(1...4), now: 0)
        #expect(Self.sequences(mapping.next(now: 0)) == ["101", "102", "103", "104"])
        #expect(mapping.finish(.functionError("Bad"), now: 1) == nil)
        #expect(Self.sequences(mapping.next(now: 1)) == ["101", "102"])
        #expect(mapping.finish(.functionError("Bad"), now: 2) == nil)
        for now in Int64(2)...3 {
            #expect(Self.sequences(mapping.next(now: now)) == ["101"])
            if now == 2 { #expect(mapping.finish(.functionError("Bad"), now: now) == nil, "its one retry") }
        }
        let finished = mapping.finish(.functionError("Bad"), now: 3)
        let discarded = try #require(finished)
        #expect(discarded.records.map(\.sequenceNumber) == ["101"] && discarded.invocations == 2)
        #expect(Self.sequences(mapping.next(now: 3)) == ["102"])
        _ = mapping.finish(.answered(nil), now: 4)
        #expect(Self.sequences(mapping.next(now: 4)) == ["103", "104"])
    }

    /// Partial batch responses: "Lambda uses the record with the lowest sequence number as the
    /// checkpoint"; the records before it are done and not delivered again.
    @Test func aPartialBatchResponseRetriesFromTheLowestFailedRecord() throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings(batchSize: 5, reportBatchItemFailures: true))
        mapping.receive(Self.records(1...6), now: 0)
        #expect(Self.sequences(mapping.next(now: 0)) == ["101", "102", "103", "104", "105"])
        #expect(mapping.finish(Self.failures("105", "103"), now: 1) == nil)
        #expect(Self.sequences(mapping.next(now: 1)) == ["103", "104", "105"])
        _ = mapping.finish(.answered(["batchItemFailures": []]), now: 2)
        #expect(Self.sequences(mapping.next(now: 2)) == ["106"])
    }

    /// "An empty batchItemFailure list", "A null batchItemFailure list", "An empty EventResponse",
    /// "A null EventResponse" are a complete success; "An empty string itemIdentifier", "A null
    /// itemIdentifier", "An itemIdentifier with a bad key name" a complete failure.
    @Test(
        arguments: [
            (JSONValue.object(["batchItemFailures": []]), true), (["batchItemFailures": nil], true), ([:], true),
            (nil, true),
            (["batchItemFailures": [["itemIdentifier": ""]]], false),
            (["batchItemFailures": [["itemIdentifier": nil]]], false),
            (["batchItemFailures": [["itemId": "101"]]], false),
            (["batchItemFailures": [["itemIdentifier": "999"]]], false),
        ] as [(JSONValue?, Bool)])
    func responsesThatMeanSuccessOrFailure(answer: JSONValue?, succeeded: Bool) throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings(batchSize: 2, reportBatchItemFailures: true))
        mapping.receive(Self.records(1...3), now: 0)
        _ = mapping.next(now: 0)
        _ = mapping.finish(.answered(answer), now: 1)
        #expect(Self.sequences(mapping.next(now: 1)) == (succeeded ? ["103"] : ["101", "102"]))
    }

    /// Without ReportBatchItemFailures the function's answer is not read: a success is a success.
    @Test func anAnswerIsNotReadUnlessPartialResponsesAreOn() throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings(batchSize: 2))
        mapping.receive(Self.records(1...3), now: 0)
        _ = mapping.next(now: 0)
        _ = mapping.finish(Self.failures("101"), now: 1)
        #expect(Self.sequences(mapping.next(now: 1)) == ["103"])
    }

    /// The failure destination gets where the batch was, not its records (with-ddb.html's example).
    @Test func theInvocationRecordDescribesTheDiscardedBatch() throws {
        var mapping = StreamMapping(settings: try StreamMappingSettings(batchSize: 2, maximumRetryAttempts: 0))
        mapping.receive(Self.records(1...2, at: 1_573_690_399_000), now: 0)
        _ = mapping.next(now: 0)
        let finished = mapping.finish(.functionError("Boom"), now: 1)
        let discarded = try #require(finished)
        let record = discarded.invocationRecord(
            requestID: "r-1", functionARN: "arn:aws:lambda:local:000000000000:function:items", shardID: "shardId-1",
            streamARN: "arn:aws:dynamodb:local:000000000000:table/items/stream/x",
            timestampMilliseconds: 1_573_690_429_717)
        #expect(record["requestContext"]?["condition"] == "RetryAttemptsExhausted")
        #expect(record["requestContext"]?["approximateInvokeCount"] == .number("1"))
        #expect(record["responseContext"]?["functionError"] == "Unhandled")
        #expect(record["timestamp"] == "2019-11-14T00:13:49.717Z")
        let info = try #require(record["DDBStreamBatchInfo"])
        #expect(info["startSequenceNumber"] == "101" && info["endSequenceNumber"] == "102")
        #expect(
            info["batchSize"] == .number("2") && info["approximateArrivalOfFirstRecord"] == "2019-11-14T00:13:19.000Z")
        #expect(
            info["shardId"] == "shardId-1"
                && info["streamArn"] == "arn:aws:dynamodb:local:000000000000:table/items/stream/x")
        #expect(!record.jsonString.contains("\"n\""), "the records themselves are not sent")
    }
}
