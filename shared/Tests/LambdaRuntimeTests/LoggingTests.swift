import JSONCoding
import LambdaRuntime
import Logging
import Testing

@Suite struct LoggingTests {
    func logger(_ environment: [String: String], output: LogOutput) -> LambdaContext {
        let configuration = LogConfiguration(environment: environment)
        let logger = Logger(label: "users") {
            LambdaLogHandler(label: $0, configuration: configuration, output: output)
        }
        return LambdaContext(
            requestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd", deadlineMilliseconds: 0, invokedFunctionARN: "arn",
            traceID: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700", logger: logger)
    }

    @Test func jsonLinesCarryTheFieldsLambdaDefines() throws {
        let output = LogOutput.capturing()
        let context = logger(["AWS_LAMBDA_LOG_FORMAT": "JSON"], output: output)
        context.logger.info("created user", metadata: ["userId": "u-1"])
        let line = try JSONValue.parse(try #require(output.lines.first))
        #expect(line["level"] == "INFO")
        #expect(line["message"] == "created user")
        #expect(line["requestId"] == "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
        #expect(line["traceId"] == "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700")
        #expect(line["userId"] == "u-1")
        let timestamp = try #require(line["timestamp"]?.stringValue)
        #expect(
            timestamp.count == 24 && timestamp.hasSuffix("Z") && timestamp.contains("T"),
            "ISO 8601 UTC with ms: \(timestamp)")
    }

    @Test func textIsTheDefault() throws {
        let output = LogOutput.capturing()
        logger([:], output: output).logger.warning("slow query")
        let line = try #require(output.lines.first)
        #expect(line.contains("\t8476a536-e9f4-11e8-9739-2dfe598c3fcd\tWARN\tslow query"))
    }

    @Test(arguments: [
        (["AWS_LAMBDA_LOG_LEVEL": "WARN"], 2), (["LOG_LEVEL": "debug"], 4), ([:], 3),
        (["AWS_LAMBDA_LOG_LEVEL": "ERROR", "LOG_LEVEL": "TRACE"], 1),
    ])
    func levelComesFromTheEnvironment(environment: [String: String], expectedLines: Int) {
        let output = LogOutput.capturing()
        let log = logger(environment, output: output).logger
        log.error("e")
        log.warning("w")
        log.info("i")
        log.debug("d")
        #expect(output.lines.count == expectedLines)
    }
}
