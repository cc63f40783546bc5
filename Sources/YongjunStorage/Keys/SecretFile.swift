import Foundation

/// Files that hold secrets: written owner-only, atomically, and checked before use.
enum SecretFile {
    /// Writes `bytes` to a new file readable by the owner only; never overwrites an existing file.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = try writeTemporary(bytes, beside: path)
        guard link(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: path])
        }
        unlink(temporary)
        syncFolder(of: path)
    }

    /// Replaces `path` with an owner-only file holding `bytes`: a temporary file, fsync, rename, fsync of the folder.
    static func replace(_ bytes: [UInt8], at path: String) throws {
        let temporary = try writeTemporary(bytes, beside: path)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        syncFolder(of: path)
    }

    /// A new file created mode 0600 (never through a symlink), written and fsynced.
    private static func writeTemporary(_ bytes: [UInt8], beside path: String) throws -> String {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary]) }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return temporary
    }

    /// Makes a rename or link in the folder of `path` durable.
    static func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Throws unless neither group nor others have any access to `path`.
    static func checkPrivate(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        let mode = Int(info.st_mode)
        if mode & 0o077 != 0 { throw KeyStoreError.exposed(path, mode: mode & 0o40777) }
    }
}
