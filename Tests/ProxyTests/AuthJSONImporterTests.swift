import Foundation
import LogRedaction
import XCTest

@testable import Proxy

/// Builds obviously fake, unsigned JWTs (`header.payload.` with an empty signature).
enum FakeJWT {
    static func make(
        exp: Int64? = nil,
        accountID: String? = nil,
        plan: String? = nil,
        email: String? = nil,
        userID: String? = nil
    ) -> String {
        var payload: [String: Any] = ["sub": "fake-subject"]
        if let exp { payload["exp"] = exp }
        if let email { payload["email"] = email }
        var auth: [String: Any] = [:]
        if let accountID { auth["chatgpt_account_id"] = accountID }
        if let plan { auth["chatgpt_plan_type"] = plan }
        if let userID { auth["chatgpt_user_id"] = userID }
        if !auth.isEmpty { payload["https://api.openai.com/auth"] = auth }
        let header = AuthJSONClaims.base64URLEncode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let body = try! JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        return header + "." + AuthJSONClaims.base64URLEncode([UInt8](body)) + "."
    }

    /// A token whose payload is `json` verbatim (numbers `JSONSerialization` would not write, like `1e30`).
    static func make(rawPayload json: String) -> String {
        AuthJSONClaims.base64URLEncode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "."
            + AuthJSONClaims.base64URLEncode(Array(json.utf8)) + "."
    }
}

final class AuthJSONImporterTests: XCTestCase {
    static func chatGPTAuthJSON(accessToken: String, idToken: String, accountID: String?) -> [UInt8] {
        let accountField = accountID.map { #","account_id":"\#($0)""# } ?? ""
        return Array(
            """
            {"auth_mode":"chatgpt","OPENAI_API_KEY":null,
             "tokens":{"id_token":"\(idToken)","access_token":"\(accessToken)",
                       "refresh_token":"rt-FAKE-0001"\(accountField)},
             "last_refresh":"2026-01-01T00:00:00Z"}
            """.utf8
        )
    }

    func testDecodesClaimsWithoutVerifyingAndIgnoresEmail() throws {
        let jwt = FakeJWT.make(
            exp: 1_900_000_000,
            accountID: "fake-account-1",
            plan: "plus",
            email: "fake@example.invalid"
        )
        let claims = try XCTUnwrap(AuthJSONClaims.decode(jwt: jwt))
        XCTAssertEqual(
            claims,
            AuthJSONClaims(expiresAt: 1_900_000_000, chatGPTAccountID: "fake-account-1", planType: "plus")
        )
        XCTAssertFalse(String(describing: claims).contains("example.invalid"))
        XCTAssertNil(AuthJSONClaims.decode(jwt: "opaque-token-FAKE"))
        XCTAssertNil(AuthJSONClaims.decode(jwt: "a.%%%.b"))
    }

    func testParsesChatGPTModeAndDerivesDefaultName() throws {
        let access = FakeJWT.make(exp: 1_900_000_000, accountID: "fake-account-1", plan: "pro")
        let id = FakeJWT.make(accountID: "fake-account-1", email: "fake@example.invalid")
        let credentials = try AuthJSONImporter.parse(
            Self.chatGPTAuthJSON(accessToken: access, idToken: id, accountID: nil)
        )
        XCTAssertEqual(credentials.mode, .chatgpt)
        XCTAssertEqual(credentials.accountID, "fake-account-1")
        XCTAssertEqual(credentials.planType, "pro")
        XCTAssertEqual(credentials.expiresAt, 1_900_000_000)
        XCTAssertEqual(credentials.lastRefresh, 1_767_225_600)
        XCTAssertEqual(credentials.refreshToken?.reveal(), "rt-FAKE-0001")
        let expected = "acct-" + Hex.encode(SHA256.hash(Array("fake-account-1".utf8))).prefix(8)
        XCTAssertEqual(AuthJSONImporter.defaultName(for: credentials), expected)
    }

    /// The seat: `chatgpt_user_id` (else `user_id`), from the access token or the id token, in the default name.
    func testTheUserIDNamesTheSeat() throws {
        let access = FakeJWT.make(accountID: "fake-workspace-1", userID: "user-FAKE-a")
        XCTAssertEqual(AuthJSONClaims.decode(jwt: access)?.userID, "user-FAKE-a")
        let alias = FakeJWT.make(
            rawPayload: #"{"https://api.openai.com/auth":{"chatgpt_account_id":"w","user_id":"user-FAKE-c"}}"#
        )
        XCTAssertEqual(AuthJSONClaims.decode(jwt: alias)?.userID, "user-FAKE-c")
        let credentials = try AuthJSONImporter.parse(
            Self.chatGPTAuthJSON(accessToken: "opaque-FAKE", idToken: access, accountID: nil)
        )
        XCTAssertEqual(credentials.userID, "user-FAKE-a", "from the id token when the access token is opaque")
        let expected = "acct-" + Hex.encode(SHA256.hash(Array("fake-workspace-1/user-FAKE-a".utf8))).prefix(8)
        XCTAssertEqual(AuthJSONImporter.defaultName(for: credentials), expected)
    }

    func testExplicitAccountIDWinsOverClaims() throws {
        let access = FakeJWT.make(accountID: "claim-account")
        let credentials = try AuthJSONImporter.parse(
            Self.chatGPTAuthJSON(accessToken: access, idToken: "x", accountID: "file-account")
        )
        XCTAssertEqual(credentials.accountID, "file-account")
    }

    func testParsesAPIKeyMode() throws {
        let bytes = Array(#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-test-FAKE-0000","tokens":null}"#.utf8)
        let credentials = try AuthJSONImporter.parse(bytes)
        XCTAssertEqual(credentials.mode, .apiKey)
        XCTAssertEqual(credentials.apiKey?.reveal(), "sk-test-FAKE-0000")
        XCTAssertEqual(AuthJSONImporter.defaultName(for: credentials)?.hasPrefix("apikey-"), true)
    }

    func testRejectsBrokenFiles() {
        let cases: [(String, String)] = [
            ("not json", "invalid_json"),
            (#"{"auth_mode":"magic"}"#, "unsupported_auth_mode"),
            (#"{"auth_mode":"chatgpt","tokens":{"refresh_token":"rt"}}"#, "missing_credentials"),
            (#"{"auth_mode":"apikey","OPENAI_API_KEY":null}"#, "missing_credentials"),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try AuthJSONImporter.parse(Array(text.utf8)), text) { error in
                XCTAssertEqual((error as? AuthJSONError)?.reason, reason, text)
            }
        }
    }

    func testEntryKeepsCooldownAndAdvancesGeneration() throws {
        var existing = AccountStoreEntry(name: "work", status: .reauthRequired)
        existing.cooldownUntil = 123
        existing.refreshGeneration = 4
        existing.configFingerprint = "abc"
        let credentials = try AuthJSONImporter.parse(
            Self.chatGPTAuthJSON(accessToken: FakeJWT.make(exp: 99), idToken: "x", accountID: "fake-account-2")
        )
        let entry = AuthJSONImporter.entry(
            from: credentials,
            name: "work",
            baseURL: "http://127.0.0.1:1",
            existing: existing
        )
        XCTAssertEqual(entry.status, .active)
        XCTAssertEqual(entry.cooldownUntil, 123)
        XCTAssertEqual(entry.refreshGeneration, 5)
        XCTAssertEqual(entry.configFingerprint, "abc")
        XCTAssertEqual(entry.expiresAt, 99)
        XCTAssertEqual(entry.baseURL, "http://127.0.0.1:1")
    }
}
