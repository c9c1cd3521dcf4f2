import Dispatch
import Foundation
import Glibc
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

/// `EventLoopHandle`: closures, watched descriptors and attachments on a running server's loop.
final class EventLoopHandleTests: XCTestCase {
    private func server() throws -> (HTTPServer, EventLoopHandle) {
        let server = try startServer(loops: 1) { _, responder in
            responder.respond(status: 204, headers: HTTPHeaders(), body: [])
        }
        return (server, try XCTUnwrap(server.eventLoops.first))
    }

    func testExecuteFromAnotherThreadRunsOnTheLoopThread() throws {
        let (server, loop) = try server()
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        XCTAssertFalse(loop.isCurrent)
        let ranOnLoop = Box<Bool>()
        XCTAssertTrue(loop.execute { ranOnLoop.set(loop.isCurrent) })
        XCTAssertTrue(pollUntil { ranOnLoop.value != nil })
        XCTAssertEqual(ranOnLoop.value, true)
    }

    func testExecuteOnTheLoopRunsAfterTheCurrentWorkNotInsideIt() throws {
        let (server, loop) = try server()
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let order = Mutex<[String]>([])
        loop.execute {
            loop.execute { order.withLock { $0.append("inner") } }
            order.withLock { $0.append("outer done") }
        }
        XCTAssertTrue(pollUntil { order.withLock { $0.count } == 2 })
        XCTAssertEqual(order.withLock { $0 }, ["outer done", "inner"])
    }

    func testWatchedPipeReportsReadabilityUntilUnwatched() throws {
        let (server, loop) = try server()
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        XCTAssertEqual(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0)
        defer {
            Glibc.close(fds[0])
            Glibc.close(fds[1])
        }
        let watcher = PipeWatcher(loop: loop)
        let readFD = fds[0]
        loop.execute { XCTAssertTrue(loop.watch(readFD, readable: true, writable: false, watcher.unchecked)) }
        var byte: UInt8 = 7
        XCTAssertEqual(write(fds[1], &byte, 1), 1)
        XCTAssertTrue(pollUntil { watcher.bytes.count == 1 })
        XCTAssertEqual(watcher.bytes, [7])
        XCTAssertTrue(watcher.allOnLoopThread)

        let unwatched = Box<Bool>()
        loop.execute {
            loop.unwatch(readFD)
            unwatched.set(true)
        }
        XCTAssertTrue(pollUntil { unwatched.value == true })
        XCTAssertEqual(write(fds[1], &byte, 1), 1)
        // A round trip through the loop after the write: had the pipe still been watched, it would have been read.
        let roundTrip = Box<Bool>()
        loop.execute { roundTrip.set(true) }
        XCTAssertTrue(pollUntil { roundTrip.value == true })
        XCTAssertEqual(watcher.bytes, [7])
    }

    func testAttachmentIsToldOnceWhenTheLoopStopsAndExecuteIsRefusedAfter() throws {
        let (server, loop) = try server()
        let attachment = CountingAttachment()
        let key = ObjectIdentifier(attachment)
        let stored = Box<Bool>()
        loop.execute { stored.set(loop.setAttachment(attachment.unchecked, for: key)) }
        XCTAssertTrue(pollUntil { stored.value != nil })
        XCTAssertEqual(stored.value, true)
        XCTAssertEqual(attachment.stops, 0)

        server.shutdown(drainDeadlineSeconds: 1)
        XCTAssertEqual(attachment.stops, 1)
        XCTAssertFalse(loop.execute {})
        XCTAssertTrue(server.eventLoops.isEmpty)
    }

    func testWorkQueuedWhileTheLoopStopsIsEitherRefusedOrRunNeverLost() throws {
        let (server, loop) = try server()
        let ran = Atomic<Int>(0)
        let accepted = Atomic<Int>(0)
        let finished = Atomic<Bool>(false)
        let queuer = Thread {
            // Bounded, so a loop busy with this queue still gets to the shutdown.
            for _ in 0..<200_000 {
                guard loop.execute({ ran.add(1, ordering: .relaxed) }) else { break }
                accepted.add(1, ordering: .relaxed)
            }
            finished.store(true, ordering: .releasing)
        }
        queuer.start()
        XCTAssertTrue(pollUntil { accepted.load(ordering: .relaxed) > 100 })
        server.shutdown(drainDeadlineSeconds: 1)  // joins the loop thread
        XCTAssertTrue(pollUntil { finished.load(ordering: .acquiring) })
        XCTAssertEqual(ran.load(ordering: .relaxed), accepted.load(ordering: .relaxed))
    }
}

/// Reads one byte per readiness report; records whether every report came on the loop thread.
private final class PipeWatcher: LoopDescriptorWatcher, @unchecked Sendable {
    private let loop: EventLoopHandle
    private let state = Mutex<(bytes: [UInt8], onLoop: Bool)>(([], true))

    init(loop: EventLoopHandle) { self.loop = loop }

    var unchecked: PipeWatcher { self }
    var bytes: [UInt8] { state.withLock { $0.bytes } }
    var allOnLoopThread: Bool { state.withLock { $0.onLoop } }

    func loopDescriptorReady(_ fd: Int32, readable: Bool, writable: Bool, failed: Bool) {
        var byte: UInt8 = 0
        let n = read(fd, &byte, 1)
        let current = loop.isCurrent
        state.withLock { s in
            if n == 1 { s.bytes.append(byte) }
            s.onLoop = s.onLoop && current
        }
    }
}

private final class CountingAttachment: LoopAttachment, @unchecked Sendable {
    private let count = Atomic<Int>(0)
    var unchecked: CountingAttachment { self }
    var stops: Int { count.load(ordering: .relaxed) }
    func loopDidStop() { count.add(1, ordering: .relaxed) }
}
