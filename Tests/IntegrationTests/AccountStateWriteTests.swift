import Foundation
import Synchronization
import XCTest

/// Cooldowns and admin reinstatements are written to `accounts.json` off the event loop (`AccountStateWriter`,
/// docs/accounts.md): a state write that cannot go on (here the state file's lock held by the test, as a disk that
/// hangs or another process would) delays no request on the loop, and the write still lands once it can: before a
/// reinstatement's answer, and before the proxy exits.
final class AccountStateWriteTests: XCTestCase {
    var stack: SightlineStack?

    override func tearDown() { stack?.stop() }

    static let token = "admin-test-FAKE-token"

    /// One event loop: every connection shares the loop a blocked write would stall.
    func oneLoopStack(_ label: String) throws -> SightlineStack {
        let stack = try SightlineStack(
            label: label,
            extraConfig: [
                "eventLoops": 1, "admin": ["tokenSha256": try AccessControlTests.sha256Hex(Self.token)],
            ]
        )
        self.stack = stack
        return stack
    }

    /// `flock` on `accounts.json.lock`, held as another process (`accounts import`) holds it.
    final class HeldStateLock {
        private var fd: Int32

        init(_ stack: SightlineStack) throws {
            fd = open(stack.directory.appendingPathComponent("state/accounts.json.lock").path, O_RDWR | O_CREAT, 0o600)
            guard fd >= 0, flock(fd, LOCK_EX) == 0 else { throw MissingPrerequisite(what: "the state file's lock") }
        }

        func release() {
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }

        deinit { release() }
    }

    func post(_ stack: SightlineStack, _ input: String) throws -> ParsedResponse {
        // 10 s: a loop stalled by the write answers nothing until the lock is released, which the test never does
        // before this returns.
        try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"\#(input)"}"#),
            timeout: 10
        )
    }

    /// Until 2026-12-07 the cooldown's write and the reinstatement's ran on the loop: with the lock held, the
    /// request that cooled an account got no answer, nor did any other connection on its loop.
    func testAStateWriteThatCannotGoOnDelaysNoRequest() throws {
        let stack = try oneLoopStack("state-write-loop")
        let lock = try HeldStateLock(stack)
        try stack.injectFault(account: "acct1", "usage_limit", params: ["resets_in_seconds": 900])
        XCTAssertEqual(try post(stack, "one").status, 200, "answered while its cooldown waits for the file")
        XCTAssertEqual(try stack.coolingAccounts(), 1)
        XCTAssertEqual(try stack.persistedCooldown("acct1"), .some(nil), "not written while the lock is held")

        let answer = DispatchSemaphore(value: 0)
        let reinstated = Mutex<(status: Int, body: String)?>(nil)
        let port = stack.proxyPort
        DispatchQueue.global().async {
            let request = HTTPTestClient.post(
                path: "/admin/accounts/acct1/reinstate",
                json: "{}",
                headers: [("Authorization", "Bearer \(Self.token)")]
            )
            let response = try? HTTPTestClient.exchange(port: port, request, timeout: 20)
            let answered = response.map { (status: $0.status, body: $0.bodyText) }
            reinstated.withLock { $0 = answered }
            answer.signal()
        }
        // The loop has reinstated the account in memory and logged it; its answer waits for the file.
        XCTAssertEqual(stack.awaitLogRecords(event: "sightline.admin", count: 1).count, 1)
        XCTAssertEqual(try post(stack, "two").status, 200, "the loop serves on while the reinstatement is written")
        XCTAssertNil(reinstated.withLock { $0 }, "answered only once the cleared cooldown is in the file")

        lock.release()
        XCTAssertEqual(answer.wait(timeout: .now() + 20), .success)
        let response = reinstated.withLock { $0 }
        XCTAssertEqual(response?.status, 200, response?.body ?? "no answer")
        XCTAssertEqual(try stack.persistedCooldown("acct1"), .some(nil), "the cooldown, then its clearing, in order")
    }

    /// The state directory replaced by a regular file after start (every write then fails with `ENOTDIR`, an
    /// `io_error`, for root too): the hard cooldown of a usage limit still holds in memory, and its failed write is
    /// counted (`sightline_state_write_failures_total{file="accounts"}`) and logged once as an ERROR
    /// `sightline.state_write` record naming the account by its pseudonym only; the continuity snapshot's failed saves
    /// are counted as `continuity`. Every count has its record. Until 2026-12-07 the cooldown's failure was a silent
    /// `try?`, and an operator learned of a full state directory only when a restart lost the cooldowns.
    func testAFailedStateWriteIsCountedAndLogged() throws {
        let stack = try SightlineStack(label: "state-write-failed", extraConfig: ["continuity": ["snapshotSeconds": 1]])
        self.stack = stack
        let state = stack.directory.appendingPathComponent("state")
        let moved = stack.directory.appendingPathComponent("state.moved")
        try FileManager.default.moveItem(at: state, to: moved)
        XCTAssertTrue(FileManager.default.createFile(atPath: state.path, contents: Data()))
        defer {
            // Only when the test stopped before it put the directory back itself.
            if FileManager.default.fileExists(atPath: moved.path) {
                try? FileManager.default.removeItem(at: state)
                try? FileManager.default.moveItem(at: moved, to: state)
            }
        }
        try stack.injectFault(account: "acct1", "usage_limit", params: ["resets_in_seconds": 900])
        XCTAssertEqual(try post(stack, "one").status, 200, "failed over")
        XCTAssertEqual(try stack.coolingAccounts(), 1, "the cooldown holds in memory")
        let cooled = stack.awaitLogRecords(event: "sightline.account", count: 1).first
        let account = try XCTUnwrap((cooled?["attributes"] as? [String: Any])?["sightline.account"] as? String)
        XCTAssertTrue(account.hasPrefix("acct_"))

        func records() -> [[String: Any]] {
            stack.logRecords().filter { $0["event_name"] as? String == "sightline.state_write" }
        }
        func attributes(_ record: [String: Any]) -> [String: String] {
            (record["attributes"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
        }
        let cooldown = [
            "sightline.state.file": "accounts", "sightline.state.write": "cooldowns", "error.type": "io_error",
            "sightline.state.accounts": "1", "sightline.account": account,
        ]
        XCTAssertTrue(
            poll(timeout: 10) { records().contains { attributes($0) == cooldown } },
            "one record of the cooldown's failed write: \(records())"
        )
        let accounts = #"sightline_state_write_failures_total{file="accounts",reason="io_error"}"#
        let continuity = #"sightline_state_write_failures_total{file="continuity",reason="io_error"}"#
        XCTAssertTrue(poll(timeout: 10) { (try? stack.metric(continuity)) ?? 0 >= 1 }, "the snapshot's failures count")
        // Each increment comes with its record (the record is written just after its increment).
        XCTAssertTrue(
            poll(timeout: 10) {
                let counted = try? (stack.metric(accounts), stack.metric(continuity))
                let logged = records().map { attributes($0)["sightline.state.file"] }
                return counted.map {
                    $0.0 >= 1 && Int($0.0) == logged.filter { $0 == "accounts" }.count
                        && Int($0.1) == logged.filter { $0 == "continuity" }.count
                } ?? false
            },
            "one record per failure"
        )
        for record in records() {
            XCTAssertEqual(record["severity_text"] as? String, "ERROR")
            XCTAssertEqual(record["body"] as? String, "state write failed")
            let values = attributes(record).values.joined(separator: " ")
            XCTAssertFalse(values.contains(stack.directory.path), "no path")
            XCTAssertFalse(values.contains("acct1"), "no raw account name")
        }
        // The directory mended, the cooldown that never reached the file does, with nothing new to write: the
        // continuity timer writes what failed writes left in memory (until 2026-12-07 a restart lost it).
        try FileManager.default.removeItem(at: state)
        try FileManager.default.moveItem(at: moved, to: state)
        let file = state.appendingPathComponent("accounts.json")
        func fileCooldown() -> Int? {
            guard let data = try? Data(contentsOf: file),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let entries = json["accounts"] as? [[String: Any]]
            else { return nil }
            return entries.first { $0["name"] as? String == "acct1" }?["cooldown_until"] as? Int
        }
        XCTAssertTrue(poll(timeout: 10) { fileCooldown() != nil }, "the cooldown reached the file")
        XCTAssertGreaterThan(fileCooldown() ?? 0, Int(Date().timeIntervalSince1970) + 600)
    }

    /// A cooldown still queued when a second signal ends the drain is written before the process exits, and comes
    /// back after the restart. Without the wait the `_exit` dropped it, and the account was back in rotation, into
    /// the limit it had met.
    func testASecondSignalStillWritesTheQueuedCooldown() throws {
        let stack = try oneLoopStack("state-write-exit")
        let lock = try HeldStateLock(stack)
        try stack.injectFault(account: "acct1", "usage_limit", params: ["resets_in_seconds": 900])
        XCTAssertEqual(try post(stack, "one").status, 200)
        stack.proxy.signal(SIGTERM)
        XCTAssertTrue(poll(timeout: 10) { stack.proxy.stdout.contains("\"proxy draining\"") }, "the drain began")
        stack.proxy.signal(SIGTERM)
        XCTAssertNil(stack.proxy.waitForExit(timeout: 1), "the exit waits for the write")
        lock.release()
        XCTAssertNotNil(stack.proxy.waitForExit(timeout: 20), "and exits once it is written")
        XCTAssertNotNil(try stack.persistedCooldown("acct1") ?? nil, "the cooldown is in the file")
        try stack.restartProxy()
        XCTAssertEqual(try stack.coolingAccounts(), 1, "and cools the account after the restart")
    }
}
