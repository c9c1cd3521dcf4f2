import XCTest

final class LogRedactionTestsPlaceholder: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
