import DynamoDBModel
import JSONCoding
import LoopbackHTTP

/// A DynamoDB-compatible service on SQLite, speaking the JSON 1.0 protocol over HTTP on
/// 127.0.0.1. Requests are serialised: each operation is one SQLite transaction.
public actor LocalDynamoDB {
    let engine: Engine
    private var server: LoopbackHTTPServer?
    private var sweeper: Task<Void, Never>?
    private var requestCounter = 0
    private var throttling = 0

    /// `path` is a database file (created if missing) or `:memory:`.
    public init(path: String) throws {
        engine = try Engine(path: path)
    }

    /// Serves HTTP on 127.0.0.1:`port` (0 picks a free port) and starts the TTL sweeper.
    public func start(port: Int = 8000, sweepInterval: Duration = .seconds(1)) async throws -> Int {
        let server = try await LoopbackHTTPServer.start(port: port) { [self] request in await self.serve(request) }
        self.server = server
        sweeper = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: sweepInterval)
                _ = try? await self?.sweepExpired()
            }
        }
        return server.port
    }

    public func stop() async {
        sweeper?.cancel()
        await server?.stop()
        server = nil
    }

    @discardableResult
    public func sweepExpired() throws -> Int { try engine.sweepExpired() }

    /// Fault injection for tests of clients' retries and throttle metrics: the next `requests` item
    /// operations over HTTP are answered as a throttled table answers them (`handle(operation:)`,
    /// called directly, is never throttled).
    public func throttle(next requests: Int) { throttling = requests }

    static let itemOperations: Set<String> = [
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
        "TransactGetItems", "TransactWriteItems",
    ]

    /// Runs one operation directly (no HTTP), as the protocol would.
    public func handle(operation: String, request: JSONValue) -> (status: Int, body: JSONValue) {
        do {
            return (200, try engine.handle(operation: operation, request: request))
        } catch let error as DynamoDBError {
            return (error.status, error.body)
        } catch {
            return (500, DynamoDBError.internalFailure("\(error)").body)
        }
    }

    /// Runs one DynamoDB Streams operation directly.
    public func handle(streams operation: String, request: JSONValue) -> (status: Int, body: JSONValue) {
        do {
            return (200, try engine.handleStreams(operation: operation, request: request))
        } catch let error as DynamoDBError {
            return (error.status, error.body)
        } catch {
            return (500, DynamoDBError.internalFailure("\(error)").body)
        }
    }

    func serve(_ request: ServerRequest) -> ServerResponse {
        requestCounter += 1
        let requestID = "LOCAL\(String(requestCounter, radix: 36).uppercased())"
        let (status, body) = respond(request)
        return ServerResponse(
            status: status,
            headers: [("content-type", "application/x-amz-json-1.0"), ("x-amzn-requestid", requestID)],
            body: body.serialized())
    }

    func respond(_ request: ServerRequest) -> (Int, JSONValue) {
        guard request.method == "POST" else {
            return (400, DynamoDBError.serialization("DynamoDB only accepts POST /").body)
        }
        guard request.header("authorization") != nil else { return (400, DynamoDBError.missingAuthentication().body) }
        guard let target = request.header("x-amz-target"),
            target.hasPrefix("DynamoDB_20120810.") || target.hasPrefix("DynamoDBStreams_20120810.")
        else {
            return (400, DynamoDBError.unknownOperation().body)
        }
        let body: JSONValue
        do { body = try JSONValue.parse(request.body.isEmpty ? Array("{}".utf8) : request.body) } catch {
            return (400, DynamoDBError.serialization("Start of structure or map found where not expected").body)
        }
        let (service, operation) = target.split(separator: ".", maxSplits: 1).map(String.init).pair
        if throttling > 0, Self.itemOperations.contains(operation) {
            throttling -= 1
            return (400, DynamoDBError.throttled().body)
        }
        return service == "DynamoDBStreams_20120810"
            ? handle(streams: operation, request: body) : handle(operation: operation, request: body)
    }
}

extension Array where Element == String {
    fileprivate var pair: (String, String) { (first ?? "", count > 1 ? self[1] : "") }
}
