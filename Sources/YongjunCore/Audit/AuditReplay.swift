import Foundation

/// The register as the audit log says it must be: the status of every shop, card and application that audited
/// commands gave it, replayed entry by entry. A row that differs was changed outside Yongjun.
public struct AuditReplay: Sendable {
    /// A value and the entry that set it.
    public struct Fact: Sendable, Equatable {
        public let value: String
        public let seq: Int64
    }

    /// Shop status by merchant id, from add, approve, suspend, reinstate and revoke.
    public private(set) var merchantStatus: [Int64: Fact] = [:]
    /// Applications the meeting approved; a shop created from one starts active.
    public private(set) var approvedApplications: Set<Int64> = []
    /// Review stage by application id; an application with no entry is at materials (the web form is not audited).
    public private(set) var applicationStage: [Int64: Fact] = [:]
    /// Revoked cards by card number (imports never revoke or un-revoke).
    public private(set) var revokedCards: [String: Int64] = [:]
    /// Cards the audited imports added.
    public private(set) var cardsInserted = 0
    /// Signing key ids created by `keys init` and `keys rotate`.
    public private(set) var signingKeys: Set<String> = []

    public init(entries: [AuditEntry]) {
        let decoder = JSONDecoder()
        for entry in entries { apply(entry, decoder) }
    }

    private mutating func apply(_ entry: AuditEntry, _ decoder: JSONDecoder) {
        func details() -> [String: String] {
            (try? decoder.decode([String: String].self, from: Data(entry.details.utf8))) ?? [:]
        }
        let seq = entry.seq
        switch entry.action {
        case "merchants.add", "merchants.reinstate":
            if let id = Self.number(entry.subject, after: "merchant ") { merchantStatus[id] = Fact(value: "active", seq: seq) }
        case "merchants.suspend":
            if let id = Self.number(entry.subject, after: "merchant ") { merchantStatus[id] = Fact(value: "suspended", seq: seq) }
        case "merchants.revoke":
            if let id = Self.number(entry.subject, after: "merchant ") { merchantStatus[id] = Fact(value: "revoked", seq: seq) }
        case "applications.advance":
            if let id = Self.number(entry.subject, after: "application "), let to = details()["to"] {
                applicationStage[id] = Fact(value: to, seq: seq)
            }
        case "applications.reject":
            if let id = Self.number(entry.subject, after: "application ") { applicationStage[id] = Fact(value: "rejected", seq: seq) }
        case "batches.approve":
            let details = details()
            for id in Self.numbers(details["approved"]) {
                applicationStage[id] = Fact(value: "approved", seq: seq)
                approvedApplications.insert(id)
            }
            for id in Self.numbers(details["merchants"]) { merchantStatus[id] = Fact(value: "active", seq: seq) }
        case "cards.revoke":
            revokedCards[entry.subject] = seq
        case "cards.import":
            cardsInserted += Int(details()["inserted"] ?? "") ?? 0
        case "keys.init", "keys.rotate":
            signingKeys.insert(entry.subject)
        default:
            break
        }
    }

    private static func number(_ subject: String, after prefix: String) -> Int64? {
        subject.hasPrefix(prefix) ? Int64(subject.dropFirst(prefix.count)) : nil
    }

    private static func numbers(_ list: String?) -> [Int64] {
        (list ?? "").split(separator: ",").compactMap { Int64($0) }
    }
}
