import Foundation
import YongjunCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A shop device's offline kit folder: the snapshot, where to send records and with which key, and the records
/// made offline. Every file is 0600 and replaced atomically; one command at a time holds the folder's lock, so two
/// cashiers' terminals on one folder cannot both accept the same code.
struct ShopKit {
    let directory: URL

    var snapshotFile: URL { directory.appendingPathComponent("snapshot.jwt") }
    var settingsFile: URL { directory.appendingPathComponent("kit.json") }
    var recordsFile: URL { directory.appendingPathComponent("records.json") }

    /// Where to sync from and upload to; the key is the shop's secret, kept only here, readable only by the owner.
    struct Settings: Codable {
        var server: String
        var key: String
    }

    /// One verification made on this device.
    struct Record: Codable {
        var code: String
        var nonce: String
        var verifiedAt: String
        var result: String
        /// What single use remembers (a valid verdict only) and until when.
        var useKey: String?
        var useUntil: Int?
        /// Set once the server accepted it (or had it already).
        var uploaded: Bool
        /// A once-a-day benefit this device gave: the card (the code's `sub`), the rule and the China day.
        var cardID: String? = nil
        var benefitRule: Int? = nil
        var benefitDay: String? = nil
    }

    init(path: String) throws {
        directory = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Runs `body` holding the folder's lock.
    func locked<T>(_ body: () throws -> T) throws -> T {
        let path = directory.appendingPathComponent(".lock").path
        let descriptor = open(path, O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CLIFailure(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw CLIFailure(message: "cannot lock \(path)") }
        return try body()
    }

    func read(_ file: URL) -> Data? { FileManager.default.contents(atPath: file.path) }

    /// Writes `data` to a temporary file created 0600, syncs it and renames it over `file`.
    func write(_ data: Data, to file: URL) throws {
        let temporary = file.path + ".tmp"
        unlink(temporary)
        let descriptor = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CLIFailure(message: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == data.count, synced == 0, rename(temporary, file.path) == 0 else {
            unlink(temporary)
            throw CLIFailure(message: "cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    func settings() throws -> Settings {
        guard let data = read(settingsFile), let settings = try? JSONDecoder().decode(Settings.self, from: data) else {
            throw CLIFailure(
                message: "no offline kit in \(directory.path): run `yongjun shop sync --server URL --key KEY --dir \(directory.path)` first"
            )
        }
        return settings
    }

    func records() throws -> [Record] {
        guard let data = read(recordsFile) else { return [] }
        guard let records = try? JSONDecoder().decode([Record].self, from: data) else {
            throw CLIFailure(message: "\(recordsFile.path) is damaged; keep a copy and ask the bureau (records not yet uploaded are in it)")
        }
        return records
    }

    func save(_ records: [Record]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try write(try encoder.encode(records), to: recordsFile)
    }

    /// The stored snapshot, opened and checked (signature, key set, status list); a problem is the answer's reason.
    func verifier() -> Result<OfflineVerifier, ShopSnapshot.Problem> {
        guard let data = read(snapshotFile) else { return .failure(.missing) }
        return ShopSnapshot.open(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// The few HTTP calls the kit makes. Hand-written with URLSession rather than generated from openapi.yaml: three
/// requests do not justify building swift-openapi-generator (and swift-syntax) on every CI run.
enum ShopHTTP {
    struct Reply {
        let status: Int
        let body: Data
    }

    static func send(_ method: String, _ url: URL, key: String, body: Data? = nil) async throws -> Reply {
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
        } catch {
            throw CLIFailure(message: "cannot reach \(url.absoluteString): \(error.localizedDescription) (records stay queued; try again later)")
        }
    }

    /// The server's `message` from an error body, or the status.
    static func message(_ reply: Reply) -> String {
        struct Body: Decodable {
            var error: String?
            var message: String?
        }
        let body = try? JSONDecoder().decode(Body.self, from: reply.body)
        return "HTTP \(reply.status)" + (body?.error.map { " \($0)" } ?? "") + (body?.message.map { ": \($0)" } ?? "")
    }
}
