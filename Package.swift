// swift-tools-version:6.0
// The monorepo's aggregate: one build graph for `make test` and `make run`. Each package under
// shared/ and services/ also builds and tests on its own; here their test directories are
// compiled against the same dependency graph so everything is built once.
import PackageDescription

let package = Package(
    name: "swift-lambda-monorepo",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "shared"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(path: "services/users"),
        .package(path: "services/items"),
    ],
    targets: [
        // `make run`: every service behind the local API Gateway (services/local-api registers them).
        .target(
            name: "LocalAPI",
            dependencies: [
                .product(name: "Users", package: "users"), .product(name: "Items", package: "items"),
                .product(name: "LocalGateway", package: "shared"), .product(name: "LocalDynamoDB", package: "shared"),
                .product(name: "DynamoDB", package: "shared"), .product(name: "ServiceKit", package: "shared"),
                .product(name: "HTTPAPI", package: "shared"), .product(name: "AWSCore", package: "shared"),
                .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "ContractTesting", package: "shared"), .product(name: "LambdaTesting", package: "shared"),
                .product(name: "DynamoDBModel", package: "shared"), .product(name: "JSONCoding", package: "shared"),
            ],
            path: "services/local-api/Sources/LocalAPI"),
        .executableTarget(
            name: "local-api",
            dependencies: [
                "LocalAPI", .product(name: "HTTPAPI", package: "shared"),
                .product(name: "JSONCoding", package: "shared"),
                .product(name: "LambdaTesting", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "LocalGateway", package: "shared"),
            ],
            path: "services/local-api/Sources/local-api"),
        .testTarget(
            name: "LocalAPITests",
            dependencies: [
                "LocalAPI", .product(name: "LocalGateway", package: "shared"),
                .product(name: "ContractTesting", package: "shared"),
                .product(name: "HTTPAPI", package: "shared"),
                .product(name: "JSONCoding", package: "shared"), .product(name: "LambdaTesting", package: "shared"),
            ],
            path: "services/local-api/Tests/LocalAPITests", exclude: ["Fixtures"]),
        .testTarget(
            name: "ItemsTests",
            dependencies: [
                .product(name: "Items", package: "items"), .product(name: "items-bootstrap", package: "items"),
                .product(name: "ServiceTesting", package: "shared"), .product(name: "ServiceKit", package: "shared"),
                .product(name: "DynamoDB", package: "shared"), .product(name: "AWSCore", package: "shared"),
            ],
            path: "services/items/Tests/ItemsTests"),
        .testTarget(
            name: "UsersTests",
            dependencies: [
                .product(name: "Users", package: "users"), .product(name: "users-bootstrap", package: "users"),
                .product(name: "ServiceTesting", package: "shared"), .product(name: "ServiceKit", package: "shared"),
                .product(name: "DynamoDB", package: "shared"), .product(name: "AWSCore", package: "shared"),
                .product(name: "LambdaTesting", package: "shared"),
            ],
            path: "services/users/Tests/UsersTests"),
        .testTarget(
            name: "JSONCodingTests", dependencies: [.product(name: "JSONCoding", package: "shared")],
            path: "shared/Tests/JSONCodingTests"),
        .testTarget(
            name: "DynamoDBTests",
            dependencies: [
                .product(name: "AWSCore", package: "shared"), .product(name: "DynamoDB", package: "shared"),
                .product(name: "DynamoDBModel", package: "shared"), .product(name: "LocalDynamoDB", package: "shared"),
                .product(name: "JSONCoding", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "local-dynamodb", package: "shared"),
                .product(name: "ServiceTesting", package: "shared"), .product(name: "LambdaTesting", package: "shared"),
                .product(name: "Logging", package: "swift-log"),
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
            name: "LambdaRuntimeTests",
            dependencies: [
                .product(name: "HTTPAPI", package: "shared"), .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "LambdaTesting", package: "shared"),
                .product(name: "minimal-bootstrap", package: "shared"),
            ],
            path: "shared/Tests/LambdaRuntimeTests"),
    ],
    swiftLanguageModes: [.v6]
)
