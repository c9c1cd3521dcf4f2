import XCTest

final class CodexSimulatorTestsPlaceholder: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
