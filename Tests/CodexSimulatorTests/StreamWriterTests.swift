import HTTPServer
import XCTest

@testable import CodexSimulator

final class StreamWriterTests: XCTestCase {
    private func plan(_ n: Int) -> StreamPlan {
        StreamPlan(headers: ["content-type": "text/event-stream"], events: (0..<n).map { Array("e\($0);".utf8) })
    }

    func testCoalescesUndelayedEvents() {
        let sink = RecordingSink()
        StreamWriter(plan: plan(5), sink: sink, onFinish: { _ in }).start()
        XCTAssertEqual(sink.bodyText, "e0;e1;e2;e3;e4;")
        XCTAssertEqual(sink.snapshot.writes, 1)
        XCTAssertTrue(sink.snapshot.ended)
    }

    func testPausesOnBackpressureUntilWritable() {
        var p = plan(4)
        p.deltaIndices = 1..<4
        p.deltaDelayMs = 1
        let sink = RecordingSink(acceptBeforeFull: 1)
        StreamWriter(plan: p, sink: sink, onFinish: { _ in }).start()
        XCTAssertEqual(sink.bodyText, "e0;")
        XCTAssertEqual(sink.snapshot.writable.count, 1, "the writer waits for onWritable")
        sink.drain()
        sink.waitFinished()
        XCTAssertEqual(sink.bodyText, "e0;e1;e2;e3;")
        XCTAssertTrue(sink.snapshot.ended)
    }

    func testCutAbortsAndCloseStopsTimers() {
        var p = plan(6)
        p.cutAfterEvents = 2
        let cut = RecordingSink()
        StreamWriter(plan: p, sink: cut, onFinish: { _ in }).start()
        XCTAssertEqual(cut.bodyText, "e0;e1;")
        XCTAssertTrue(cut.snapshot.aborted)
        XCTAssertFalse(cut.snapshot.ended)

        var slow = plan(3)
        slow.perEventDelayMs = 10_000
        let sink = RecordingSink()
        let finished = expectation(description: "onFinish")
        StreamWriter(plan: slow, sink: sink, onFinish: { _ in finished.fulfill() }).start()
        sink.abort()  // the client leaves while the writer waits
        wait(for: [finished], timeout: 2)
        XCTAssertEqual(sink.snapshot.body.count, 0)
    }
}
