import Crypto
import Foundation

/// A compact JWS signed with EdDSA (Ed25519) by one of a set of trusted keys: codes, the status list and the shop
/// snapshot all arrive this way, and are all checked here.
public enum CompactJWS {
    struct Header: Decodable {
        var alg: String
        var kid: String?
        var typ: String?
        var crit: [String]?

        init?(plain bytes: [UInt8]) {
            guard let object = PlainJSON.parse(bytes), Set(object.keys).isSubset(of: ["alg", "kid", "typ"]), case .string(let alg)? = object["alg"]
            else { return nil }
            self.alg = alg
            for (name, member) in object where name != "alg" {
                guard case .string = member else { return nil }
            }
            if case .string(let kid)? = object["kid"] { self.kid = kid }
            if case .string(let typ)? = object["typ"] { self.typ = typ }
        }
    }

    /// A token whose signature checked out: who signed it and the payload bytes (not yet decoded).
    public struct Verified: Sendable {
        public let kid: String
        public let payload: [UInt8]
    }

    /// Checks shape, `alg`, `typ` (one of `types`; nil stands for "no typ"), the `kid` and the signature.
    /// Nothing in the payload is read before the signature holds.
    public static func verify(_ token: String, keys: TrustedKeys, types: Set<String?>, maximumLength: Int) -> Result<Verified, CodeRejection> {
        guard token.utf8.count <= maximumLength else { return .failure(.malformed) }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3,
            let headerBytes = Base64URL.decode(Substring(parts[0])),
            let payload = Base64URL.decode(Substring(parts[1])),
            let signature = Base64URL.decode(Substring(parts[2])),
            let header = Header(plain: headerBytes) ?? (try? JSONDecoder().decode(Header.self, from: Data(headerBytes))),
            header.alg == "EdDSA", header.crit == nil, types.contains(header.typ), let kid = header.kid
        else { return .failure(.malformed) }
        guard let publicKey = keys.publicKey(kid: kid) else { return .failure(.unknownKey) }
        let signingInput = token.utf8.prefix(parts[0].count + 1 + parts[1].count)
        guard signature.count == 64, publicKey.isValidSignature(signature, for: Array(signingInput)) else {
            return .failure(.badSignature)
        }
        return .success(Verified(kid: kid, payload: payload))
    }

    /// The header of a token, unverified (to find which key set a self-describing snapshot names).
    static func unverifiedPayload(_ token: String) -> [UInt8]? {
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return Base64URL.decode(Substring(parts[1]))
    }
}
