import Foundation
import XCTest

/// A client that reads slower than the upstream sends: the proxy pauses the upstream transfer rather than
/// buffer without bound, counts the pause, and resumes without losing, repeating or splicing an event.
final class BackpressureTests: XCTestCase {
    func testASlowClientPausesTheUpstreamAndGetsEveryEventIntact() throws {
        // About 3 MB of unpaced events: libcurl hands them over in chunks that end mid-event, far more than
        // the 256 KiB write high-water mark plus what the sockets hold for a client that does not read.
        let deltas = 20000
        let stack = try SightlineStack(
            label: "backpressure",
            simulator: ["eventProfile": ["deltaCount": deltas, "textSize": 20 * deltas]]
        )
        defer { stack.stop() }
        let client = try HTTPTestClient(port: stack.proxyPort, timeout: 60, receiveBuffer: 4096)
        try client.send(
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"Say hello","stream":true}"#)
        )
        let paused = poll(timeout: 30) {
            ((try? stack.metric("sightline_upstream_backpressure_pauses_total")) ?? 0) >= 1
        }
        XCTAssertTrue(paused, "the upstream transfer was never paused for the slow client")

        let terminator = Array("\r\n0\r\n\r\n".utf8)
        var all: [UInt8] = []
        while !all.suffix(terminator.count).elementsEqual(terminator) {
            let chunk = try client.readSome()
            if chunk.isEmpty { break }
            all += chunk
        }
        let response = try XCTUnwrap(ParsedResponse.parse(all), "incomplete response")
        XCTAssertEqual(response.status, 200)

        var text = ""
        var deltaEvents = 0
        var completedText: String?
        for block in response.bodyText.components(separatedBy: "\n\n") where !block.isEmpty {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.count, 2, "malformed event: \(block.prefix(200))")
            guard lines.count == 2, lines[0].hasPrefix("event: "), lines[1].hasPrefix("data: ") else {
                XCTFail("malformed event: \(block.prefix(200))")
                break
            }
            let type = String(lines[0].dropFirst(7))
            let data = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(lines[1].dropFirst(6).utf8)) as? [String: Any],
                "data is not a JSON object: \(lines[1].prefix(200))"
            )
            XCTAssertEqual(data["type"] as? String, type)
            if type == "response.output_text.delta" {
                text += data["delta"] as? String ?? ""
                deltaEvents += 1
            }
            if type == "response.completed" {
                let output = (data["response"] as? [String: Any])?["output"] as? [[String: Any]]
                let content = output?.first?["content"] as? [[String: Any]]
                completedText = content?.first?["text"] as? String
            }
        }
        XCTAssertEqual(deltaEvents, deltas)
        XCTAssertEqual(text, completedText, "the deltas do not add up to the completed text")
    }
}
