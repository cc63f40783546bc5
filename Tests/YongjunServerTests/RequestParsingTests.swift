import Foundation
import Testing
import YongjunCore

@testable import YongjunServer

@Suite("Reading the verification request body", .timeLimit(.minutes(5)))
struct RequestParsingTests {
    @Test(
        "the fast path and JSONDecoder agree on every body",
        arguments: [
            #"{"code":"abc.def-_.ghi"}"#,
            #"{ "code" : "abc" , "nonce" : "till-1" }"#,
            #"{"nonce":"n","code":"c"}"#,
            "{\n\t\"code\": \"x\"\r\n}",
            #"{"code":"a\"b"}"#,
            #"{"code":"\u0041"}"#,
            #"{"code":"张三"}"#,
            #"{"code":"x","extra":1}"#,
            #"{"code":"x","code":"y"}"#,
            #"{"code":"x"} trailing"#,
            #"{"code":"x",}"#,
            #"{"nonce":"only"}"#,
            #"{"code":42}"#,
            #"["code"]"#,
            "",
            "{",
        ]
    )
    func agreesWithJSONDecoder(_ body: String) {
        let bytes = Array(body.utf8)
        let reference = try? JSONDecoder().decode(VerifyRequestParser.Body.self, from: Data(bytes))
        if let fast = VerifyRequestParser.fastPath(bytes) {
            #expect(fast == reference, "fast path differs on \(body)")
        }
        #expect(VerifyRequestParser.parse(bytes) == reference)
    }

    @Test("the cached timestamp matches the plain formatter to the millisecond")
    func timestamps() {
        let cache = TimestampCache()
        for offset in [0.0, 0.001, 0.012, 0.123, 0.999, 1.0, 59.5, 86_399.999] {
            let date = Date(timeIntervalSince1970: 1_795_883_400 + offset)
            #expect(cache.iso(date) == Timestamp.iso(date))
        }
    }
}
