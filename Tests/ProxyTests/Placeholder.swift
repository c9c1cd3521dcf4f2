import XCTest

final class ProxyTestsPlaceholder: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
