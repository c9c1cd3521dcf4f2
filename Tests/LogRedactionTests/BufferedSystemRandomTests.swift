import Dispatch
import Synchronization
import XCTest

@testable import LogRedaction

final class BufferedSystemRandomTests: XCTestCase {
    func testNoWordIsHandedOutTwiceAcrossRefillsAndThreads() {
        // 4 threads × 1000 words cross about 60 refills of the 64-word buffer. Distinct 64-bit words from a real
        // generator collide with odds near 2^-40; a buffer reused without a refill, or a word taken by two
        // threads, repeats at once.
        let drawn = Mutex<[UInt64]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            var generator = BufferedSystemRandom()
            let words = (0..<1000).map { _ in generator.next() }
            drawn.withLock { $0 += words }
        }
        let words = drawn.withLock { $0 }
        XCTAssertEqual(words.count, 4000)
        XCTAssertEqual(Set(words).count, 4000)
        // Every bit position takes both values: a stuck bit would show as all 4000 words agreeing on it.
        XCTAssertEqual(words.reduce(0, |), .max)
        XCTAssertEqual(words.reduce(.max, &), 0)
    }

    func testTraceAndSpanIDsStayUniqueAndWellFormed() {
        var seen = Set<String>()
        for _ in 0..<2000 {
            let root = TraceContext.newRoot()
            let child = root.child()
            XCTAssertEqual(root.traceID.count, 32)
            XCTAssertEqual(child.traceID, root.traceID)
            XCTAssertEqual(child.spanID.count, 16)
            XCTAssertTrue(seen.insert(root.traceID).inserted)
            XCTAssertTrue(seen.insert(root.spanID).inserted)
            XCTAssertTrue(seen.insert(child.spanID).inserted)
        }
    }
}
