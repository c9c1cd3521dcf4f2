import XCTest

@testable import Proxy

final class ProxyRouteTests: XCTestCase {
    /// The actions under `/admin/`; anything else there is no action (a 404 from the endpoint).
    func testAdminActions() {
        XCTAssertEqual(AdminAction(path: "/admin/tombstones/purge"), .purgeTombstones)
        XCTAssertEqual(AdminAction(path: "/admin/accounts/acct1/reinstate"), .reinstateAccount(name: "acct1"))
        XCTAssertEqual(AdminAction(path: "/admin/accounts/team%20seat/reinstate"), .reinstateAccount(name: "team seat"))
        for path in [
            "/admin/", "/admin/tombstones", "/admin/tombstones/purge/", "/admin/accounts//reinstate",
            "/admin/accounts/acct1", "/admin/accounts/acct1/reinstate/x", "/admin/accounts/a/b/reinstate",
            "/admin/accounts/%ZZ/reinstate",
        ] {
            XCTAssertNil(AdminAction(path: path), path)
        }
    }

    func testClassification() {
        let p = ProxyRoute.prefixes(configured: "openai/")
        XCTAssertEqual(p, ["/v1", "/backend-api/codex", "/openai"])
        let rows: [(String, String, ProxyRoute)] = [
            ("POST", "/v1/responses", .responses),
            ("POST", "/backend-api/codex/responses", .responses),
            ("POST", "/openai/responses", .responses),
            ("POST", "/v1/responses/", .responses),
            ("GET", "/v1/responses", .responses),
            ("POST", "/v1/responses/compact", .responsesCompact),
            ("POST", "/backend-api/codex/responses/compact", .responsesCompact),
            ("GET", "/v1/models", .models),
            ("GET", "/backend-api/codex/models", .models),
            ("GET", "/metrics", .metrics),
            ("GET", "/healthz", .health),
            ("GET", "/readyz", .ready),
            ("DELETE", "/v1/responses", .methodNotAllowed(allowed: "POST")),
            ("POST", "/metrics", .methodNotAllowed(allowed: "GET")),
            ("POST", "/v2/responses", .notFound),
            ("POST", "/v1/responsesX", .notFound),
            ("POST", "/", .notFound),
            ("POST", "/admin/tombstones/purge", .admin),
            ("GET", "/admin/anything", .admin),
            ("POST", "/admin", .notFound),
        ]
        for (method, path, expected) in rows {
            XCTAssertEqual(ProxyRoute.classify(method: method, path: path, prefixes: p), expected, "\(method) \(path)")
        }
        let admin = ProxyRoute.prefixes(configured: "/admin")
        XCTAssertEqual(ProxyRoute.classify(method: "POST", path: "/admin/responses", prefixes: admin), .responses)
        XCTAssertEqual(ProxyRoute.classify(method: "POST", path: "/admin/tombstones/purge", prefixes: admin), .admin)
    }

    func testMetricLabelsAreTheClosedSet() {
        let labels: Set<String> = [
            ProxyRoute.responses, .responsesCompact, .models, .metrics, .health, .ready, .notFound,
            .methodNotAllowed(allowed: "GET"),
        ].reduce(into: []) { $0.insert($1.metricLabel) }
        XCTAssertEqual(labels, ["responses", "responses_compact", "models", "metrics", "health", "other"])
    }
}
