/// The end of the audit log as last sealed: how many entries it held and the last entry's hash.
public struct AuditHead: Sendable, Equatable {
    public var count: Int64
    public var lastHash: String

    public init(count: Int64, lastHash: String) {
        self.count = count
        self.lastHash = lastHash
    }
}

/// What the head file (or a backup's seal) says once checked against the audit key.
public enum AuditSeal: Sendable, Equatable {
    case missing
    /// The bare entry count written before heads were sealed.
    case unsealed(count: Int64)
    /// Text that is not a seal made with this audit key.
    case forged
    case sealed(AuditHead)
}

extension AuditChain {
    private static let sealTag = "yongjun-audit-head/1"

    /// The head as one line, HMAC-ed with the audit key, so whoever holds only the files cannot rewrite it.
    public func sealText(_ head: AuditHead) -> String {
        let hash = head.lastHash.isEmpty ? "-" : head.lastHash
        return "\(Self.sealTag) \(head.count) \(hash) \(sealCode(count: head.count, lastHash: hash))\n"
    }

    /// Reads a seal written by `sealText`; nil text means there is none.
    public func readSeal(_ text: String?) -> AuditSeal {
        guard let text else { return .missing }
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        if fields.count == 1, let count = Int64(fields[0]) { return .unsealed(count: count) }
        guard fields.count == 4, fields[0] == Self.sealTag, let count = Int64(fields[1]), count >= 0,
            ConstantTime.equal(Array(fields[3].utf8), Array(sealCode(count: count, lastHash: fields[2]).utf8))
        else { return .forged }
        return .sealed(AuditHead(count: count, lastHash: fields[2] == "-" ? "" : fields[2]))
    }

    private func sealCode(count: Int64, lastHash: String) -> String {
        // "head|" keeps a seal's message apart from an entry's, which starts with a length prefix.
        let message = "head|\(count)|\(lastHash)"
        return authenticationCode(message)
    }

    /// The problem with the log's end given its seal, after the entries themselves checked out.
    func headProblem(entries: [AuditEntry], seal: AuditSeal) -> AuditProblem? {
        let count = Int64(entries.count)
        let reseal = "check the last entries with `yongjun audit list`, then run `yongjun audit reseal`"
        switch seal {
        case .missing:
            guard count > 0 else { return nil }
            return AuditProblem(
                seq: count,
                reason:
                    "audit.head is missing, so entries cut off the end would go unseen; if you know why (e.g. a data folder copied without it), \(reseal)",
                kind: .head
            )
        case .forged:
            return AuditProblem(seq: count, reason: "audit.head is forged or damaged: its seal was not made with this audit key", kind: .head)
        case .unsealed(let written):
            if written > count { return cutEnd(count: count, written: written) }
            return AuditProblem(
                seq: count,
                reason: "audit.head is in the old unsealed format (an entry count anyone could rewrite); \(reseal) to seal it",
                kind: .head
            )
        case .sealed(let head):
            if head.count > count { return cutEnd(count: count, written: head.count) }
            let sealedHash = head.count == 0 ? "" : entries[Int(head.count) - 1].hash
            if sealedHash != head.lastHash {
                return AuditProblem(
                    seq: head.count,
                    reason: "entry \(head.count) is not the entry audit.head sealed: the log was rewritten from there on",
                    kind: .head
                )
            }
            if head.count < count {
                return AuditProblem(
                    seq: head.count + 1,
                    reason: "entries \(head.count + 1)–\(count) were committed after audit.head was last sealed "
                        + "(the machine probably stopped between the commit and the seal); check them with "
                        + "`yongjun audit list --limit \(count - head.count)`, and if they are actions you expect, run `yongjun audit reseal`",
                    kind: .unsealedTail
                )
            }
            return nil
        }
    }

    private func cutEnd(count: Int64, written: Int64) -> AuditProblem {
        AuditProblem(
            seq: count + 1,
            reason: "the log ends at entry \(count) but \(written) were written: entries were deleted from the end",
            kind: .cutEnd
        )
    }
}
