// swift-tools-version:6.2
import Foundation
import PackageDescription

// libFuzzer harnesses, kept out of the main package so its build stays free of sanitizer flags.
// Build and run them with scripts/fuzz; each harness depends only on YongjunCore (and so only on swift-crypto).

/// SwiftPM names a path dependency after its folder, which is `wt-…` in a worktree and something else in CI.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

/// `LLVMFuzzerTestOneInput` is the entry point; libFuzzer brings `main`.
let harnessSettings: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

func harness(_ name: String, crypto: Bool = false) -> Target {
    var dependencies: [Target.Dependency] = [.product(name: "YongjunCore", package: mainPackage)]
    if crypto { dependencies.append(.product(name: "Crypto", package: "swift-crypto")) }
    return .executableTarget(name: name, dependencies: dependencies, swiftSettings: harnessSettings)
}

let package = Package(
    name: "yongjun-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // Already a dependency of the main package; named here because FuzzCode signs fuzzed claims itself.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        harness("FuzzCode", crypto: true),
        harness("FuzzImport"),
        harness("FuzzVerifyRequest"),
        harness("FuzzForm"),
        harness("FuzzQR"),
    ]
)
