import Foundation
import YongjunCore

// Fuzzes QR encoding. The first byte picks the error-correction level; the rest is the text. Checks what any
// reader relies on: the symbol's size, the three finder patterns, the timing lines, format and version
// information that read back as the level, mask and version used, and the same matrix for the same input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let selector = input.first else { return 0 }
    let level = QRErrorCorrection.allCases[Int(selector) % QRErrorCorrection.allCases.count]
    let text = String(decoding: input.dropFirst(), as: UTF8.self)
    let code: QRCode
    do {
        code = try QRCode(text: text, errorCorrection: level)
    } catch {
        guard case .tooLong(let bytes, let maximum) = error else { fatalError("unexpected \(error)") }
        precondition(bytes == text.utf8.count && bytes > maximum, "refused \(bytes) bytes with a maximum of \(maximum)")
        return 0
    }
    check(code, level: level)
    if let pngFolder { export(code, text: text, to: pngFolder) }
    let again = try! QRCode(text: text, errorCorrection: level)
    precondition(again.modules == code.modules && again.mask == code.mask && again.version == code.version, "same input, different symbol")
    return 0
}

/// Set by scripts/fuzz-qr-zbar, which replays the corpus and reads every symbol back with zbarimg.
private let pngFolder = ProcessInfo.processInfo.environment["FUZZ_QR_PNG_DIR"]

/// Writes `NAME.png` and the text it should decode to as `NAME.txt`, NAME being a hash of both.
private func export(_ code: QRCode, text: String, to folder: String) {
    let hash = (Array(text.utf8) + [UInt8(code.errorCorrection.rawValue)]).reduce(UInt64(14_695_981_039_346_656_037)) {
        ($0 ^ UInt64($1)) &* 1_099_511_628_211
    }
    let base = URL(fileURLWithPath: folder).appendingPathComponent(String(hash, radix: 16))
    try! Data(code.png(scale: 2)).write(to: base.appendingPathExtension("png"))
    try! Data(text.utf8).write(to: base.appendingPathExtension("txt"))
}

private func check(_ code: QRCode, level: QRErrorCorrection) {
    let size = code.size
    precondition((1...40).contains(code.version) && size == 17 + 4 * code.version, "version \(code.version), size \(size)")
    precondition(code.modules.count == size * size, "the matrix is not square")
    precondition(code.errorCorrection == level && (0..<8).contains(code.mask), "level or mask")
    for (left, top) in [(0, 0), (size - 7, 0), (0, size - 7)] {
        for dy in -1...7 {
            for dx in -1...7 where (0..<size).contains(left + dx) && (0..<size).contains(top + dy) {
                let ring = max(abs(dx - 3), abs(dy - 3))
                precondition(code.isDark(x: left + dx, y: top + dy) == (ring != 2 && ring != 4), "finder pattern at \(left),\(top)")
            }
        }
    }
    for index in 8..<(size - 8) {
        precondition(code.isDark(x: index, y: 6) == index.isMultiple(of: 2), "horizontal timing line")
        precondition(code.isDark(x: 6, y: index) == index.isMultiple(of: 2), "vertical timing line")
    }
    precondition(code.isDark(x: 8, y: size - 8), "the dark module")

    // Format information, both copies (ISO/IEC 18004 §7.9).
    func bits(_ positions: [(Int, Int)]) -> Int {
        positions.enumerated().reduce(0) { $0 | (code.isDark(x: $1.element.0, y: $1.element.1) ? 1 << $1.offset : 0) }
    }
    let first = bits((0...5).map { (8, $0) } + [(8, 7), (8, 8), (7, 8)] + (9..<15).map { (14 - $0, 8) })
    let second = bits((0..<8).map { (size - 1 - $0, 8) } + (8..<15).map { (8, size - 15 + $0) })
    precondition(first == second, "the two format copies differ")
    let format = first ^ 0x5412
    precondition(format == withBCH(format >> 10, generator: 0x537, degree: 10), "format information fails its BCH check")
    let levelBits = [QRErrorCorrection.low: 1, .medium: 0, .quartile: 3, .high: 2][level]!
    precondition(format >> 13 == levelBits && (format >> 10) & 7 == code.mask, "format information names another level or mask")

    guard code.version >= 7 else { return }
    let versionPositions = (0..<18).map { (size - 11 + $0 % 3, $0 / 3) }
    let upperRight = bits(versionPositions)
    let lowerLeft = bits(versionPositions.map { ($0.1, $0.0) })
    precondition(upperRight == lowerLeft && upperRight == withBCH(code.version, generator: 0x1F25, degree: 12), "version information")
}

/// `data` followed by its BCH remainder.
private func withBCH(_ data: Int, generator: Int, degree: Int) -> Int {
    var remainder = data << degree
    for bit in stride(from: remainder.bitWidth - 1 - remainder.leadingZeroBitCount, through: degree, by: -1)
    where (remainder >> bit) & 1 == 1 {
        remainder ^= generator << (bit - degree)
    }
    return data << degree | remainder
}
