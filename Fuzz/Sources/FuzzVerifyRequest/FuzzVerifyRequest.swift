import Foundation
import YongjunCore

// Fuzzes the verification request body parser: no trap, and the hand-written fast path never disagrees with
// JSONDecoder when it answers.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let parsed = VerifyRequestParser.parse(bytes)
    let reference = try? JSONDecoder().decode(VerifyRequestParser.Body.self, from: Data(bytes))
    if let fast = VerifyRequestParser.fastPath(bytes) {
        precondition(fast == reference, "the fast path read \(fast), JSONDecoder read \(String(describing: reference))")
    }
    precondition(parsed == reference, "parse read \(String(describing: parsed)), JSONDecoder read \(String(describing: reference))")
    return 0
}
