import Foundation
import LogRedaction
import Synchronization
import XCTest

@testable import Proxy

/// `AccountStateWriter`: the pool's cooldown writes, queued off the caller's thread, in order, and flushed.
final class AccountStateWriterTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "statewriter-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func store() throws -> AccountStore {
        let seeds = ["a", "b"].map {
            AccountStoreSeed(name: $0, accountID: "fake-\($0)", accessToken: Secret("at-FAKE"))
        }
        return try AccountStore.open(stateDirectory: directory, seeds: seeds)
    }

    /// The cooldowns in the file, read without its lock (which the test may hold).
    private static func fileCooldowns(_ directory: String) throws -> [Int64?] {
        let bytes = try XCTUnwrap(try AtomicFile.readIfExists(directory + "/" + AccountStore.fileName))
        return try AccountStoreCodec.decode(bytes).map(\.cooldownUntil)
    }

    private func fileCooldowns() throws -> [Int64?] { try Self.fileCooldowns(directory) }

    /// Holds the state file's lock as another process would: every write waits for it.
    private func holdLock() -> Int32 {
        let fd = open(directory + "/accounts.json.lock", O_RDWR | O_CREAT, 0o600)
        XCTAssertEqual(flock(fd, LOCK_EX), 0)
        return fd
    }

    /// A submission returns at once, even while the write cannot go on; the writes land in submission order (the
    /// last change of an account wins, each with `setCooldowns`' never-shorten rule) once they can, and a completion
    /// runs only after its change is in the file.
    func testChangesAreQueuedAndWrittenInOrder() throws {
        let store = try store()
        let writer = AccountStateWriter(store: store)
        let fd = holdLock()
        let submitted = DispatchSemaphore(value: 0)
        let inFileAtCompletion = Mutex<[Int64?]?>(nil)
        let directory = directory
        DispatchQueue.global().async {
            writer.submit(.init(name: "a", until: 100))
            writer.submit(.init(name: "a", until: 50))  // never shortens
            writer.submit(.init(name: "b", until: 200))
            writer.submit(.init(name: "b", until: nil))  // cleared
            writer.submit(.init(name: "b", until: 300))
            writer.submit(.init(name: "nobody", until: 1))  // skipped
            writer.submit(.init(name: "a", until: nil)) { written in
                let file = try? Self.fileCooldowns(directory)
                inFileAtCompletion.withLock { $0 = written ? file : [-1] }
            }
            submitted.signal()
        }
        XCTAssertEqual(submitted.wait(timeout: .now() + 10), .success, "submitting never waits for the file")
        XCTAssertFalse(writer.flush(timeout: 0.2), "the writes wait for the lock")
        XCTAssertEqual(try fileCooldowns(), [nil, nil])
        close(fd)
        XCTAssertTrue(writer.flush(timeout: 10))
        XCTAssertEqual(try fileCooldowns(), [nil, 300])
        XCTAssertEqual(store.entry(named: "b")?.cooldownUntil, 300)
        XCTAssertEqual(inFileAtCompletion.withLock { $0 }, [nil, 300], "the completion ran after the write")
    }

    /// A write that fails is handed to `onFailure` once, with every change it carried and the store's reason, before
    /// the completions run; the changes stay in the store's memory. Until 2026-12-07 it was dropped without a word.
    func testAFailedWriteIsReportedWithItsChangesBeforeTheCompletions() throws {
        let store = try store()
        // The state directory replaced by a regular file: the write fails (`ENOTDIR`), for root too.
        try FileManager.default.removeItem(atPath: directory)
        XCTAssertTrue(FileManager.default.createFile(atPath: directory, contents: Data()))
        let reported = Mutex<[(names: [String], reason: String)]>([])
        let writer = AccountStateWriter(store: store) { changes, error in
            reported.withLock { $0.append((changes.map(\.name), error.reason)) }
        }
        let reportsAtCompletion = Mutex(-1)
        writer.submit(.init(name: "a", until: 100))
        writer.submit(.init(name: "b", until: nil)) { written in
            // A count only a failed write can carry: the completion was told it failed.
            reportsAtCompletion.withLock { $0 = written ? -2 : reported.withLock { $0.count } }
        }
        XCTAssertTrue(writer.flush(timeout: 10))
        let reports = reported.withLock { $0 }
        // One write for both, or two if the queue took the first before the second came: each reported once.
        XCTAssertEqual(reports.flatMap(\.names), ["a", "b"], "every change, in order, once")
        XCTAssertEqual(Set(reports.map(\.reason)), ["io_error"])
        XCTAssertEqual(reportsAtCompletion.withLock { $0 }, reports.count, "reported before the completion ran")
        XCTAssertEqual(store.entry(named: "a")?.cooldownUntil, 100, "kept in memory")
    }

    /// `flush` with nothing queued returns at once; after a change, it returns once the change is in the file.
    func testFlushWaitsForWhatWasSubmittedBeforeIt() throws {
        let writer = AccountStateWriter(store: try store())
        XCTAssertTrue(writer.flush(timeout: 10))
        writer.submit(.init(name: "a", until: 700))
        XCTAssertTrue(writer.flush(timeout: 10))
        XCTAssertEqual(try fileCooldowns(), [700, nil])
    }
}
