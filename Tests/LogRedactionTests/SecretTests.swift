import XCTest

@testable import LogRedaction

final class SecretTests: XCTestCase {
    private struct Credentials {
        var user = "alice"
        var token = Secret("sk-test-FAKE-never-print-me")
    }

    private let plaintext = "sk-test-FAKE-never-print-me"

    func testEveryTextualFormIsRedacted() {
        let secret = Secret(plaintext)
        XCTAssertEqual(secret.description, "REDACTED")
        XCTAssertEqual(secret.debugDescription, "REDACTED")
        XCTAssertEqual("\(secret)", "REDACTED")
        XCTAssertEqual(String(describing: secret), "REDACTED")
        XCTAssertEqual(String(reflecting: secret), "REDACTED")
        XCTAssertTrue(Mirror(reflecting: secret).children.isEmpty)
        var dumped = ""
        dump(secret, to: &dumped)
        XCTAssertFalse(dumped.contains(plaintext), dumped)
        XCTAssertTrue(dumped.contains("REDACTED"), dumped)
    }

    func testNestedSecretsStayRedacted() {
        let credentials = Credentials()
        let forms = [
            "\(credentials)", String(reflecting: credentials), "\([Secret(plaintext)])",
            String(reflecting: [Secret(plaintext)]), "\(Optional(Secret(plaintext)) as Any)",
            "\(["k": Secret(plaintext)])", "\((1, Secret(plaintext)))",
        ]
        for form in forms {
            XCTAssertFalse(form.contains(plaintext), form)
            XCTAssertTrue(form.contains("REDACTED"), form)
        }
        var dumped = ""
        dump([credentials], to: &dumped)
        XCTAssertFalse(dumped.contains(plaintext), dumped)
        XCTAssertTrue(dumped.contains("alice"), "ordinary fields still print")
        print(credentials)  // Lands in the test log; the assertions above prove what it shows.
    }

    func testRevealIsTheOnlyWayIn() {
        XCTAssertEqual(Secret(plaintext).reveal(), plaintext)
        XCTAssertEqual(Secret([1, 2, 3]).reveal(), [1, 2, 3])
    }

    func testNotEncodableAndSendableWhenValueIs() {
        XCTAssertFalse((Secret(plaintext) as Any) is any Encodable)
        let sendable: any Sendable = Secret(plaintext)
        XCTAssertTrue(sendable is Secret<String>)
    }
}
