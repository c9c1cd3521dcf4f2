import Foundation
import XCTest

@testable import Proxy

/// What `SightlineProxy` prepares on disk before it serves.
final class SightlineProxyTests: XCTestCase {
    /// A `log.file` inside a state directory that does not exist yet: its directory is created 0700, as the state
    /// directory is, and the proxy starts. The sink was opened before anything had made the directory, so the
    /// first start stopped with `open_failed`.
    func testTheLogFileDirectoryIsCreatedLikeTheStateDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sightline-logdir-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = directory.appendingPathComponent("state").path
        let logFile = state + "/logs/sightline.log"
        let config = """
            {"listen":{"host":"127.0.0.1","port":0},"stateDirectory":"\(state)",
             "log":{"stdout":false,"file":"\(logFile)"},
             "accounts":[{"name":"a1","kind":"apikey","baseURL":"http://127.0.0.1:9/v1","apiKey":"sk-FAKE-log-dir"}]}
            """
        let proxy = try SightlineProxy(configurationJSON: Data(config.utf8), environment: [:])
        proxy.shutdown()
        XCTAssertTrue(FileManager.default.fileExists(atPath: logFile))
        for path in [state, state + "/logs"] {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
            XCTAssertEqual(mode?.intValue, 0o700, path)
        }
    }
}
