import XCTest

@testable import LogRedaction

final class PseudonymizerTests: XCTestCase {
    private let testKey = (0..<32).map { UInt8($0) }

    func testConventionVector() throws {
        let pseudonymizer = try Pseudonymizer(key: testKey)
        XCTAssertEqual(pseudonymizer.pseudonym(.acct, "user-1234@example.com"), "acct_5214f4a56a0984dd")
        XCTAssertEqual(pseudonymizer.keyID, "630dcd29")
    }

    func testKindsSeparateDomains() throws {
        let pseudonymizer = try Pseudonymizer(key: testKey)
        let values = PseudonymKind.allCases.map { pseudonymizer.pseudonym($0, "same-value") }
        XCTAssertEqual(Set(values.map { $0.split(separator: "_")[1] }).count, PseudonymKind.allCases.count)
        for (kind, value) in zip(PseudonymKind.allCases, values) {
            XCTAssertTrue(value.hasPrefix(kind.rawValue + "_"))
            XCTAssertEqual(value.count, kind.rawValue.count + 1 + 16)
        }
    }

    func testDifferentKeysGiveDifferentPseudonyms() throws {
        let other = try Pseudonymizer(key: testKey.map { $0 ^ 0xff })
        XCTAssertNotEqual(other.pseudonym(.acct, "user-1234@example.com"), "acct_5214f4a56a0984dd")
    }

    func testShortKeyIsRefused() {
        XCTAssertThrowsError(try Pseudonymizer(key: [UInt8](repeating: 1, count: 31))) { error in
            XCTAssertEqual((error as? PseudonymKeyError)?.reason, .keyTooShort)
        }
    }

    func testPrintingShowsOnlyKeyID() throws {
        let pseudonymizer = try Pseudonymizer(key: testKey)
        XCTAssertEqual("\(pseudonymizer)", "Pseudonymizer(keyID: 630dcd29)")
        var dumped = ""
        dump(pseudonymizer, to: &dumped)
        XCTAssertFalse(dumped.contains("HMAC"), dumped)
        XCTAssertTrue(dumped.contains("630dcd29"))
    }

    func testKindNamesAcceptedByOperators() {
        XCTAssertEqual(PseudonymKind(name: "account"), .acct)
        XCTAssertEqual(PseudonymKind(name: "ACCT"), .acct)
        XCTAssertEqual(PseudonymKind(name: "principal"), .prn)
        XCTAssertEqual(PseudonymKind(name: "session"), .sess)
        XCTAssertEqual(PseudonymKind(name: "turn"), .turn)
        XCTAssertEqual(PseudonymKind(name: "response"), .rid)
        XCTAssertEqual(PseudonymKind(name: "rid"), .rid)
        XCTAssertNil(PseudonymKind(name: "resp"))
    }
}
