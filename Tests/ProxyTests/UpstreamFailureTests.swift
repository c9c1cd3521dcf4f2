import CCurl
import XCTest

@testable import Proxy

final class UpstreamFailureTests: XCTestCase {
    func testCurlCodesMapToStableReasons() {
        let table: [(CURLcode, String)] = [
            (CURLE_COULDNT_RESOLVE_HOST, "dns_failed"),
            (CURLE_COULDNT_CONNECT, "connect_failed"),
            (CURLE_OPERATION_TIMEDOUT, "timeout"),
            (CURLE_PEER_FAILED_VERIFICATION, "tls_failed"),
            (CURLE_SSL_CONNECT_ERROR, "tls_failed"),
            (CURLE_RECV_ERROR, "connection_reset"),
            (CURLE_SEND_ERROR, "connection_reset"),
            (CURLE_PARTIAL_FILE, "connection_reset"),
            (CURLE_GOT_NOTHING, "connection_reset"),
            (CURLE_WEIRD_SERVER_REPLY, "protocol_error"),
            (CURLE_HTTP2_STREAM, "protocol_error"),
            (CURLE_UNSUPPORTED_PROTOCOL, "protocol_error"),
            (CURLE_OUT_OF_MEMORY, "other"),
        ]
        for (code, expected) in table {
            XCTAssertEqual(UpstreamFailure.reason(forCurlCode: Int(code.rawValue)).description, expected, "\(code)")
        }
        XCTAssertEqual(UpstreamFailure.reason(forCurlCode: 9999), .other)
    }

    func testReasonSetIsClosedAndUnique() {
        let names = UpstreamFailure.Reason.all.map(\.description)
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(
            Set(names),
            [
                "connect_failed", "dns_failed", "tls_failed", "timeout", "first_byte_timeout", "idle_timeout",
                "connection_reset", "cancelled", "protocol_error", "other",
            ]
        )
    }
}
