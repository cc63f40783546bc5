extension QRCode {
    /// An SVG drawing with a 4-module quiet zone; `moduleSize` is in CSS pixels (scales freely).
    public func svg(moduleSize: Int = 8, darkColor: String = "#000", lightColor: String = "#fff") -> String {
        let border = 4
        let total = size + border * 2
        var path = ""
        for y in 0..<size {
            for x in 0..<size where isDark(x: x, y: y) { path += "M\(x + border) \(y + border)h1v1h-1z" }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(total) \(total)" width="\(total * moduleSize)" \
            height="\(total * moduleSize)" shape-rendering="crispEdges" role="img" aria-label="二维码">\
            <rect width="100%" height="100%" fill="\(lightColor)"/><path d="\(path)" fill="\(darkColor)"/></svg>
            """
    }

    /// An 8-bit greyscale PNG with a 4-module quiet zone, `scale` pixels per module.
    public func png(scale: Int = 4) -> [UInt8] {
        let border = 4
        let side = (size + border * 2) * scale
        var raw: [UInt8] = []
        raw.reserveCapacity((side + 1) * side)
        for row in 0..<side {
            raw.append(0)  // filter: none
            let y = row / scale - border
            for column in 0..<side {
                raw.append(isDark(x: column / scale - border, y: y) ? 0 : 255)
            }
        }
        var header: [UInt8] = []
        header += bigEndian(UInt32(side))
        header += bigEndian(UInt32(side))
        header += [8, 0, 0, 0, 0]  // 8-bit depth, greyscale, deflate, adaptive filtering, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + PNGChunk.make("IHDR", header)
            + PNGChunk.make("IDAT", PNGChunk.zlibStored(raw)) + PNGChunk.make("IEND", [])
    }
}

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

/// The few PNG pieces the renderer needs: chunks with CRC-32, and a zlib stream of stored (uncompressed) blocks.
enum PNGChunk {
    static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func make(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
    }

    /// QR images are small; stored blocks keep this short and obviously correct.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var output: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let final: UInt8 = offset + length == data.count ? 1 : 0
            output.append(final)
            output += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            output += data[offset..<offset + length]
            offset += length
        } while offset < data.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return output + bigEndian(b << 16 | a)
    }
}
