import Foundation
import HTTPServer
import Proxy
import SightlineTestSupport
import Synchronization
import XCTest

/// `CurlConnectionOptions` as the upstream WebSocket sees it: the TLS trust and egress of the HTTP client's
/// configuration (`UpstreamClientTests` covers the HTTP side). The environment's `https_proxy` is covered end
/// to end, on a real proxy process, by `UpstreamProxyEnvironmentTests`.
final class CurlConnectionOptionsTests: XCTestCase {
    let headers: HTTPHeaders = ["Authorization": "Bearer sim-access-FAKE"]

    /// A self-signed upstream: refused by default (verification is on), opened once `caFile` names its
    /// certificate, exactly as an HTTP transfer with the same configuration.
    func testAWSSUpstreamIsTrustedThroughTheConfiguredCAFile() throws {
        let tls = try UpstreamTLSTestServer()
        defer { tls.stop() }
        let url = URL(string: "wss://127.0.0.1:\(tls.port)/backend-api/codex/responses")!

        let refusing = RecordingUpstreamDelegate()
        UpstreamWebSocket(url: url, headers: headers, delegate: refusing).start()
        XCTAssertTrue(pollUntil { refusing.snapshot.failure != nil })
        XCTAssertEqual(refusing.snapshot.failure?.0, "connect_failed", "an unknown CA must not be trusted")

        let trusting = RecordingUpstreamDelegate()
        let socket = UpstreamWebSocket(
            url: url,
            headers: headers,
            delegate: trusting,
            clientConfiguration: UpstreamClientConfiguration(caFile: tls.certificatePath)
        )
        socket.start()
        XCTAssertTrue(pollUntil { trusting.snapshot.opened != nil || trusting.snapshot.failure != nil })
        XCTAssertNotNil(trusting.snapshot.opened, "failed: \(String(describing: trusting.snapshot.failure))")
        socket.close()
    }

    /// With `egressProxy` set, the socket goes through that proxy, in a CONNECT tunnel to the upstream; the
    /// fake proxy answers the tunnelled upgrade itself with a 426.
    func testAnEgressProxyCarriesTheUpgradeInAConnectTunnel() throws {
        try assertTheEgressProxyCarriesTheUpgrade()
    }

    /// `NO_PROXY` in the environment does not route around a configured egress proxy: libcurl reads it whenever
    /// `CURLOPT_NOPROXY` is unset, even with `CURLOPT_PROXY` given, so a `NO_PROXY=*` once sent everything direct.
    func testNoProxyInTheEnvironmentDoesNotBypassTheEgressProxy() throws {
        setenv("NO_PROXY", "*", 1)
        setenv("no_proxy", "*", 1)
        defer {
            unsetenv("NO_PROXY")
            unsetenv("no_proxy")
        }
        try assertTheEgressProxyCarriesTheUpgrade()
    }

    private func assertTheEgressProxyCarriesTheUpgrade(file: StaticString = #filePath, line: UInt = #line) throws {
        let seen = Mutex<[String]>([])
        let proxy = try UpstreamTestServer { connection in
            while let request = connection.readRequest() {
                seen.withLock { $0.append("\(request.method) \(request.target)") }
                if request.method == "CONNECT" {
                    connection.write("HTTP/1.1 200 Connection established\r\n\r\n")
                } else {
                    connection.write("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n")
                }
            }
        }
        defer { proxy.stop() }
        let delegate = RecordingUpstreamDelegate()
        UpstreamWebSocket(
            url: URL(string: "ws://127.0.0.1:1/backend-api/codex/responses")!,
            headers: headers,
            delegate: delegate,
            clientConfiguration: UpstreamClientConfiguration(egressProxy: "http://127.0.0.1:\(proxy.port)")
        ).start()
        XCTAssertTrue(pollUntil { delegate.snapshot.failure != nil }, file: file, line: line)
        XCTAssertEqual(delegate.snapshot.failure?.1, 426, file: file, line: line)
        XCTAssertEqual(
            seen.withLock { $0 },
            ["CONNECT 127.0.0.1:1", "GET /backend-api/codex/responses"],
            file: file,
            line: line
        )
    }
}
