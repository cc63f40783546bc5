/// A reader for the plain JSON our own signer writes (objects of strings without escapes and whole numbers), so
/// the headers and claims of codes skip `JSONDecoder`, which costs more than the Ed25519 check on a shop device.
/// It returns nil for anything else (escapes, arrays, booleans, fractions, duplicate keys, stray bytes), and the
/// caller then uses `JSONDecoder`: both read the same JSON the same way, the fast path only when it is sure.
enum PlainJSON: Equatable {
    case string(String)
    case integer(Int)
    case object([String: PlainJSON])

    static func parse(_ bytes: [UInt8]) -> [String: PlainJSON]? {
        var index = 0
        guard case .object(let object)? = value(bytes, &index, depth: 0) else { return nil }
        skipSpace(bytes, &index)
        return index == bytes.count ? object : nil
    }

    private static func skipSpace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
    }

    private static func value(_ bytes: [UInt8], _ index: inout Int, depth: Int) -> PlainJSON? {
        skipSpace(bytes, &index)
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth < 4 else { return nil }
            index += 1
            var object: [String: PlainJSON] = [:]
            skipSpace(bytes, &index)
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            while true {
                skipSpace(bytes, &index)
                guard case .string(let key)? = string(bytes, &index) else { return nil }
                skipSpace(bytes, &index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let member = value(bytes, &index, depth: depth + 1), object.updateValue(member, forKey: key) == nil else { return nil }
                skipSpace(bytes, &index)
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(object)
                } else {
                    return nil
                }
            }
        case UInt8(ascii: "\""): return string(bytes, &index)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer(bytes, &index)
        default: return nil
        }
    }

    /// A string without backslashes or control characters, valid UTF-8.
    private static func string(_ bytes: [UInt8], _ index: inout Int) -> PlainJSON? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            guard bytes[end] >= 0x20, bytes[end] != UInt8(ascii: "\\") else { return nil }
            end += 1
        }
        guard end < bytes.count, let text = String(validating: bytes[start..<end], as: UTF8.self) else { return nil }
        index = end + 1
        return .string(text)
    }

    /// A whole number of at most 15 digits (JSON's doubles hold it exactly; larger ones go to JSONDecoder).
    private static func integer(_ bytes: [UInt8], _ index: inout Int) -> PlainJSON? {
        var position = index
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let digitsStart = position
        var value = 0
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
            position += 1
            guard position - digitsStart <= 15 else { return nil }
        }
        let digits = position - digitsStart
        guard digits > 0, !(digits > 1 && bytes[digitsStart] == UInt8(ascii: "0")) else { return nil }
        if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) { return nil }
        index = position
        return .integer(negative ? -value : value)
    }
}

extension CodeClaims {
    /// The claims from our signer's plain JSON; nil (use JSONDecoder) for any other shape or an unexpected member.
    public init?(plain bytes: [UInt8]) {
        guard let object = PlainJSON.parse(bytes),
            Set(object.keys).isSubset(of: ["iss", "sub", "jti", "iat", "nbf", "exp", "cat", "name", "status"]),
            case .string(let iss)? = object["iss"], case .string(let sub)? = object["sub"], case .string(let jti)? = object["jti"],
            case .integer(let iat)? = object["iat"], case .integer(let nbf)? = object["nbf"], case .integer(let exp)? = object["exp"],
            case .string(let cat)? = object["cat"], case .string(let name)? = object["name"]
        else { return nil }
        var status: StatusClaim?
        if let member = object["status"] {
            guard case .object(let outer) = member, outer.count == 1, case .object(let entry)? = outer["status_list"], entry.count == 2,
                case .integer(let idx)? = entry["idx"], case .string(let uri)? = entry["uri"]
            else { return nil }
            status = StatusClaim(idx: idx, uri: uri)
        }
        self.init(iss: iss, sub: sub, jti: jti, iat: iat, nbf: nbf, exp: exp, cat: cat, name: name, status: status)
    }
}
