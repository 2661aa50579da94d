import JSONCoding
import JWT
import LambdaRuntime
import Logging
import Platform
import Synchronization

/// The issuer's signing keys, fetched at init and kept; a token naming a key id that is not among
/// them (the issuer rotated its keys) fetches the JWKS again, at most once per `refreshInterval`,
/// so tokens with made-up key ids cannot make the function hammer the issuer.
public final class JWKSKeys: Sendable {
    public typealias Fetch = @Sendable () async throws -> [UInt8]

    private struct State {
        var keys: [JWTAuthorizer.Key]
        var fetchedAt: Int64
    }

    /// nil: fixed keys, never fetched.
    private let fetch: Fetch?
    private let state: Mutex<State>
    let refreshIntervalMilliseconds: Int64
    let now: @Sendable () -> Int64

    /// Fetches the JWKS once; throws when it cannot be fetched or holds no usable signing key.
    public init(
        refreshIntervalMilliseconds: Int64 = 30_000, now: @escaping @Sendable () -> Int64 = WallClock.nowMilliseconds,
        logger: Logger? = nil, fetch: @escaping Fetch
    ) async throws {
        self.fetch = fetch
        self.now = now
        self.refreshIntervalMilliseconds = refreshIntervalMilliseconds
        let keys = try await Self.load(fetch, logger: logger)
        state = Mutex(State(keys: keys, fetchedAt: now()))
    }

    /// Keys that are never fetched (the local gateway's development key and JWKS files).
    public init(fixed keys: [JWTAuthorizer.Key]) {
        fetch = nil
        now = WallClock.nowMilliseconds
        refreshIntervalMilliseconds = 0
        state = Mutex(State(keys: keys, fetchedAt: 0))
    }

    public var current: [JWTAuthorizer.Key] { state.withLock { $0.keys } }

    /// The keys to verify a token with key id `kid`: the cached ones, refreshed first when `kid` is
    /// unknown and the last fetch is older than the refresh interval. A failed refresh keeps the
    /// cached keys (the token then fails to verify).
    public func keys(for kid: String?, logger: Logger? = nil) async -> [JWTAuthorizer.Key] {
        // Decided and claimed under one lock: one refresh per interval, even if it fails.
        let (keys, refresh) = state.withLock { state in
            let wanted = kid.map { kid in !state.keys.contains { $0.kid == kid } } ?? false
            let due = state.fetchedAt + refreshIntervalMilliseconds <= now()
            if wanted, due { state.fetchedAt = now() }
            return (state.keys, wanted && due)
        }
        guard refresh, let fetch else { return keys }
        do {
            let fresh = try await Self.load(fetch, logger: logger)
            state.withLock { $0.keys = fresh }
            logger?.info("JWKS refreshed for an unknown kid: \(fresh.count) signing keys")
            return fresh
        } catch {
            logger?.warning("JWKS refresh failed, keeping the cached keys: \(error)")
            return keys
        }
    }

    /// The largest JWKS read: identity providers publish a few keys in a few kilobytes.
    public static let maxBytes = 256 * 1024

    static func load(_ fetch: Fetch, logger: Logger?) async throws -> [JWTAuthorizer.Key] {
        let bytes = try await fetch()
        guard bytes.count <= maxBytes else {
            throw JWTAuthorizer.KeyError(description: "the JWKS is larger than \(maxBytes) bytes")
        }
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw JWTAuthorizer.KeyError(description: "the JWKS is not JSON: \(error)")
        }
        let (keys, skipped) = try JWTAuthorizer.signingKeys(publishedJWKS: document)
        for reason in skipped { logger?.warning("JWKS key skipped: \(reason)") }
        return keys
    }
}
