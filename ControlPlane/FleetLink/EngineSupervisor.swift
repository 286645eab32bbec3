import FleetWire
import Logging
import NIOCore
import TradingDomain

/// All engine links of the fleet, by id and by venue.
public final class EngineSupervisor: Sendable {
    public let links: [EngineLink]
    /// Engine id → the models fleet.yaml assigns to it.
    private let assignments: [String: Set<String>]
    /// `links` by venue, in id order: looked up for every signal, so sorted once.
    private let byVenue: [Venue: [EngineLink]]

    public init(links: [EngineLink], assignments: [String: [String]] = [:]) {
        self.links = links
        self.assignments = assignments.mapValues(Set.init)
        self.byVenue = Dictionary(grouping: links, by: \.venue).mapValues { $0.sorted { $0.id < $1.id } }
    }

    /// Runs every link until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for link in links { group.addTask { await link.run() } }
        }
    }

    public func link(id: String) -> EngineLink? { links.first { $0.id == id } }

    /// The engines configured for `venue`, in id order.
    public func engines(venue: Venue) -> [EngineLink] { byVenue[venue] ?? [] }

    /// The engine of `venue` that trades `model`: the one fleet.yaml assigns it to, else a stable
    /// choice (a hash of the model name over the configured engines, up or not). Either way a model's
    /// positions stay on one account, and a retried order reaches the engine that knows its id.
    public func engine(venue: Venue, model: String) -> EngineLink? {
        let candidates = engines(venue: venue)
        guard !candidates.isEmpty else { return nil }
        if let assigned = candidates.first(where: { assignments[$0.id]?.contains(model) == true }) { return assigned }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in model.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return candidates[Int(hash % UInt64(candidates.count))]
    }
}
