import Dispatch
import Platform
import Synchronization

/// Where a streamed response's bytes go. Under the runtime each `write` returns once the chunk is
/// sent to the Runtime API, so a producer never runs ahead of the connection (memory stays bounded
/// whatever the response's size); writes are sequential (one made while another is in flight
/// throws), and after the deadline, a failed send or the end of the response, `write` throws. The
/// local gateway writes to its client the same way.
public struct LambdaResponseWriter: Sendable {
    let send: @Sendable ([UInt8]) async throws -> Void

    public init(_ send: @escaping @Sendable ([UInt8]) async throws -> Void) { self.send = send }

    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await send(bytes)
    }

    public func write(_ text: String) async throws { try await write(Array(text.utf8)) }
}

/// Hands a stream's chunks from the task producing them to the runtime thread, which owns the
/// connection: one chunk in flight at a time, acknowledged once sent.
final class StreamChannel: Sendable {
    enum Message {
        case chunk([UInt8])
        case finished((any Error)?)
    }

    private struct State {
        var messages: [Message] = []
        var waiting: CheckedContinuation<Void, any Error>?
        var closed: (any Error)?
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    // The producer's side.

    func send(_ bytes: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let refused: (any Error)? = state.withLock { state in
                if let closed = state.closed { return closed }
                // Writes are sequential: each returns when its chunk is sent.
                if state.waiting != nil {
                    return ResponseStreamClosed(description: "a write was made while another was in flight")
                }
                state.messages.append(.chunk(bytes))
                state.waiting = continuation
                return nil
            }
            if let refused {
                continuation.resume(throwing: refused)
            } else {
                available.signal()
            }
        }
    }

    func finish(_ error: (any Error)?) {
        state.withLock { $0.messages.append(.finished(error)) }
        available.signal()
    }

    // The runtime thread's side.

    /// The next message, or nil when the deadline (Unix epoch milliseconds) passes first.
    func next(until deadline: Int64) -> Message? {
        let remaining = max(0, deadline - WallClock.nowMilliseconds())
        guard available.wait(timeout: .now() + .milliseconds(Int(remaining))) == .success else { return nil }
        return state.withLock { $0.messages.isEmpty ? nil : $0.messages.removeFirst() }
    }

    /// The last chunk was sent: its `write` returns.
    func acknowledge() {
        state.withLock { state in
            let waiting = state.waiting
            state.waiting = nil
            return waiting
        }?.resume()
    }

    /// No more chunks are taken: a pending and every later `write` throws `error`.
    func close(_ error: any Error) {
        state.withLock { state in
            state.closed = error
            let waiting = state.waiting
            state.waiting = nil
            return waiting
        }?.resume(throwing: error)
    }
}

/// A streamed response was cut off: the deadline came, or the Runtime API connection failed.
public struct ResponseStreamClosed: Error, Sendable, CustomStringConvertible {
    public let description: String
}
