import HTTPServer
import XCTest

@testable import Proxy

final class HeaderPolicyTests: XCTestCase {
    func testClientCredentialsAndHopByHopNeverGoUpstream() {
        let client: HTTPHeaders = [
            "Authorization": "Bearer sk-test-FAKE-client-key",
            "chatgpt-account-id": "client-chosen-account",
            "Cookie": "a=b",
            "Host": "127.0.0.1",
            "Content-Length": "10",
            "Connection": "keep-alive, x-private",
            "x-private": "dropped because Connection names it",
            "Transfer-Encoding": "chunked",
            "X-Forwarded-For": "10.0.0.1",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "session-id": "thread-1",
            "thread-id": "thread-1",
            "x-codex-turn-metadata": "{}",
            "originator": "codex_exec",
            "User-Agent": "codex_exec/0.147.0",
        ]
        let forwarded = HeaderPolicy.forwardedRequestHeaders(client)
        let names = Set(forwarded.map(\.0))
        XCTAssertEqual(names, ["session-id", "thread-id", "x-codex-turn-metadata", "originator", "user-agent"])
        XCTAssertFalse(forwarded.contains { $0.1.contains("sk-test") })
    }

    func testUpstreamHopByHopAndCookiesAreNotRelayed() {
        let relayed = HeaderPolicy.relayedResponseHeaders([
            ("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked"), ("Set-Cookie", "cf=1"),
            ("x-codex-primary-used-percent", "12"), ("x-request-id", "req-1"), ("Content-Length", "5"),
            ("OpenAI-Organization", "org-FAKE0000"), ("openai-project", "proj_FAKE0000"),
        ])
        XCTAssertEqual(relayed.entries.map(\.name), ["content-type", "x-codex-primary-used-percent", "x-request-id"])
    }

    /// A frame's `headers` object is decoded JSON: any name, any value. Only `x-` token names with values free of
    /// CR, LF and NUL reach an HTTP client's head, so an upstream frame cannot inject a header or break the head.
    func testFrameHeadersAreVettedBeforeTheyBecomeResponseHeaders() {
        let relayed = HeaderPolicy.relayedFrameHeaders([
            ("x-codex-turn-state", "ts-FAKE-1"), ("x-codex-turn-state-2", "t\r\nx-injected: 1"),
            ("x-bad name", "v"), ("set-cookie", "a=1"), ("content-type", "text/html"), ("x-nul", "a\u{0}b"),
        ])
        XCTAssertEqual(relayed.entries.map(\.name), ["x-codex-turn-state"])
    }
}
