import Foundation
import JSONWriter
import Testing
import TradingDomain

/// The writer behind audit lines and signal answers: what it writes parses back to what it was given.
struct JSONObjectWriterTests {
    func escaped(_ text: String) -> String {
        var buffer: [UInt8] = []
        JSONObjectWriter.appendEscaped(text, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func plainTextIsCopiedAndSpecialCharactersAreEscaped() throws {
        #expect(escaped("o-00042") == "o-00042")
        #expect(escaped("prix €, ok") == "prix €, ok")
        #expect(escaped(#"say "hi"\now"#) == #"say \"hi\"\\now"#)
        #expect(escaped("a\nb\tc\u{1}\u{1f}") == #"a\nb\tc\u0001\u001f"#)
        for text in ["plain", #"q"uote"#, "back\\slash", "ctl\u{0}\u{1f}\r", "ünï\ncode €"] {
            let json = Data(("\"" + escaped(text) + "\"").utf8)
            let parsed = try JSONSerialization.jsonObject(with: json, options: .fragmentsAllowed) as? String
            #expect(parsed == text)
        }
    }

    @Test func anObjectParsesBackToItsFieldsAndLeavesOutAbsentOnes() throws {
        var writer = JSONObjectWriter()
        writer.field("a_text", #"x"y"#)
        writer.field("b_decimal", Fixed(units: -150_000_000))
        writer.field("c_flag", true)
        writer.field("d_count", Int64(-42))
        writer.field("e_symbol", try InstrumentID(parsing: "BTCUSDT.PAPER"))
        writer.field("f_missing", ifPresent: nil as String?)
        writer.field("g_present", ifPresent: Fixed(units: 1))
        let bytes = writer.finish()
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"{"a_text":"x\"y","b_decimal":"-1.5","c_flag":true,"d_count":-42,"e_symbol":"BTCUSDT.PAPER","g_present":"0.00000001"}"#
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object.count == 6)
        #expect(object["f_missing"] == nil)
        #expect(object["c_flag"] as? Bool == true)
    }

    @Test func anEmptyObjectAndObjectsAppendedToOneBuffer() throws {
        #expect(JSONObjectWriter().finish() == Array("{}".utf8))
        var first = JSONObjectWriter(appendingTo: Array("x".utf8))
        first.field("k", "v")
        var second = JSONObjectWriter(appendingTo: first.finish())
        second.field("n", Int64(0))
        #expect(String(decoding: second.finish(), as: UTF8.self) == #"x{"k":"v"}{"n":0}"#)
    }
}
