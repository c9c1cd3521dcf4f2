import XCTest

@testable import Proxy

/// The anchor rule for WebSocket turns: forward only to the live socket that minted the anchor.
final class WebSocketTurnPlannerTests: XCTestCase {
    let planner = WebSocketTurnPlanner()

    func testTurnWithoutAnchorIsForwarded() {
        XCTAssertEqual(planner.plan(anchor: nil, liveAnchor: nil, hasTranscript: false), .forward)
        XCTAssertEqual(planner.plan(anchor: nil, liveAnchor: "resp_a", hasTranscript: true), .forward)
    }

    func testAnchorOfTheLiveSocketIsForwarded() {
        XCTAssertEqual(planner.plan(anchor: "resp_a", liveAnchor: "resp_a", hasTranscript: false), .forward)
    }

    func testDeadOrOlderAnchorIsReplayedWhenTheTranscriptIsHeld() {
        XCTAssertEqual(planner.plan(anchor: "resp_a", liveAnchor: nil, hasTranscript: true), .replay)
        XCTAssertEqual(planner.plan(anchor: "resp_a", liveAnchor: "resp_b", hasTranscript: true), .replay)
    }

    func testDeadAnchorWithoutTranscriptIsAContinuityLoss() {
        XCTAssertEqual(planner.plan(anchor: "resp_a", liveAnchor: nil, hasTranscript: false), .continuityLoss)
        XCTAssertEqual(planner.plan(anchor: "resp_a", liveAnchor: "resp_b", hasTranscript: false), .continuityLoss)
    }

    func testConnectionLossReplansWithoutTheLiveAnchorWithinTheAttemptBudget() {
        XCTAssertEqual(
            planner.replanAfterConnectionLoss(anchor: "resp_a", hasTranscript: true, attempts: 1, maxAttempts: 3),
            .replay
        )
        XCTAssertEqual(
            planner.replanAfterConnectionLoss(anchor: nil, hasTranscript: false, attempts: 2, maxAttempts: 3),
            .forward
        )
        XCTAssertEqual(
            planner.replanAfterConnectionLoss(anchor: "resp_a", hasTranscript: false, attempts: 1, maxAttempts: 3),
            .continuityLoss
        )
        XCTAssertNil(planner.replanAfterConnectionLoss(anchor: nil, hasTranscript: true, attempts: 3, maxAttempts: 3))
    }

    func testContinuityLossFrameIsCanonicalAndCarriesNoResponseID() throws {
        let frame = WebSocketErrorFrame.previousResponseNotFound
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any])
        XCTAssertEqual(object["type"] as? String, "error")
        XCTAssertEqual(object["status"] as? Int, 400)
        let error = try XCTUnwrap(object["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "previous_response_not_found")
        XCTAssertEqual(error["param"] as? String, "previous_response_id")
        XCTAssertEqual(error["type"] as? String, "invalid_request_error")
        XCTAssertFalse(String(decoding: frame, as: UTF8.self).contains("resp_"))
    }

    func testProxyErrorBecomesAStatusFrame() throws {
        let frame = WebSocketErrorFrame.from(.upstreamUnavailable)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any])
        XCTAssertEqual(object["status"] as? Int, 502)
        XCTAssertEqual((object["error"] as? [String: Any])?["code"] as? String, "upstream_unavailable")
    }
}
