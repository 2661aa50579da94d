import JSONCoding
import LambdaRuntime
import LoopbackHTTP
import Platform
import Synchronization

/// What an invoker gets back from one invocation.
public enum InvocationResult: Sendable, Equatable {
    case response([UInt8])
    /// A function error: the `Lambda-Runtime-Function-Error-Type` header and the error document.
    case error(type: String, document: JSONValue)
    /// The runtime reported `/init/error` instead of serving.
    case initError(type: String, document: JSONValue)
    /// A response in Lambda's streaming mode: its content type, the bytes, and the error its
    /// trailers reported (the document base64-decoded), if the stream ended with one.
    case streamed(contentType: String?, body: [UInt8], error: StreamError?)

    public struct StreamError: Sendable, Equatable {
        public var type: String
        public var document: JSONValue
    }

    public var responseJSON: JSONValue? {
        if case .response(let body) = self { return try? JSONValue.parse(body) }
        return nil
    }
}

/// One invocation's result, when the runtime's answer was complete, and how its body arrived: in
/// how many parts, starting when (a streamed body starts well before its end).
public struct Answer: Sendable {
    public var result: InvocationResult
    public var at: ContinuousClock.Instant
    public var bodyParts = 0
    public var firstBodyPartAt: ContinuousClock.Instant?
}

/// A local implementation of the Lambda Runtime API (2018-06-01), as Lambda and AWS's Runtime
/// Interface Emulator behave: long-polled `/next`, one invocation at a time, 202 on answers, 400
/// for an unknown request id, 403 for a second answer, 413 past the 6 MB limit.
public final class RuntimeAPIEmulator: Sendable {
    public struct Options: Sendable {
        public var functionARN = "arn:aws:lambda:us-east-1:123456789012:function:local"
        /// Generous by default so a loaded machine never turns a test into a timeout; tests of
        /// the deadline pass their own short timeout to `invoke`.
        public var timeoutMilliseconds: Int64 = 60_000
        public init() {}
    }

    let server: LoopbackHTTPServer
    let state: EmulatorState
    public var endpoint: String { server.endpoint }

    public static func start(options: Options = Options()) async throws -> RuntimeAPIEmulator {
        let state = EmulatorState(options: options)
        let server = try await LoopbackHTTPServer.start(maxBodyBytes: 64 * 1024 * 1024) { request in
            await state.handle(request)
        }
        return RuntimeAPIEmulator(server: server, state: state)
    }

    private init(server: LoopbackHTTPServer, state: EmulatorState) {
        self.server = server
        self.state = state
    }

    /// Queues an event and waits for the runtime's answer.
    public func invoke(
        _ event: [UInt8], timeoutMilliseconds: Int64? = nil, traceID: String? = nil, clientContext: String? = nil,
        cognitoIdentity: String? = nil
    ) async -> InvocationResult {
        await state.invoke(
            [event], timeout: timeoutMilliseconds,
            extraHeaders: [
                ("Lambda-Runtime-Trace-Id", traceID), ("Lambda-Runtime-Client-Context", clientContext),
                ("Lambda-Runtime-Cognito-Identity", cognitoIdentity),
            ].compactMap { name, value in value.map { (name, $0) } })[0].result
    }

    /// Queues every event at once, in order (a runtime finishing one finds the next waiting, as
    /// under back-to-back load), and waits for all the answers.
    public func answers(to events: [[UInt8]], traceID: String? = nil) async -> [Answer] {
        await state.invoke(
            events, timeout: nil, extraHeaders: traceID.map { [("Lambda-Runtime-Trace-Id", $0)] } ?? [])
    }

    /// Returns once the runtime asks for an event with none queued: done with everything it was
    /// given, as Lambda sees it (what it does after posting an answer comes before that request).
    public func waitUntilIdle() async { await state.waitUntilIdle() }

    /// The `/init/error` the runtime posted, if any.
    public var initError: InvocationResult? { get async { await state.initError } }

    /// Milliseconds from handing the last finished invocation to the runtime until its answer.
    public var lastDuration: Int64? { get async { await state.lastDuration } }

    /// Every Runtime API call the runtime made, as `METHOD path → status`.
    public var log: [String] { get async { await state.log } }

    public func stop() async {
        await state.shutdown()
        await server.stop()
    }
}

actor EmulatorState {
    struct Pending {
        let id: String
        let event: [UInt8]
        let headers: [(String, String)]
        let timeout: Int64
        let reply: @Sendable (Answer) -> Void
    }

    /// The answers of one `invoke` call, resumed when the last arrives.
    final class Replies: Sendable {
        let state: Mutex<(answers: [Answer?], missing: Int, done: CheckedContinuation<[Answer], Never>?)>
        init(count: Int, done: CheckedContinuation<[Answer], Never>) {
            state = Mutex((Array(repeating: nil, count: count), count, done))
        }
        func set(_ index: Int, _ answer: Answer) {
            let finished = state.withLock { state -> ([Answer], CheckedContinuation<[Answer], Never>)? in
                guard state.answers[index] == nil else { return nil }
                state.answers[index] = answer
                state.missing -= 1
                guard state.missing == 0, let done = state.done else { return nil }
                state.done = nil
                return (state.answers.map { $0! }, done)
            }
            if let (answers, done) = finished { done.resume(returning: answers) }
        }
    }

    let options: RuntimeAPIEmulator.Options
    var queue: [Pending] = []
    var current: Pending?
    var answered: Set<String> = []
    var waitingRuntimes: [CheckedContinuation<Pending?, Never>] = []
    var idleWaiters: [CheckedContinuation<Void, Never>] = []
    var initError: InvocationResult?
    var log: [String] = []
    /// When the current invocation was handed to the runtime; its deadline counts from then, as
    /// Lambda's does for a runtime already waiting on /next.
    var deliveredAt: Int64 = 0
    var lastDuration: Int64?
    var counter = 0
    var closed = false

    init(options: RuntimeAPIEmulator.Options) { self.options = options }

    func invoke(_ events: [[UInt8]], timeout: Int64?, extraHeaders: [(String, String)]) async -> [Answer] {
        if events.isEmpty { return [] }
        if let initError { return events.map { _ in Answer(result: initError, at: .now) } }
        return await withCheckedContinuation { done in
            let replies = Replies(count: events.count, done: done)
            for (index, event) in events.enumerated() {
                counter += 1
                let pending = Pending(
                    id: "00000000-0000-4000-8000-\(String(counter, radix: 16).leftPadded(to: 12))", event: event,
                    headers: extraHeaders, timeout: timeout ?? options.timeoutMilliseconds,
                    reply: { replies.set(index, $0) })
                if !waitingRuntimes.isEmpty, current == nil {
                    current = pending
                    waitingRuntimes.removeFirst().resume(returning: pending)
                } else {
                    queue.append(pending)
                }
            }
        }
    }

    func nextInvocation() async -> Pending? {
        if closed { return nil }
        if current == nil, !queue.isEmpty {
            current = queue.removeFirst()
            return current
        }
        return await withCheckedContinuation { runtime in
            waitingRuntimes.append(runtime)
            if current == nil {
                for waiter in idleWaiters { waiter.resume() }
                idleWaiters.removeAll()
            }
        }
    }

    func waitUntilIdle() async {
        if closed || (current == nil && queue.isEmpty && !waitingRuntimes.isEmpty) { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    func finish(_ result: InvocationResult, body request: ServerRequest? = nil) {
        guard let done = current else { return }
        lastDuration = WallClock.nowMilliseconds() - deliveredAt
        answered.insert(done.id)
        current = nil
        done.reply(
            Answer(
                result: result, at: .now, bodyParts: request?.bodyParts ?? 0,
                firstBodyPartAt: request?.firstBodyPartAt))
        if !queue.isEmpty, !waitingRuntimes.isEmpty {
            current = queue.removeFirst()
            waitingRuntimes.removeFirst().resume(returning: current)
        }
    }

    func shutdown() {
        closed = true
        for waiter in waitingRuntimes { waiter.resume(returning: nil) }
        waitingRuntimes.removeAll()
        for waiter in idleWaiters { waiter.resume() }
        idleWaiters.removeAll()
        let abandoned = (current.map { [$0] } ?? []) + queue
        for pending in abandoned {
            pending.reply(
                Answer(
                    result: .error(type: "Runtime.Shutdown", document: ["errorMessage": "emulator stopped"]), at: .now))
        }
        current = nil
        queue.removeAll()
    }

    static func json(_ status: Int, _ body: JSONValue) -> ServerResponse {
        ServerResponse(status: status, headers: [("content-type", "application/json")], body: body.serialized())
    }

    static func errorDocument(_ body: [UInt8]) -> JSONValue {
        (try? JSONValue.parse(body)) ?? .string(String(decoding: body, as: UTF8.self))
    }

    func handle(_ request: ServerRequest) async -> ServerResponse {
        let response = await route(request)
        log.append("\(request.method) \(request.path) → \(response.status)")
        return response
    }

    func route(_ request: ServerRequest) async -> ServerResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "2018-06-01", parts[1] == "runtime" else {
            return Self.json(404, ["errorType": "NotFound", "errorMessage": "unknown path \(request.path)"])
        }
        let tail = Array(parts.dropFirst(2))
        if request.method == "GET" && tail == ["invocation", "next"] {
            guard let next = await nextInvocation() else {
                return Self.json(500, ["errorType": "Runtime.Shutdown", "errorMessage": "the emulator is stopping"])
            }
            deliveredAt = WallClock.nowMilliseconds()
            var headers: [(name: String, value: String)] = [
                ("Lambda-Runtime-Aws-Request-Id", next.id),
                ("Lambda-Runtime-Deadline-Ms", String(deliveredAt + next.timeout)),
                ("Lambda-Runtime-Invoked-Function-Arn", options.functionARN), ("Content-Type", "application/json"),
            ]
            headers += next.headers.map { (name: $0.0, value: $0.1) }
            return ServerResponse(status: 200, headers: headers, body: next.event)
        }
        if request.method == "POST", tail.count == 3, tail[0] == "invocation",
            tail[2] == "response" || tail[2] == "error"
        {
            let (id, kind) = (tail[1], tail[2])
            if answered.contains(id) {
                return Self.json(
                    403,
                    [
                        "errorType": "InvalidStateTransition",
                        "errorMessage": "State transition from Ready to \(kind) failed",
                    ])
            }
            guard id == current?.id else {
                return Self.json(400, ["errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"])
            }
            let mode = request.header("Lambda-Runtime-Function-Response-Mode")
            if kind == "error" {
                let type = request.header("Lambda-Runtime-Function-Error-Type") ?? "Runtime.Unknown"
                finish(.error(type: type, document: Self.errorDocument(request.body)))
            } else if let mode, mode != "streaming" {
                // Lambda refuses any other response mode (RUNTIME_API.md, "Response streaming").
                finish(
                    .error(
                        type: "Runtime.InvalidResponseModeHeader",
                        document: ["errorMessage": .string("invalid response mode \(mode)")]))
                return Self.json(
                    400,
                    ["errorType": "InvalidFunctionResponseMode", "errorMessage": .string("\(mode) is not streaming")])
            } else if mode == "streaming" {
                let trailer = { (name: String) in request.trailers.first { $0.name.lowercased() == name }?.value }
                let error = trailer("lambda-runtime-function-error-type").map { type in
                    InvocationResult.StreamError(
                        type: type,
                        document: Self.errorDocument(
                            trailer("lambda-runtime-function-error-body").flatMap(Base64.decode) ?? []))
                }
                finish(
                    .streamed(contentType: request.header("Content-Type"), body: request.body, error: error),
                    body: request)
            } else if request.body.count > LambdaRuntime.maxResponseBytes {
                let limit = LambdaRuntime.maxResponseBytes
                finish(
                    .error(
                        type: "Function.ResponseSizeTooLarge",
                        document: [
                            "errorType": "Function.ResponseSizeTooLarge",
                            "errorMessage": .string(
                                "Response payload size (\(request.body.count) bytes) exceeded maximum allowed payload size (\(limit) bytes)."
                            ),
                        ]))
                return Self.json(
                    413,
                    [
                        "errorMessage": .string("Exceeded maximum allowed payload size (\(limit) bytes)."),
                        "errorType": "RequestEntityTooLarge",
                    ])
            } else {
                finish(.response(request.body), body: request)
            }
            return Self.json(202, ["status": "OK"])
        }
        if request.method == "POST" && tail == ["init", "error"] {
            let type = request.header("Lambda-Runtime-Function-Error-Type") ?? "Runtime.Unknown"
            let result = InvocationResult.initError(type: type, document: Self.errorDocument(request.body))
            initError = result
            for pending in queue { pending.reply(Answer(result: result, at: .now)) }
            queue.removeAll()
            return Self.json(202, ["status": "OK"])
        }
        return Self.json(404, ["errorType": "NotFound", "errorMessage": "unknown path \(request.path)"])
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
