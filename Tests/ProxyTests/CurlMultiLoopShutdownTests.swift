import CCurl
import Foundation
import XCTest

@testable import Proxy

/// A transfer started while the client closes is completed, never dropped: `upstreamDidComplete` is called
/// exactly once whatever the timing. Until 2026-12-07 a start that reached the loop in the same batch as, and after,
/// its `.shutdown` was thrown away, and a caller waiting on it (`perform`, a token refresh) waited forever.
final class CurlMultiLoopShutdownTests: XCTestCase {
    func testAStartQueuedBehindTheShutdownIsCompletedAsCancelled() throws {
        XCTAssertTrue(CurlGlobal.ensureInitialized())
        let multi = try XCTUnwrap(curl_multi_init())
        let inbox = CurlMultiInbox(multi: CurlMultiPointer(raw: multi))
        // Both queued before the loop takes anything, so they arrive in one batch: the shutdown first.
        XCTAssertTrue(inbox.post(.shutdown))
        let delegate = UpstreamTestDelegate()
        let transfer = UpstreamTransfer(id: 1, route: .thread(inbox))
        XCTAssertTrue(inbox.post(.start(transfer, UpstreamRequest(url: "http://127.0.0.1:1/"), delegate)))
        let loop = Thread { CurlMultiLoop(inbox: inbox, configuration: UpstreamClientConfiguration()).run() }
        loop.start()
        let completion = try XCTUnwrap(delegate.waitForCompletion(timeoutSeconds: 5), "never completed")
        guard case .failure(let failure) = completion else { return XCTFail("\(completion)") }
        XCTAssertEqual(failure.reason, .cancelled)
    }
}
