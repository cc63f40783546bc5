import CompressNIO
import Foundation
import NIOCore

/// The bureau's card statuses as a Token Status List (draft-ietf-oauth-status-list): 2 bits per card at a random,
/// stable index, least significant bits first, zlib-compressed in the signed token.
public struct StatusList: Sendable, Equatable {
    /// What an entry says about a card.
    public enum Value: UInt8, Sendable {
        case valid = 0
        case revoked = 1
        case expired = 2
        /// Not used by Yongjun; a device treats it as "cannot check offline".
        case reserved = 3
    }

    public static let bits = 2
    /// The W3C Bitstring Status List herd-privacy minimum: one index among at least this many says little.
    public static let minimumCount = 131_072
    /// A device refuses to inflate a list larger than this (2^26 entries): a zlib bomb stops here.
    public static let maximumBytes = 1 << 24

    public private(set) var bytes: [UInt8]

    /// A list of `count` entries (rounded up to whole bytes), all valid.
    public init(count: Int) {
        bytes = [UInt8](repeating: 0, count: (max(count, 0) + 3) / 4)
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    public var count: Int { bytes.count * 4 }

    /// The entry at `index`; nil outside the list.
    public subscript(index: Int) -> Value? {
        guard index >= 0, index < count else { return nil }
        return Value(rawValue: (bytes[index / 4] >> UInt8(2 * (index % 4))) & 0b11)
    }

    public mutating func set(_ index: Int, _ value: Value) {
        precondition(index >= 0 && index < count, "status list index out of range")
        let shift = UInt8(2 * (index % 4))
        bytes[index / 4] = bytes[index / 4] & ~(0b11 << shift) | value.rawValue << shift
    }

    /// zlib (RFC 1950) around DEFLATE, as the draft's `lst` wants, by the system zlib.
    public func compressed() throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        let output = try input.compress(with: .zlib(configuration: .init(compressionLevel: .bestCompression)))
        return Array(output.readableBytesView)
    }

    /// Inflates `lst`; nil when it is not zlib or inflates to more than `maximumBytes`.
    public init?(compressed: [UInt8]) {
        var input = ByteBuffer(bytes: compressed)
        guard let output = try? input.decompress(with: .zlib(), maxSize: Self.maximumBytes), output.readableBytes > 0 else { return nil }
        bytes = Array(output.readableBytesView)
    }
}

/// The claims of a status list token (`typ: statuslist+jwt`).
public struct StatusListClaims: Codable, Sendable, Equatable {
    public struct Body: Codable, Sendable, Equatable {
        public var bits: Int
        public var lst: String

        public init(bits: Int, lst: String) {
            self.bits = bits
            self.lst = lst
        }
    }

    public var iss: String
    /// The list's own URL; codes name it in `status.status_list.uri`.
    public var sub: String
    public var iat: Int
    public var exp: Int
    /// Seconds a reader may keep this list before fetching it again.
    public var ttl: Int
    public var statusList: Body

    public init(iss: String, sub: String, iat: Int, exp: Int, ttl: Int, statusList: Body) {
        self.iss = iss
        self.sub = sub
        self.iat = iat
        self.exp = exp
        self.ttl = ttl
        self.statusList = statusList
    }

    enum CodingKeys: String, CodingKey {
        case iss, sub, iat, exp, ttl
        case statusList = "status_list"
    }

    public static let type = "statuslist+jwt"
    /// A token holding a 2^26-entry list compresses far below this.
    public static let maximumTokenLength = 8 << 20

    /// Checks the token's signature against `keys` and inflates the list.
    public static func open(_ token: String, keys: TrustedKeys, issuer: String) -> Result<(StatusListClaims, StatusList), CodeRejection> {
        CompactJWS.verify(token, keys: keys, types: [type], maximumLength: maximumTokenLength).flatMap { verified in
            guard let claims = try? JSONDecoder().decode(StatusListClaims.self, from: Data(verified.payload)),
                claims.iss == issuer, claims.statusList.bits == StatusList.bits, claims.iat <= claims.exp,
                let compressed = Base64URL.decode(claims.statusList.lst), let list = StatusList(compressed: compressed)
            else { return .failure(.malformed) }
            return .success((claims, list))
        }
    }
}
