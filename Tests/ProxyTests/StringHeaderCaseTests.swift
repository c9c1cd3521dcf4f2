import XCTest

@testable import Proxy

final class StringHeaderCaseTests: XCTestCase {
    func testFoldingMatchesLowercasedForEveryKindOfName() {
        let names = [
            "x-codex-primary-used-percent", "Content-Type", "X-CODEX-PRIMARY-RESET-AT", "te", "", "Café", "ÉTAG",
            "x-ünicode-Name", "already-lower-and-long-enough-to-live-on-the-heap",
        ]
        for name in names { XCTAssertEqual(name.foldedForHeaders, name.lowercased(), name) }
    }

    func testEventStreamMediaTypeIgnoresCaseParametersAndBlanks() {
        for value in [
            "text/event-stream", "text/event-stream; charset=utf-8", "Text/Event-Stream", " text/event-stream\t;x=1",
        ] {
            XCTAssertTrue(value.isEventStreamMediaType, value)
        }
        for value in [
            "application/json", "text/event-streams", "text/event", "", ";text/event-stream",
            "application/x-text/event-stream",
        ] {
            XCTAssertFalse(value.isEventStreamMediaType, value)
        }
    }
}
