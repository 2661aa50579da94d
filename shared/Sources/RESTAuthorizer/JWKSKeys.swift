import JSONCoding
import JWT
import LambdaRuntime
import Logging
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

    private let fetch: Fetch
    private let state: Mutex<State>
    let refreshIntervalMilliseconds: Int64
    let now: @Sendable () -> Int64

    /// Fetches the JWKS once; throws when it cannot be fetched or holds no signing key.
    public init(
        refreshIntervalMilliseconds: Int64 = 30_000, now: @escaping @Sendable () -> Int64 = WallClock.nowMilliseconds,
        fetch: @escaping Fetch
    ) async throws {
        self.fetch = fetch
        self.now = now
        self.refreshIntervalMilliseconds = refreshIntervalMilliseconds
        let keys = try await Self.load(fetch)
        state = Mutex(State(keys: keys, fetchedAt: now()))
    }

    /// Keys that are never fetched (the local gateway's development key and JWKS files).
    public init(fixed keys: [JWTAuthorizer.Key]) {
        fetch = { throw JWTAuthorizer.KeyError(description: "these keys are fixed") }
        now = WallClock.nowMilliseconds
        refreshIntervalMilliseconds = .max / 2
        state = Mutex(State(keys: keys, fetchedAt: .max / 2))
    }

    public var current: [JWTAuthorizer.Key] { state.withLock { $0.keys } }

    /// The keys to verify a token with key id `kid`: the cached ones, refreshed first when `kid` is
    /// unknown and the last fetch is older than the refresh interval. A failed refresh keeps the
    /// cached keys (the token then fails to verify).
    public func keys(for kid: String?, logger: Logger? = nil) async -> [JWTAuthorizer.Key] {
        let (keys, stale) = state.withLock { state in
            (state.keys, state.fetchedAt + refreshIntervalMilliseconds <= now())
        }
        guard let kid, !keys.contains(where: { $0.kid == kid }), stale else { return keys }
        state.withLock { $0.fetchedAt = now() }  // one refresh per interval, even if it fails
        do {
            let fresh = try await Self.load(fetch)
            state.withLock { $0.keys = fresh }
            logger?.info("JWKS refreshed for an unknown kid: \(fresh.count) signing keys")
            return fresh
        } catch {
            logger?.warning("JWKS refresh failed, keeping the cached keys: \(error)")
            return keys
        }
    }

    static func load(_ fetch: Fetch) async throws -> [JWTAuthorizer.Key] {
        let bytes = try await fetch()
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw JWTAuthorizer.KeyError(description: "the JWKS is not JSON: \(error)")
        }
        return try JWTAuthorizer.signingKeys(publishedJWKS: document)
    }
}
