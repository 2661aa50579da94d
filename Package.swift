// swift-tools-version:6.0
// The monorepo's aggregate: one build graph for `make test` and `make run`. Each package under
// shared/ and services/ also builds and tests on its own; here their test directories are
// compiled against the same dependency graph so everything is built once. Services live in
// services/<name> (module <Name>, bootstrap <name>-bootstrap, tests <Name>Tests), each one
// registered here and in services/local-api/Sources/LocalAPI/Registry.swift, both by `make new`.
// The list is explicit, not read from the directory: SwiftPM caches the evaluated manifest and
// would not see a new directory (ci/tests/test_new_service.py checks the list against services/).
import PackageDescription

let serviceNames = [
    "items",
    "users",
]

/// users → Users, order-lines → OrderLines.
func moduleName(_ service: String) -> String {
    service.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

let serviceTests: [Target] = serviceNames.map { service in
    .testTarget(
        name: "\(moduleName(service))Tests",
        dependencies: [
            .product(name: moduleName(service), package: service),
            .product(name: "\(service)-bootstrap", package: service),
            .product(name: "ServiceTesting", package: "shared"), .product(name: "ServiceKit", package: "shared"),
            .product(name: "DynamoDB", package: "shared"), .product(name: "AWSCore", package: "shared"),
            .product(name: "LambdaTesting", package: "shared"), .product(name: "HTTPAPI", package: "shared"),
            .product(name: "JSONCoding", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
            .product(name: "DynamoDBModel", package: "shared"), .product(name: "Logging", package: "swift-log"),
        ],
        path: "services/\(service)/Tests/\(moduleName(service))Tests")
}

let package = Package(
    name: "swift-lambda-monorepo",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "shared"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // local-api only (a tool, never in a Lambda package).
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // Tests only: tokens signed by swift-crypto, verified by the JWT module's own RSA and P-256 code.
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        // swift-crypto's own dependency (exact pins: see shared/Package.swift).
        .package(url: "https://github.com/apple/swift-asn1", exact: "1.7.4"),
    ] + serviceNames.map { .package(path: "services/\($0)") },
    targets: [
        // `make run`: every service behind the local API Gateway (services/local-api registers them).
        .target(
            name: "LocalAPI",
            dependencies: [
                .product(name: "LocalGateway", package: "shared"), .product(name: "LocalDynamoDB", package: "shared"),
                .product(name: "JWT", package: "shared"), .product(name: "RESTAuthorizer", package: "shared"),
                .product(name: "DynamoDB", package: "shared"),
                .product(name: "ServiceKit", package: "shared"),
                .product(name: "HTTPAPI", package: "shared"), .product(name: "AWSCore", package: "shared"),
                .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "ContractTesting", package: "shared"),
                .product(name: "LambdaTesting", package: "shared"), .product(name: "LoopbackHTTP", package: "shared"),
                .product(name: "DynamoDBModel", package: "shared"), .product(name: "JSONCoding", package: "shared"),
            ] + serviceNames.map { .product(name: moduleName($0), package: $0) },
            path: "services/local-api/Sources/LocalAPI"),
        .executableTarget(
            name: "local-api",
            dependencies: [
                "LocalAPI", .product(name: "HTTPAPI", package: "shared"),
                .product(name: "JSONCoding", package: "shared"),
                .product(name: "LoopbackHTTP", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "LocalGateway", package: "shared"), .product(name: "JWT", package: "shared"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "services/local-api/Sources/local-api"),
        .testTarget(
            name: "LocalAPITests",
            dependencies: [
                "LocalAPI", .product(name: "LocalGateway", package: "shared"), .product(name: "JWT", package: "shared"),
                .product(name: "ContractTesting", package: "shared"),
                .product(name: "HTTPAPI", package: "shared"),
                .product(name: "JSONCoding", package: "shared"), .product(name: "LambdaTesting", package: "shared"),
                .product(name: "LoopbackHTTP", package: "shared"),
                .product(name: "AWSCore", package: "shared"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "services/local-api/Tests/LocalAPITests", exclude: ["Fixtures"]),
        .testTarget(
            name: "JSONCodingTests", dependencies: [.product(name: "JSONCoding", package: "shared")],
            path: "shared/Tests/JSONCodingTests", exclude: ["JSONTestSuite"]),
        .testTarget(
            name: "DynamoDBTests",
            dependencies: [
                .product(name: "AWSCore", package: "shared"), .product(name: "DynamoDB", package: "shared"),
                .product(name: "DynamoDBModel", package: "shared"), .product(name: "LocalDynamoDB", package: "shared"),
                .product(name: "JSONCoding", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "local-dynamodb", package: "shared"),
                .product(name: "ServiceTesting", package: "shared"), .product(name: "LambdaTesting", package: "shared"),
                .product(name: "LoopbackHTTP", package: "shared"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "shared/Tests/DynamoDBTests", exclude: ["Scripts"]),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                .product(name: "HTTPAPI", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "LambdaTesting", package: "shared"),
            ],
            path: "shared/Tests/HTTPAPITests", exclude: ["Events"]),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: [
                .product(name: "ServiceKit", package: "shared"), .product(name: "DynamoDB", package: "shared"),
                .product(name: "DynamoDBModel", package: "shared"), .product(name: "LocalDynamoDB", package: "shared"),
                .product(name: "HTTPAPI", package: "shared"), .product(name: "JSONCoding", package: "shared"),
                .product(name: "AWSCore", package: "shared"),
            ],
            path: "shared/Tests/ServiceKitTests"),
        .testTarget(
            name: "RESTAuthorizerTests",
            dependencies: [
                .product(name: "RESTAuthorizer", package: "shared"), .product(name: "JWT", package: "shared"),
                .product(name: "JSONCoding", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "AWSCore", package: "shared"), .product(name: "LambdaTesting", package: "shared"),
                .product(name: "authorizer-bootstrap", package: "shared"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "shared/Tests/RESTAuthorizerTests", exclude: ["Wycheproof"]),
        .testTarget(
            name: "LambdaRuntimeTests",
            dependencies: [
                .product(name: "HTTPAPI", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "LambdaTesting", package: "shared"),
                .product(name: "minimal-bootstrap", package: "shared"),
            ],
            path: "shared/Tests/LambdaRuntimeTests"),
    ] + serviceTests,
    swiftLanguageModes: [.v6]
)
