import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Testing
import YongjunCore
import YongjunStorage

private func temporaryDirectory() throws -> DataDirectory {
    let directory = DataDirectory(path: FileManager.default.temporaryDirectory.appendingPathComponent("yongjun-\(UUID().uuidString)").path)
    try directory.prepare()
    return directory
}

private func idNumber(_ first17: String) -> String {
    first17 + String(ChineseIDNumber.checkCharacter(for: first17)!)
}

@Suite("Card register")
struct CardRegisterTests {
    let hasher = IDNumberHasher(keyBytes: Array(repeating: 1, count: 32))

    func parse(_ rows: String) -> [ImportedCard] {
        let result = CardImport.parse("card_no,name,id_number,category,valid_until\n" + rows)
        precondition(result.problems.isEmpty, "\(result.problems)")
        return result.cards
    }

    @Test("importing the same file twice changes nothing; a changed row updates; dry runs write nothing")
    func idempotentImport() throws {
        let database = try AppDatabase.inMemory()
        let id = idNumber("44188219650312123")
        let file = parse("LZ1,张三,\(id),veteran,2030-12-31\nLZ2,李四,\(id),军属,2030-12-31\n")
        #expect(try database.importCards(file, hasher: hasher, now: Date()) == CardImportSummary(inserted: 2, updated: 0, unchanged: 0))
        #expect(try database.importCards(file, hasher: hasher, now: Date()) == CardImportSummary(inserted: 0, updated: 0, unchanged: 2))
        let changed = parse("LZ1,张三,\(id),veteran,2035-12-31\nLZ3,王五,\(id),烈属,2030-12-31\n")
        #expect(
            try database.importCards(changed, hasher: hasher, now: Date(), dryRun: true) == CardImportSummary(inserted: 1, updated: 1, unchanged: 0)
        )
        #expect(try database.cardCount() == 2)
        #expect(try database.card(number: "LZ1")?.validUntil == "2030-12-31")
        #expect(try database.importCards(changed, hasher: hasher, now: Date()) == CardImportSummary(inserted: 1, updated: 1, unchanged: 0))
        #expect(try database.card(number: "LZ1")?.validUntil == "2035-12-31")
    }

    @Test("ID numbers are stored only as a keyed hash that differs between keys")
    func idNumbersHashed() throws {
        let database = try AppDatabase.inMemory()
        let id = idNumber("44188219650312123")
        _ = try database.importCards(parse("LZ1,张三,\(id),veteran,2030-12-31\n"), hasher: hasher, now: Date())
        let stored = try #require(try database.card(number: "LZ1"))
        #expect(!stored.idNumberHash.contains(id))
        #expect(stored.idNumberHash == hasher.hash(try ChineseIDNumber(id)))
        #expect(stored.idNumberHash != IDNumberHasher(keyBytes: Array(repeating: 2, count: 32)).hash(try ChineseIDNumber(id)))
    }

    @Test("a revoked card stays revoked through a re-import and cannot get codes")
    func revocation() throws {
        let database = try AppDatabase.inMemory()
        let file = parse("LZ1,张三,\(idNumber("44188219650312123")),veteran,2030-12-31\n")
        _ = try database.importCards(file, hasher: hasher, now: Date())
        try database.revokeCard(number: "LZ1", reason: "遗失", now: Date())
        #expect(throws: RegisterError.self) { try database.revokeCard(number: "LZ1", reason: "again", now: Date()) }
        #expect(throws: RegisterError.self) { try database.revokeCard(number: "LZ9", reason: "x", now: Date()) }
        _ = try database.importCards(file, hasher: hasher, now: Date())
        #expect(try database.card(number: "LZ1")?.isRevoked == true)
        let error = #expect(throws: RegisterError.self) {
            try database.cardForIssuing(number: "LZ1", today: CalendarDate(year: 2026, month: 1, day: 1)!)
        }
        #expect(error?.description.contains("revoked") == true)
    }

    @Test("an expired card gets no code")
    func expiredCard() throws {
        let database = try AppDatabase.inMemory()
        _ = try database.importCards(parse("LZ1,张三,\(idNumber("44188219650312123")),veteran,2026-01-31\n"), hasher: hasher, now: Date())
        #expect(throws: RegisterError.self) { try database.cardForIssuing(number: "LZ1", today: CalendarDate(year: 2026, month: 2, day: 1)!) }
        #expect(try database.cardForIssuing(number: "LZ1", today: CalendarDate(year: 2026, month: 1, day: 31)!).cardNo == "LZ1")
    }
}

@Suite("Data directory and keys")
struct KeyStoreTests {
    @Test("keys init writes owner-only files and refuses to run twice; rotate adds a key that becomes current")
    func initAndRotate() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let store = KeyStore(directory: directory)
        let first = try store.initialize(now: Date(timeIntervalSince1970: 1_000))
        #expect(throws: KeyStoreError.self) { try store.initialize(now: Date()) }
        let second = try store.rotate(now: Date(timeIntervalSince1970: 2_000))
        let ring = try store.loadKeyRing()
        #expect(ring.keys.map(\.kid) == [first.kid, second.kid])
        #expect(ring.current?.kid == second.kid)
        for file in try FileManager.default.subpathsOfDirectory(atPath: directory.keysPath) {
            let mode = try FileManager.default.attributesOfItem(atPath: directory.keysPath + "/" + file)[.posixPermissions] as! Int
            #expect(mode & 0o077 == 0, "\(file) has mode \(String(mode, radix: 8))")
        }
    }

    @Test("a key file readable by others is refused with the chmod that fixes it")
    func exposedKeyFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let store = KeyStore(directory: directory)
        let key = try store.initialize(now: Date())
        let file = directory.keysPath + "/signing/\(key.kid).json"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let error = #expect(throws: KeyStoreError.self) { try store.loadKeyRing() }
        #expect(error?.description.contains("chmod 600 \(file)") == true)
    }

    @Test("no keys yet says to run keys init")
    func notInitialized() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let error = #expect(throws: KeyStoreError.self) { try KeyStore(directory: directory).loadKeyRing() }
        #expect(error?.description.contains("yongjun keys init") == true)
    }

    @Test("the database file commits with synchronous=FULL in WAL mode")
    func durability() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        _ = try AppDatabase.open(in: directory)
        // Read the settings the way an operator would: through a fresh connection to the same file.
        let queue = try DatabaseQueue(path: directory.databasePath)
        #expect(try queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        let database = try AppDatabase.open(in: directory)
        #expect(try database.writerSynchronousMode() == 2)
    }
}

@Suite("Verification log")
struct VerificationLogTests {
    func entry(_ id: String, merchant: Int64) -> VerificationEntry {
        VerificationEntry(
            id: id,
            merchantID: merchant,
            cardID: nil,
            codeID: nil,
            keyID: nil,
            valid: false,
            reason: "malformed",
            nonce: nil,
            codeExpiresAt: nil,
            createdAt: Timestamp.iso(Date()),
            response: "{}"
        )
    }

    @Test("concurrent submissions are all committed before their callers resume, and refused after shutdown")
    func groupCommit() async throws {
        let database = try AppDatabase.inMemory()
        let merchant = try database.addMerchant(name: "店", industry: .other, address: nil, benefit: nil, now: Date())
        let log = VerificationLog(database: database, logger: Logger(label: "test"))
        let group = ServiceGroup(services: [log], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let answers = try await withThrowingTaskGroup(of: Int.self) { submissions in
                for index in 0..<200 {
                    submissions.addTask {
                        try await log.submit { transaction in
                            let nobody = try transaction.merchantCredential(apiKeyID: "none")
                            #expect(nobody == nil)
                            #expect(try transaction.record(self.entry(String(format: "%05d", index), merchant: merchant.id!)))
                            return index
                        }
                    }
                }
                return try await submissions.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(answers.sorted() == Array(0..<200))
            #expect(try database.verificationCount() == 200)
            await group.triggerGracefulShutdown()
            try await tasks.next()
            await #expect(throws: VerificationLogError.self) {
                try await log.submit { _ in 0 }
            }
        }
    }
}
