import Foundation
import XCTest

/// `sightline demo` as a user runs it: the simulator and the proxy in one process, on the ports it is given.
final class DemoCommandTests: XCTestCase {
    private var directory: URL!
    private var demo: ChildProcess?

    override func setUpWithError() throws { directory = try TestEnvironment.tempDirectory("demo") }

    override func tearDown() {
        demo?.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts `sightline demo` on the state directory `state` and returns its proxy and simulator ports once its
    /// banner is out (other random ports when one is taken).
    private func startDemo(state: String) throws -> (proxy: Int, simulator: Int) {
        for attempt in 0..<5 {
            let ports = (proxy: TestEnvironment.randomPort(), simulator: TestEnvironment.randomPort())
            let child = try ChildProcess(
                name: "demo-\(UUID().uuidString.prefix(8))-\(attempt)",
                executable: TestEnvironment.sightlineBinary,
                arguments: [
                    "demo", "--port", String(ports.proxy), "--simulator-port", String(ports.simulator),
                    "--state-dir", state, "--delta-delay-ms", "0", "--log-stdout", "false",
                ],
                directory: directory
            )
            let banner = child.waitForOutput(timeout: 15) { text -> Bool? in
                text.contains("Sightline demo is running") ? true : (text.contains("could not start") ? false : nil)
            }
            if banner == true {
                demo = child
                return ports
            }
            child.stop()
        }
        throw MissingPrerequisite(what: "a free pair of ports for the demo after 5 tries")
    }

    private func ask(_ port: Int, _ text: String) throws -> ParsedResponse {
        try HTTPTestClient.exchange(
            port: port,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"\#(text)"}"#)
        )
    }

    /// The refresh generation of the simulator's `acct1` (0 until the proxy refreshed its token).
    private func acct1Generation(simulator port: Int) throws -> Int {
        let body = try HTTPTestClient.get(port: port, path: "/__sim/accounts").body
        let accounts = try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]] ?? []
        return accounts.first { $0["name"] as? String == "acct1" }?["refresh_generation"] as? Int ?? -1
    }

    /// A second run works after a first that rotated a token. The state directory kept the first run's rotated
    /// tokens (`sim-…-acct1-1`); the second run's new simulator knew only `…-0`, so the refresh got `invalid_grant`
    /// and the account went `reauth_required` before the demo had answered anything.
    func testASecondRunAfterATokenRotationStartsWithEveryAccountActive() throws {
        let state = directory.appendingPathComponent("demo-state").path
        var ports = try startDemo(state: state)
        let invalidated = try HTTPTestClient.exchange(
            port: ports.simulator,
            HTTPTestClient.post(path: "/__sim/accounts/acct1/invalidate-access", json: "{}")
        )
        XCTAssertEqual(invalidated.status, 200, invalidated.bodyText)
        let first = try ask(ports.proxy, "first run")
        XCTAssertEqual(first.status, 200, first.bodyText)
        XCTAssertTrue(
            poll(timeout: 10) { (try? self.acct1Generation(simulator: ports.simulator)) ?? 0 >= 1 },
            "the first run rotated acct1's tokens"
        )
        demo?.signal(SIGINT)
        XCTAssertEqual(demo?.waitForExit(timeout: 15), 0, demo?.stderr ?? "")

        ports = try startDemo(state: state)
        let second = try ask(ports.proxy, "second run")
        XCTAssertEqual(second.status, 200, second.bodyText)
        let metrics = try HTTPTestClient.get(port: ports.proxy, path: "/metrics").bodyText
        let states = metrics.split(separator: "\n").filter { $0.hasPrefix("sightline_account_state{") }
        XCTAssertEqual(states.filter { $0.contains(#"state="active""#) && $0.hasSuffix(" 1") }.count, 3, "\(states)")
        XCTAssertEqual(
            states.filter { $0.contains(#"state="reauth_required""#) && !$0.hasSuffix(" 0") },
            [],
            "no account needs a new login"
        )
    }
}
