// Offline verification speed on one core, against raw swift-crypto Ed25519 verification of the same signatures in
// the same run; and the status list for a million cards. Run by bench/offline (release build).
import Crypto
import Foundation
import YongjunCore

let codeCount = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20_000
let rounds = 5
var generator = SystemRandomNumberGenerator()
let key = SigningKey.generate(now: Date(), using: &generator)
let now = Date()
let nowSeconds = Int(now.timeIntervalSince1970)
let uri = "https://yongjun.example.cn/api/v1/status-list"

// A million cards, 1% revoked, at random entries of a 2^21 list (what StatusIndexAllocator gives 10^6 cards).
var allocator = StatusIndexAllocator(taken: [], cards: 1_000_000)
let indexes = (0..<1_000_000).map { _ in allocator.next(using: &generator) }
var list = StatusList(count: StatusIndexAllocator.capacity(cards: 1_000_000))
for index in indexes.prefix(10_000) { list.set(index, .revoked) }
let compressStart = ContinuousClock.now
let lst = try list.compressed()
let compressTime = ContinuousClock.now - compressStart
let statusList = try key.sign(
    StatusListClaims(
        iss: "yongjun",
        sub: uri,
        iat: nowSeconds,
        exp: nowSeconds + 86_700,
        ttl: 300,
        statusList: .init(bits: 2, lst: Base64URL.encode(lst))
    ),
    type: StatusListClaims.type
)
let snapshot = try key.sign(
    ShopSnapshot(
        iss: "yongjun",
        iat: nowSeconds,
        maxOfflineAge: 86_400,
        clockLeeway: 30,
        jwks: KeyRing(keys: [key]).jwks,
        statusList: statusList,
        shop: .init(id: 1, name: "老兵汽修", industry: "vehicle_repair", status: "active", benefit: nil)
    ),
    type: ShopSnapshot.type
)
let openStart = ContinuousClock.now
let verifier = try ShopSnapshot.open(snapshot).get()
let openTime = ContinuousClock.now - openStart

// Valid codes for cards not revoked, each used once.
let issuer = CodeIssuer(key: key, issuer: "yongjun", statusListURI: uri)
let codes = try (0..<codeCount).map { number in
    try issuer.issue(
        for: CodeSubject(cardID: "card\(number)", name: "张小三", category: .veteran, statusIndex: indexes[10_000 + number]),
        now: now,
        using: &generator
    ).token
}
let inputs = codes.map { code -> (message: [UInt8], signature: [UInt8]) in
    let parts = code.split(separator: ".")
    return (Array((parts[0] + "." + parts[1]).utf8), Base64URL.decode(parts[2])!)
}
let publicKey = key.publicKey

func offlineRound() -> Double {
    var used = Set<String>()
    used.reserveCapacity(codes.count)
    let start = ContinuousClock.now
    var valid = 0
    for code in codes {
        let verdict = verifier.verify(code, now: now, alreadyUsed: { used.contains($0) })
        if let use = verdict.use {
            used.insert(use.key)
            valid += 1
        }
    }
    precondition(valid == codes.count, "every code should be valid once")
    let elapsed = ContinuousClock.now - start
    return Double(codes.count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func rawRound() -> Double {
    let start = ContinuousClock.now
    var valid = 0
    for input in inputs where publicKey.isValidSignature(input.signature, for: input.message) { valid += 1 }
    precondition(valid == inputs.count)
    let elapsed = ContinuousClock.now - start
    return Double(inputs.count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

var offline: [Double] = []
var raw: [Double] = []
for _ in 0..<rounds {
    raw.append(rawRound())
    offline.append(offlineRound())
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
print("codes per round: \(codes.count), rounds: \(rounds) (alternating)")
print(String(format: "raw Ed25519 verify:   median %.0f/s (best %.0f/s)", median(raw), raw.max()!))
print(String(format: "offline verify:       median %.0f/s (best %.0f/s)", median(offline), offline.max()!))
print(String(format: "ratio offline/raw:    %.3f (goal >= 0.9)", median(offline) / median(raw)))
print("status list, 10^6 cards at random entries of \(list.count), 1% revoked:")
print("  raw \(list.bytes.count) bytes, zlib \(lst.count) bytes, token \(statusList.utf8.count) bytes (goal < 300 KB)")
print("  compress \(compressTime), open snapshot (2 signatures + inflate) \(openTime)")

if CommandLine.arguments.contains("--parts") {
    func rate(_ name: String, _ body: (String) -> Void) {
        let start = ContinuousClock.now
        for code in codes { body(code) }
        let elapsed = ContinuousClock.now - start
        print(name, Double(codes.count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }
    let trusted = KeyRing(keys: [key]).trusted
    rate("jws") { _ = CompactJWS.verify($0, keys: trusted, types: [nil, "JWT"], maximumLength: 2048) }
    rate("authenticate") { _ = verifier.codes.authenticate($0) }
    rate("verify") { _ = verifier.verify($0, now: now, alreadyUsed: { _ in false }) }
    var position = 0
    rate("raw") { _ in
        _ = publicKey.isValidSignature(inputs[position].signature, for: inputs[position].message)
        position += 1
    }
}
