import Crypto
import Foundation

/// One admin action in the audit log: who did what to which record, and when.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var seq: Int64
    public var at: String
    public var operatorName: String
    public var action: String
    public var subject: String
    public var details: String
    /// `hash` of the entry before (empty for the first).
    public var previousHash: String
    public var hash: String

    public init(seq: Int64, at: String, operatorName: String, action: String, subject: String, details: String, previousHash: String, hash: String) {
        self.seq = seq
        self.at = at
        self.operatorName = operatorName
        self.action = action
        self.subject = subject
        self.details = details
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// Chains audit entries: each hash is an HMAC (key kept with the signing keys) over the previous hash and the
/// entry's fields, so editing, deleting or reordering an entry breaks the chain from that entry on, and
/// someone holding only the database cannot rebuild a consistent chain.
public struct AuditChain: Sendable {
    /// HMAC already keyed: each entry copies it instead of deriving the key pads again (10^5 entries per verify).
    private let keyed: HMAC<SHA256>

    public init(keyBytes: [UInt8]) {
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: keyBytes))
    }

    /// The HMAC-SHA256 of `message` under the audit key, base64url.
    func authenticationCode(_ message: String) -> String {
        var mac = keyed
        mac.update(data: Array(message.utf8))
        return Base64URL.encode(Array(mac.finalize()))
    }

    /// The hash an entry must carry, given its fields and the previous entry's hash.
    public func hash(seq: Int64, at: String, operatorName: String, action: String, subject: String, details: String, previousHash: String) -> String {
        // Length-prefix each field so that no two different entries serialise alike.
        let fields = [String(seq), at, operatorName, action, subject, details, previousHash]
        let message = fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
        return authenticationCode(message)
    }

    /// The first problem in `entries` (read in `seq` order), or nil if the chain is intact.
    /// `seal`, the head kept outside the database, also catches entries cut off the end; nil skips that check.
    public func firstProblem(in entries: [AuditEntry], seal: AuditSeal? = nil) -> AuditProblem? {
        var previousHash = ""
        for (index, entry) in entries.enumerated() {
            let expectedSeq = Int64(index + 1)
            if entry.seq != expectedSeq {
                return AuditProblem(
                    seq: expectedSeq,
                    reason: "entry \(expectedSeq) is missing or out of order (found entry \(entry.seq) in its place)"
                )
            }
            if entry.previousHash != previousHash {
                return AuditProblem(
                    seq: entry.seq,
                    reason: "entry \(entry.seq) does not follow entry \(entry.seq - 1): an entry was deleted or reordered"
                )
            }
            let expected = hash(
                seq: entry.seq,
                at: entry.at,
                operatorName: entry.operatorName,
                action: entry.action,
                subject: entry.subject,
                details: entry.details,
                previousHash: entry.previousHash
            )
            if entry.hash != expected {
                return AuditProblem(seq: entry.seq, reason: "entry \(entry.seq) was changed after it was written")
            }
            previousHash = entry.hash
        }
        return seal.flatMap { headProblem(entries: entries, seal: $0) }
    }
}

/// Where the audit chain first breaks.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    /// What kind of break: in the entries, at the end, in the head file, or entries committed after the last seal.
    public enum Kind: Sendable, Equatable {
        case entry
        case cutEnd
        case head
        case unsealedTail
    }

    public let seq: Int64
    public let reason: String
    public let kind: Kind
    public var description: String { reason }

    public init(seq: Int64, reason: String, kind: Kind = .entry) {
        self.seq = seq
        self.reason = reason
        self.kind = kind
    }
}
