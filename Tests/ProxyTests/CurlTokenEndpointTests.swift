import Foundation
import SightlineTestSupport
import Synchronization
import XCTest

@testable import Proxy

/// `CurlTokenEndpoint` against a real loopback socket (`UpstreamTestServer`).
final class CurlTokenEndpointTests: XCTestCase {
    /// A token endpoint that accepts the POST and never answers fails the refresh within the endpoint's own total
    /// timeout, even with the upstream client's streaming timeouts off (`firstByteTimeoutSeconds: 0` is allowed).
    /// It inherited those timeouts, so with them off the refresh, and every request waiting on it, never ended.
    func testATokenEndpointThatNeverAnswersFailsWithinItsOwnTimeout() throws {
        let server = try UpstreamTestServer { connection in
            guard connection.readRequest() != nil else { return }
            _ = connection.waitForClose(timeoutSeconds: 30)
        }
        let client = UpstreamClient(
            configuration: UpstreamClientConfiguration(firstByteTimeoutSeconds: 0, idleTimeoutSeconds: 0)
        )
        defer {
            client.close()
            server.stop()
        }
        var endpoint = CurlTokenEndpoint(client: client)
        endpoint.totalTimeoutSeconds = 0.5
        let failure = Mutex<UpstreamFailure?>(nil)
        let completed = Atomic<Bool>(false)
        endpoint.post(url: "http://127.0.0.1:\(server.port)/oauth/token", body: Array("{}".utf8), headers: []) {
            result in
            if case .failure(let error) = result { failure.withLock { $0 = error as? UpstreamFailure } }
            completed.store(true, ordering: .releasing)
        }
        XCTAssertTrue(pollUntil(timeout: 10) { completed.load(ordering: .acquiring) }, "the refresh never ended")
        XCTAssertEqual(failure.withLock { $0?.reason }, .timeout)
    }

    func testDefaultsAreBoundedAndIndependentOfTheStreamingTimeouts() {
        let client = UpstreamClient()
        defer { client.close() }
        let endpoint = CurlTokenEndpoint(client: client)
        XCTAssertEqual(endpoint.connectTimeoutSeconds, 10)
        XCTAssertEqual(endpoint.totalTimeoutSeconds, 30)
    }
}
