import Foundation
import XCTest

/// Fault injection and scrape helpers shared by the fault, limit and soak tests.
extension SightlineStack {
    /// Queues a simulator fault (`POST /__sim/faults`); `account` nil queues it for whichever account.
    func injectFault(account: String?, _ fault: String, count: Int = 1, params: [String: Any] = [:]) throws {
        var body: [String: Any] = ["fault": fault, "count": count]
        if let account { body["account"] = account }
        for (k, v) in params { body[k] = v }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let r = try HTTPTestClient.exchange(port: simulatorPort, HTTPTestClient.post(path: "/__sim/faults", json: json))
        XCTAssertEqual(r.status, 200, r.bodyText)
    }

    /// Makes the proxy's state directory immutable until `test` ends (`chattr +i`, which stops root too, so a write
    /// there fails as on a read-only disk). The undo is registered before the freeze, so a test that fails or skips
    /// on the way still leaves a directory its tear-down can delete. Skips the test where `chattr` is not permitted.
    func freezeStateDirectory(until test: XCTestCase) throws {
        let state = directory.appendingPathComponent("state").path
        let directory = directory
        let chattr = { @Sendable (flag: String) throws -> ChildProcess in
            try ChildProcess(
                name: "chattr",
                executable: "/usr/bin/env",
                arguments: ["chattr", flag, state],
                directory: directory
            )
        }
        test.addTeardownBlock {
            let thaw = try chattr("-i")
            XCTAssertEqual(thaw.waitForExit(timeout: 10), 0, "chattr -i: \(thaw.stderr)")
        }
        let freeze = try chattr("+i")
        guard freeze.waitForExit(timeout: 10) == 0 else { throw XCTSkip("chattr +i not permitted: \(freeze.stderr)") }
        XCTAssertFalse(FileManager.default.createFile(atPath: state + "/probe", contents: Data()), "writes fail")
    }

    /// `POST /v1/responses` of a one-message request (`input` "hi"), streamed or not, through the proxy.
    func postHi(stream: Bool) throws -> ParsedResponse {
        try HTTPTestClient.exchange(
            port: proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"hi","stream":\#(stream)}"#)
        )
    }

    /// Turns on random faults (`POST /__sim/random-faults`), seeded so a run is reproducible.
    func randomFaults(probability: Double, faults: [Any], seed: Int) throws {
        let body: [String: Any] = ["probability": probability, "faults": faults, "seed": seed]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let r = try HTTPTestClient.exchange(
            port: simulatorPort,
            HTTPTestClient.post(path: "/__sim/random-faults", json: json)
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
    }

    /// The proxy's exposition text from `port` (the main listener by default).
    func scrape(port: Int? = nil, headers: [(String, String)] = []) throws -> String {
        try HTTPTestClient.get(port: port ?? proxyPort, path: "/metrics", headers: headers).bodyText
    }

    /// The value of one series (`name{labels}` exactly as exposed), or nil when absent.
    static func sample(_ series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// Every account's `sightline_account_cooldown_until_timestamp_seconds`, ascending (0: not cooling).
    func cooldownsUntil() throws -> [Double] {
        try scrape().split(separator: "\n")
            .filter { $0.hasPrefix("sightline_account_cooldown_until_timestamp_seconds{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.sorted()
    }

    /// The simulator's log of the requests it got (`GET /__sim/requests`), oldest first.
    func simulatorLog() throws -> [[String: Any]] {
        let r = try HTTPTestClient.get(port: simulatorPort, path: "/__sim/requests")
        return try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
    }

    /// Accounts whose `sightline_account_state{state="cooling"}` is 1.
    /// The `cooldown_until` of `name`'s entry in the state file: nil when there is no such entry, `.some(nil)`
    /// when it holds none.
    func persistedCooldown(_ name: String) throws -> Int?? {
        let data = try Data(contentsOf: directory.appendingPathComponent("state/accounts.json"))
        let accounts = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["accounts"] as? [[String: Any]]
        guard let entry = accounts?.first(where: { $0["name"] as? String == name }) else { return nil }
        return .some(entry["cooldown_until"] as? Int)
    }

    func coolingAccounts() throws -> Int {
        try scrape().split(separator: "\n").filter {
            $0.hasPrefix("sightline_account_state{") && $0.contains(#"state="cooling""#) && $0.hasSuffix(" 1")
        }.count
    }
}

extension ParsedResponse {
    /// The `error` object of an OpenAI-shape error body, or nil.
    var errorObject: [String: Any]? {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["error"] as? [String: Any]
    }

    /// The `id` of a non-streaming Response body (the anchor a next turn names), or nil.
    var responseID: String? {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["id"] as? String
    }
}
