import Testing
import YAMLReader

struct YAMLReaderTests {
    @Test func readsNestedMappingsListsAndAliasesWithTheirLines() throws {
        let text = """
            base: &limits
              orders_per_second: 10
            risk:
              rate_limit: *limits
              models: [a, "b"]
            symbols:
              - symbol: BTCUSDT.PAPER
                lot_size: "0.00001"
            """
        let root = try YAMLFields(YAMLNode.parse(text), keys: ["base", "risk", "symbols"])
        let risk = try #require(try root.fields("risk", keys: ["rate_limit", "models"]))
        #expect(risk.line == 4)
        let rate = try #require(try risk.fields("rate_limit", keys: ["orders_per_second"]))
        #expect(try rate.int64("orders_per_second") == 10)
        #expect(try risk.strings("models") == ["a", "b"])
        let symbols = try #require(try root.list("symbols", keys: ["symbol", "lot_size"]))
        #expect(symbols.count == 1)
        #expect(symbols[0].path == "symbols[0]")
        #expect(try symbols[0].string("lot_size") == "0.00001")
    }

    @Test func onlyAPlainNullIsNull() throws {
        let root = try YAMLFields(
            YAMLNode.parse("a: ~\nb:\nc: null\nd: \"null\"\ne: ''"), keys: ["a", "b", "c", "d", "e"])
        #expect(try root.string("a") == nil)
        #expect(try root.string("b") == nil)
        #expect(try root.string("c") == nil)
        #expect(try root.string("d") == "null")
        #expect(try root.string("e") == "")
    }

    @Test func anEmptyTextIsAnEmptyMapping() throws {
        let root = try YAMLFields(YAMLNode.parse(""), keys: ["a"])
        #expect(try root.string("a") == nil)
        let comments = try YAMLFields(YAMLNode.parse("# nothing set\n"), keys: ["a"])
        #expect(try comments.string("a") == nil)
    }

    @Test func errorsNameTheFieldAndTheLine() throws {
        func failure(
            _ text: String, keys: [String] = ["risk"], read: (YAMLFields) throws(YAMLError) -> Void = { _ in }
        )
            -> YAMLError?
        {
            do {
                try read(try YAMLFields(YAMLNode.parse(text), keys: keys))
                return nil
            } catch { return error }
        }
        let unknown = failure("risk:\n  rate_limt: 5\n") { root throws(YAMLError) in
            _ = try root.fields("risk", keys: ["rate_limit"])
        }
        #expect(unknown?.line == 2)
        #expect(unknown?.message.hasPrefix("risk.rate_limt: unknown key") == true)

        let notANumber = failure("risk:\n  n: 1.5\n") { root throws(YAMLError) in
            _ = try root.fields("risk", keys: ["n"])?.int64("n")
        }
        #expect(notANumber?.description == "line 2: risk.n: expected a whole number, found '1.5'")

        let missing = failure("risk: {}\n") { root throws(YAMLError) in
            guard let risk = try root.fields("risk", keys: ["n"]) else { return }
            _ = try risk.required("n", risk.int64)
        }
        #expect(missing?.message == "risk.n: required")

        #expect(failure("risk: 1\nrisk: 2\n")?.message == "key 'risk' appears twice in the same mapping")
        #expect(failure("risk: [1, 2\n")?.line != nil, "a syntax error carries its line")
        #expect(failure("- a\n- b\n")?.message == "the file: expected a mapping (key: value)")
        #expect(failure("risk: 1\n---\nrisk: 2\n")?.message.hasPrefix("one YAML document expected") == true)
        #expect(failure("risk: *nowhere\n") != nil)
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(failure("risk: \(deep)\n")?.message.hasPrefix("nested deeper") == true)
    }
}
