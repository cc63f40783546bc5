import Foundation

/// Files that hold secrets: written owner-only, atomically, and checked before use.
enum SecretFile {
    /// Writes `bytes` to a new file readable by the owner only; never overwrites an existing file.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary]) }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        guard link(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: path])
        }
        unlink(temporary)
    }

    /// Throws unless neither group nor others have any access to `path`.
    static func checkPrivate(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        let mode = Int(info.st_mode)
        if mode & 0o077 != 0 { throw KeyStoreError.exposed(path, mode: mode & 0o40777) }
    }
}
