extension QRCode {
    /// Finder, timing and alignment patterns, and reserved format and version areas.
    mutating func drawFunctionPatterns() {
        for index in 0..<size {
            setFunction(x: 6, y: index, dark: index % 2 == 0)
            setFunction(x: index, y: 6, dark: index % 2 == 0)
        }
        drawFinder(x: 3, y: 3)
        drawFinder(x: size - 4, y: 3)
        drawFinder(x: 3, y: size - 4)
        let positions = QRTables.alignmentPositions(version)
        let last = positions.count - 1
        for (i, x) in positions.enumerated() {
            for (j, y) in positions.enumerated() where !((i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0)) {
                for dy in -2...2 {
                    for dx in -2...2 { setFunction(x: x + dx, y: y + dy, dark: max(abs(dx), abs(dy)) != 1) }
                }
            }
        }
        drawFormatBits(0)
        drawVersion()
    }

    private mutating func drawFinder(x: Int, y: Int) {
        for dy in -4...4 {
            for dx in -4...4 where (0..<size).contains(x + dx) && (0..<size).contains(y + dy) {
                let distance = max(abs(dx), abs(dy))
                setFunction(x: x + dx, y: y + dy, dark: distance != 2 && distance != 4)
            }
        }
    }

    /// The 15 format bits (level and mask, BCH-protected), twice, plus the always-dark module.
    mutating func drawFormatBits(_ mask: Int) {
        let data = errorCorrection.formatBits << 3 | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
        for index in 0...5 { setFunction(x: 8, y: index, dark: bit(index)) }
        setFunction(x: 8, y: 7, dark: bit(6))
        setFunction(x: 8, y: 8, dark: bit(7))
        setFunction(x: 7, y: 8, dark: bit(8))
        for index in 9..<15 { setFunction(x: 14 - index, y: 8, dark: bit(index)) }
        for index in 0..<8 { setFunction(x: size - 1 - index, y: 8, dark: bit(index)) }
        for index in 8..<15 { setFunction(x: 8, y: size - 15 + index, dark: bit(index)) }
        setFunction(x: 8, y: size - 8, dark: true)
    }

    /// The 18 version bits (versions 7 and up), in two 6×3 blocks.
    private mutating func drawVersion() {
        guard version >= 7 else { return }
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        let bits = version << 12 | remainder
        for index in 0..<18 {
            let dark = (bits >> index) & 1 == 1
            let a = size - 11 + index % 3
            let b = index / 3
            setFunction(x: a, y: b, dark: dark)
            setFunction(x: b, y: a, dark: dark)
        }
    }

    private mutating func setFunction(x: Int, y: Int, dark: Bool) {
        setModule(x: x, y: y, dark: dark, function: true)
    }

    /// The standard's penalty (N1 runs, N2 blocks, N3 finder look-alikes, N4 balance); lower scans better.
    ///
    /// Runs for 8 masks per code (10^4 codes for a printing run): plain index loops over the module buffer, rows and
    /// columns read in place, no array per line or per position.
    func penalty() -> Int {
        let size = size
        return modules.withUnsafeBufferPointer { modules in
            // One row (step 1) or column (step size) starting at `first`.
            func lineScore(_ first: Int, _ step: Int) -> Int {
                func dark(_ index: Int) -> Bool { modules[first + index * step] }
                var result = 0
                var run = 1
                for index in 1...size {
                    if index < size && dark(index) == dark(index - 1) {
                        run += 1
                    } else {
                        if run >= 5 { result += 3 + run - 5 }
                        run = 1
                    }
                }
                func allLight(_ range: Range<Int>) -> Bool {
                    for index in range where dark(index) { return false }
                    return true
                }
                for start in 0...(size - 7) {
                    guard dark(start), !dark(start + 1), dark(start + 2), dark(start + 3), dark(start + 4), !dark(start + 5), dark(start + 6)
                    else { continue }
                    let before = start >= 4 && allLight((start - 4)..<start)
                    let after = start + 11 <= size && allLight((start + 7)..<(start + 11))
                    if before || after { result += 40 }
                }
                return result
            }
            var score = 0
            for y in 0..<size { score += lineScore(y * size, 1) }
            for x in 0..<size { score += lineScore(x, size) }
            for y in 0..<(size - 1) {
                for x in 0..<(size - 1) {
                    let color = modules[y * size + x]
                    if color == modules[y * size + x + 1] && color == modules[(y + 1) * size + x] && color == modules[(y + 1) * size + x + 1] {
                        score += 3
                    }
                }
            }
            var dark = 0
            for module in modules where module { dark += 1 }
            score += abs(dark * 20 - modules.count * 10) / modules.count * 10
            return score
        }
    }
}
