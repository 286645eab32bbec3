/// An instrument on one venue, written `SYMBOL.VENUE` (`BTCUSDT.BINANCE`, `AAPL.ALPACA`).
public struct InstrumentID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// The venue's own name for the instrument, upper case (`BTCUSDT`).
    public let symbol: String
    public let venue: Venue

    public init(symbol: String, venue: Venue) {
        self.symbol = symbol
        self.venue = venue
    }

    /// Parses `SYMBOL.VENUE`; the symbol is 1-32 characters of A-Z, 0-9, `-`, `_` or `/`.
    public init(parsing text: String) throws(InstrumentIDError) {
        guard let dot = text.lastIndex(of: ".") else { throw InstrumentIDError(text: text, problem: .missingVenue) }
        let symbol = text[..<dot].uppercased()
        let venueName = String(text[text.index(after: dot)...])
        guard let venue = Venue(name: venueName) else {
            throw InstrumentIDError(text: text, problem: .unknownVenue(venueName))
        }
        guard (1...32).contains(symbol.utf8.count),
            symbol.utf8.allSatisfy({ byte in
                (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 45 || byte == 95 || byte == 47
            })
        else { throw InstrumentIDError(text: text, problem: .badSymbol) }
        self.init(symbol: symbol, venue: venue)
    }

    public var description: String { "\(symbol).\(venue.rawValue)" }

    public static func < (lhs: InstrumentID, rhs: InstrumentID) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try InstrumentID(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Text that is not a `SYMBOL.VENUE` instrument id.
public struct InstrumentIDError: Error, CustomStringConvertible, Equatable {
    public enum Problem: Equatable, Sendable {
        case missingVenue
        case unknownVenue(String)
        case badSymbol
    }
    public let text: String
    public let problem: Problem

    public var description: String {
        switch problem {
        case .missingVenue:
            "'\(text)' has no venue: write SYMBOL.VENUE, e.g. BTCUSDT.PAPER"
        case .unknownVenue(let name):
            "'\(text)': unknown venue '\(name)' (known: \(Venue.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .badSymbol:
            "'\(text)': the symbol must be 1-32 characters of A-Z, 0-9, '-', '_' or '/'"
        }
    }
}
