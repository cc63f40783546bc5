import ArgumentParser
import Foundation
import YongjunCore

/// `yongjun shop`: the offline kit a shop device runs (docs/offline.md).
struct ShopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shop",
        abstract: "A shop device's offline kit: sync a signed snapshot, verify codes without a network, upload the records.",
        discussion: """
            yongjun shop sync --server https://yongjun.example.cn --key yjk_… --dir ./kit  (while online, at least daily)
            yongjun shop verify CODE --dir ./kit [--json]                                 (works offline)
            yongjun shop upload --dir ./kit                                               (when online again)
            """,
        subcommands: [ShopSync.self, ShopVerify.self, ShopUpload.self]
    )
}

struct ShopSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Fetch this shop's signed snapshot (keys, status list, shop status) into DIR (files 0600).",
        discussion: "A suspended or revoked shop gets no snapshot, and the one in DIR is removed: the device stops verifying offline."
    )

    @Option(help: "The service's address, e.g. https://yongjun.example.cn (kept in DIR for upload).") var server: String
    @Option(help: "The shop's API key, yjk_… (kept in DIR, readable only by you).") var key: String
    @Option(help: "The kit folder.") var dir: String

    func validate() throws {
        guard let url = URL(string: server), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError("--server must be an http:// or https:// address, e.g. https://yongjun.example.cn")
        }
        guard MerchantAPIKey(parsing: key) != nil else { throw ValidationError("--key is not a shop key (yjk_…)") }
    }

    func run() async throws {
        let kit = try ShopKit(path: dir)
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        let reply = try await ShopHTTP.send("GET", URL(string: base + "/api/v1/shop/snapshot")!, key: key)
        switch reply.status {
        case 200: break
        case 401, 403:
            try kit.locked { unlink(kit.snapshotFile.path) }
            throw CLIFailure(message: "the server refused this shop (\(ShopHTTP.message(reply))); offline verification is off in \(dir)")
        default:
            throw CLIFailure(message: "sync failed (\(ShopHTTP.message(reply))); the previous snapshot, if any, is kept")
        }
        struct Body: Decodable { var snapshot: String }
        guard let body = try? JSONDecoder().decode(Body.self, from: reply.body) else {
            throw CLIFailure(message: "the server's snapshot is not JSON")
        }
        let verifier: OfflineVerifier
        switch ShopSnapshot.open(body.snapshot) {
        case .success(let opened): verifier = opened
        case .failure(let problem): throw CLIFailure(message: "the server's snapshot does not check out (\(problem.rawValue)); nothing written")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try kit.locked {
            try kit.write(Data(body.snapshot.utf8), to: kit.snapshotFile)
            try kit.write(try encoder.encode(ShopKit.Settings(server: base, key: key)), to: kit.settingsFile)
        }
        let snapshot = verifier.snapshot
        let hours = snapshot.maxOfflineAge / 3600
        print(
            "synced \(TerminalText.escape(snapshot.shop.name)) (shop \(snapshot.shop.id)): \(snapshot.jwks.keys.count) key(s), offline verification good for \(hours) h"
        )
        if try kit.records().contains(where: { !$0.uploaded }) {
            print("records not yet uploaded are waiting: run `yongjun shop upload --dir \(dir)`")
        }
    }
}

struct ShopVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a code on this device, without the network; the record is queued for upload.",
        discussion: """
            Prints the same answer as POST /api/v1/verifications, plus "offline": true (with --json). Exit status 0
            when valid, 1 when not. 9-digit numbers cannot be checked offline: ask for the QR code.
            """
    )

    @Argument(help: "The code (the QR code's text).") var code: String
    @Option(help: "The kit folder.") var dir: String
    @Flag(help: "Print the answer as JSON.") var json = false

    func run() async throws {
        let kit = try ShopKit(path: dir)
        let now = Date()
        var generator = SystemRandomNumberGenerator()
        let nonce = "kit-" + RandomText.base32(count: 20, using: &generator)
        let verdict: OfflineVerifier.Verdict
        var age: Int?
        var problem: ShopSnapshot.Problem?
        var benefit: BenefitDecision?
        (verdict, age, problem, benefit) = try kit.locked {
            var records = try kit.records()
            let nowSeconds = Int(now.timeIntervalSince1970)
            let verdict: OfflineVerifier.Verdict
            var age: Int?
            var problem: ShopSnapshot.Problem?
            var granted: (decision: BenefitDecision, day: String)?
            switch kit.verifier() {
            case .failure(let found):
                problem = found
                verdict = OfflineVerifier.Verdict(reason: .syncRequired, claims: nil, use: nil)
            case .success(let verifier):
                problem = verifier.freshness(now: now)
                age = verifier.age(now: now)
                let used = Set(records.compactMap { record in record.useUntil.map { $0 > nowSeconds } == true ? record.useKey : nil })
                verdict = verifier.verify(code, now: now, alreadyUsed: { used.contains($0) })
                if verdict.valid, let claims = verdict.claims {
                    granted = verifier.benefit(for: claims, now: now) { rule, day in
                        records.contains { $0.cardID == claims.sub && $0.benefitRule == rule && $0.benefitDay == day }
                    }
                }
            }
            // A refusal before any check (no usable snapshot) is not a verification: nothing to upload.
            if verdict.reason != .syncRequired {
                records.removeAll { $0.uploaded && ($0.useUntil ?? 0) <= nowSeconds }
                records.append(
                    ShopKit.Record(
                        code: code,
                        nonce: nonce,
                        verifiedAt: Timestamp.iso(now),
                        result: verdict.reason?.rawValue ?? "valid",
                        useKey: verdict.use?.key,
                        useUntil: verdict.use?.until,
                        uploaded: false,
                        cardID: verdict.claims?.sub,
                        benefitRule: granted.flatMap { if case .eligible(_, let rule) = $0.decision { rule } else { nil } },
                        benefitDay: granted?.day
                    )
                )
                try kit.save(records)
            }
            return (verdict, age, problem, granted?.decision)
        }
        let notEligible = benefit == .notEligible
        let message = problem?.message ?? verdict.reason?.message ?? (notEligible ? VerificationReason.notEligibleHere.message : "请核对优待证")
        var benefitText: String?
        if case .eligible(let text?, _) = benefit { benefitText = text }
        if json {
            var object: [String: any Encodable] = ["valid": verdict.valid, "message": message, "offline": true, "nonce": nonce]
            if let reason = verdict.reason { object["reason"] = reason.rawValue }
            if verdict.valid, let claims = verdict.claims, let category = claims.category {
                object["category"] = category.rawValue
                object["categoryLabel"] = category.label
                object["holder"] = claims.name
                object["eligible"] = !notEligible
                if notEligible { object["reason"] = VerificationReason.notEligibleHere.rawValue }
                if let benefitText { object["benefit"] = benefitText }
            }
            if let age { object["snapshotAge"] = age }
            print(Self.encode(object))
        } else if verdict.valid, let claims = verdict.claims {
            print("✔ 有效（离线核验）\(claims.category?.label ?? "") \(TerminalText.escape(claims.name)) — \(message)")
            if let benefitText { print("优惠：\(TerminalText.escape(benefitText))") }
        } else {
            print("✘ 无效（离线核验）\(verdict.reason?.rawValue ?? ""): \(message)")
        }
        if !json, let age { print("数据同步于 \(age / 60) 分钟前") }
        if !verdict.valid { throw ExitCode(1) }
    }

    static func encode(_ object: [String: any Encodable]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let parts = object.keys.sorted().compactMap { key -> String? in
            guard let value = try? encoder.encode(object[key]!) else { return nil }
            return "\"\(key)\":" + String(decoding: value, as: UTF8.self)
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}

struct ShopUpload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Send the records made offline to the server; safe to repeat (each record is taken once).",
        discussion: "Prints what the server accepted and what it flagged (a code used twice, a card revoked before, a shop not active)."
    )

    @Option(help: "The kit folder.") var dir: String

    struct Answer: Decodable {
        struct Result: Decodable {
            var nonce: String
            var status: String
            var serverResult: String?
            var conflict: String?
            var error: String?
        }

        var accepted: Int
        var duplicates: Int
        var rejected: Int
        var flagged: Int
        var results: [Result]
    }

    func run() async throws {
        let kit = try ShopKit(path: dir)
        let settings = try kit.settings()
        let pending = try kit.locked { try kit.records().filter { !$0.uploaded } }
        guard !pending.isEmpty else {
            print("nothing to upload")
            return
        }
        var totals = (accepted: 0, duplicates: 0, rejected: 0, flagged: 0)
        for start in stride(from: 0, to: pending.count, by: 500) {
            let batch = pending[start..<min(start + 500, pending.count)]
            struct Upload: Encodable {
                struct Item: Encodable {
                    var code, nonce, verifiedAt, result: String
                }
                var records: [Item]
            }
            let body = try JSONEncoder().encode(
                Upload(records: batch.map { .init(code: $0.code, nonce: $0.nonce, verifiedAt: $0.verifiedAt, result: $0.result) })
            )
            let reply = try await ShopHTTP.send(
                "POST",
                URL(string: settings.server + "/api/v1/verifications/offline")!,
                key: settings.key,
                body: body
            )
            guard reply.status == 200, let answer = try? JSONDecoder().decode(Answer.self, from: reply.body) else {
                throw CLIFailure(message: "upload refused (\(ShopHTTP.message(reply))); records stay queued")
            }
            // A rejected record can never be taken (its time is impossible, say): it is printed and leaves the queue.
            let done = Set(answer.results.filter { ["accepted", "duplicate", "rejected"].contains($0.status) }.map(\.nonce))
            try kit.locked {
                var records = try kit.records()
                for index in records.indices where done.contains(records[index].nonce) { records[index].uploaded = true }
                try kit.save(records)
            }
            totals.accepted += answer.accepted
            totals.duplicates += answer.duplicates
            totals.rejected += answer.rejected
            totals.flagged += answer.flagged
            for result in answer.results where result.conflict != nil || result.status == "rejected" {
                let what =
                    result.status == "rejected"
                    ? "rejected: \(result.error ?? "")" : "flagged \(result.conflict ?? "") (server: \(result.serverResult ?? "?"))"
                print("  \(result.nonce): \(TerminalText.escape(what))")
            }
        }
        print(
            "uploaded \(pending.count): \(totals.accepted) accepted, \(totals.duplicates) already there, \(totals.rejected) rejected, \(totals.flagged) flagged"
        )
    }
}
