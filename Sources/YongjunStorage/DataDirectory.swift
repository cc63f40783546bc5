import Foundation

/// The folder that holds everything Yongjun keeps: the SQLite database and, under `keys/`, the key files.
public struct DataDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = (path as NSString).standardizingPath
    }

    public var databasePath: String { path + "/yongjun.sqlite" }
    public var keysPath: String { path + "/keys" }

    /// Creates the folder (mode 0700) if it does not exist yet.
    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: databasePath) }
}
