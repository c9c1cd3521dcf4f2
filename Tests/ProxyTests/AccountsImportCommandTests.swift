import Foundation
import LogRedaction
import XCTest

@testable import Proxy

final class AccountsImportCommandTests: XCTestCase {
    private var directory = ""
    private let environment = ["SIGHTLINE_PSEUDONYM_KEY": String(repeating: "ab", count: 32)]

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testImportWritesStateAndPrintsOnlyNameAndPseudonym() throws {
        let authPath = directory + "/auth.json"
        let access = FakeJWT.make(exp: 1_900_000_000, accountID: "fake-account-9", plan: "plus")
        let id = FakeJWT.make(accountID: "fake-account-9", email: "fake@example.invalid")
        try AtomicFile.write(
            AuthJSONImporterTests.chatGPTAuthJSON(accessToken: access, idToken: id, accountID: nil),
            to: authPath
        )
        let state = directory + "/state"
        let line = try AccountsImportCommand.importAccount(
            path: authPath,
            stateDirectory: state,
            name: "work",
            baseURL: nil,
            environment: environment
        )
        let pseudonym = try Pseudonymizer(key: [UInt8](repeating: 0xab, count: 32)).pseudonym(.acct, "fake-account-9")
        XCTAssertEqual(line, "imported work \(pseudonym)")
        XCTAssertFalse(line.contains("fake-account-9"))

        let store = try AccountStore.open(stateDirectory: state, seeds: [])
        let entry = try XCTUnwrap(store.entry(named: "work"))
        XCTAssertEqual(entry.refreshToken?.reveal(), "rt-FAKE-0001")
        XCTAssertEqual(entry.accountID, "fake-account-9")
        let file = String(decoding: try AtomicFile.read(state + "/accounts.json"), as: UTF8.self)
        XCTAssertFalse(file.contains("example.invalid"), "the email is never stored")

        // Importing again bumps the generation and keeps one entry.
        _ = try AccountsImportCommand.importAccount(
            path: authPath,
            stateDirectory: state,
            name: "work",
            baseURL: nil,
            environment: environment
        )
        let reopened = try AccountStore.open(stateDirectory: state, seeds: [])
        XCTAssertEqual(reopened.entries().count, 1)
        XCTAssertEqual(reopened.entry(named: "work")?.refreshGeneration, 1)
    }

    func testUsageErrorsExitWithTwo() {
        XCTAssertEqual(AccountsImportCommand.run(arguments: [], environment: environment), 2)
        XCTAssertEqual(AccountsImportCommand.run(arguments: ["auth.json"], environment: environment), 2)
        XCTAssertEqual(AccountsImportCommand.run(arguments: ["auth.json", "--state-dir"], environment: environment), 2)
    }

    func testMissingFileExitsWithOne() {
        let code = AccountsImportCommand.run(
            arguments: [directory + "/absent.json", "--state-dir", directory + "/state"],
            environment: environment
        )
        XCTAssertEqual(code, 1)
    }
}
