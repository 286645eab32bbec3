import Testing
import TradingDomain

struct FixedTests {
    @Test func parsesAndPrintsExactly() throws {
        #expect(try Fixed(parsing: "0.1").units == 10_000_000)
        #expect(try Fixed(parsing: "-12.5").description == "-12.5")
        #expect(try Fixed(parsing: "+3").description == "3")
        #expect(try Fixed(parsing: ".5").description == "0.5")
        #expect(try Fixed(parsing: "0.00000001").units == 1)
        #expect(Fixed(units: -1).description == "-0.00000001")
        #expect(Fixed.zero.description == "0")
        #expect(Fixed(units: 100_000_005).description == "1.00000005")
        #expect(Fixed(units: Int64.min).description == "-92233720368.54775808")
        var text: [UInt8] = Array("x=".utf8)
        Fixed(units: -1_050_000_000).write(to: &text)
        #expect(String(decoding: text, as: UTF8.self) == "x=-10.5")
        #expect(try Fixed(parsing: "92233720368.54775807") == Fixed(units: .max))
    }

    @Test(arguments: ["", "-", "1.2.3", "1e5", "0.000000001", "abc", "1,000", "92233720368.54775808", " 1"])
    func refusesWhatIsNotAnExactDecimal(_ text: String) {
        #expect(throws: FixedParseError.self) { try Fixed(parsing: text) }
    }

    @Test func additionHasNoFloatingPointDrift() throws {
        var sum = Fixed.zero
        for _ in 0..<1_000_000 { sum += try Fixed(parsing: "0.1") }
        #expect(sum == Fixed(100_000))
        #expect(try Fixed(parsing: "0.1") + Fixed(parsing: "0.2") == Fixed(parsing: "0.3"))
    }

    @Test func multiplicationRoundsHalfEvenThroughInt128() throws {
        // 65000 × 4.9 = 318500 exactly; the Int64 product of the raw units would overflow.
        #expect(try Fixed(parsing: "65000").multiplied(by: Fixed(parsing: "4.9")) == Fixed(318_500))
        // 0.00000001 × 0.5 = 0.000000005 → ties to even (0), 0.00000003 × 0.5 → 0.00000002
        #expect(Fixed(units: 1).multiplied(by: try Fixed(parsing: "0.5")) == Fixed.zero)
        #expect(Fixed(units: 3).multiplied(by: try Fixed(parsing: "0.5")) == Fixed(units: 2))
        #expect(Fixed(units: 3).multiplied(by: try Fixed(parsing: "0.5"), rounding: .towardZero) == Fixed(units: 1))
        #expect(Fixed(units: -3).multiplied(by: try Fixed(parsing: "0.5"), rounding: .down) == Fixed(units: -2))
        #expect(Fixed(units: -3).multiplied(by: try Fixed(parsing: "0.5"), rounding: .up) == Fixed(units: -1))
        #expect(Fixed(units: .max).multiplied(by: Fixed(2)) == nil, "overflow is reported, not trapped")
    }

    @Test func divisionAndLotRounding() throws {
        #expect(try Fixed(1000).divided(by: Fixed(parsing: "3200"), rounding: .towardZero) == Fixed(parsing: "0.3125"))
        #expect(Fixed(1).divided(by: Fixed(3), rounding: .towardZero) == Fixed(units: 33_333_333))
        #expect(Fixed(1).divided(by: Fixed(3), rounding: .awayFromZero) == Fixed(units: 33_333_334))
        #expect(Fixed(1).divided(by: .zero) == nil)
        #expect(
            try Fixed(parsing: "0.123456").rounded(toMultipleOf: Fixed(parsing: "0.001")) == Fixed(parsing: "0.123"))
        #expect(
            try Fixed(parsing: "-0.123456").rounded(toMultipleOf: Fixed(parsing: "0.001"), rule: .down)
                == Fixed(parsing: "-0.124"))
        #expect(Fixed(100).multiplied(byRatio: 5, over: 10_000) == Fixed(units: 5_000_000))
    }

    @Test func weightedAverageIsExact() throws {
        let average = Fixed.weightedAverage(
            quantity: Fixed(1), price: Fixed(100), addQuantity: Fixed(3), addPrice: Fixed(200))
        #expect(average == Fixed(175))
        #expect(Fixed.weightedAverage(quantity: .zero, price: .zero, addQuantity: .zero, addPrice: Fixed(5)) == .zero)
    }
}
