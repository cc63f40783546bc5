import Foundation
import Synchronization
import YongjunCore

/// Who is acting, and how to chain what they do into the audit log.
public struct AuditContext: Sendable {
    public let operatorName: String
    package let chain: AuditChain
    /// `audit.head` beside the database: the entry count and last hash, sealed with the audit key, so entries cut
    /// off the end are noticed. Written after each commit, never before.
    let headPath: String
    /// Serialises head updates between concurrent admin commands.
    let lockPath: String
    /// Why the last seal after a commit could not be written, for the write that caused it to report.
    private let sealFailure = SealFailure()

    public init(operatorName: String, chain: AuditChain, directory: DataDirectory) {
        self.operatorName = operatorName
        self.chain = chain
        self.headPath = directory.path + "/audit.head"
        self.lockPath = directory.path + "/audit.head.lock"
    }

    /// The entry that records `note`, chained after the entry with `lastSeq` and `lastHash` (0 and "" for the first):
    /// the one rule for what an entry holds, whichever store appends it.
    package func entry(after lastSeq: Int64, lastHash: String, note: AuditNote, now: Date) throws -> AuditEntry {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let details = String(decoding: try encoder.encode(note.details), as: UTF8.self)
        let at = Timestamp.iso(now)
        let seq = lastSeq + 1
        let hash = chain.hash(
            seq: seq,
            at: at,
            operatorName: operatorName,
            action: note.action,
            subject: note.subject,
            details: details,
            previousHash: lastHash
        )
        return AuditEntry(
            seq: seq,
            at: at,
            operatorName: operatorName,
            action: note.action,
            subject: note.subject,
            details: details,
            previousHash: lastHash,
            hash: hash
        )
    }

    /// The head file, checked against the audit key.
    public var seal: AuditSeal {
        chain.readSeal(FileManager.default.contents(atPath: headPath).map { String(decoding: $0, as: UTF8.self) })
    }

    /// Seals the head at an entry once its transaction has committed (registered by `appendAudit`). A failure is
    /// kept for the audited write to report; the head then stays behind, which `audit verify` names.
    package func sealAfterCommit(_ head: AuditHead) {
        do {
            try advanceHead(to: head)
        } catch {
            sealFailure.record(error)
        }
    }

    /// The error of a seal that failed after this context's last commit, if any.
    package func takeSealFailure() -> (any Error)? {
        sealFailure.take()
    }

    /// Moves the head to a newly committed entry. A head that is missing, forged, in the old format or already
    /// further on is left as it is, so `audit verify` keeps reporting it: only `reseal` may replace it.
    private func advanceHead(to head: AuditHead) throws {
        try withLock {
            switch seal {
            case .sealed(let current) where current.count < head.count: try write(head)
            case .missing where head.count == 1: try write(head)
            default: break
            }
        }
    }

    /// Replaces the head whatever it said (`audit reseal`, `restore`); the caller has recorded why in the log.
    package func replaceHead(with head: AuditHead) throws {
        try withLock { try write(head) }
    }

    private func write(_ head: AuditHead) throws {
        do {
            try SecretFile.replace(Array(chain.sealText(head).utf8), at: headPath)
        } catch {
            throw RegisterError(
                "the action was committed, but \(headPath) could not be written (\(error)); fix the folder, then run `yongjun audit verify`"
            )
        }
    }

    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RegisterError("cannot open \(lockPath) to seal the audit log: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        flock(descriptor, LOCK_EX)
        return try body()
    }
}

/// The last failed seal, shared by copies of one `AuditContext`.
private final class SealFailure: Sendable {
    private let error = Mutex<(any Error)?>(nil)

    func record(_ failure: any Error) {
        error.withLock { $0 = failure }
    }

    func take() -> (any Error)? {
        error.withLock { error in
            defer { error = nil }
            return error
        }
    }
}

/// What an audited write did, filled in by the write itself (e.g. the id it created).
public struct AuditNote: Sendable {
    public var action: String
    public var subject: String
    public var details: [String: String]

    public init(action: String, subject: String = "", details: [String: String] = [:]) {
        self.action = action
        self.subject = subject
        self.details = details
    }
}
