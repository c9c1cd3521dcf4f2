import SightlineTestSupport
import Synchronization
import XCTest

@testable import Proxy

final class TranscriptCacheTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    private func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
    private let meta = TranscriptCache.Metadata(accountIndex: 1, model: "gpt-test", createdAt: 10)

    func testExpansionIsInputThenOutputThenNewItems() throws {
        let cache = TranscriptCache()
        let input = #"[{"type":"message","role":"user","content":"hi"}]"#
        let output = #"[{"id":"msg_1","type":"message","role":"assistant","content":"hello"}]"#
        XCTAssertTrue(cache.store(responseID: "resp_1", input: bytes(input), output: bytes(output), metadata: meta))
        XCTAssertEqual(
            text(cache.expandedInput(for: "resp_1")),
            #"[{"type":"message","role":"user","content":"hi"},{"id":"msg_1","type":"message","role":"assistant","content":"hello"}]"#
        )
        let next = #"[{"type":"message","role":"user","content":"more"}]"#
        XCTAssertEqual(
            text(cache.fullInput(previousResponseID: "resp_1", newItems: bytes(next))),
            #"[{"type":"message","role":"user","content":"hi"},{"id":"msg_1","type":"message","role":"assistant","content":"hello"},{"type":"message","role":"user","content":"more"}]"#
        )
        XCTAssertEqual(cache.metadata(for: "resp_1"), meta)
        XCTAssertNil(cache.expandedInput(for: "resp_unknown"))
    }

    /// A replay goes without its anchor, so reasoning the upstream could only look up by id (no content: the client
    /// did not ask for it) is left out, wherever it was stored; reasoning with content stays.
    func testTheExpansionLeavesOutReasoningWithoutContent() throws {
        let cache = TranscriptCache()
        let input = #"[{"type":"reasoning","id":"rs_0","summary":[]},{"type":"message","role":"user","content":"hi"}]"#
        let output =
            #"[{"type":"reasoning","id":"rs_1","summary":[]},"#
            + #"{"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"gAAAA-FAKE"},"#
            + #"{"id":"msg_1","type":"message","role":"assistant","content":"hello"}]"#
        XCTAssertTrue(cache.store(responseID: "resp_1", input: bytes(input), output: bytes(output), metadata: meta))
        // The client resends the item without content under its id, then once with content.
        let next =
            #"[{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":null},"#
            + #"{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA-OTHER"},"#
            + #"{"type":"message","role":"user","content":"more"}]"#
        XCTAssertEqual(
            text(cache.fullInput(previousResponseID: "resp_1", newItems: bytes(next))),
            #"[{"type":"message","role":"user","content":"hi"},"#
                + #"{"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"gAAAA-FAKE"},"#
                + #"{"id":"msg_1","type":"message","role":"assistant","content":"hello"},"#
                + #"{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA-OTHER"},"#
                + #"{"type":"message","role":"user","content":"more"}]"#
        )
    }

    func testCompressedEntriesHoldNoMoreMemoryThanTheBudgetCounts() throws {
        // A repetitive 48 KB history compresses to a few KB; the stored array must not keep the
        // `compressBound`-sized buffer it was compressed into, or the byte bound would not bound memory.
        let item = #"{"type":"message","role":"user","content":"run the tests again and show me the diff"}"#
        let history = Array(("[" + Array(repeating: item, count: 550).joined(separator: ",") + "]").utf8)
        let packed = try XCTUnwrap(TranscriptCompression.compress(history[...]))
        XCTAssertLessThan(packed.count, history.count / 10)
        XCTAssertLessThanOrEqual(packed.capacity, packed.count + 64, "the compressed array keeps its scratch capacity")
        XCTAssertEqual(TranscriptCompression.decompress(packed, originalLength: history.count), history)
    }

    func testEveryStreamSizeRoundTripsAtItsBoundaries() {
        // Streams are pooled by input length (window and hash table sized to it). Lengths either side of
        // each boundary, taken in an order that hands every pool's streams inputs of changing length, must
        // inflate back byte for byte with the one window `decompress` uses.
        var generator = SeededGenerator(seed: 11)
        let block = (0..<3000).map { _ in UInt8.random(in: 97...122, using: &generator) }
        func input(_ length: Int) -> [UInt8] { (0..<length).map { block[($0 * 7 + $0 / 9000) % block.count] } }
        let lengths = [1, 8 * 1024, 8 * 1024 + 1, 64 * 1024, 64 * 1024 + 1, 300_000, 9000, 12, 70_000, 8191]
        for length in lengths + lengths.reversed() {
            let bytes = input(length)
            let packed = TranscriptCompression.compress(bytes[...])
            XCTAssertNotNil(packed, "length \(length)")
            XCTAssertLessThan(packed?.count ?? .max, max(length / 2, 64), "length \(length) should compress")
            XCTAssertEqual(
                packed.flatMap { TranscriptCompression.decompress($0, originalLength: length) },
                bytes,
                "length \(length)"
            )
        }
        XCTAssertEqual(TranscriptCompression.SizeClass(length: 8 * 1024), .small)
        XCTAssertEqual(TranscriptCompression.SizeClass(length: 8 * 1024 + 1), .medium)
        XCTAssertEqual(TranscriptCompression.SizeClass(length: 64 * 1024 + 1), .large)
    }

    func testPooledDeflateStreamsStartAfreshForEveryInput() {
        // Streams go back to a pool after use: one that kept the previous input's state would produce bytes
        // that inflate to something else, or not at all. Concurrent callers each get a stream of their own.
        let inputs = (0..<48).map { i in
            Array(
                ("[" + Array(repeating: #"{"n":\#(i),"t":"x"}"#, count: 50 + 7 * i).joined(separator: ",") + "]").utf8
            )
        }
        let results = Mutex([[UInt8]?](repeating: nil, count: inputs.count))
        DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
            let packed = TranscriptCompression.compress(inputs[i][...])
            let back = packed.flatMap { TranscriptCompression.decompress($0, originalLength: inputs[i].count) }
            results.withLock { $0[i] = back }
        }
        for (i, back) in results.withLock({ $0 }).enumerated() { XCTAssertEqual(back, inputs[i], "input \(i)") }
        let packed = TranscriptCompression.compress(inputs[3][...])!
        XCTAssertNil(TranscriptCompression.decompress(packed, originalLength: inputs[3].count - 1))
        XCTAssertNil(TranscriptCompression.decompress(packed, originalLength: inputs[3].count + 1))
        XCTAssertNil(TranscriptCompression.decompress(Array(packed.dropLast(2)), originalLength: inputs[3].count))
    }

    func testItemsWithTheSameIDAreKeptOnce() {
        let cache = TranscriptCache()
        let call = #"{"id":"fc_1","type":"function_call","call_id":"call_1","name":"f","arguments":"{}"}"#
        cache.store(responseID: "resp_1", input: bytes("[]"), output: bytes("[\(call)]"), metadata: meta)
        let answer = #"{"type":"function_call_output","call_id":"call_1","output":"ok"}"#
        let replay = cache.fullInput(previousResponseID: "resp_1", newItems: bytes("[\(call),\(answer)]"))
        XCTAssertEqual(text(replay), "[\(call),\(answer)]")
    }

    func testRejectsNonArrays() {
        let cache = TranscriptCache()
        XCTAssertFalse(cache.store(responseID: "r", input: bytes("{}"), output: bytes("[]"), metadata: meta))
        XCTAssertEqual(cache.count, 0)
    }

    func testLRUEvictionKeepsTheByteBound() {
        let cache = TranscriptCache(maximumBytes: 2_000)
        // Random-ish text compresses poorly, so each entry costs a few hundred bytes.
        func item(_ i: Int) -> [UInt8] {
            var generator = SystemRandomNumberGenerator()
            let noise = (0..<300).map { _ in String(UInt8.random(in: 97...122, using: &generator), radix: 16) }.joined()
            return bytes(#"[{"type":"message","content":"\#(i)-\#(noise)"}]"#)
        }
        for i in 0..<3 { cache.store(responseID: "resp_\(i)", input: item(i), output: bytes("[]"), metadata: meta) }
        XCTAssertNotNil(cache.expandedInput(for: "resp_0"))  // touch: resp_0 becomes most recent
        for i in 3..<20 {
            cache.store(responseID: "resp_\(i)", input: item(i), output: bytes("[]"), metadata: meta)
            XCTAssertLessThanOrEqual(cache.byteCount, 2_000)
            if i == 3 { XCTAssertTrue(cache.contains("resp_0") || cache.count < 4) }
        }
        XCTAssertTrue(cache.contains("resp_19"))
        XCTAssertFalse(cache.contains("resp_1"), "least recently used goes first")
        XCTAssertGreaterThan(cache.count, 1)
    }

    func testTouchedEntrySurvivesEviction() {
        let cache = TranscriptCache(maximumEntries: 3)
        for i in 0..<3 { cache.store(responseID: "r\(i)", input: bytes("[1]"), output: bytes("[2]"), metadata: meta) }
        _ = cache.expandedInput(for: "r0")
        cache.store(responseID: "r3", input: bytes("[3]"), output: bytes("[]"), metadata: meta)
        XCTAssertTrue(cache.contains("r0"))
        XCTAssertFalse(cache.contains("r1"))
        XCTAssertEqual(cache.count, 3)
        cache.remove("r0")
        XCTAssertEqual(cache.count, 2)
    }

    func testOversizedEntryIsNotStoredAndIsReported() {
        let reports = Mutex<[TranscriptCache.Usage]>([])
        let cache = TranscriptCache(maximumBytes: 16) { usage in reports.withLock { $0.append(usage) } }
        XCTAssertFalse(
            cache.store(
                responseID: "r",
                input: bytes(#"["qwertyuiopasdfghjklzxcvbnm0123456789"]"#),  // no repeats to compress
                output: bytes("[]"),
                metadata: meta
            )
        )
        XCTAssertEqual(cache.byteCount, 0)
        XCTAssertEqual(reports.withLock { $0 }, [TranscriptCache.Usage(bytes: 0, entries: 0, evicted: 0, rejected: 1)])
        XCTAssertFalse(cache.store(responseID: "r", input: bytes("{}"), output: bytes("[]"), metadata: meta))
        XCTAssertEqual(reports.withLock { $0.map(\.rejected) }, [1, 1], "not an array: refused too")
        XCTAssertTrue(cache.store(responseID: "s", input: bytes("[]"), output: bytes("[]"), metadata: meta))
        XCTAssertEqual(reports.withLock { $0.last?.rejected }, 0)
    }

    // MARK: - Conversations stored as chains

    /// Turn n of a Codex-like conversation: every earlier turn's items (each a few hundred bytes of tool
    /// output, different from the others), then this turn's.
    private func turn(_ n: Int) -> [UInt8] {
        let words = ["build", "test", "error", "warning", "Sources", "swift", "line", "passed", "failed", "module"]
        let items = (0...n).map { i in
            var g = SeededGenerator(seed: UInt64(i + 1))
            let output = (0..<60).map { _ in words[Int(g.next() % 10)] + String(g.next() % 997) }.joined(separator: " ")
            return #"{"type":"function_call_output","call_id":"call_\#(i)","output":"\#(output)"}"#
        }
        return bytes("[" + items.joined(separator: ",") + "]")
    }

    func testASessionsTurnsAreStoredAsLinksAndExpandExactly() throws {
        let cache = TranscriptCache()
        let output = bytes(#"[{"id":"msg","type":"message","role":"assistant","content":"ok"}]"#)
        for n in 0..<10 {
            // As the proxy passes it: the input array in place inside its request body.
            let body = bytes(#"{"input":"#) + turn(n) + bytes("}")
            let input = body[9..<(body.count - 1)]
            XCTAssertTrue(
                cache.store(responseID: "r\(n)", scannedInput: input, output: output, metadata: meta, session: "s")
            )
        }
        XCTAssertEqual(cache.chainDepth(of: "r0"), 0)
        XCTAssertEqual(cache.chainDepth(of: "r9"), 9)
        for n in 0..<10 {
            let expected = TranscriptCache.concatenateDeduplicated([turn(n), output])
            XCTAssertEqual(cache.expandedInput(for: "r\(n)"), expected, "turn \(n)")
        }
        // The same history stored whole, turn by turn, costs far more.
        let whole = TranscriptCache()
        for n in 0..<10 { whole.store(responseID: "r\(n)", input: turn(n), output: output, metadata: meta) }
        XCTAssertLessThan(cache.byteCount * 2, whole.byteCount)
    }

    func testAnInputThatDoesNotContinueTheSessionIsStoredWhole() throws {
        let cache = TranscriptCache()
        let output = bytes("[]")
        cache.store(responseID: "a", scannedInput: turn(3)[...], output: output, metadata: meta, session: "s")
        // Same length and session, one byte different in the shared part: not a continuation.
        var edited = turn(4)
        edited[10] = UInt8(ascii: "X")
        cache.store(responseID: "b", scannedInput: edited[...], output: output, metadata: meta, session: "s")
        XCTAssertEqual(cache.chainDepth(of: "b"), 0)
        XCTAssertEqual(cache.expandedInput(for: "b"), edited)
        // Another session's turn never links to this one.
        cache.store(responseID: "c", scannedInput: turn(4)[...], output: output, metadata: meta, session: "other")
        XCTAssertEqual(cache.chainDepth(of: "c"), 0)
        // A shorter input (a compacted history) starts afresh too.
        cache.store(responseID: "d", scannedInput: turn(1)[...], output: output, metadata: meta, session: "other")
        XCTAssertEqual(cache.chainDepth(of: "d"), 0)
        XCTAssertEqual(cache.expandedInput(for: "d"), turn(1))
    }

    func testChainsAreCappedAndEvictedWithTheirDescendants() throws {
        let cache = TranscriptCache()
        let output = bytes("[]")
        let turns = TranscriptCache.maximumChainDepth + 3
        for n in 0..<turns {
            cache.store(responseID: "r\(n)", scannedInput: turn(n)[...], output: output, metadata: meta, session: "s")
        }
        XCTAssertEqual(cache.chainDepth(of: "r\(TranscriptCache.maximumChainDepth)"), TranscriptCache.maximumChainDepth)
        XCTAssertEqual(cache.chainDepth(of: "r\(TranscriptCache.maximumChainDepth + 1)"), 0, "a new chain starts")
        XCTAssertEqual(cache.expandedInput(for: "r\(turns - 1)"), turn(turns - 1))
        // Removing an entry takes what links to it: those could not be expanded any more.
        cache.remove("r5")
        XCTAssertFalse(cache.contains("r5"))
        XCTAssertFalse(cache.contains("r\(TranscriptCache.maximumChainDepth)"))
        XCTAssertTrue(cache.contains("r4"))
        XCTAssertEqual(cache.expandedInput(for: "r4"), turn(4))
        XCTAssertEqual(cache.expandedInput(for: "r\(turns - 1)"), turn(turns - 1))
        XCTAssertEqual(cache.count, 5 + (turns - TranscriptCache.maximumChainDepth - 1))
        // After the removal the session's last turn is still what a new turn continues.
        cache.store(responseID: "next", scannedInput: turn(turns)[...], output: output, metadata: meta, session: "s")
        XCTAssertEqual(cache.chainDepth(of: "next"), 2)
    }

    func testAnEvictedConversationGoesWholeAndTheBudgetHolds() throws {
        let output = bytes("[]")
        let reports = Mutex<[TranscriptCache.Usage]>([])
        let cache = TranscriptCache(maximumBytes: 12_000) { usage in reports.withLock { $0.append(usage) } }
        for (session, turns) in [("old", 6), ("new", 40)] {
            for n in 0..<turns {
                let id = "\(session)\(n)"
                cache.store(
                    responseID: id,
                    scannedInput: turn(n)[...],
                    output: output,
                    metadata: meta,
                    session: session
                )
                XCTAssertLessThanOrEqual(cache.byteCount, 12_000)
            }
        }
        XCTAssertFalse((0..<6).contains { cache.contains("old\($0)") }, "the older conversation goes first, whole")
        // Every store reported what the cache holds, and the evictions add up to what is gone.
        let all = reports.withLock { $0 }
        XCTAssertEqual(all.count, 46)
        XCTAssertEqual(all.last?.bytes, cache.byteCount)
        XCTAssertEqual(all.last?.entries, cache.count)
        XCTAssertEqual(all.map(\.evicted).reduce(0, +), 46 - cache.count)
        XCTAssertTrue(cache.contains("new39"))
        // Whatever is still held can be expanded: no entry outlives the entries it links to.
        for n in 0..<40 where cache.contains("new\(n)") {
            XCTAssertEqual(cache.expandedInput(for: "new\(n)"), turn(n), "new\(n)")
        }
        cache.remove("new39")
        XCTAssertEqual(
            reports.withLock { $0.last },
            TranscriptCache.Usage(bytes: cache.byteCount, entries: cache.count, evicted: 0)
        )
    }

    func testReadingAConversationKeepsItsWholeChainOverANewerOne() {
        let output = bytes("[]")
        let cache = TranscriptCache(maximumEntries: 8)
        for session in ["old", "new"] {
            for n in 0..<4 {
                cache.store(
                    responseID: "\(session)\(n)",
                    scannedInput: turn(n)[...],
                    output: output,
                    metadata: meta,
                    session: session
                )
            }
        }
        XCTAssertEqual(cache.chainDepth(of: "old3"), 3)
        // Reading the old conversation's last turn marks all of its chain used: the newer one is now older.
        XCTAssertEqual(cache.expandedInput(for: "old3"), turn(3))
        cache.store(responseID: "other", input: bytes("[1]"), output: output, metadata: meta)
        XCTAssertTrue((0..<4).allSatisfy { cache.contains("old\($0)") })
        XCTAssertFalse((0..<4).contains { cache.contains("new\($0)") }, "evicted with its descendants")
        XCTAssertEqual(cache.count, 5)
    }

    /// Random stores, reads and removals over a small budget: whatever is held expands exactly, a held link's
    /// parent is held, what the cache reports adds up (the LRU list and the entries agree), and the LRU order is
    /// the one a simple model of it gives.
    func testRandomUseKeepsChainsAndTheListConsistent() {
        let output = bytes("[]")
        let reports = Mutex<[TranscriptCache.Usage]>([])
        let cache = TranscriptCache(maximumBytes: 10_000, maximumEntries: 20) { u in reports.withLock { $0.append(u) } }
        let turns = (0..<14).map(turn)
        var generator = SeededGenerator(seed: 8)
        var next = [Int](repeating: 0, count: 4)
        var stored: [String: Int] = [:]
        // Picked from sorted ids: a dictionary's order changes with every process's hash seed, and the seeded
        // run must take the same path each time (one seed reached no eviction under a 16 KB budget).
        func storedIDs() -> [String] { stored.keys.sorted() }
        var model: [String] = []
        for step in 0..<400 {
            var used: String?
            let roll = generator.next() % 10
            if roll < 5, case let session = Int(generator.next() % 4), next[session] < turns.count {
                let id = "s\(session)t\(next[session])"
                cache.store(
                    responseID: id,
                    scannedInput: turns[next[session]][...],
                    output: output,
                    metadata: meta,
                    session: "s\(session)"
                )
                stored[id] = next[session]
                next[session] += 1
                XCTAssertTrue(cache.contains(id), "step \(step): the newest entry is held")
                used = id
            } else if roll < 8, let id = storedIDs().randomElement(using: &generator), cache.contains(id) {
                XCTAssertEqual(cache.expandedInput(for: id), turns[stored[id]!], "step \(step): \(id)")
                used = id
            } else if let id = storedIDs().randomElement(using: &generator) {
                cache.remove(id)
                XCTAssertFalse(cache.contains(id))
            }
            XCTAssertLessThanOrEqual(cache.byteCount, 10_000)
            XCTAssertLessThanOrEqual(cache.count, 20)
            let held = stored.keys.filter { cache.contains($0) }
            XCTAssertEqual(held.count, cache.count, "step \(step)")
            for id in held {
                guard let depth = cache.chainDepth(of: id), depth > 0, let n = stored[id] else { continue }
                let parent = String(id[..<id.lastIndex(of: "t")!]) + "t\(n - 1)"
                XCTAssertTrue(cache.contains(parent), "step \(step): \(id) links to \(parent)")
            }
            // The list's order is the model's: marking an entry used moves its chain to the front, first entry
            // first; removals and evictions keep the others' order. This holds `touchChain`'s splice to the
            // walk it replaced.
            if let id = used, let depth = cache.chainDepth(of: id), let n = stored[id] {
                let session = id[..<id.lastIndex(of: "t")!]
                for k in (0...depth).reversed() {
                    let key = "\(session)t\(n - k)"
                    model.removeAll { $0 == key }
                    model.insert(key, at: 0)
                }
            }
            model.removeAll { !cache.contains($0) }
            XCTAssertEqual(cache.recencyOrder(), model, "step \(step)")
        }
        for (id, n) in stored where cache.contains(id) { XCTAssertEqual(cache.expandedInput(for: id), turns[n], id) }
        XCTAssertEqual(reports.withLock { $0.last?.entries }, cache.count)
        XCTAssertGreaterThan(reports.withLock { $0.map(\.evicted).reduce(0, +) }, 0, "the budget was reached")
    }

    func testDigestsDoNotDependOnHowTheBytesArePieced() {
        let data = turn(20)
        var whole = TranscriptDigest()
        data.withUnsafeBytes { whole.combine($0) }
        XCTAssertGreaterThan(data.count, 3 * 1024, "several NH blocks")
        // Cuts either side of a word, a pair of words and a 1 KiB block, in two and in three pieces.
        for cut in [0, 1, 7, 8, 15, 16, 17, 64, 1023, 1024, 1025, 2047, data.count / 2, data.count - 1] {
            var pieced = TranscriptDigest()
            var three = TranscriptDigest()
            let second = min(cut + 9, data.count)
            data.withUnsafeBytes {
                pieced.combine(UnsafeRawBufferPointer(rebasing: $0[..<cut]))
                XCTAssertEqual(pieced.value, Self.digest(Array(data[..<cut])), "prefix \(cut)")
                pieced.combine(UnsafeRawBufferPointer(rebasing: $0[cut...]))
                three.combine(UnsafeRawBufferPointer(rebasing: $0[..<cut]))
                three.combine(UnsafeRawBufferPointer(rebasing: $0[cut..<second]))
                three.combine(UnsafeRawBufferPointer(rebasing: $0[second...]))
            }
            XCTAssertEqual(pieced.value, whole.value, "cut \(cut)")
            XCTAssertEqual(three.value, whole.value, "cuts \(cut), \(second)")
        }
        var other = TranscriptDigest()
        Array(data.dropLast()).withUnsafeBytes { other.combine($0) }
        XCTAssertNotEqual(other.value, whole.value)
    }

    /// Every one-byte change, in every word position of the first blocks and the last partial one, and every
    /// extension by zero bytes (what the last pair of words is padded with) changes the digest.
    func testDigestsTellApartOneByteChangesAndZeroPadding() {
        let data = turn(20)
        let whole = Self.digest(data)
        var seen: Set<Int> = [whole]
        let positions = Array(0..<2100) + Array(data.count - 40..<data.count)
        for position in positions {
            var changed = data
            changed[position] ^= 0x01
            XCTAssertTrue(seen.insert(Self.digest(changed)).inserted, "byte \(position)")
        }
        for zeros in 1...17 {
            let padded = data + [UInt8](repeating: 0, count: zeros)
            XCTAssertTrue(seen.insert(Self.digest(padded)).inserted, "\(zeros) zeros")
        }
        XCTAssertNotEqual(Self.digest([]), Self.digest([0]))
    }

    private static func digest(_ bytes: [UInt8]) -> Int {
        var d = TranscriptDigest()
        bytes.withUnsafeBytes { d.combine($0) }
        return d.value
    }
}
