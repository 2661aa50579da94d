// swift-tools-version:6.0
// The platform every service builds on. The core (JSONCoding, Platform, LambdaRuntime, HTTPAPI)
// imports no Foundation: FoundationEssentials alone adds ~2.7 MB to a zipped bootstrap. Its tests
// (shared/Tests) are declared once, in the root Package.swift, which builds them with everything
// else (`make check`); some need swift-crypto, which nothing here may depend on.
import PackageDescription

let package = Package(
    name: "shared",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "JSONCoding", targets: ["JSONCoding"]),
        .library(name: "Platform", targets: ["Platform"]),
        .library(name: "LambdaRuntime", targets: ["LambdaRuntime"]),
        .library(name: "HTTPAPI", targets: ["HTTPAPI"]),
        .library(name: "LambdaTesting", targets: ["LambdaTesting"]),
        .library(name: "LoopbackHTTP", targets: ["LoopbackHTTP"]),
        .library(name: "AWSCore", targets: ["AWSCore"]),
        .library(name: "DynamoDB", targets: ["DynamoDB"]),
        .library(name: "DynamoDBModel", targets: ["DynamoDBModel"]),
        .library(name: "ServiceKit", targets: ["ServiceKit"]),
        .library(name: "ServiceTesting", targets: ["ServiceTesting"]),
        .library(name: "LocalGateway", targets: ["LocalGateway"]),
        .library(name: "JWT", targets: ["JWT"]),
        .library(name: "RESTAuthorizer", targets: ["RESTAuthorizer"]),
        .executable(name: "authorizer-bootstrap", targets: ["AuthorizerFunction"]),
        .library(name: "ContractTesting", targets: ["ContractTesting"]),
        .library(name: "LocalDynamoDB", targets: ["LocalDynamoDB"]),
        .library(name: "EventPatterns", targets: ["EventPatterns"]),
        .library(name: "Schedules", targets: ["Schedules"]),
        .library(name: "EventSources", targets: ["EventSources"]),
        .executable(name: "minimal-bootstrap", targets: ["MinimalFunction"]),
        .executable(name: "local-dynamodb", targets: ["local-dynamodb"]),
        .executable(name: "runtime-api", targets: ["runtime-api"]),
    ],
    // Exact versions, their own dependencies' too: no Package.resolved can be committed here (this
    // machine's package copies carry other commit ids than GitHub's), so the manifests pin.
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        // swift-nio's own dependencies.
        .package(url: "https://github.com/apple/swift-atomics", exact: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", exact: "1.8.1"),
    ],
    targets: [
        .target(name: "JSONCoding"),
        // What every module needs from the operating system, without Foundation: the wall clock and
        // AWS's time formats, the process environment, a byte search that links no regex engine.
        .target(name: "Platform"),
        .target(name: "CGlibcCompat"),
        .target(
            name: "LambdaRuntime",
            dependencies: ["JSONCoding", "CGlibcCompat", "Platform", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "HTTPAPI", dependencies: ["JSONCoding", "LambdaRuntime", "Platform"]),
        // The loopback HTTP server the local gateway, the local DynamoDB and the tests' Runtime API
        // emulator listen with (127.0.0.1 only).
        .target(
            name: "LoopbackHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LambdaTesting", dependencies: ["JSONCoding", "LambdaRuntime", "HTTPAPI", "LoopbackHTTP", "Platform"]),
        // The emulator as a command, for the scripts that run packaged bootstraps (ci/bootstraps.py).
        .executableTarget(name: "runtime-api", dependencies: ["JSONCoding", "LambdaTesting"]),
        .executableTarget(name: "MinimalFunction", dependencies: ["LambdaRuntime", "HTTPAPI", "Platform"]),
        .target(name: "DynamoDBModel", dependencies: ["JSONCoding"]),
        .target(
            name: "AWSCore",
            dependencies: [
                "Platform",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "DynamoDB", dependencies: ["AWSCore", "DynamoDBModel", "JSONCoding", "LambdaRuntime", "Platform"]),
        .target(
            name: "ServiceKit",
            dependencies: [
                "AWSCore", "DynamoDB", "DynamoDBModel", "HTTPAPI", "JSONCoding", "LambdaRuntime", "Platform",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "ServiceTesting",
            dependencies: [
                "AWSCore", "DynamoDB", "HTTPAPI", "JSONCoding", "LambdaRuntime", "LocalDynamoDB", "Platform",
                "ServiceKit",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Bearer tokens verified as API Gateway's JWT authorizer verifies them.
        // (its RSA and P-256 arithmetic is its own: swift-crypto would bring Foundation into a Lambda package).
        .target(name: "JWT", dependencies: ["AWSCore", "HTTPAPI", "JSONCoding"]),
        // The REST API's Lambda REQUEST authorizer: JWKS over HTTPS, IAM policy per route.
        .target(
            name: "RESTAuthorizer",
            dependencies: [
                "AWSCore", "JSONCoding", "JWT", "LambdaRuntime", "Platform",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "AuthorizerFunction",
            dependencies: [
                "RESTAuthorizer", "LambdaRuntime", "Platform", .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "LocalGateway",
            dependencies: [
                "AWSCore", "HTTPAPI", "JSONCoding", "JWT", "LambdaRuntime", "LoopbackHTTP", "Platform",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Contract corpora: scenario files, matchers, replay and recording (the runner is local-api).
        .target(
            name: "ContractTesting",
            dependencies: ["HTTPAPI", "JSONCoding"]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "LocalDynamoDB", dependencies: ["DynamoDBModel", "CSQLite", "LoopbackHTTP", "Platform"]),
        .executableTarget(name: "local-dynamodb", dependencies: ["LocalDynamoDB"]),
        // EventBridge's event patterns, matched as the service matches them: what routes bus events
        // to consumers.
        .target(name: "EventPatterns", dependencies: ["JSONCoding"]),
        // EventBridge Scheduler's at/rate/cron expressions in a time zone: when a schedule fires.
        // Foundation for the time zone database: the local scheduler's, never in a Lambda package.
        .target(name: "Schedules"),
        // Lambda's event source mappings as state machines the local runtime drives: how records
        // are batched, retried, bisected, checkpointed and discarded.
        .target(name: "EventSources", dependencies: ["JSONCoding", "Platform"]),
    ],
    swiftLanguageModes: [.v6]
)
