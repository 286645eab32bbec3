import Foundation
import TradingDomain
import YAMLReader

/// `fleet.yaml`: the engines OPS supervises, and where its other files are.
///
/// ```yaml
/// engines:
///   - id: paper-1
///     venue: PAPER
///     address: 127.0.0.1:7100
///     models: [momentum-v1]        # optional: the models this engine (account) trades
/// strategy_weights: strategy_weights.json   # optional; default: beside this file
/// ```
public struct FleetFile: Sendable {
    public struct EngineEntry: Sendable, Hashable {
        public var id: String
        public var venue: Venue
        public var host: String
        public var port: Int
        /// Models this engine trades; empty means models are spread over the venue's engines by hash.
        public var models: [String]
        public var address: String { "\(host):\(port)" }
    }

    public var engines: [EngineEntry]
    /// Resolved path of the weights file (may not exist: then there are no weights).
    public var strategyWeightsPath: String

    public static func load(path: String) throws(OPSConfigError) -> FleetFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw OPSConfigError(file: path, line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        let rawEngines: [YAMLFields]
        let weights: String?
        do {
            let file = try YAMLFields(try YAMLNode.parse(text), keys: ["engines", "strategy_weights"])
            rawEngines = try file.list("engines", keys: ["id", "venue", "address", "models"]) ?? []
            weights = try file.string("strategy_weights")
        } catch {
            throw OPSConfigError(file: path, line: error.line, message: error.message)
        }
        guard !rawEngines.isEmpty else {
            throw OPSConfigError(
                file: path, line: nil, message: "engines: list at least one engine (id, venue, address)")
        }
        var engines: [EngineEntry] = []
        var seen = Set<String>()
        for raw in rawEngines {
            func invalid(_ key: String, _ message: String) -> OPSConfigError {
                let error = raw.error(key, message)
                return OPSConfigError(file: path, line: error.line, message: error.message)
            }
            let engine: (id: String, venue: String, address: String, models: [String])
            do {
                engine = (
                    try raw.required("id", raw.string), try raw.required("venue", raw.string),
                    try raw.required("address", raw.string), try raw.strings("models") ?? []
                )
            } catch {
                throw OPSConfigError(file: path, line: error.line, message: error.message)
            }
            guard !engine.id.isEmpty, seen.insert(engine.id).inserted else {
                throw invalid("id", "'\(engine.id)' is empty or repeated")
            }
            guard let venue = Venue(name: engine.venue) else {
                throw invalid(
                    "venue",
                    "'\(engine.venue)' is unknown (known: \(Venue.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let colon = engine.address.lastIndex(of: ":"),
                let port = Int(engine.address[engine.address.index(after: colon)...]),
                (1...65535).contains(port), colon != engine.address.startIndex
            else {
                throw invalid("address", "'\(engine.address)' is not HOST:PORT")
            }
            var host = String(engine.address[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            engines.append(EngineEntry(id: engine.id, venue: venue, host: host, port: port, models: engine.models))
        }
        let directory = (path as NSString).deletingLastPathComponent
        func resolve(_ name: String) -> String {
            name.hasPrefix("/") ? name : (directory.isEmpty ? name : "\(directory)/\(name)")
        }
        return FleetFile(
            engines: engines, strategyWeightsPath: resolve(weights ?? "strategy_weights.json"))
    }
}

/// A configuration file OPS cannot start with: it names the file and, where known, the line.
public struct OPSConfigError: Error, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let message: String
    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }
    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}
