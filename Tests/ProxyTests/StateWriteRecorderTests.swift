import Foundation
import LogRedaction
import Metrics
import Synchronization
import XCTest

@testable import Proxy

/// `StateWriteRecorder` and the pool's writes of `accounts.json` through it: every failed write is one increment of
/// `sightline_state_write_failures_total{file,reason}` and one `sightline.state_write` record, with pseudonyms only.
/// Writes fail here through a state path whose directory does not exist (`not_found`) or is a regular file
/// (`io_error`): unlike permissions, that stops root too.
final class StateWriteRecorderTests: XCTestCase {
    let now = 1_800_000_000.0
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "statewrites-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A state file in a directory that does not exist: every write fails with `not_found`.
    private var missingDirectoryPath: String { directory + "/gone/" + AccountStore.fileName }

    /// A pool over `names` whose store lives at `path`, logging into `sink`.
    private func pool(
        _ names: [String],
        stored: [AccountStoreEntry],
        path: String,
        logging sink: InMemoryLogSink
    ) -> (AccountPool, SightlineMetrics) {
        AccountPoolFixture.make(names, stored: stored, path: path, logger: Logger(sinks: [sink]), now: now)
    }

    /// A state file under a regular file: every write fails with `ENOTDIR`, an `io_error`.
    private func underAFilePath() -> String {
        let file = directory + "/not-a-directory"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data()))
        return file + "/" + AccountStore.fileName
    }

    private func failures(_ metrics: SightlineMetrics, file: String, reason: String) -> UInt64 {
        metrics.stateWriteFailures(file: file, reason: reason).value
    }

    private static func stateWriteRecords(_ sink: InMemoryLogSink) -> [[String: Any]] {
        sink.records.filter { $0["event_name"] as? String == "sightline.state_write" }
    }

    /// A record's attributes, each value as text (JSON numbers decode as `NSNumber`).
    private static func attributes(_ record: [String: Any]?) -> [String: String] {
        (record?["attributes"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
    }

    private static func pseudonym(_ name: String) -> String { AccountPoolFixture.pseudonymizer.pseudonym(.acct, name) }

    private static func entry(_ name: String) -> AccountStoreEntry {
        var entry = AccountStoreEntry(name: name)
        entry.accessToken = Secret("at-FAKE-\(name)")
        return entry
    }

    /// The exact line: constant body, ERROR, the file, what was written, the reason, the account's pseudonym.
    func testOneFailureIsOneIncrementAndOneRecord() {
        let sink = InMemoryLogSink()
        let logger = Logger(sinks: [sink], now: { Date(timeIntervalSince1970: 1_800_000_000) })
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r")
        let recorder = StateWriteRecorder(metrics: metrics, logger: logger)
        recorder.record(.tokenRotation, reason: "no_space", accounts: ["acct_5214f4a56a0984dd"])
        XCTAssertEqual(
            sink.lines,
            [
                #"{"timestamp":"2027-01-15T08:00:00.000000Z","severity_text":"ERROR","severity_number":17,"#
                    + #""event_name":"sightline.state_write","body":"state write failed","attributes":{"#
                    + #""sightline.state.file":"accounts","sightline.state.write":"token_rotation","#
                    + #""error.type":"no_space","sightline.state.accounts":1,"#
                    + #""sightline.account":"acct_5214f4a56a0984dd"}}"#
            ]
        )
        XCTAssertEqual(failures(metrics, file: "accounts", reason: "no_space"), 1)
        XCTAssertTrue(
            metrics.registry.render().contains(
                "sightline_state_write_failures_total{file=\"accounts\",reason=\"no_space\"} 1\n"
            )
        )
    }

    /// A reason outside the closed set is `other` on the counter and itself on the record; a continuity snapshot
    /// names no account; a batch names its distinct accounts' count, and the account only when it is one.
    func testTheLabelStaysClosedAndTheRecordKeepsTheReason() {
        let sink = InMemoryLogSink()
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r")
        let recorder = StateWriteRecorder(metrics: metrics, logger: Logger(sinks: [sink]))
        recorder.record(.cooldowns, reason: "unknown_account", accounts: ["acct_1", "acct_2", "acct_1"])
        recorder.record(.continuitySnapshot, reason: "permission_denied")
        XCTAssertEqual(failures(metrics, file: "accounts", reason: "other"), 1)
        XCTAssertEqual(failures(metrics, file: "continuity", reason: "permission_denied"), 1)
        XCTAssertFalse(metrics.registry.render().contains("unknown_account"))
        let records = Self.stateWriteRecords(sink).map { Self.attributes($0) }
        XCTAssertEqual(
            records,
            [
                [
                    "sightline.state.file": "accounts", "sightline.state.write": "cooldowns",
                    "error.type": "unknown_account", "sightline.state.accounts": "2",
                ],
                [
                    "sightline.state.file": "continuity", "sightline.state.write": "continuity_snapshot",
                    "error.type": "permission_denied",
                ],
            ]
        )
    }

    /// Accounts `a` and `b`, both stored, in a state directory that is gone: every write of `accounts.json` fails.
    private func pairWithoutItsStateDirectory(logging sink: InMemoryLogSink) -> (AccountPool, SightlineMetrics) {
        pool(["a", "b"], stored: [Self.entry("a"), Self.entry("b")], path: missingDirectoryPath, logging: sink)
    }

    /// A hard cooldown whose write fails is counted and logged once, with the account's pseudonym, and still holds
    /// in memory; a soft one writes nothing, so nothing fails. Until 2026-12-07 the failure was a silent `try?`.
    func testAFailedCooldownWriteIsCountedAndLogged() throws {
        let sink = InMemoryLogSink()
        let (pool, metrics) = pairWithoutItsStateDirectory(logging: sink)
        pool.coolDown(1, until: now + 5, reason: "server_error", now: now)
        pool.coolDown(0, until: now + 900, reason: "usage_limit", now: now)
        XCTAssertTrue(pool.stateWriter.flush(timeout: 10))
        XCTAssertEqual(failures(metrics, file: "accounts", reason: "not_found"), 1)
        let records = Self.stateWriteRecords(sink)
        XCTAssertEqual(records.count, 1)
        let attributes = Self.attributes(records.first)
        XCTAssertEqual(
            attributes,
            [
                "sightline.state.file": "accounts", "sightline.state.write": "cooldowns", "error.type": "not_found",
                "sightline.state.accounts": "1", "sightline.account": Self.pseudonym("a"),
            ]
        )
        XCTAssertEqual(records.first?["severity_text"] as? String, "ERROR")
        XCTAssertFalse(sink.lines.joined().contains(directory), "no path in the logs")
        XCTAssertEqual(pool.store.entry(named: "a")?.cooldownUntil, Int64(now + 900), "kept in the store's memory")
    }

    /// An admin reinstatement whose write fails is counted and logged before its answer's completion runs.
    func testAFailedReinstatementWriteIsRecordedBeforeItsCompletion() throws {
        let sink = InMemoryLogSink()
        let (pool, metrics) = pool(["a"], stored: [Self.entry("a")], path: underAFilePath(), logging: sink)
        pool.coolDown(0, until: now + 900, reason: "usage_limit", now: now)
        XCTAssertTrue(pool.stateWriter.flush(timeout: 10))
        let recordedAtCompletion = DispatchSemaphore(value: 0)
        let count = Mutex(-1)
        let written = Mutex<Bool?>(nil)
        _ = pool.reinstate(0) { ok in
            written.withLock { $0 = ok }
            count.withLock { $0 = Self.stateWriteRecords(sink).count }
            recordedAtCompletion.signal()
        }
        XCTAssertEqual(recordedAtCompletion.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(count.withLock { $0 }, 2, "the cooldown's failure, then the reinstatement's, before its answer")
        XCTAssertEqual(written.withLock { $0 }, false, "the answer is told the file did not take it")
        XCTAssertEqual(failures(metrics, file: "accounts", reason: "io_error"), 2)
    }

    /// The periodic quota write: one failed write is one failure, naming how many accounts it carried.
    func testAFailedQuotaWriteIsCountedOnce() throws {
        let sink = InMemoryLogSink()
        let (pool, metrics) = pairWithoutItsStateDirectory(logging: sink)
        var signal = QuotaSignal()
        signal.primary.usedRatio = 0.5
        pool.updateQuota(0, signal)
        pool.updateQuota(1, signal)
        pool.persistQuotas(now: now)
        pool.persistQuotas(now: now + 15)  // nothing changed since: nothing written, nothing failed
        XCTAssertEqual(failures(metrics, file: "accounts", reason: "not_found"), 1)
        let attributes = Self.attributes(Self.stateWriteRecords(sink).first)
        XCTAssertEqual(attributes["sightline.state.write"], "quotas")
        XCTAssertEqual(attributes["sightline.state.accounts"], "2")
        XCTAssertNil(attributes["sightline.account"], "two accounts: none named")
        XCTAssertEqual(Self.stateWriteRecords(sink).count, 1)
    }

    /// A restored cooldown beyond the longest one is written back shortened at start-up; that write failing is
    /// counted and logged for the account.
    func testAFailedStartUpCooldownCapIsCountedAndLogged() throws {
        let sink = InMemoryLogSink()
        var far = Self.entry("a")
        far.cooldownUntil = Int64(now) + 30 * 86_400
        let (_, metrics) = pool(["a", "b"], stored: [far, Self.entry("b")], path: missingDirectoryPath, logging: sink)
        XCTAssertEqual(failures(metrics, file: "accounts", reason: "not_found"), 1)
        let attributes = Self.attributes(Self.stateWriteRecords(sink).first)
        XCTAssertEqual(attributes["sightline.state.write"], "cooldown_cap")
        XCTAssertEqual(attributes["sightline.account"], Self.pseudonym("a"))
        XCTAssertEqual(Self.stateWriteRecords(sink).count, 1)
    }

    /// A write that lands counts nothing.
    func testASuccessfulWriteCountsNothing() throws {
        let sink = InMemoryLogSink()
        let (pool, metrics) = pool(
            ["a"],
            stored: [Self.entry("a")],
            path: directory + "/" + AccountStore.fileName,
            logging: sink
        )
        pool.coolDown(0, until: now + 900, reason: "usage_limit", now: now)
        XCTAssertTrue(pool.stateWriter.flush(timeout: 10))
        for reason in SightlineMetrics.stateWriteFailureReasons {
            XCTAssertEqual(failures(metrics, file: "accounts", reason: reason), 0)
        }
        XCTAssertEqual(Self.stateWriteRecords(sink).count, 0)
    }
}
