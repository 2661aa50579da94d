// `local-dynamodb`: the SQLite-backed DynamoDB on 127.0.0.1, for `make dynamodb` and `make run`.
import LocalDynamoDB

#if canImport(Glibc)
    import Glibc
#endif

var port = 8000
var path = ".local/dynamodb.sqlite"
var throttled = 0
var arguments = CommandLine.arguments.dropFirst()
func fail(_ message: String) -> Never {
    let line = Array("local-dynamodb: \(message)\n".utf8)
    _ = write(2, line, line.count)
    exit(2)
}
while let argument = arguments.popFirst() {
    switch argument {
    case "--port":
        guard let value = arguments.popFirst(), let p = Int(value), (0...65535).contains(p) else {
            fail("--port needs a number from 0 to 65535, e.g. --port 8000")
        }
        port = p
    case "--db":
        guard let value = arguments.popFirst() else { fail("--db needs a file path or :memory:") }
        path = value
    case "--in-memory": path = ":memory:"
    case "--throttle-next":
        guard let value = arguments.popFirst(), let n = Int(value), n >= 0 else {
            fail("--throttle-next needs a count, e.g. --throttle-next 2")
        }
        throttled = n
    case "-h", "--help":
        print(
            "usage: local-dynamodb [--port 8000] [--db .local/dynamodb.sqlite | --in-memory] [--throttle-next N]\n"
                + "  --throttle-next N  answer the next N item operations as a throttled table does (tests of retries)")
        exit(0)
    default: fail("unknown option '\(argument)'; run local-dynamodb --help")
    }
}
if path != ":memory:", let slash = path.lastIndex(of: "/") {
    mkdir(String(path[..<slash]), 0o755)
}
do {
    let service = try LocalDynamoDB(path: path)
    await service.throttle(next: throttled)
    let bound = try await service.start(port: port)
    let banner = Array("local DynamoDB on http://127.0.0.1:\(bound) (data: \(path)); Ctrl-C to stop\n".utf8)
    _ = write(1, banner, banner.count)
    signal(SIGINT, SIG_DFL)
    while true { try await Task.sleep(for: .seconds(3600)) }
} catch {
    fail("\(error)")
}
