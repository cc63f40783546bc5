import Foundation
import YongjunCore

/// A repeatable generator (SplitMix64) so ids in tests do not depend on the system.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// An ID number with a correct check character built from 17 digits.
func validIDNumber(_ first17: String) -> String {
    first17 + String(ChineseIDNumber.checkCharacter(for: first17)!)
}

let referenceNow = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18

func makeKey(_ seed: UInt64, now: Date = referenceNow) -> SigningKey {
    var generator = SeededGenerator(state: seed)
    return SigningKey.generate(now: now, using: &generator)
}

let sampleSubject = CodeSubject(cardID: "card-abc", name: "张小三", category: .veteran)
