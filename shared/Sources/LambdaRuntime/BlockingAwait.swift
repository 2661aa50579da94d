#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

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

final class ResultSlot<T: Sendable>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var value: AwaitOutcome<T>?

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func fill(_ outcome: AwaitOutcome<T>) {
        pthread_mutex_lock(&mutex)
        value = outcome
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// The outcome, or nil when the deadline passed first.
    func wait(until deadline: Int64?) -> AwaitOutcome<T>? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while value == nil {
            if let deadline {
                var ts = timespec(tv_sec: time_t(deadline / 1000), tv_nsec: Int((deadline % 1000) * 1_000_000))
                if pthread_cond_timedwait(&condition, &mutex, &ts) == ETIMEDOUT && value == nil { return nil }
            } else {
                pthread_cond_wait(&condition, &mutex)
            }
        }
        return value
    }
}
