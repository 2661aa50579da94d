import JSONCoding
import LambdaRuntime
import LambdaTesting
import Logging
import Testing

/// Lambda's streaming response mode through the real runtime loop, against the Runtime API
/// emulator (which reads it as RUNTIME_API.md, "Response streaming", describes): the mode header,
/// a chunked body, error trailers after the first byte, `/error` before it, and the deadline.
@Suite(.serialized) struct StreamingTests {
    struct Broken: Error, CustomStringConvertible { var description: String { "the export broke" } }

    func withRuntime<H: LambdaHandler>(
        _ handler: @escaping @Sendable (Logger) async throws -> H, _ body: (RuntimeAPIEmulator) async throws -> Void
    ) async throws {
        let emulator = try await RuntimeAPIEmulator.start()
        async let exit = serveOnThread(endpoint: emulator.endpoint, makeHandler: handler)
        do { try await body(emulator) } catch {
            await emulator.stop()
            _ = await exit
            throw error
        }
        await emulator.stop()
        _ = await exit
    }

    /// Streams what the event says: "ok" three chunks, "late" a chunk then a failure, "early" a
    /// failure first, "slow" a chunk then a wait past the deadline, anything else a buffered echo.
    struct Streamer: LambdaHandler {
        func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] { event }

        func respond(to event: [UInt8], context: LambdaContext) async throws -> LambdaResponse {
            let kind = String(decoding: event, as: UTF8.self)
            guard ["ok", "late", "early", "slow"].contains(kind) else { return .buffered(event) }
            return .streamed(contentType: "application/x-ndjson") { writer in
                if kind == "early" { throw Broken() }
                try await writer.write("one\n")
                if kind == "late" { throw Broken() }
                if kind == "slow" { try await Task.sleep(for: .seconds(30)) }
                try await writer.write("two\n")
                try await writer.write([])
                try await writer.write("three\n")
            }
        }
    }

    @Test func aStreamArrivesWholeInStreamingModeAndTheLoopGoesOn() async throws {
        try await withRuntime({ _ in Streamer() }) { emulator in
            let streamed = await emulator.invoke(Array("ok".utf8))
            #expect(
                streamed
                    == .streamed(contentType: "application/x-ndjson", body: Array("one\ntwo\nthree\n".utf8), error: nil)
            )
            // The streamed request closed its connection; the next /next opens another.
            #expect(await emulator.invoke(Array("buffered".utf8)) == .response(Array("buffered".utf8)))
            #expect(await emulator.invoke(Array("ok".utf8)) == streamed)
        }
    }

    @Test func anErrorAfterTheFirstByteEndsTheStreamWithTrailers() async throws {
        try await withRuntime({ _ in Streamer() }) { emulator in
            let result = await emulator.invoke(Array("late".utf8))
            guard case .streamed(_, let body, let error?) = result else {
                Issue.record("expected a stream ended by trailers, got \(result)")
                return
            }
            #expect(body == Array("one\n".utf8))
            #expect(error.type == "Function.Broken")
            #expect(error.document["errorMessage"] == "the export broke")
            #expect(await emulator.invoke(Array("echo".utf8)) == .response(Array("echo".utf8)))
        }
    }

    @Test func anErrorBeforeAnyByteIsReportedOnError() async throws {
        try await withRuntime({ _ in Streamer() }) { emulator in
            let result = await emulator.invoke(Array("early".utf8))
            guard case .error(let type, let document) = result else {
                Issue.record("expected /error, got \(result)")
                return
            }
            #expect(type == "Function.Broken")
            #expect(document["errorMessage"] == "the export broke")
            let log = await emulator.log
            #expect(log.contains { $0.hasSuffix("/error → 202") })
        }
    }

    @Test func theDeadlineCutsAStreamAndTheNextInvocationIsServed() async throws {
        try await withRuntime({ _ in Streamer() }) { emulator in
            let result = await emulator.invoke(Array("slow".utf8), timeoutMilliseconds: 1_500)
            guard case .streamed(_, let body, let error?) = result else {
                Issue.record("expected a stream cut at the deadline, got \(result)")
                return
            }
            #expect(body == Array("one\n".utf8))
            #expect(error.type == "Function.DeadlineExceeded")
            #expect(
                await emulator.invoke(Array("ok".utf8), timeoutMilliseconds: 30_000)
                    == .streamed(
                        contentType: "application/x-ndjson", body: Array("one\ntwo\nthree\n".utf8), error: nil))
        }
    }
}
