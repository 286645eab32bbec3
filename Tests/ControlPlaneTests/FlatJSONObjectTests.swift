import Foundation
import Testing

@testable import StrategyRouter

struct FlatJSONObjectTests {
    func members(_ json: String) throws(FlatJSONObject.Problem) -> [String: FlatJSONObject.Value] {
        let object = try FlatJSONObject(parsing: Array(json.utf8))
        return Dictionary(object.members.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }

    @Test func scalarsAreReadAsTheyAreWritten() throws {
        let read = try members(
            #" { "a" : "x" , "b":12.50, "c":null, "d":true, "e":false, "f":{"g":[1,{"h":"i"}]}, "j":[] }"# + "\n")
        #expect(read["a"] == .string("x"))
        #expect(read["b"] == .number("12.5"))
        #expect(read["c"] == .null)
        #expect(read["d"] == .other("true"))
        #expect(read["e"] == .other("false"))
        #expect(read["f"] == .other("an object"))
        #expect(read["j"] == .other("an array"))
        #expect(try members("{}").isEmpty)
    }

    @Test(arguments: [
        ("0", "0"), ("-0.5", "-0.5"), ("1e3", "1000"), ("1.5E+2", "150"), ("25e-1", "2.5"), ("1e-9", "0.000000001"),
        ("0.00001234e2", "0.001234"), ("100", "100"), ("1.000", "1"), ("12.340e1", "123.4"),
    ])
    func numbersBecomePlainDecimals(_ json: String, _ plain: String) throws {
        #expect(try members(#"{"n":\#(json)}"#)["n"] == .number(plain))
    }

    @Test func escapesAreDecoded() throws {
        let read = try members(#"{"s":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00","k\u0041":"é"}"#)
        #expect(read["s"] == .string("a\"b\\c/d\n\t\u{e9}\u{1F600}"))
        #expect(read["kA"] == .string("é"))
    }

    @Test(arguments: [
        "", "{", "{bad", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":1 "b":2}"#, #"{"a":01}"#, #"{"a":1.}"#,
        #"{"a":.5}"#, #"{"a":-}"#, #"{"a":1e}"#, #"{"a":+1}"#, #"{"a":tru}"#, #"{"a":"x}"#, "{\"a\":\"\u{1}\"}",
        #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\ud800"}"#, #"{"a":"\ud800\u0041"}"#, #"{"a":[1,]}"#,
        #"{"a":{"b"}}"#, #"{} {}"#, #"{"a":1}x"#, #"{'a':1}"#, #"{"a":1e99999}"#,
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
        "{\"a\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}",
    ])
    func invalidJSONIsRefused(_ json: String) {
        #expect(throws: FlatJSONObject.Problem.self) { try members(json) }
        do { _ = try members(json) } catch { #expect(error != .notAnObject, "\(json)") }
        // Foundation agrees that these are not JSON (its limits aside, and it lets trailing commas by).
        if !json.contains("e99999") && !json.contains("[[[[") && !json.contains(",}") && !json.contains(",]") {
            #expect(throws: (any Error).self) { try JSONSerialization.jsonObject(with: Data(json.utf8)) }
        }
    }

    @Test func invalidUTF8IsRefused() {
        var bytes = Array(#"{"a":"é"}"#.utf8)
        bytes[6] = 0xFF
        #expect(throws: FlatJSONObject.Problem.self) { try FlatJSONObject(parsing: bytes) }
    }

    @Test(arguments: ["[]", "1", #""a""#, "null", " [1, {\"a\": 2}] "])
    func validJSONThatIsNotAnObjectIsToldApart(_ json: String) {
        do {
            _ = try members(json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error == .notAnObject)
        }
    }
}
