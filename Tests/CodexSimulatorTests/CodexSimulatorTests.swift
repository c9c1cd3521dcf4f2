import Foundation
import SightlineTestSupport
import XCTest

@testable import CodexSimulator

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// End to end over real loopback sockets: the simulator as a client sees it.
final class CodexSimulatorTests: XCTestCase {
    var simulator: CodexSimulator!
    var base: String { "http://127.0.0.1:\(simulator.port)" }

    override func setUpWithError() throws {
        simulator = try TestPorts.withFreePort { port in
            var configuration = SimulatorConfiguration.demo(accounts: 2)
            configuration.port = port
            let simulator = CodexSimulator(configuration: configuration)
            try simulator.start()
            return simulator
        }
    }

    override func tearDown() {
        simulator.shutdown()
        simulator = nil
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
        var error: Error?
        var events: [[String: Any]] { SSE.events(body) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    func fetch(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil) -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "content-type")
        }
        let done = expectation(description: "\(method) \(path)")
        nonisolated(unsafe) var reply = Reply(status: 0, headers: [:], body: "", error: nil)
        let session = URLSession(configuration: .ephemeral)
        session.dataTask(with: request) { data, response, error in
            let http = response as? HTTPURLResponse
            var headers: [String: String] = [:]
            for (k, v) in http?.allHeaderFields ?? [:] {
                headers[String(describing: k).lowercased()] = String(describing: v)
            }
            reply = Reply(
                status: http?.statusCode ?? 0,
                headers: headers,
                body: String(decoding: data ?? Data(), as: UTF8.self),
                error: error
            )
            done.fulfill()
        }.resume()
        wait(for: [done], timeout: 10)
        session.finishTasksAndInvalidate()
        return reply
    }

    let path = "/backend-api/codex/responses"
    func auth(_ n: Int) -> [String: String] {
        ["Authorization": "Bearer sim-access-acct\(n)-0", "chatgpt-account-id": "sim-account-\(n)"]
    }

    func testStreamOverSockets() throws {
        let reply = fetch("POST", path, headers: auth(1), body: Requests.body())
        XCTAssertNil(reply.error)
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.headers["content-type"], "text/event-stream")
        XCTAssertNotNil(reply.headers["x-codex-primary-used-percent"])
        XCTAssertEqual(reply.events.first?["type"] as? String, "response.created")
        let usage = (reply.events.last?["response"] as? [String: Any])?["usage"] as? [String: Any]
        XCTAssertNotNil(usage?["total_tokens"] as? Int)
    }

    func testRejectionsAndAuthOverSockets() {
        XCTAssertEqual(fetch("POST", path, headers: auth(1), body: Requests.body(stream: false)).status, 400)
        XCTAssertEqual(
            fetch("POST", path, headers: ["Authorization": "Bearer nope"], body: Requests.body()).status,
            401
        )
        XCTAssertEqual(fetch("GET", "/v1/models").status, 200)
    }

    func testCacheStickinessOverSockets() {
        let input = [Requests.message("developer", String(repeating: "rules ", count: 400))]
        func cached(_ n: Int) -> Int? {
            let usage =
                (fetch("POST", path, headers: auth(n), body: Requests.body(input: input)).events.last?["response"]
                as? [String: Any])?["usage"] as? [String: Any]
            return (usage?["input_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
        }
        XCTAssertEqual(cached(1), 0)
        XCTAssertGreaterThan(cached(1) ?? 0, 0)
        XCTAssertEqual(cached(2), 0)
    }

    func testFaultsOverSockets() {
        let cut = fetch(
            "POST",
            path,
            headers: auth(1).merging(["x-sim-fault": "stream_cut;after=2"]) { $1 },
            body: Requests.body()
        )
        XCTAssertFalse(cut.body.contains("response.completed"))
        XCTAssertTrue(cut.error != nil || cut.events.count <= 2)
        let reset = fetch(
            "POST",
            path,
            headers: auth(1).merging(["x-sim-fault": "connection_reset"]) { $1 },
            body: Requests.body()
        )
        XCTAssertNotNil(reset.error)
        let limit = fetch(
            "POST",
            path,
            headers: auth(1).merging(["x-sim-fault": "usage_limit"]) { $1 },
            body: Requests.body()
        )
        XCTAssertEqual(limit.status, 429)
        XCTAssertEqual(limit.headers["x-codex-primary-used-percent"], "100")
    }

    func testTokenRotationOverSockets() {
        let body = Array(
            #"{"grant_type":"refresh_token","refresh_token":"sim-refresh-acct2-0","client_id":"app_EMoamEEZ73f0CkXaXp7hrann"}"#
                .utf8
        )
        let first = fetch("POST", "/oauth/token", body: body)
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.json["refresh_token"] as? String, "sim-refresh-acct2-1")
        let second = fetch("POST", "/oauth/token", body: body)
        XCTAssertEqual((second.json["error"] as? [String: Any])?["code"] as? String, "refresh_token_reused")
        let records = fetch("GET", "/__sim/requests")
        XCTAssertTrue(
            records.body.contains("\"path\":\"\\/oauth\\/token\"") || records.body.contains("\"path\":\"/oauth/token\"")
        )
    }
}
