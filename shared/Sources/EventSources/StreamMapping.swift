import JSONCoding
import Platform

/// Lambda's event source mapping for one DynamoDB stream shard, as a state machine the local
/// runtime drives: it is given the shard's records in order, says what to do next (invoke with a
/// batch, discard one, or wait), and is told how each invocation went. The rules are Lambda's
/// (Lambda Developer Guide: "Using AWS Lambda with Amazon DynamoDB", "Configuring error handling
/// for DynamoDB event sources", "Configuring partial batch response with DynamoDB and Lambda"):
/// - a batch is the next records, up to the batch size and 6 MB, sent when full or when the
///   batching window (opened when the previous invocation completed) has passed;
/// - a failed batch is retried whole, the shard waiting ("the event source mapping pauses
///   processing for the affected shard until the error is resolved"), until it succeeds, a record
///   grows older than the maximum age, or the retries are used up; then it is discarded (reported
///   to the failure destination) and the shard moves on;
/// - with bisect, a failed batch is split in two, each retried in turn, which "doesn't consume the
///   retry quota";
/// - with partial batch responses, "the record with the lowest sequence number" reported is the
///   checkpoint: the records before it are done, the rest are retried; an empty or null list is a
///   success, an empty, null or misnamed itemIdentifier a failure of the whole batch.
public struct StreamMapping: Sendable {
    public struct Record: Sendable, Equatable {
        public let sequenceNumber: String
        /// When the record reached the stream (ApproximateCreationDateTime), in milliseconds.
        public let arrivalMilliseconds: Int64
        public let payload: JSONValue
        let size: Int

        public init(sequenceNumber: String, arrivalMilliseconds: Int64, payload: JSONValue) {
            self.sequenceNumber = sequenceNumber
            self.arrivalMilliseconds = arrivalMilliseconds
            self.payload = payload
            size = payload.serialized().count
        }
    }

    public enum Step: Sendable, Equatable {
        /// Nothing to send before `until` (nil: until records arrive).
        case wait(until: Int64?)
        case invoke([Record])
        /// Records the mapping gives up on; the driver reports them to the failure destination.
        case discard(Discarded)
    }

    /// How an invocation went: the function's answer (nil when it had none), or a function error.
    public enum Outcome: Sendable, Equatable {
        case answered(JSONValue?)
        case functionError(String)
    }

    public enum Condition: String, Sendable {
        case retryAttemptsExhausted = "RetryAttemptsExhausted"
        /// Lambda documents no name for this condition; this is the one local emulators use.
        case recordAgeExceeded = "MaximumRecordAgeExceeded"
    }

    public struct Discarded: Sendable, Equatable {
        public let records: [Record]
        public let condition: Condition
        public let invocations: Int
        public let functionError: String?
    }

    public let settings: StreamMappingSettings
    static let maximumPayloadBytes = 6 * 1024 * 1024

    /// Records not yet done, in stream order.
    var pending: [Record] = []
    /// Sizes of the batches already formed at the head of `pending` (a retried batch, or the two
    /// halves of a bisected one), in order; a fresh batch is formed when there is none.
    var formed: [Int] = []
    /// Failed invocations of the batch at the head since it last made progress.
    var failures = 0
    var lastError: String?
    /// When the current batching window opened (the previous invocation's end).
    var windowOpened: Int64?

    public init(settings: StreamMappingSettings) { self.settings = settings }

    public var backlog: Int { pending.count }

    public mutating func receive(_ records: [Record], now: Int64) {
        // The first records, and records after a quiet spell, open a window of their own.
        if pending.isEmpty, windowOpened.map({ now - $0 >= Int64(settings.batchingWindowSeconds) * 1000 }) ?? true {
            windowOpened = now
        }
        pending += records
    }

    public mutating func next(now: Int64) -> Step {
        guard !pending.isEmpty else { return .wait(until: nil) }
        let size: Int
        if let head = formed.first {
            size = head
        } else {
            var count = 0
            var bytes = 0
            while count < min(settings.batchSize, pending.count),
                bytes + pending[count].size <= Self.maximumPayloadBytes
                    || count == 0
            {
                bytes += pending[count].size
                count += 1
            }
            let opened = windowOpened ?? now
            let closes = opened + Int64(settings.batchingWindowSeconds) * 1000
            if count == pending.count, count < settings.batchSize, bytes < Self.maximumPayloadBytes, now < closes {
                return .wait(until: closes)
            }
            formed = [count]
            size = count
        }
        let batch = Array(pending.prefix(size))
        // -1: as old as the stream keeps records ("The data retention limit for DynamoDB Streams is 24 hours").
        let maximumAge = Int64(settings.maximumRecordAgeSeconds >= 0 ? settings.maximumRecordAgeSeconds : 86_400) * 1000
        if batch.contains(where: { now - $0.arrivalMilliseconds > maximumAge }) {
            return .discard(give(up: size, condition: .recordAgeExceeded))
        }
        return .invoke(batch)
    }

    /// What the invocation of the batch `next` gave came to; the records discarded, if any.
    public mutating func finish(_ outcome: Outcome, now: Int64) -> Discarded? {
        guard let size = formed.first else { return nil }
        windowOpened = now
        switch verdict(outcome, batch: pending.prefix(size)) {
        case .done:
            complete(size)
            return nil
        case .failedFrom(let index):
            if index > 0 {  // a checkpoint: the records before it are done
                complete(index)
                formed.insert(size - index, at: 0)
            } else if case .functionError = outcome, settings.bisectOnFunctionError, size > 1 {
                // Only a failed invocation is halved; an answer naming failures is retried from its
                // checkpoint ("the batch is bisected at the returned sequence number").
                formed.replaceSubrange(0..<1, with: [size / 2, size - size / 2])
                return nil
            }
            if case .functionError(let error) = outcome { lastError = error }
            failures += 1
            if settings.maximumRetryAttempts >= 0, failures > settings.maximumRetryAttempts {
                return give(up: size - index, condition: .retryAttemptsExhausted)
            }
            return nil
        }
    }

    enum Verdict {
        case done
        case failedFrom(Int)
    }

    func verdict(_ outcome: Outcome, batch: ArraySlice<Record>) -> Verdict {
        guard case .answered(let answer) = outcome else { return .failedFrom(0) }
        guard settings.reportBatchItemFailures, let answer, !answer.isNull else { return .done }
        guard case .object(let response) = answer else { return .failedFrom(0) }
        guard let failures = response["batchItemFailures"], !failures.isNull else { return .done }
        guard case .array(let items) = failures else { return .failedFrom(0) }
        var lowest: Int?
        for item in items {
            // An empty, null or misnamed itemIdentifier fails the whole batch; so does one that
            // names no record of it (undocumented: the safe reading).
            guard case .string(let sequence)? = item["itemIdentifier"], !sequence.isEmpty,
                let index = batch.firstIndex(where: { $0.sequenceNumber == sequence })
            else { return .failedFrom(0) }
            lowest = min(lowest ?? index, index)
        }
        return lowest.map { .failedFrom($0 - batch.startIndex) } ?? .done
    }

    mutating func complete(_ count: Int) {
        pending.removeFirst(count)
        formed.removeFirst()
        failures = 0
        lastError = nil
    }

    mutating func give(up count: Int, condition: Condition) -> Discarded {
        let discarded = Discarded(
            records: Array(pending.prefix(count)), condition: condition, invocations: failures, functionError: lastError
        )
        complete(count)
        return discarded
    }
}

extension StreamMapping.Discarded {
    /// What Lambda sends the failure destination: the batch's place in the stream, not its records
    /// (Lambda Developer Guide, "Using AWS Lambda with Amazon DynamoDB", example invocation record).
    public func invocationRecord(
        requestID: String, functionARN: String, shardID: String, streamARN: String, timestampMilliseconds: Int64
    ) -> JSONValue {
        var response: JSONObject = ["statusCode": 200, "executedVersion": "$LATEST"]
        if functionError != nil { response["functionError"] = "Unhandled" }
        func arrival(_ record: StreamMapping.Record?) -> JSONValue {
            .string(WallClock.iso8601(milliseconds: record?.arrivalMilliseconds ?? 0))
        }
        return [
            "requestContext": [
                "requestId": .string(requestID), "functionArn": .string(functionARN),
                "condition": .string(condition.rawValue),
                "approximateInvokeCount": .number(String(invocations)),
            ],
            "responseContext": .object(response),
            "version": "1.0",
            "timestamp": .string(WallClock.iso8601(milliseconds: timestampMilliseconds)),
            "DDBStreamBatchInfo": [
                "shardId": .string(shardID), "startSequenceNumber": .string(records.first?.sequenceNumber ?? ""),
                "endSequenceNumber": .string(records.last?.sequenceNumber ?? ""),
                "approximateArrivalOfFirstRecord": arrival(records.first),
                "approximateArrivalOfLastRecord": arrival(records.last), "batchSize": .number(String(records.count)),
                "streamArn": .string(streamARN),
            ],
        ]
    }
}
