import Foundation
import HTTPServer
import XCTest

@testable import CodexSimulator

/// Reasoning as the backend handles it with `store:false`: the content only when `include` asks for it, and an item
/// without content sent back is a 404, because nothing was kept to look its id up in.
final class SimulatedReasoningTests: XCTestCase {
    let path = "/backend-api/codex/responses"
    static var include: [String: Any] { ["include": ["reasoning.encrypted_content"]] }

    private func request(_ input: [[String: Any]], extra: [String: Any] = [:]) throws -> SimulatedRequest {
        try SimulatedRequest.parse(body: Requests.body(input: input, extra: extra), headers: [:], path: path)
    }

    private func reasoning(_ id: String?, _ content: Any?) -> [String: Any] {
        var item: [String: Any] = ["type": "reasoning", "summary": [Any]()]
        if let id { item["id"] = id }
        if let content { item["encrypted_content"] = content }
        return item
    }

    func testRefusals() throws {
        let user = Requests.message("user", "hi")
        let own = SimulatedReasoning.sealPrefix("acct1") + "x"
        let other = SimulatedReasoning.sealPrefix("acct2") + "x"
        let cases: [(String, [[String: Any]], Int?)] = [
            ("no reasoning", [user], nil),
            ("sealed by this account", [reasoning("rs_1", own), user], nil),
            ("sealed by another account", [reasoning("rs_1", other), user], 400),
            ("no content", [reasoning("rs_1", nil), user], 404),
            ("null content", [reasoning("rs_1", NSNull()), user], 404),
            (
                "no content after foreign content: the reference first",
                [reasoning("rs_1", other), reasoning("rs_2", nil)], 404
            ),
            ("no content and no id: nothing to look up", [reasoning(nil, nil), user], nil),
            ("a compaction item is not looked up", [["type": "compaction", "encrypted_content": own], user], nil),
        ]
        for (name, input, status) in cases {
            let refusal = SimulatedReasoning.refusal(try request(input), account: "acct1")
            XCTAssertEqual(refusal?.status, status, name)
        }
    }

    func testTheOutputItemCarriesContentOnlyWhenIncludeAsksForIt() throws {
        let plain = try request([Requests.message("user", "hi")])
        XCTAssertEqual(SimulatedReasoning.outputItem(plain, account: "acct1", suffix: "7"), .withoutContent)
        let asking = try request([Requests.message("user", "hi")], extra: Self.include)
        XCTAssertEqual(
            SimulatedReasoning.outputItem(asking, account: "acct1", suffix: "7"),
            .sealed("gAAAA-sim-sealed-acct1-7")
        )
    }

    /// The OpenAI SDK's default: no `include`. Its reasoning item comes without content, and sending it back is
    /// refused with the API's own 404.
    func testAnItemWithoutContentSentBackIsNotFound() throws {
        var configuration = SimulatorConfiguration.demo(accounts: 1)
        configuration.reasoningItems = true
        let h = Harness(configuration)
        let user = Requests.message("user", "hi")
        let first = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body(input: [user]))
        first.waitFinished()
        let response = try XCTUnwrap(first.events.last?["response"] as? [String: Any])
        let output = try XCTUnwrap(response["output"] as? [[String: Any]])
        XCTAssertEqual(output.map { $0["type"] as? String }, ["reasoning", "message"])
        XCTAssertNil(output[0]["encrypted_content"], "not asked for: \(output[0])")
        let id = try XCTUnwrap(output[0]["id"] as? String)

        let second = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body(input: [user] + output))
        second.waitFinished()
        XCTAssertEqual(second.snapshot.status, 404)
        XCTAssertEqual(
            second.bodyText,
            #"{"error":{"message":"Item with id '\#(id)' not found. Items are not persisted when `store` is set to false. "#
                + #"Try again with `store` set to true, or remove this item from your input.","#
                + #""type":"invalid_request_error","param":"input","code":null}}"#
        )
        XCTAssertEqual(h.requests.last?["status"] as? Int, 404)

        // Asked for, the content comes, and the same history is read.
        let sealed = h.send(
            "POST",
            path,
            headers: Requests.chatgpt(1),
            body: Requests.body(input: [user], extra: Self.include)
        )
        sealed.waitFinished()
        let items = try XCTUnwrap((sealed.events.last?["response"] as? [String: Any])?["output"] as? [[String: Any]])
        let suffix = try XCTUnwrap((items[0]["id"] as? String)?.dropFirst("rs_sim_".count))
        XCTAssertEqual(items[0]["encrypted_content"] as? String, "gAAAA-sim-sealed-acct1-\(suffix)")
        let replay = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body(input: [user] + items))
        replay.waitFinished()
        XCTAssertEqual(replay.snapshot.status, 200, replay.bodyText)
    }
}
