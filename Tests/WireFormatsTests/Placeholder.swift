import XCTest

final class WireFormatsTestsPlaceholder: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
