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

    /// `accounts import` of `auth` as the account `work` into `state`.
    /// A Codex `auth.json` of a ChatGPT login (fake tokens of `accountID`, plan plus) in the test's directory.
    private func writeAuthJSON(accountID: String) throws -> String {
        let authPath = directory + "/auth.json"
        try AtomicFile.write(
            AuthJSONImporterTests.chatGPTAuthJSON(
                accessToken: FakeJWT.make(exp: 1_900_000_000, accountID: accountID, plan: "plus"),
                idToken: FakeJWT.make(accountID: accountID),
                accountID: nil
            ),
            to: authPath
        )
        return authPath
    }

    private func importWork(
        _ auth: String,
        state: String,
        keyFile: String? = nil,
        environment: [String: String]? = nil
    ) throws -> String {
        try AccountsImportCommand.importAccount(
            path: auth,
            stateDirectory: state,
            name: "work",
            baseURL: nil,
            keyFile: keyFile,
            environment: environment ?? self.environment
        )
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
        let line = try importWork(authPath, state: state)
        let pseudonym = try Pseudonymizer(key: [UInt8](repeating: 0xab, count: 32)).pseudonym(.acct, "work")
        XCTAssertEqual(line, "imported work \(pseudonym)")
        XCTAssertFalse(line.contains("fake-account-9"))

        let store = try AccountStore.open(stateDirectory: state, seeds: [])
        let entry = try XCTUnwrap(store.entry(named: "work"))
        XCTAssertEqual(entry.refreshToken?.reveal(), "rt-FAKE-0001")
        XCTAssertEqual(entry.accountID, "fake-account-9")
        let file = String(decoding: try AtomicFile.read(state + "/accounts.json"), as: UTF8.self)
        XCTAssertFalse(file.contains("example.invalid"), "the email is never stored")

        // Importing again bumps the generation and keeps one entry.
        _ = try importWork(authPath, state: state)
        let reopened = try AccountStore.open(stateDirectory: state, seeds: [])
        XCTAssertEqual(reopened.entries().count, 1)
        XCTAssertEqual(reopened.entry(named: "work")?.refreshGeneration, 1)
    }

    /// With `--key-file` (a proxy configured with its own `pseudonymKeyFile`), the printed pseudonym is the one the
    /// proxy logs, and no stray `pseudonym.key` appears in the state directory. A key file that does not exist yet
    /// is created, as the proxy now creates it too.
    func testTheKeyFileNamedIsTheOneUsed() throws {
        let authPath = try writeAuthJSON(accountID: "fake-account-7")
        let keyFile = directory + "/operator.key"
        try AtomicFile.write(Array((String(repeating: "cd", count: 32) + "\n").utf8), to: keyFile)
        let state = directory + "/state"
        let line = try importWork(authPath, state: state, keyFile: keyFile, environment: [:])
        let pseudonym = try Pseudonymizer(key: [UInt8](repeating: 0xcd, count: 32)).pseudonym(.acct, "work")
        XCTAssertEqual(line, "imported work \(pseudonym)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: state + "/pseudonym.key"))

        let fresh = directory + "/new/operator.key"
        _ = try importWork(authPath, state: state, keyFile: fresh, environment: [:])
        XCTAssertEqual(try PseudonymKeyStore.load(keyFile: fresh).count, 32, "created where it was named")
    }

    /// The proxy took the account out as `reauth_required` (its refresh was refused for a reason that was not the
    /// login's: a 403 from a firewall in front of the token endpoint), and the operator re-imports the same
    /// `auth.json`, as docs/accounts.md says to. The import writes it `active` at a newer generation with the tokens
    /// the proxy already held; the running proxy takes that in and keeps it at its next write. Until 2026-12-08 it
    /// took in only other tokens, so it wrote its `reauth_required` copy back over the import at its next cooldown,
    /// and the account stayed out, after a restart too, though the import had said `imported`.
    func testAReimportOfTheSameLoginBringsBackAnAccountTheProxyTookOut() throws {
        let authPath = try writeAuthJSON(accountID: "fake-account-5")
        let state = directory + "/state"
        _ = try importWork(authPath, state: state)
        var other = AccountStoreEntry(name: "other")
        other.apiKey = Secret("sk-FAKE-other")
        let serving = try AccountStore.open(stateDirectory: state, seeds: [])
        try serving.upsert(other)
        try serving.markReauthRequired("work", spent: Secret("rt-FAKE-0001"))

        _ = try importWork(authPath, state: state)
        serving.absorbExternalChanges()  // the continuity timer's read
        XCTAssertEqual(serving.entry(named: "work")?.status, .active, "the proxy takes the re-import in")
        try serving.setCooldowns([("other", 4_000_000_000)])
        let file = try AccountStore.open(stateDirectory: state, seeds: [])
        XCTAssertEqual(file.entry(named: "work")?.status, .active, "the proxy's next write keeps the re-import")
        XCTAssertEqual(file.entry(named: "work")?.refreshGeneration, 1)
    }

    /// A pseudonym key that cannot be read (a key file other users may read, as serve refuses it too) fails the
    /// import before anything is written: the exit status 1 says "not imported". Until 2026-12-08 the key was read
    /// after the account was written, so the command failed with the account imported, and a running proxy took it in.
    func testAnImportThatFailsWritesNothing() throws {
        let authPath = try writeAuthJSON(accountID: "fake-account-6")
        let keyFile = directory + "/operator.key"
        try AtomicFile.write(Array((String(repeating: "cd", count: 32) + "\n").utf8), to: keyFile, mode: 0o644)
        let state = directory + "/state"
        let code = AccountsImportCommand.run(
            arguments: [authPath, "--state-dir", state, "--name", "work", "--key-file", keyFile],
            environment: [:]
        )
        XCTAssertEqual(code, 1)
        let stored = try AtomicFile.readIfExists(state + "/accounts.json").map { try AccountStoreCodec.decode($0) }
        XCTAssertEqual(stored?.map(\.name) ?? [], [], "a failed import leaves no account behind")
    }

    func testUsageErrorsExitWithTwo() {
        XCTAssertEqual(AccountsImportCommand.run(arguments: [], environment: environment), 2)
        XCTAssertEqual(AccountsImportCommand.run(arguments: ["auth.json"], environment: environment), 2)
        XCTAssertEqual(AccountsImportCommand.run(arguments: ["auth.json", "--state-dir"], environment: environment), 2)
    }

    /// `--base-url "$BASE"` with `BASE` unset: an empty base URL is a usage error, as an empty `--name` is, and
    /// nothing is written. Until 2026-12-08 it was stored, and the account, pooled with "" as its upstream, failed
    /// every request sent to it.
    func testAnEmptyBaseURLIsAUsageError() throws {
        let authPath = try writeAuthJSON(accountID: "fake-account-4")
        let state = directory + "/state"
        let code = AccountsImportCommand.run(
            arguments: [authPath, "--state-dir", state, "--base-url", ""],
            environment: environment
        )
        XCTAssertEqual(code, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: state + "/accounts.json"), "nothing written")
    }

    func testMissingFileExitsWithOne() {
        let code = AccountsImportCommand.run(
            arguments: [directory + "/absent.json", "--state-dir", directory + "/state"],
            environment: environment
        )
        XCTAssertEqual(code, 1)
    }

    /// Two seats of one ChatGPT Team workspace share the account id and differ in the user id: each is an
    /// account of its own, and re-importing either updates its own entry (codex-lb #355, sub2api #3055).
    func testTwoSeatsOfOneWorkspaceAreTwoAccounts() throws {
        func write(_ user: String, refresh: String) throws -> String {
            let path = directory + "/auth-\(user).json"
            let access = FakeJWT.make(exp: 1_900_000_000, accountID: "fake-workspace-1", plan: "team", userID: user)
            let json = String(
                decoding: AuthJSONImporterTests.chatGPTAuthJSON(accessToken: access, idToken: access, accountID: nil),
                as: UTF8.self
            ).replacingOccurrences(of: "rt-FAKE-0001", with: refresh)
            try AtomicFile.write(Array(json.utf8), to: path)
            return path
        }
        let state = directory + "/state"
        func importFile(_ path: String, name: String? = nil) throws -> String {
            try AccountsImportCommand.importAccount(
                path: path,
                stateDirectory: state,
                name: name,
                baseURL: nil,
                environment: environment
            )
        }
        let first = try importFile(try write("user-FAKE-a", refresh: "rt-FAKE-a"))
        let second = try importFile(try write("user-FAKE-b", refresh: "rt-FAKE-b"))
        XCTAssertNotEqual(first, second)
        var store = try AccountStore.open(stateDirectory: state, seeds: [])
        XCTAssertEqual(store.entries().count, 2, "the second seat is added, not written over the first")
        XCTAssertEqual(Set(store.entries().compactMap { $0.refreshToken?.reveal() }), ["rt-FAKE-a", "rt-FAKE-b"])

        // Seat a logs in again: its entry is updated, under its name.
        XCTAssertEqual(try importFile(try write("user-FAKE-a", refresh: "rt-FAKE-a2")), first)
        store = try AccountStore.open(stateDirectory: state, seeds: [])
        XCTAssertEqual(store.entries().count, 2)
        XCTAssertEqual(Set(store.entries().compactMap { $0.refreshToken?.reveal() }), ["rt-FAKE-a2", "rt-FAKE-b"])

        // An entry of seat b under a name of the operator's (or an older default name) is found by its login.
        let named = directory + "/named"
        _ = try AccountsImportCommand.importAccount(
            path: try write("user-FAKE-b", refresh: "rt-FAKE-b"),
            stateDirectory: named,
            name: "bob",
            baseURL: nil,
            environment: environment
        )
        let line = try AccountsImportCommand.importAccount(
            path: try write("user-FAKE-b", refresh: "rt-FAKE-b2"),
            stateDirectory: named,
            name: nil,
            baseURL: nil,
            environment: environment
        )
        XCTAssertTrue(line.hasPrefix("imported bob acct_"), line)
        let reopened = try AccountStore.open(stateDirectory: named, seeds: [])
        XCTAssertEqual(reopened.entries().map(\.name), ["bob"])
        XCTAssertEqual(reopened.entry(named: "bob")?.refreshToken?.reveal(), "rt-FAKE-b2")
    }
}
