import Foundation
import XCTest

@testable import CodexSimulator

final class TokenLedgerTests: XCTestCase {
    private func ledger() -> TokenLedger {
        TokenLedger(accounts: [.demo(1), .demo(2)], accessTokenLifetime: 100, now: 1000)
    }

    func testAuthenticationTable() {
        let l = ledger()
        let cases: [(String?, String?, TokenLedger.Mode, Double, TokenLedger.AuthOutcome)] = [
            ("sim-access-acct1-0", "sim-account-1", .chatgpt, 1000, .ok(account: "acct1")),
            ("sim-access-acct1-0", "sim-account-2", .chatgpt, 1000, .accountMismatch(account: "acct1")),
            ("sim-access-acct1-0", nil, .chatgpt, 1000, .accountMismatch(account: "acct1")),
            ("sim-access-acct1-0", nil, .apiKey, 1000, .ok(account: "acct1")),
            ("sk-sim-FAKE-acct2", nil, .apiKey, 1000, .ok(account: "acct2")),
            ("sk-sim-FAKE-acct2", "sim-account-2", .chatgpt, 1000, .unknownToken),
            ("nope", nil, .apiKey, 1000, .unknownToken),
            (nil, nil, .apiKey, 1000, .missing),
            ("sim-access-acct1-0", "sim-account-1", .chatgpt, 1100, .expired(account: "acct1")),
        ]
        for (i, (bearer, id, mode, now, expected)) in cases.enumerated() {
            XCTAssertEqual(
                l.authenticate(bearer: bearer, accountIdHeader: id, mode: mode, now: now),
                expected,
                "case \(i)"
            )
        }
    }

    func testRotationIsSingleUse() {
        var l = ledger()
        guard
            case .rotated(let account, let access, let refresh, let idToken) = l.refresh(
                refreshToken: "sim-refresh-acct1-0",
                now: 1050
            )
        else { return XCTFail("first refresh must rotate") }
        XCTAssertEqual(account, "acct1")
        XCTAssertEqual(access, "sim-access-acct1-1")
        XCTAssertEqual(refresh, "sim-refresh-acct1-1")
        XCTAssertEqual(idToken.split(separator: ".").count, 3)
        XCTAssertEqual(l.refresh(refreshToken: "sim-refresh-acct1-0", now: 1051), .reused(account: "acct1"))
        XCTAssertEqual(l.refresh(refreshToken: "garbage", now: 1051), .unknown)
        // The old access token is dead, the new one lives for the full lifetime from the refresh.
        XCTAssertEqual(
            l.authenticate(bearer: "sim-access-acct1-0", accountIdHeader: "sim-account-1", mode: .chatgpt, now: 1060),
            .invalidated(account: "acct1")
        )
        XCTAssertEqual(
            l.authenticate(bearer: access, accountIdHeader: "sim-account-1", mode: .chatgpt, now: 1140),
            .ok(account: "acct1")
        )
        guard case .rotated(_, _, let second, _) = l.refresh(refreshToken: refresh, now: 1060) else {
            return XCTFail("the new refresh token must work once")
        }
        XCTAssertEqual(second, "sim-refresh-acct1-2")
        XCTAssertEqual(l.tokens(of: "acct1")?.generation, 2)
    }

    func testAdminInvalidation() {
        var l = ledger()
        XCTAssertTrue(l.invalidateAccess(account: "acct2"))
        XCTAssertFalse(l.invalidateAccess(account: "nobody"))
        XCTAssertEqual(
            l.authenticate(bearer: "sim-access-acct2-0", accountIdHeader: "sim-account-2", mode: .chatgpt, now: 1000),
            .invalidated(account: "acct2")
        )
        XCTAssertTrue(l.invalidateRefresh(account: "acct2"))
        XCTAssertEqual(l.refresh(refreshToken: "sim-refresh-acct2-0", now: 1000), .invalidated(account: "acct2"))
    }

    /// A fresh sign-in works whatever happened to the old tokens, and retires them like a refresh.
    func testLoginIssuesTheNextGenerationEvenAfterInvalidation() {
        var l = ledger()
        XCTAssertTrue(l.invalidateRefresh(account: "acct1"))
        XCTAssertTrue(l.invalidateAccess(account: "acct1"))
        guard case .rotated(_, let access, let refresh, _) = l.login(account: "acct1", now: 1010) else {
            return XCTFail("a login")
        }
        XCTAssertEqual(access, "sim-access-acct1-1")
        XCTAssertEqual(
            l.authenticate(bearer: access, accountIdHeader: "sim-account-1", mode: .chatgpt, now: 1010),
            .ok(account: "acct1")
        )
        XCTAssertEqual(l.refresh(refreshToken: "sim-refresh-acct1-0", now: 1010), .reused(account: "acct1"))
        guard case .rotated = l.refresh(refreshToken: refresh, now: 1011) else { return XCTFail("its refresh works") }
        XCTAssertNil(l.login(account: "nobody", now: 1010))
    }

    func testIdTokenCarriesAccountClaim() throws {
        let token = FakeJWT.idToken(accountId: "sim-account-9", plan: "pro", name: "acct9", issuedAt: 10, expiresAt: 20)
        var payload = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: XCTUnwrap(Data(base64Encoded: payload))) as? [String: Any]
        )
        XCTAssertEqual(object["exp"] as? Int, 20)
        let auth = try XCTUnwrap(object["https://api.openai.com/auth"] as? [String: Any])
        XCTAssertEqual(auth["chatgpt_account_id"] as? String, "sim-account-9")
        XCTAssertEqual(auth["chatgpt_plan_type"] as? String, "pro")
    }
}
