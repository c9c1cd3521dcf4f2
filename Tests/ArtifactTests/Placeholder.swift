import XCTest

final class ArtifactTestsPlaceholder: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
