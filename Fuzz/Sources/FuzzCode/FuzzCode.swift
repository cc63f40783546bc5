import Crypto
import Foundation
import YongjunCore

// Fuzzes the compact-JWS code parser and verifier, and the claims arithmetic behind it.
// The first byte picks what the rest of the input is:
//   0 mod 4: a whole token, as a shop's till would send it;
//   1 mod 4: the claims JSON, signed here with a key of the ring so the claims checks and arithmetic are reached;
//   2 mod 4: a header JSON, a 0x00 byte, then the claims JSON, both signed here;
//   3 mod 4: iat, nbf and exp as three little-endian Int64, then the name, signed with CodeIssuer: any times at all.

/// Fixed keys, so the valid tokens in the checked-in corpus stay valid from run to run.
private let ring: [SigningKey] = [UInt8(1), 2].map { seed in
    let raw = [UInt8](repeating: seed, count: 32)
    let day = Date(timeIntervalSince1970: 1_795_000_000 + Double(seed) * 86_400)
    return SigningKey(kid: "k2026111\(7 + seed)-fuzz0\(seed)", createdAt: day, privateKey: try! .init(rawRepresentation: raw))
}
private let verifier = CodeVerifier(keyRing: KeyRing(keys: ring), issuer: "yongjun")
private let now = Date(timeIntervalSince1970: 1_795_000_100)
/// ServerSettings.clockLeeway's default.
private let leeway = 30

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let mode = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    let token: String
    switch mode % 4 {
    case 0:
        token = String(decoding: rest, as: UTF8.self)
    case 1:
        // The plain-JSON fast path must read these claims exactly as JSONDecoder does, or step aside.
        if let fast = CodeClaims(plain: rest) {
            precondition(fast == (try? JSONDecoder().decode(CodeClaims.self, from: Data(rest))), "PlainJSON and JSONDecoder disagree")
        }
        let key = ring[Int(mode / 4) % ring.count]
        token = signed(header: Array(#"{"alg":"EdDSA","kid":"\#(key.kid)","typ":"JWT"}"#.utf8), claims: rest, with: key)
    case 2:
        let parts = rest.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        token = signed(header: Array(parts[0]), claims: Array(parts.count > 1 ? parts[1] : []), with: ring[0])
    default:
        let times = (rest + [UInt8](repeating: 0, count: 24)).prefix(24)
        func time(_ index: Int) -> Int {
            times.dropFirst(index * 8).prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        let name = String(decoding: rest.dropFirst(24), as: UTF8.self)
        let claims = CodeClaims(iss: "yongjun", sub: "card-abc", jti: "J", iat: time(0), nbf: time(1), exp: time(2), cat: "veteran", name: name)
        token = try! CodeIssuer(key: ring[0], issuer: "yongjun").sign(claims)
    }
    check(token)
    return 0
}

private func signed(header: [UInt8], claims: [UInt8], with key: SigningKey) -> String {
    let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(claims)
    let signature = try! key.privateKey.signature(for: Array(signingInput.utf8))
    return signingInput + "." + Base64URL.encode(signature)
}

private func check(_ token: String) {
    guard case .success(let authenticated) = verifier.authenticate(token) else { return }
    precondition(ring.contains { $0.kid == authenticated.kid }, "authenticated with a kid outside the ring")
    let claims = authenticated.claims
    precondition(claims.iss == "yongjun" && claims.category != nil && claims.nbf <= claims.exp, "accepted claims it should refuse")
    // What VerificationService does with every authenticated code, expired or not. The results go to `sink`:
    // the optimizer may drop an overflow check whose result nobody reads.
    sink.rejection = claims.timeRejection(now: now, leeway: leeway)
    sink.expiresAt = claims.expiresAt
    sink.until = useUntil(claims)
}

/// What single use remembers (CodeUse, shared by the server and the offline kit).
private func useUntil(_ claims: CodeClaims) -> Int {
    CodeUse(of: claims, now: now, leeway: leeway).until
}

/// Where the harness leaves what it computed; libFuzzer runs one input at a time.
private nonisolated(unsafe) var sink: (rejection: CodeRejection?, expiresAt: Date, until: Int) = (nil, .distantPast, 0)
