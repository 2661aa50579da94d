// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "users",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Users", targets: ["Users"]),
        .executable(name: "users-bootstrap", targets: ["UsersBootstrap"]),
    ],
    dependencies: [.package(path: "../../shared")],
    targets: [
        .target(
            name: "Users",
            dependencies: [
                .product(name: "HTTPAPI", package: "shared"), .product(name: "DynamoDB", package: "shared"),
                .product(name: "ServiceKit", package: "shared"), .product(name: "JSONCoding", package: "shared"),
                .product(name: "LambdaRuntime", package: "shared"),
            ]),
        .executableTarget(
            name: "UsersBootstrap",
            dependencies: [
                "Users", .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "HTTPAPI", package: "shared"),
                .product(name: "DynamoDB", package: "shared"), .product(name: "ServiceKit", package: "shared"),
            ]),
        .testTarget(
            name: "UsersTests",
            dependencies: [
                "Users", "UsersBootstrap", .product(name: "ServiceTesting", package: "shared"),
                .product(name: "ServiceKit", package: "shared"), .product(name: "LambdaTesting", package: "shared"),
                .product(name: "DynamoDB", package: "shared"), .product(name: "AWSCore", package: "shared"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
