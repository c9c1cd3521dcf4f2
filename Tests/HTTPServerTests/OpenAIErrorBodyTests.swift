import HTTPServer
import XCTest

final class OpenAIErrorBodyTests: XCTestCase {
    func testShapeAndNulls() {
        let json = OpenAIErrorBody.json(message: "Request body is too large.", code: "body_too_large")
        XCTAssertEqual(
            String(decoding: json, as: UTF8.self),
            #"{"error":{"message":"Request body is too large.","type":"invalid_request_error","param":null,"code":"body_too_large"}}"#
        )
    }

    func testEscaping() {
        let json = OpenAIErrorBody.json(message: "a\"b\\c\nd\u{1}é", type: "server_error", code: nil, param: "in\tput")
        XCTAssertEqual(
            String(decoding: json, as: UTF8.self),
            #"{"error":{"message":"a\"b\\c\nd\u0001é","type":"server_error","param":"in\tput","code":null}}"#
        )
    }
}
