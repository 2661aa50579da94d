import Dispatch
import Platform
import Synchronization

enum AwaitOutcome<T: Sendable>: Sendable {
    case success(T)
    case failure(any Error)
    /// The deadline passed; the task was cancelled and its eventual result is dropped.
    case timedOut(any Error)
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var description: String { "the deadline passed before the operation finished" }
}

/// Runs async work from the runtime's own (non-pool) thread and waits for it, at most until
/// `deadline` (Unix epoch milliseconds).
func blockingAwait<T: Sendable>(
    until deadline: Int64?, _ operation: @escaping @Sendable () async throws -> T
) -> AwaitOutcome<T> {
    let slot = ResultSlot<T>()
    let task = Task.detached {
        do { slot.fill(.success(try await operation())) } catch { slot.fill(.failure(error)) }
    }
    if let outcome = slot.wait(until: deadline) { return outcome }
    task.cancel()
    return .timedOut(DeadlineExceeded())
}

/// One outcome, handed from the task to the waiting thread.
final class ResultSlot<T: Sendable>: Sendable {
    private let value = Mutex<AwaitOutcome<T>?>(nil)
    private let filled = DispatchSemaphore(value: 0)

    func fill(_ outcome: AwaitOutcome<T>) {
        value.withLock { $0 = outcome }
        filled.signal()
    }

    /// The outcome, or nil when the deadline (Unix epoch milliseconds) passed first.
    func wait(until deadline: Int64?) -> AwaitOutcome<T>? {
        if let deadline {
            let remaining = max(0, deadline - WallClock.nowMilliseconds())
            if filled.wait(timeout: .now() + .milliseconds(Int(remaining))) == .timedOut { return nil }
        } else {
            filled.wait()
        }
        return value.withLock { $0 }
    }
}
