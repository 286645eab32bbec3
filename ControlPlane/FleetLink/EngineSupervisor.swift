import FleetWire
import Logging
import NIOCore
import TradingDomain

/// All engine links of the fleet, by id and by venue.
public final class EngineSupervisor: Sendable {
    public let links: [EngineLink]

    public init(links: [EngineLink]) { self.links = links }

    /// Runs every link until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for link in links { group.addTask { await link.run() } }
        }
    }

    public func link(id: String) -> EngineLink? { links.first { $0.id == id } }

    /// Where to send an order for `venue`: the first engine of that venue whose link is up.
    public enum Route: Sendable {
        case engine(EngineLink)
        /// Engines exist for the venue but none is up.
        case down([String])
        /// fleet.yaml has no engine for the venue.
        case none
    }

    public func route(venue: Venue) async -> Route {
        let candidates = links.filter { $0.venue == venue }
        guard !candidates.isEmpty else { return .none }
        for link in candidates where await link.state == .up { return .engine(link) }
        return .down(candidates.map(\.id))
    }
}
