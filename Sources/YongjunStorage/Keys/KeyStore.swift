import Crypto
import Foundation
import YongjunCore

/// The key files under `<data dir>/keys`: one JSON file per Ed25519 signing key in `signing/`, and `id-hash.key`
/// for hashing ID numbers. Every file is mode 0600 and the folders 0700; loading refuses anything looser.
public struct KeyStore: Sendable {
    public let path: String

    public init(directory: DataDirectory) {
        self.path = directory.keysPath
    }

    var signingPath: String { path + "/signing" }
    var idHashKeyPath: String { path + "/id-hash.key" }
    var auditKeyPath: String { path + "/audit.key" }

    private struct StoredKey: Codable {
        var kid: String
        var createdAt: Double
        /// Base64url of the 32-byte Ed25519 private key.
        var d: String
    }

    /// True once a signing key file exists.
    public var isInitialized: Bool { !signingKeyIDs().isEmpty }

    /// The ids of the signing key files, without reading them.
    public func signingKeyIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: signingPath)) ?? []
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(".json".count)) }.sorted()
    }

    /// Creates the folders, the ID-number hashing key and the audit key; refuses once a signing key exists.
    public func prepare() throws {
        guard !isInitialized else { throw KeyStoreError.alreadyInitialized(path) }
        for folder in [path, signingPath] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var generator = SystemRandomNumberGenerator()
        for file in [idHashKeyPath, auditKeyPath] where !FileManager.default.fileExists(atPath: file) {
            try SecretFile.write(Array(Base64URL.encode(RandomText.bytes(count: 32, using: &generator)).utf8), to: file)
        }
    }

    /// Creates the first signing key without an audit entry (test fixtures); `yongjun keys init` goes through
    /// `AppDatabase.addSigningKey`, which records the key in the same transaction.
    public func initialize(now: Date) throws -> SigningKey {
        try prepare()
        return try addSigningKey(now: now)
    }

    /// Adds a new signing key without an audit entry (test fixtures); `yongjun keys rotate` goes through
    /// `AppDatabase.addSigningKey`.
    public func rotate(now: Date) throws -> SigningKey {
        guard isInitialized else { throw KeyStoreError.notInitialized(path) }
        return try addSigningKey(now: now)
    }

    private func addSigningKey(now: Date) throws -> SigningKey {
        var generator = SystemRandomNumberGenerator()
        let key = SigningKey.generate(now: now, using: &generator)
        try save(key)
        return key
    }

    /// Writes a signing key's file (mode 0600, never over an existing one).
    package func save(_ key: SigningKey) throws {
        let stored = StoredKey(kid: key.kid, createdAt: key.createdAt.timeIntervalSince1970, d: Base64URL.encode(key.privateKey.rawRepresentation))
        try SecretFile.write(Array(try JSONEncoder().encode(stored)), to: signingPath + "/\(key.kid).json")
    }

    /// Removes a key file whose audit entry did not commit.
    package func discard(_ kid: String) {
        unlink(signingPath + "/\(kid).json")
        SecretFile.syncFolder(of: signingPath + "/\(kid).json")
    }

    /// Loads every signing key, refusing files that others can read.
    public func loadKeyRing() throws -> KeyRing {
        guard isInitialized else { throw KeyStoreError.notInitialized(path) }
        try SecretFile.checkPrivate(path)
        try SecretFile.checkPrivate(signingPath)
        let names = try FileManager.default.contentsOfDirectory(atPath: signingPath).filter { $0.hasSuffix(".json") }.sorted()
        let keys = try names.map { name -> SigningKey in
            let file = signingPath + "/" + name
            try SecretFile.checkPrivate(file)
            guard let data = FileManager.default.contents(atPath: file),
                let stored = try? JSONDecoder().decode(StoredKey.self, from: data),
                let raw = Base64URL.decode(stored.d),
                let privateKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            else { throw KeyStoreError.unreadable(file) }
            return SigningKey(kid: stored.kid, createdAt: Date(timeIntervalSince1970: stored.createdAt), privateKey: privateKey)
        }
        guard !keys.isEmpty else { throw KeyStoreError.notInitialized(path) }
        return KeyRing(keys: keys)
    }

    /// The keyed hash for ID numbers.
    public func idNumberHasher() throws -> IDNumberHasher {
        IDNumberHasher(keyBytes: try secret(at: idHashKeyPath))
    }

    /// Per-shop holder pseudonyms, keyed by a key derived from the ID-number hash key (no new file to lose).
    public func holderPseudonyms() throws -> HolderPseudonyms {
        HolderPseudonyms(derivedFrom: try secret(at: idHashKeyPath))
    }

    /// The key that chains the audit log.
    public func auditChain() throws -> AuditChain {
        AuditChain(keyBytes: try secret(at: auditKeyPath))
    }

    private func secret(at file: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: file) else { throw KeyStoreError.notInitialized(path) }
        try SecretFile.checkPrivate(file)
        guard let data = FileManager.default.contents(atPath: file),
            let bytes = Base64URL.decode(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
            bytes.count == 32
        else { throw KeyStoreError.unreadable(file) }
        return bytes
    }
}

/// Key files that are missing, unreadable or exposed.
public struct KeyStoreError: UserFacingError, Sendable {
    public let description: String

    static func notInitialized(_ path: String) -> KeyStoreError {
        KeyStoreError(description: "no signing keys in \(path); run `yongjun keys init` first")
    }

    static func alreadyInitialized(_ path: String) -> KeyStoreError {
        KeyStoreError(description: "keys already exist in \(path); use `yongjun keys rotate` to add a new signing key")
    }

    static func unreadable(_ file: String) -> KeyStoreError {
        KeyStoreError(description: "key file \(file) is damaged or not a Yongjun key; restore it from the key backup")
    }

    static func exposed(_ file: String, mode: Int) -> KeyStoreError {
        KeyStoreError(
            description: "key file \(file) has mode \(String(mode, radix: 8)) and can be read by other users; "
                + "run `chmod \(mode & 0o040000 != 0 ? "700" : "600") \(file)` and check who copied it"
        )
    }
}
