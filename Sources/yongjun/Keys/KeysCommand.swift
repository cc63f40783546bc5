import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun keys`: the Ed25519 keys that sign codes.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, rotate and list the signing keys.",
        subcommands: [KeysInit.self, KeysRotate.self, KeysList.self]
    )
}

struct KeysInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the first signing key and the ID-number hashing key (files mode 0600).",
        discussion:
            "Example: yongjun --data-dir /var/lib/yongjun keys init\nPrints the new key id. Back up the keys/ folder separately from the database."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.dataDirectory.prepare()
        try global.keyStore.prepare()
        let (keys, audit) = (global.keyStore, try global.audit())
        let key = try await global.withAdminStore { store in try await store.addSigningKey(to: keys, first: true, now: Date(), audit: audit) }
        print(key.kid)
    }
}

struct KeysRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Add a new signing key; new codes use it, codes signed with older keys stay valid until they expire.",
        discussion: "Example: yongjun keys rotate\nA running server picks the new key up within seconds. Prints the new key id."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (keys, audit) = (global.keyStore, try global.audit())
        let key = try await global.withAdminStore { store in try await store.addSigningKey(to: keys, first: false, now: Date(), audit: audit) }
        print(key.kid)
    }
}

struct KeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List signing keys, oldest first; the last one signs new codes.",
        discussion: "Example: yongjun keys list --json"
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Row: Encodable {
        let kid: String
        let createdAt: String
        let status: String
    }

    func run() async throws {
        let ring = try global.keyStore.loadKeyRing()
        let audited = try await global.withAdminStore { store in try await store.auditedSigningKeyIDs() }
        let rows = ring.keys.map { key in
            Row(kid: key.kid, createdAt: Timestamp.iso(key.createdAt), status: key.kid == ring.current?.kid ? "current" : "previous")
        }
        if json {
            try printJSON(rows)
        } else {
            printTable(["KID", "CREATED (UTC)", "STATUS"], rows.map { [$0.kid, $0.createdAt, $0.status] })
        }
        // By file name, as `audit verify` checks: a copied file carries another key's kid inside.
        for kid in global.keyStore.signingKeyIDs() where !audited.contains(kid) {
            FileHandle.standardError.write(
                Data("yongjun: signing key \(kid) has no audit entry; `yongjun audit verify` explains what to do\n".utf8)
            )
        }
    }
}
