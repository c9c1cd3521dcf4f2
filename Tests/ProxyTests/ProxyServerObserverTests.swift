import Metrics
import XCTest

@testable import HTTPServer
@testable import Proxy

/// What the HTTP server's own rejections become in the proxy's metrics.
final class ProxyServerObserverTests: XCTestCase {
    func makeMetrics() -> SightlineMetrics {
        SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r", swiftVersion: "6.3")
    }

    func testAnHTTPRejectionCountsItsReasonAndARequestOfItsStatusClass() {
        let metrics = makeMetrics()
        let observer = ProxyServerObserver(metrics: metrics, transport: "http")
        observer.protocolError(reason: "body_too_large", status: 413)
        XCTAssertEqual(metrics.protocolErrors(reason: "body_too_large").value, 1)
        XCTAssertEqual(metrics.requests(route: "other", transport: "http", statusClass: "4xx").value, 1)
    }

    func testAWebSocketFailureCountsItsReasonButNoRequest() {
        let metrics = makeMetrics()
        let observer = ProxyServerObserver(metrics: metrics, transport: "http")
        for error in [WebSocketProtocolError.frameTooBig, .messageTooBig, .invalidUTF8, .reservedBits] {
            observer.protocolError(reason: "websocket_" + error.reason, status: Int(error.closeCode))
            XCTAssertEqual(metrics.protocolErrors(reason: "websocket_" + error.reason).value, 1, error.reason)
        }
        // A close code is not an HTTP status: before, 1009 and 1002 were counted as a 5xx request.
        for statusClass in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
            XCTAssertEqual(metrics.requests(route: "other", transport: "http", statusClass: statusClass).value, 0)
        }
    }

    /// Every error the server-side WebSocket reader can raise has a pre-initialised series, so it renders 0
    /// from the first scrape and the catalog in docs/metrics.md is the whole set.
    func testEveryServerSideWebSocketErrorIsInTheCatalog() {
        let serverSide: [WebSocketProtocolError] = [
            .reservedBits, .unknownOpcode, .unmaskedClientFrame, .fragmentedControlFrame, .controlFrameTooLong,
            .invalidLength, .unexpectedContinuation, .interleavedMessage, .invalidClosePayload, .invalidCloseCode,
            .frameTooBig, .messageTooBig, .invalidUTF8,
        ]
        XCTAssertEqual(
            Set(serverSide.map { "websocket_" + $0.reason }),
            Set(SightlineMetrics.webSocketProtocolErrorReasons)
        )
        let text = makeMetrics().registry.render()
        for reason in SightlineMetrics.webSocketProtocolErrorReasons {
            XCTAssertTrue(text.contains("sightline_http_protocol_errors_total{reason=\"\(reason)\"} 0\n"), reason)
        }
    }
}
