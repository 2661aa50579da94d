// `local-dynamodb`: the SQLite-backed DynamoDB on 127.0.0.1, for `make dynamodb` and `make run`.
import LambdaRuntime
import LocalDynamoDB

#if canImport(Glibc)
    import Glibc
#endif

var port = 8000
var path = ".local/dynamodb.sqlite"
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
    case "-h", "--help":
        print("usage: local-dynamodb [--port 8000] [--db .local/dynamodb.sqlite | --in-memory]")
        exit(0)
    default: fail("unknown option '\(argument)'; run local-dynamodb --help")
    }
}
if path != ":memory:", let slash = path.lastIndex(of: "/") {
    mkdir(String(path[..<slash]), 0o755)
}
do {
    let service = try LocalDynamoDB(path: path)
    let bound = try await service.start(port: port)
    let banner = Array("local DynamoDB on http://127.0.0.1:\(bound) (data: \(path)); Ctrl-C to stop\n".utf8)
    _ = write(1, banner, banner.count)
    signal(SIGINT, SIG_DFL)
    while true { try await Task.sleep(for: .seconds(3600)) }
} catch {
    fail("\(error)")
}
