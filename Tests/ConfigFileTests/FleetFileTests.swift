import Foundation
import OPSConfig
import Testing

struct FleetFileTests {
    func load(_ text: String) throws(OPSConfigError) -> FleetFile {
        let directory = NSTemporaryDirectory() + "fleet-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/fleet.yaml"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return try FleetFile.load(path: path)
    }

    @Test func readsEnginesModelsAndTheWeightsPath() throws {
        let fleet = try load(
            """
            engines:
              - id: paper-1
                venue: PAPER
                address: 127.0.0.1:7101
                models: [momentum-v1, mean-rev]
              - {id: paper-2, venue: PAPER, address: "[::1]:7102"}
            strategy_weights: /etc/fleet/weights.json
            """)
        #expect(fleet.engines.map(\.id) == ["paper-1", "paper-2"])
        #expect(fleet.engines[0].models == ["momentum-v1", "mean-rev"])
        #expect(fleet.engines[1].host == "::1")
        #expect(fleet.engines[1].port == 7102)
        #expect(fleet.strategyWeightsPath == "/etc/fleet/weights.json")
    }

    @Test func errorsNameTheLineAndTheField() {
        func failure(_ text: String) -> OPSConfigError? {
            do {
                _ = try load(text)
                return nil
            } catch { return error }
        }
        let venue = failure("engines:\n  - id: e1\n    venue: NASDAQ\n    address: h:1\n")
        #expect(venue?.line == 3)
        #expect(venue?.message.hasPrefix("engines[0].venue: 'NASDAQ' is unknown") == true)
        let unknown = failure("engines:\n  - id: e1\n    venue: PAPER\n    adress: h:1\n")
        #expect(unknown?.line == 4)
        #expect(unknown?.message.hasPrefix("engines[0].adress: unknown key") == true)
        #expect(failure("engines:\n  - {id: e1, venue: PAPER}\n")?.message == "engines[0].address: required")
        #expect(failure("engines: []\n")?.message.hasPrefix("engines: list at least one") == true)
        #expect(
            failure("engines:\n  - {id: e1, venue: PAPER, address: h:1}\n  - {id: e1, venue: PAPER, address: h:2}\n")?
                .line == 3)
    }
}
