import Foundation
import XCTest

/// A real Prometheus (Debian's `prometheus` 2.x) scrapes a real proxy; assertions go through its HTTP API.
final class PrometheusTests: XCTestCase {
    func testPrometheusScrapesExactRequestCounts() throws {
        let stack = try SightlineStack(label: "prom")
        defer { stack.stop() }
        let streamed = 5
        let unary = 2
        for i in 0..<streamed {
            let r = try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"s\#(i)","stream":true}"#)
            )
            XCTAssertEqual(r.status, 200)
        }
        for i in 0..<unary {
            let r = try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"u\#(i)"}"#)
            )
            XCTAssertEqual(r.status, 200)
        }
        XCTAssertEqual(
            try HTTPTestClient.exchange(port: stack.proxyPort, HTTPTestClient.post(path: "/v1/responses", json: "{"))
                .status,
            400
        )

        let prometheus = try PrometheusServer(
            scrapeTargets: ["127.0.0.1:\(stack.proxyPort)"],
            directory: stack.directory
        )
        defer { prometheus.stop() }
        XCTAssertTrue(prometheus.waitForUp(timeout: 20), prometheus.process.stderr)
        let ok = poll(timeout: 20) {
            (try? prometheus.value(
                #"sum(sightline_requests_total{job="sightline",route="responses",status_class="2xx"})"#
            )) == Double(streamed + unary)
        }
        XCTAssertTrue(
            ok,
            "2xx responses: \(String(describing: try? prometheus.value(#"sum(sightline_requests_total{route="responses",status_class="2xx"})"#)))"
        )
        XCTAssertEqual(try prometheus.value(#"sum(sightline_requests_total{route="responses",status_class="4xx"})"#), 1)
        XCTAssertEqual(try prometheus.value(#"sightline_http_protocol_errors_total{reason="invalid_json"}"#), 1)
        XCTAssertEqual(
            try prometheus.value(#"count(sightline_recovery_decisions_total)"#),
            27,
            "every decision × outcome pre-initialised"
        )
        XCTAssertEqual(try prometheus.value(#"sum(sightline_recovery_decisions_total)"#), 0)
        XCTAssertGreaterThan(try prometheus.value(#"sightline_tokens_total{kind="input"}"#), 0)
        XCTAssertEqual(
            try prometheus.value(#"sum(sightline_upstream_attempts_total{outcome="success"})"#),
            Double(streamed + unary)
        )
        XCTAssertEqual(
            try prometheus.value(#"sightline_request_duration_seconds_count{route="responses",transport="http"}"#),
            Double(streamed + unary),
            "local rejections are not observed"
        )
        XCTAssertGreaterThan(try prometheus.value("process_resident_memory_bytes"), 1_000_000)
        XCTAssertEqual(try prometheus.value(#"sightline_build_info{job="sightline"}"#), 1)
    }

    func testPromtoolAcceptsALiveScrape() throws {
        let stack = try SightlineStack(label: "promtool")
        defer { stack.stop() }
        _ = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"x","stream":true}"#)
        )
        let scrape = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics")
        XCTAssertEqual(scrape.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        let file = stack.directory.appendingPathComponent("scrape.prom")
        try Data(scrape.body).write(to: file)
        let promtool = try PrometheusServer.tool("promtool")
        let check = try ChildProcess(
            name: "promtool",
            executable: "/bin/sh",
            arguments: ["-c", "\(promtool) check metrics < \(file.path)"],
            directory: stack.directory
        )
        XCTAssertEqual(check.waitForExit(timeout: 30), 0, check.stdout + check.stderr)
        let gz = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics", headers: [("Accept-Encoding", "gzip")])
        XCTAssertEqual(gz.headers["content-encoding"], "gzip")
        XCTAssertEqual(Array(gz.body.prefix(3)), [0x1f, 0x8b, 0x08])
    }
}

/// A throwaway Prometheus server on a loopback port below 32768, scraping every second.
final class PrometheusServer {
    let process: ChildProcess
    let port: Int

    static func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw MissingPrerequisite(what: "\(name) (Debian package prometheus): run ./scripts/test.sh")
    }

    init(scrapeTargets: [String], directory: URL, ruleFiles: [String] = [], evaluationInterval: String = "1s") throws {
        let binary = try Self.tool("prometheus")
        let config = directory.appendingPathComponent("prometheus.yml")
        var yaml = "global:\n  scrape_interval: 1s\n  evaluation_interval: \(evaluationInterval)\n"
        if !ruleFiles.isEmpty { yaml += "rule_files:\n" + ruleFiles.map { "  - \($0)\n" }.joined() }
        yaml +=
            "scrape_configs:\n  - job_name: sightline\n    static_configs:\n      - targets: [\(scrapeTargets.map { "'\($0)'" }.joined(separator: ","))]\n"
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        var lastError = ""
        for attempt in 0..<5 {
            let port = TestEnvironment.randomPort()
            let tsdb = directory.appendingPathComponent("tsdb-\(attempt)")
            let child = try ChildProcess(
                name: "prometheus-\(attempt)",
                executable: binary,
                arguments: [
                    "--config.file=\(config.path)", "--storage.tsdb.path=\(tsdb.path)",
                    "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
                ],
                directory: directory
            )
            let ready = poll(timeout: 15) {
                guard child.process.isRunning else { return true }
                return (try? HTTPTestClient.get(port: port, path: "/-/ready").status) == 200
            }
            if ready && child.process.isRunning {
                process = child
                self.port = port
                return
            }
            lastError = child.stderr
            child.stop()
        }
        throw MissingPrerequisite(what: "a running prometheus: \(lastError)")
    }

    func stop() { process.stop() }

    func waitForUp(timeout: TimeInterval) -> Bool {
        poll(timeout: timeout) { (try? self.value(#"up{job="sightline"}"#)) == 1 }
    }

    /// Runs an instant query; returns the single value (sum it in PromQL when there are several).
    func value(_ query: String) throws -> Double {
        let result = try self.query(query)
        guard result.count == 1, let pair = result[0]["value"] as? [Any], let text = pair.last as? String,
            let v = Double(text)
        else { throw TestClientError.io("query \(query) gave \(result)") }
        return v
    }

    func query(_ query: String) throws -> [[String: Any]] {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "+&=;")
        let q = query.addingPercentEncoding(withAllowedCharacters: allowed)!
        let r = try HTTPTestClient.get(port: port, path: "/api/v1/query?query=\(q)")
        guard let json = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
            json["status"] as? String == "success", let data = json["data"] as? [String: Any],
            let result = data["result"] as? [[String: Any]]
        else { throw TestClientError.io("query \(query) failed: \(r.bodyText)") }
        return result
    }

    func alerts() throws -> [[String: Any]] {
        let r = try HTTPTestClient.get(port: port, path: "/api/v1/alerts")
        let json = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
        return ((json?["data"] as? [String: Any])?["alerts"] as? [[String: Any]]) ?? []
    }
}
