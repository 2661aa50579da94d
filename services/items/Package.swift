// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "items",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Items", targets: ["Items"]),
        .executable(name: "items-bootstrap", targets: ["ItemsBootstrap"]),
    ],
    dependencies: [.package(path: "../../shared")],
    targets: [
        .target(
            name: "Items",
            dependencies: [
                .product(name: "HTTPAPI", package: "shared"), .product(name: "DynamoDB", package: "shared"),
                .product(name: "ServiceKit", package: "shared"), .product(name: "JSONCoding", package: "shared"),
                .product(name: "LambdaRuntime", package: "shared"),
            ]),
        .executableTarget(
            name: "ItemsBootstrap",
            dependencies: [
                "Items", .product(name: "LambdaRuntime", package: "shared"),
                .product(name: "HTTPAPI", package: "shared"),
                .product(name: "DynamoDB", package: "shared"), .product(name: "ServiceKit", package: "shared"),
            ]),
        .testTarget(
            name: "ItemsTests",
            dependencies: [
                "Items", .product(name: "ServiceTesting", package: "shared"),
                .product(name: "ServiceKit", package: "shared"),
                .product(name: "DynamoDB", package: "shared"), .product(name: "AWSCore", package: "shared"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
