import Foundation
import XCTest

extension WebSocketClient {
    /// Sends a frame and reads its turn; returns the completed response id (fails the test otherwise).
    @discardableResult
    func turn(_ frame: String, file: StaticString = #filePath, line: UInt = #line) throws -> String? {
        try send(frame)
        return Self.completedID(readTurn(), file: file, line: line)
    }

    /// The id of the turn's final `response.completed`; fails the test when the turn ended otherwise.
    static func completedID(_ events: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) -> String? {
        let last = events.last
        XCTAssertEqual(last?["type"] as? String, "response.completed", "\(events)", file: file, line: line)
        return (last?["response"] as? [String: Any])?["id"] as? String
    }
}
