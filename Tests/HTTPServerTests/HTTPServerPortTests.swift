import CSightlineSys
import Glibc
import HTTPServer
import SightlineTestSupport
import XCTest

/// The loops share their port with `SO_REUSEPORT`; that must not let a second server join a port another
/// `SO_REUSEPORT` listener already holds (an old instance still running, or the simulator of a test on the
/// same random port), where the kernel would split connections between the two without a word.
final class HTTPServerPortTests: XCTestCase {
    func testAPortAnotherReusePortListenerHoldsIsRefused() throws {
        let (fd, port) = try TestPorts.withFreePort { port -> (Int32, Int) in
            let fd = sl_listen_tcp("127.0.0.1", Int32(port), 16, 1)
            guard fd >= 0 else { throw HTTPServerError(reason: "listen_failed", errno: -fd) }
            return (fd, port)
        }
        var configuration = HTTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = port
        configuration.eventLoops = 2
        let server = HTTPServer(
            configuration: configuration,
            handler: ClosureHandler { _, responder in
                responder.respond(status: 204, headers: HTTPHeaders(), body: [])
            }
        )
        XCTAssertThrowsError(try server.start()) { error in
            XCTAssertEqual((error as? HTTPServerError)?.reason, "listen_failed")
            XCTAssertEqual((error as? HTTPServerError)?.errno, EADDRINUSE)
        }
        close(fd)
        // Once the port is free the same server starts.
        XCTAssertNoThrow(try server.start())
        server.shutdown(drainDeadlineSeconds: 0)
    }
}
