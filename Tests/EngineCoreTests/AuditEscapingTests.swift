import Foundation
import Testing

@testable import EngineCore

/// Audit values go into JSON strings: plain text is copied as is, anything JSON needs escaped is
/// escaped, and every result parses back to the original text.
struct AuditEscapingTests {
    func escaped(_ text: String) -> String {
        var buffer: [UInt8] = []
        AuditLines.appendEscaped(text, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func plainTextIsCopiedAndSpecialCharactersAreEscaped() throws {
        #expect(escaped("o-00042") == "o-00042")
        #expect(escaped("prix €, ok") == "prix €, ok")
        #expect(escaped(#"say "hi"\now"#) == #"say \"hi\"\\now"#)
        #expect(escaped("a\nb\tc\u{1}") == #"a\nb\tc\u0001"#)
        for text in ["plain", #"q"uote"#, "back\\slash", "ctl\u{0}\u{1f}", "ünï\ncode"] {
            let json = Data(("\"" + escaped(text) + "\"").utf8)
            let parsed = try JSONSerialization.jsonObject(with: json, options: .fragmentsAllowed) as? String
            #expect(parsed == text)
        }
    }
}
