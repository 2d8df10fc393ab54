import Logging
import CallerService
import Configuration
import Foundation
import SystemPackage
import Testing

@Suite struct ServiceConfigurationTests {
    @Test func defaultsAreTheContracts() {
        let configuration = ServiceConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.uploadLimit == 20 * 1024 * 1024)
    }

    @Test func environmentOverridesTheFileWhichOverridesDefaults() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("caller-lookup-\(UUID()).json")
        try Data(#"{"http":{"port":9001,"host":"0.0.0.0"},"upload":{"limit":1024},"log":{"level":"debug"}}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: ["CALLER_LOOKUP_HTTP_PORT": "9002"]).prefixKeys(with: ["caller", "lookup"]),
            try await FileProvider<JSONSnapshot>(filePath: FilePath(file.path)),
        ])
        let configuration = ServiceConfiguration(config: reader)
        #expect(configuration.port == 9002)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.uploadLimit == 1024)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.longPollLimitSeconds == 30)
    }

    @Test func theShippedFileHoldsTheDefaults() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/caller-lookup.json").path
        let reader = ConfigReader(provider: try await FileProvider<JSONSnapshot>(filePath: FilePath(path)))
        let shipped = ServiceConfiguration(config: reader)
        let defaults = ServiceConfiguration()
        #expect(shipped.port == defaults.port && shipped.host == defaults.host && shipped.uploadLimit == defaults.uploadLimit)
        #expect(shipped.longPollLimitSeconds == defaults.longPollLimitSeconds && shipped.logLevel == defaults.logLevel)
    }
}
