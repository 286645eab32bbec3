import TradingDomain

/// A trade signal from a strategy, validated: what `POST /strategy/signal` accepts.
public struct Signal: Sendable, Hashable {
    public var instrument: InstrumentID
    public var side: Side
    public var type: OrderType
    /// Exactly one of `quantity` (base units) and `quote` (notional in the quote currency) is set.
    public var quantity: Fixed?
    public var quote: Fixed?
    public var limitPrice: Fixed?
    public var strategy: String
    public var model: String?

    public init(
        instrument: InstrumentID, side: Side, type: OrderType, quantity: Fixed?, quote: Fixed?, limitPrice: Fixed?,
        strategy: String, model: String?
    ) {
        self.instrument = instrument
        self.side = side
        self.type = type
        self.quantity = quantity
        self.quote = quote
        self.limitPrice = limitPrice
        self.strategy = strategy
        self.model = model
    }

    /// Parses and validates a JSON body. Numbers may be JSON numbers or strings; either way they
    /// are read as exact decimals.
    public static func parse(json body: [UInt8]) throws(SignalError) -> Signal {
        let fields = try SignalFields(json: body)
        func positive(_ value: Fixed?, _ key: String) throws(SignalError) -> Fixed? {
            guard let value else { return nil }
            guard value.isPositive else { throw SignalError.malformed("'\(key)' must be positive") }
            return value
        }

        guard let symbol = fields.symbol else {
            throw SignalError.malformed("'symbol' is required (SYMBOL.VENUE)")
        }
        let instrument: InstrumentID
        do { instrument = try InstrumentID(parsing: symbol) } catch {
            switch error.problem {
            case .unknownVenue: throw SignalError.unknownVenue(error.description)
            case .missingVenue, .badSymbol: throw SignalError.malformed(error.description)
            }
        }
        guard let sideText = fields.side, let side = Side(rawValue: sideText.uppercased()) else {
            throw SignalError.malformed("'side' must be BUY or SELL")
        }
        let typeText = fields.type ?? "MARKET"
        guard let type = OrderType(rawValue: typeText.uppercased()), type == .market || type == .limit else {
            throw SignalError.malformed("'type' must be MARKET or LIMIT")
        }
        let quantity = try positive(fields.quantity, "quantity")
        let quote = try positive(fields.quote, "quote")
        guard (quantity == nil) != (quote == nil) else {
            throw SignalError.malformed("give exactly one of 'quantity' or 'quote'")
        }
        let limitPrice = try positive(fields.limitPrice, "limit_price")
        switch type {
        case .limit where limitPrice == nil: throw SignalError.malformed("a LIMIT signal needs 'limit_price'")
        case .market where limitPrice != nil: throw SignalError.malformed("a MARKET signal takes no 'limit_price'")
        default: break
        }
        let strategy = fields.strategy ?? "default"
        let model = fields.model
        func checkName(_ name: String, _ value: String) throws(SignalError) {
            guard (1...64).contains(value.utf8.count),
                value.utf8.allSatisfy({
                    ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95
                        || $0 == 46
                })
            else {
                throw SignalError.malformed("'\(name)' must be 1-64 characters of A-Z a-z 0-9 - _ .")
            }
        }
        try checkName("strategy", strategy)
        if let model { try checkName("model", model) }
        return Signal(
            instrument: instrument, side: side, type: type, quantity: quantity, quote: quote, limitPrice: limitPrice,
            strategy: strategy, model: model)
    }
}

/// Why a signal was refused before it reached an engine. `httpStatus` and `code` go straight into
/// the API's `{"error":{"code","message"}}`.
public struct SignalError: Error, CustomStringConvertible, Equatable {
    public let httpStatus: Int
    public let code: String
    public let message: String

    public static func malformed(_ message: String) -> SignalError {
        SignalError(httpStatus: 400, code: "INVALID_SIGNAL", message: message)
    }
    public static func unknownVenue(_ message: String) -> SignalError {
        SignalError(httpStatus: 422, code: "UNKNOWN_VENUE", message: message)
    }
    public static func noModel(_ message: String) -> SignalError {
        SignalError(httpStatus: 422, code: "NO_MODEL", message: message)
    }
    public static func keyReused(_ message: String) -> SignalError {
        SignalError(httpStatus: 409, code: "IDEMPOTENCY_KEY_REUSED", message: message)
    }
    public static func storage(_ message: String) -> SignalError {
        SignalError(httpStatus: 500, code: "STORAGE_ERROR", message: message)
    }

    public var description: String { "\(code): \(message)" }
}

/// The JSON body as sent: strings and exact decimals (a JSON number or a decimal string), and
/// nothing else — an unknown field is refused rather than ignored (a typo such as "qty" must not
/// turn into a default).
private struct SignalFields {
    // Plain optionals, not dictionaries by name: two dictionaries cost two allocations and a hash
    // per field for every signal.
    var symbol: String?
    var side: String?
    var type: String?
    var strategy: String?
    var model: String?
    var quantity: Fixed?
    var quote: Fixed?
    var limitPrice: Fixed?

    init(json body: [UInt8]) throws(SignalError) {
        let object: FlatJSONObject
        do { object = try FlatJSONObject(parsing: body) } catch {
            switch error {
            case .notAnObject: throw SignalError.malformed("the body must be a JSON object")
            case .notJSON(let offset): throw SignalError.malformed("the body is not valid JSON (at byte \(offset))")
            }
        }
        // A repeated field: the last one counts (a null clears it).
        for (name, value) in object.members {
            switch name {
            case "symbol": symbol = try Self.string(name, value)
            case "side": side = try Self.string(name, value)
            case "type": type = try Self.string(name, value)
            case "strategy": strategy = try Self.string(name, value)
            case "model": model = try Self.string(name, value)
            case "quantity": quantity = try Self.decimal(name, value)
            case "quote": quote = try Self.decimal(name, value)
            case "limit_price": limitPrice = try Self.decimal(name, value)
            default: throw SignalError.malformed("unknown field '\(name)'")
            }
        }
    }

    private static func string(_ name: String, _ value: FlatJSONObject.Value) throws(SignalError) -> String? {
        switch value {
        case .null: return nil
        case .string(let text): return text
        case .number, .other: throw SignalError.malformed("'\(name)' must be a string")
        }
    }

    private static func decimal(_ name: String, _ value: FlatJSONObject.Value) throws(SignalError) -> Fixed? {
        let text: String
        switch value {
        case .null: return nil
        case .string(let value), .number(let value): text = value
        case .other: throw SignalError.malformed("'\(name)' must be a decimal number or string")
        }
        do { return try Fixed(parsing: text) } catch { throw SignalError.malformed("'\(name)': \(error)") }
    }
}
