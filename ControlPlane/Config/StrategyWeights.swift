import Foundation

/// `strategy_weights.json`: `{"<strategy>": {"<model>": <weight>, ...}, ...}`. Weights are
/// non-negative numbers; within a strategy they are relative (they need not sum to 1).
public struct StrategyWeights: Sendable, Hashable, Codable {
    public var weights: [String: [String: Double]]

    public init(_ weights: [String: [String: Double]]) { self.weights = weights }

    /// A missing file means no weights (signals must then name their model).
    public static func load(path: String) throws(OPSConfigError) -> StrategyWeights {
        guard FileManager.default.fileExists(atPath: path) else { return StrategyWeights([:]) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw OPSConfigError(file: path, line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(data, source: path)
    }

    public static func parse(_ data: Data, source: String) throws(OPSConfigError) -> StrategyWeights {
        let decoded: [String: [String: Double]]
        do { decoded = try JSONDecoder().decode([String: [String: Double]].self, from: data) } catch {
            throw OPSConfigError(
                file: source, line: nil, message: "expected {\"strategy\": {\"model\": weight}}: \(error)")
        }
        for (strategy, models) in decoded {
            guard !models.isEmpty else {
                throw OPSConfigError(file: source, line: nil, message: "strategy '\(strategy)' lists no models")
            }
            for (model, weight) in models where !(weight.isFinite && weight >= 0) {
                throw OPSConfigError(
                    file: source, line: nil, message: "weight of \(strategy)/\(model) must be a number ≥ 0")
            }
            guard models.values.contains(where: { $0 > 0 }) else {
                throw OPSConfigError(file: source, line: nil, message: "strategy '\(strategy)' has no positive weight")
            }
        }
        return StrategyWeights(decoded)
    }

    /// Picks a model of `strategy` with probability proportional to its weight, using `draw` in
    /// [0, 1). Models are taken in name order, so the same draw always gives the same model.
    public func pick(strategy: String, draw: Double) -> String? {
        guard let models = weights[strategy] else { return nil }
        let ordered = models.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        let total = ordered.reduce(0) { $0 + $1.value }
        guard total > 0 else { return nil }
        var target = draw * total
        for (model, weight) in ordered {
            if target < weight { return model }
            target -= weight
        }
        return ordered.last?.key
    }
}
