import Foundation
import Testing
import YongjunCore

/// Decodes a PNG with zbarimg (zbar-tools), a decoder that is not ours.
private func zbarDecode(_ png: [UInt8]) throws -> (status: Int32, text: String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("yongjun-qr-\(UUID().uuidString).png").path
    try Data(png).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["zbarimg", "--raw", "--quiet", "-Sbinary", path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = Pipe()
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    var text = String(decoding: data, as: UTF8.self)
    if text.hasSuffix("\n") { text.removeLast() }
    return (process.terminationStatus, text)
}

@Suite("QR codes, checked with zbarimg", .timeLimit(.minutes(5)))
struct QRCodeTests {
    @Test("payloads of many lengths round-trip through zbarimg across versions", arguments: [1, 17, 32, 78, 134, 213, 271, 331, 412, 520, 800, 1200])
    func roundTrip(length: Int) throws {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
        let text = String((0..<length).map { alphabet[($0 * 7 + length) % alphabet.count] })
        let code = try QRCode(text: text, errorCorrection: .medium)
        let decoded = try zbarDecode(code.png(scale: 3))
        #expect(decoded.status == 0, "version \(code.version) did not decode")
        #expect(decoded.text == text, "version \(code.version), mask \(code.mask)")
    }

    @Test("a real signed code and Chinese text decode exactly, at every error-correction level")
    func signedCode() throws {
        var generator = SeededGenerator(state: 42)
        let token = try CodeIssuer(key: makeKey(5), issuer: "yongjun").issue(for: sampleSubject, now: referenceNow, using: &generator).token
        for level in QRErrorCorrection.allCases {
            let code = try QRCode(text: token, errorCorrection: level)
            #expect(try zbarDecode(code.png()).text == token, "level \(level)")
        }
        let chinese = "连州市退役军人事务局 优待证 LZ2024000123"
        #expect(try zbarDecode(QRCode(text: chinese).png()).text == chinese)
    }

    @Test("the smallest fitting version is chosen, and too much data is refused")
    func versions() throws {
        #expect(try QRCode(text: String(repeating: "a", count: 14)).version == 1)
        #expect(try QRCode(text: String(repeating: "a", count: 15)).version == 2)
        #expect(try QRCode(text: String(repeating: "a", count: 2331)).version == 40)
        #expect(throws: QRCode.EncodingError.tooLong(bytes: 2332, maximum: 2331)) { try QRCode(text: String(repeating: "a", count: 2332)) }
    }

    @Test("the SVG draws the same modules with a quiet zone")
    func svg() throws {
        let code = try QRCode(text: "yongjun")
        let svg = code.svg(moduleSize: 4)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\""))
        let darkModules = (0..<code.size).flatMap { y in (0..<code.size).filter { code.isDark(x: $0, y: y) } }.count
        #expect(svg.components(separatedBy: "h1v1h-1z").count - 1 == darkModules)
    }
}
