import YongjunCore

// Fuzzes the form body decoder: no trap, at most one field per `&`-separated pair, and what it reads survives
// being encoded again the way a browser would and read back.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let form = FormBody.decode(bytes)
    precondition(form.count <= bytes.count(where: { $0 == UInt8(ascii: "&") }) + 1, "more fields than pairs")
    let encoded = form.map { percentEncoded($0.key) + "=" + percentEncoded($0.value) }.joined(separator: "&")
    let again = FormBody.decode(Array(encoded.utf8))
    precondition(again == form, "read \(form), then \(again) from its encoding \(encoded)")
    return 0
}

/// Every byte but unreserved ASCII as `%XX`, spaces included, so `+` never appears.
private func percentEncoded(_ text: String) -> String {
    var result = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            result.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789ABCDEF".unicodeScalars)
            result.unicodeScalars.append(contentsOf: ["%", hex[Int(byte >> 4)], hex[Int(byte & 15)]])
        }
    }
    return result
}
