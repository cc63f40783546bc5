/// A QR code symbol (ISO/IEC 18004, model 2), encoded in byte mode: a square of dark and light modules.
///
/// Written here because no QR package is available; tests decode the output with zbarimg.
public struct QRCode: Sendable {
    public let version: Int
    public let errorCorrection: QRErrorCorrection
    public private(set) var mask: Int
    /// Modules per side.
    public let size: Int
    /// Row-major, `true` = dark.
    public private(set) var modules: [Bool]
    private var isFunction: [Bool]

    public enum EncodingError: Error, Sendable, Equatable {
        case tooLong(bytes: Int, maximum: Int)
    }

    /// Encodes `bytes` in the smallest version that holds them at `errorCorrection`.
    public init(bytes: [UInt8], errorCorrection: QRErrorCorrection = .medium) throws(EncodingError) {
        guard let version = (1...40).first(where: { Self.capacity($0, errorCorrection) >= bytes.count }) else {
            throw .tooLong(bytes: bytes.count, maximum: Self.capacity(40, errorCorrection))
        }
        self.init(bytes: bytes, version: version, errorCorrection: errorCorrection)
    }

    public init(text: String, errorCorrection: QRErrorCorrection = .medium) throws(EncodingError) {
        try self.init(bytes: Array(text.utf8), errorCorrection: errorCorrection)
    }

    /// Bytes a version holds in byte mode (4-bit mode, then an 8- or 16-bit count).
    static func capacity(_ version: Int, _ level: QRErrorCorrection) -> Int {
        (QRTables.dataCodewords(version, level) * 8 - 4 - (version <= 9 ? 8 : 16)) / 8
    }

    private init(bytes: [UInt8], version: Int, errorCorrection: QRErrorCorrection) {
        self.version = version
        self.errorCorrection = errorCorrection
        self.size = version * 4 + 17
        self.modules = Array(repeating: false, count: size * size)
        self.isFunction = Array(repeating: false, count: size * size)
        self.mask = 0
        drawFunctionPatterns()
        drawCodewords(addErrorCorrection(dataCodewords(bytes)))
        // Choose the mask with the lowest penalty, as the standard asks.
        var best = (mask: 0, penalty: Int.max)
        for candidate in 0..<8 {
            var trial = self
            trial.applyMask(candidate)
            trial.drawFormatBits(candidate)
            let penalty = trial.penalty()
            if penalty < best.penalty { best = (candidate, penalty) }
        }
        applyMask(best.mask)
        drawFormatBits(best.mask)
        self.mask = best.mask
    }

    public func isDark(x: Int, y: Int) -> Bool {
        x >= 0 && y >= 0 && x < size && y < size && modules[y * size + x]
    }

    mutating func setModule(x: Int, y: Int, dark: Bool, function: Bool) {
        modules[y * size + x] = dark
        if function { isFunction[y * size + x] = true }
    }

    // MARK: Data

    /// Mode, count, data, terminator and padding, as 8-bit codewords.
    private func dataCodewords(_ bytes: [UInt8]) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for shift in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> shift) & 1 == 1) }
        }
        append(0b0100, 4)
        append(bytes.count, version <= 9 ? 8 : 16)
        for byte in bytes { append(Int(byte), 8) }
        let capacityBits = QRTables.dataCodewords(version, errorCorrection) * 8
        append(0, min(4, capacityBits - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var codewords = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while codewords.count < capacityBits / 8 {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }

    /// Splits into blocks, appends each block's Reed–Solomon codewords, and interleaves.
    private func addErrorCorrection(_ data: [UInt8]) -> [UInt8] {
        let level = errorCorrection.rawValue
        let blockCount = QRTables.errorCorrectionBlocks[level][version]
        let eccLength = QRTables.eccCodewordsPerBlock[level][version]
        let rawCodewords = QRTables.rawDataModules(version) / 8
        let shortBlocks = blockCount - rawCodewords % blockCount
        let shortBlockLength = rawCodewords / blockCount
        let divisor = ReedSolomon.divisor(degree: eccLength)
        var blocks: [[UInt8]] = []
        var offset = 0
        for index in 0..<blockCount {
            let length = shortBlockLength - eccLength + (index < shortBlocks ? 0 : 1)
            var block = Array(data[offset..<offset + length])
            offset += length
            let ecc = ReedSolomon.remainder(block[...], divisor: divisor)
            if index < shortBlocks { block.append(0) }
            blocks.append(block + ecc)
        }
        var result: [UInt8] = []
        for column in 0..<blocks[0].count {
            for (row, block) in blocks.enumerated() where column != shortBlockLength - eccLength || row >= shortBlocks {
                result.append(block[column])
            }
        }
        return result
    }

    /// Places codewords in the two-column zigzag from the bottom right, skipping function modules.
    mutating func drawCodewords(_ codewords: [UInt8]) {
        var bitIndex = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for offset in 0..<2 {
                    let x = right - offset
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    if !isFunction[y * size + x] && bitIndex < codewords.count * 8 {
                        modules[y * size + x] = (codewords[bitIndex >> 3] >> (7 - UInt8(bitIndex & 7))) & 1 == 1
                        bitIndex += 1
                    }
                }
            }
            right -= 2
        }
    }

    private mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y * size + x] {
                let invert: Bool
                switch mask {
                case 0: invert = (x + y) % 2 == 0
                case 1: invert = y % 2 == 0
                case 2: invert = x % 3 == 0
                case 3: invert = (x + y) % 3 == 0
                case 4: invert = (x / 3 + y / 2) % 2 == 0
                case 5: invert = x * y % 2 + x * y % 3 == 0
                case 6: invert = (x * y % 2 + x * y % 3) % 2 == 0
                default: invert = ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if invert { modules[y * size + x].toggle() }
            }
        }
    }
}
