// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Tests read better without listing every transitively used module.
let testSwiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "yongjun",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "yongjun", targets: ["yongjun"]),
        // For the fuzzing package in Fuzz/, which builds only the domain and swift-crypto.
        .library(name: "YongjunCore", targets: ["YongjunCore"]),
        // The offline verification rules alone: what a shop device (or the bench) needs, no server, no database.
        .library(name: "YongjunVerifier", targets: ["YongjunVerifier"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // zlib for the status list (draft-ietf-oauth-status-list compresses with zlib); wraps the system libz.
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        // The shared store for several instances (issue 12): PostgreSQL through its NIO client and connection pool.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Settings from flags, YONGJUN_* variables and the config file, with their sources (issue 12).
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
    ],
    targets: [
        // One verification rule for the server and for shop devices offline: signature and `kid`, claims bounds and
        // times, the status list, single use, the signed shop snapshot. Crypto and zlib only; no I/O.
        .target(
            name: "YongjunVerifier",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Domain: card categories, ID numbers, CSV rules, the signed-code format. No I/O; time, keys and randomness come in.
        .target(
            name: "YongjunCore",
            dependencies: [
                "YongjunVerifier",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The data directory: SQLite through GRDB, key files, the durable verification log.
        .target(
            name: "YongjunStorage",
            dependencies: [
                "YongjunCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The same store on PostgreSQL, for several instances sharing one database.
        .target(
            name: "YongjunPostgres",
            dependencies: [
                "YongjunCore",
                "YongjunStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: routes, controllers, the verification hot path.
        .target(
            name: "YongjunServer",
            dependencies: [
                "YongjunCore",
                "YongjunStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            // openapi.yaml (a link to the repository's file) compiled in as bytes: served at /openapi.yaml, no resource folder.
            resources: [.embedInCode("OpenAPI/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "yongjun",
            dependencies: [
                "YongjunCore",
                "YongjunStorage",
                "YongjunServer",
                "YongjunPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // bench/offline's measurement: offline verification against raw Ed25519 on one core (release build).
        .executableTarget(
            name: "offline-bench",
            dependencies: ["YongjunCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "bench/offline-swift",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "YongjunCoreTests",
            dependencies: ["YongjunCore", "YongjunVerifier", .product(name: "Crypto", package: "swift-crypto"), .product(name: "CompressNIO", package: "compress-nio")],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "YongjunStorageTests",
            dependencies: [
                "YongjunCore", "YongjunStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "YongjunServerTests",
            dependencies: [
                "YongjunCore",
                "YongjunStorage",
                "YongjunServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: testSwiftSettings
        ),
        // Runs the built `yongjun` binary as a process, the way the bureau does.
        .testTarget(
            name: "YongjunCLITests",
            dependencies: ["yongjun", "YongjunCore", "YongjunStorage", "YongjunPostgres"],
            swiftSettings: testSwiftSettings
        ),
    ]
)
