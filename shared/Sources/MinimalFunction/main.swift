// The smallest service on the platform: the process-level tests of the runtime drive it, and
// `make test` holds its zip to the 5 MB budget.
import HTTPAPI
import JSONCoding
import LambdaRuntime
import Platform

struct StartupFailure: Error, CustomStringConvertible {
    var description: String { "MINIMAL_FAIL_INIT is set" }
}

LambdaRuntime.run { logger in
    if ProcessEnvironment.current()["MINIMAL_FAIL_INIT"] != nil { throw StartupFailure() }
    var router = Router()
    router.on("GET /hello") { request, context in
        context.logger.info("saying hello")
        return try .json(["message": JSONValue.string("hello \(request.query["name"] ?? "world")")])
    }
    router.on("POST /echo") { request, _ in
        HTTPResponse(
            status: 200, headers: ["content-type": request.headers["content-type"] ?? "application/octet-stream"],
            body: request.body)
    }
    router.on("GET /sleep/{ms}") { request, _ in
        try await Task.sleep(for: .milliseconds(Int(request.pathParameters["ms"] ?? "") ?? 0))
        return .text("slept")
    }
    return HTTPLambdaHandler(router: router)
}
