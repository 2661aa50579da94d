/// An event source mapping's settings for a DynamoDB stream, with Lambda's defaults and ranges
/// (Lambda Developer Guide, "Parameters for DynamoDB event source mappings":
/// https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html).
public struct StreamMappingSettings: Sendable, Equatable {
    /// Records per invocation: 1 to 10,000 (default 100).
    public let batchSize: Int
    /// How long to gather records before invoking with fewer than a batch: 0 to 300 s (default 0).
    public let batchingWindowSeconds: Int
    /// Retries of a failed batch: -1 (until its records are too old) or 0 to 10,000 (default -1).
    public let maximumRetryAttempts: Int
    /// How old a record may grow before it is discarded: -1 (the stream's 24 hours) or 60 to
    /// 604,800 s (default -1).
    public let maximumRecordAgeSeconds: Int
    /// Split a failed batch in two and retry each half ("doesn't consume the retry quota").
    public let bisectOnFunctionError: Bool
    /// The function answers which records failed (`batchItemFailures`), FunctionResponseTypes'
    /// `ReportBatchItemFailures`; otherwise its answer is not read.
    public let reportBatchItemFailures: Bool

    public init(
        batchSize: Int = 100, batchingWindowSeconds: Int = 0, maximumRetryAttempts: Int = -1,
        maximumRecordAgeSeconds: Int = -1, bisectOnFunctionError: Bool = false, reportBatchItemFailures: Bool = false
    ) throws(StreamMappingError) {
        guard (1...10_000).contains(batchSize) else {
            throw StreamMappingError("batchSize is 1 to 10000, not \(batchSize)")
        }
        guard (0...300).contains(batchingWindowSeconds) else {
            throw StreamMappingError("batchingWindowSeconds is 0 to 300, not \(batchingWindowSeconds)")
        }
        guard maximumRetryAttempts == -1 || (0...10_000).contains(maximumRetryAttempts) else {
            throw StreamMappingError(
                "maximumRetryAttempts is -1 (until the records expire) or 0 to 10000, not \(maximumRetryAttempts)")
        }
        guard maximumRecordAgeSeconds == -1 || (60...604_800).contains(maximumRecordAgeSeconds) else {
            throw StreamMappingError(
                "maximumRecordAgeSeconds is -1 (the stream's retention) or 60 to 604800, not \(maximumRecordAgeSeconds)"
            )
        }
        self.batchSize = batchSize
        self.batchingWindowSeconds = batchingWindowSeconds
        self.maximumRetryAttempts = maximumRetryAttempts
        self.maximumRecordAgeSeconds = maximumRecordAgeSeconds
        self.bisectOnFunctionError = bisectOnFunctionError
        self.reportBatchItemFailures = reportBatchItemFailures
    }
}

/// Settings Lambda would refuse, in one sentence.
public struct StreamMappingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ why: String) { description = "invalid stream event source mapping: \(why)" }
}
