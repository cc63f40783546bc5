import Testing
import YongjunCore

@Suite("Reading form bodies")
struct FormBodyTests {
    @Test("plus is a space, percent-escapes decode to UTF-8, and a name without = is an empty field")
    func decodesFields() {
        let form = FormBody.decode(Array("shop_name=%E5%BC%A0%E4%B8%89+%E5%BA%97&csrf=abc&agree&empty=".utf8))
        #expect(form == ["shop_name": "张三 店", "csrf": "abc", "agree": "", "empty": ""])
    }

    @Test("a broken escape gives an empty value, a repeated name keeps the last value, empty pairs are skipped")
    func hostileInput() {
        #expect(FormBody.decode(Array("pin=%zz&&pin2=%E5%BC".utf8)) == ["pin": "", "pin2": ""])
        #expect(FormBody.decode(Array("a=1&a=2&&=x".utf8)) == ["a": "2", "": "x"])
        #expect(FormBody.decode([0xFF, 0x3D, 0x31]) == ["\u{FFFD}": "1"])
        #expect(FormBody.decode([UInt8]()).isEmpty)
    }
}
