import Foundation
import GRDB
import YongjunCore

// The import's helpers: the indexes a bulk import builds after, the pause between paced chunks, the taken
// status-list entries and a buffered random source. The import itself is in AppDatabase+Import.swift.

/// The cards' two indexes on random values (the ID-number hash and the status-list entry): with 10^6 rows, keeping
/// them up row by row lands every insert on random pages of each, and a bulk import spent most of its time there
/// (10^6 rows: 14 s of writing, against about 2 s for the same rows with the indexes built after, measured with
/// sqlite3 on the same file). A bulk import drops them inside its one transaction and builds them again, sorted, before
/// it commits: readers keep the committed schema meanwhile, and a failure or a crash rolls the drop back with the rows.
/// The unique status-list index is checked again as it is built; the import's own map of taken entries (read inside
/// the same exclusive transaction) keeps it unique. The card number and card id keep their (constraint) indexes.
struct BulkIndexes {
    static let names = ["cards_id_number_hash", "cards_status_idx"]
    private let definitions: [String]

    /// Always for an empty register (its first import); else from 50,000 rows, when they are at least a quarter of
    /// the register (rebuilding costs the whole table).
    static func pays(adding count: Int, to existing: Int) -> Bool { existing == 0 || (count >= 50_000 && count * 4 >= existing) }

    init(dropping db: Database) throws {
        var definitions: [String] = []
        for name in Self.names {
            guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", arguments: [name])
            else { continue }
            definitions.append(sql)
            try db.execute(sql: "DROP INDEX \(name)")
        }
        self.definitions = definitions
    }

    func rebuild(_ db: Database) throws {
        for sql in definitions { try db.execute(sql: sql) }
    }
}

/// Blocks the thread: the import runs on the writer's own (non-cooperative) queue, never on a request's executor.
func pause(for duration: Duration) {
    let (seconds, attoseconds) = duration.components
    usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
}

/// The register's taken status-list entries (`StatusIndexBitmap`), read inside the import's transaction, and how
/// many cards it held.
struct StatusIndexMap {
    private(set) var bitmap: StatusIndexBitmap
    private(set) var existing = 0

    init(capacity: Int) {
        bitmap = StatusIndexBitmap(capacity: capacity)
    }

    init(_ db: Database, adding count: Int) throws {
        let row = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(max(status_idx), -1) FROM cards")
        existing = row?[0] ?? 0
        bitmap = StatusIndexBitmap(existing: existing, highest: row?[1] ?? -1, adding: count)
        let taken = try Int.fetchCursor(db, sql: "SELECT status_idx FROM cards WHERE status_idx IS NOT NULL")
        while let index = try taken.next() { bitmap.take(index) }
    }

    mutating func take(_ index: Int) { bitmap.take(index) }

    func draw(using generator: inout some RandomNumberGenerator) -> Int { bitmap.draw(using: &generator) }
}

/// The kernel's random bytes read 4 KiB at a time: card ids and status entries need many random words, and
/// `SystemRandomNumberGenerator` makes one system call per word.
struct BufferedRandom: RandomNumberGenerator {
    private static let source = URL(fileURLWithPath: "/dev/urandom")
    private var words = [UInt64](repeating: 0, count: 512)
    private var used = 512

    mutating func next() -> UInt64 {
        if used == words.count {
            refill()
            used = 0
        }
        defer { used += 1 }
        return words[used]
    }

    private mutating func refill() {
        let byteCount = words.count * 8
        if let bytes = try? FileHandle(forReadingFrom: Self.source).read(upToCount: byteCount), bytes.count == byteCount {
            words.withUnsafeMutableBytes { $0.copyBytes(from: bytes) }
            return
        }
        var system = SystemRandomNumberGenerator()
        for index in words.indices { words[index] = system.next() }
    }
}
