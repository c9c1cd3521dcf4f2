import XCTest

@testable import HTTPServer

final class ClientConnectionCounterTests: XCTestCase {
    func testHostDropsThePort() {
        XCTAssertEqual(ClientConnectionCounter.host(of: "10.0.0.7:51234"), "10.0.0.7")
        XCTAssertEqual(ClientConnectionCounter.host(of: "10.0.0.7"), "10.0.0.7")
        XCTAssertEqual(ClientConnectionCounter.host(of: ""), "")
    }

    func testAdmitsUpToTheLimitPerAddressAndFreesOnRelease() {
        let counter = ClientConnectionCounter(limit: 2)
        XCTAssertTrue(counter.admit("a"))
        XCTAssertTrue(counter.admit("a"))
        XCTAssertFalse(counter.admit("a"), "third from the same address")
        XCTAssertTrue(counter.admit("b"), "other addresses are unaffected")
        counter.release("a")
        XCTAssertEqual(counter.count("a"), 1)
        XCTAssertTrue(counter.admit("a"))
        counter.release("b")
        XCTAssertEqual(counter.count("b"), 0)
        counter.release("b")
        XCTAssertEqual(counter.count("b"), 0, "an extra release never goes negative")
    }

    func testZeroLimitAdmitsEverything() {
        let counter = ClientConnectionCounter(limit: 0)
        for _ in 0..<1000 { XCTAssertTrue(counter.admit("a")) }
        XCTAssertEqual(counter.count("a"), 0)
    }
}
