import Foundation
import Synchronization

/// Test sink: keeps every line in memory. Assert on decoded `records`, not on substrings, except in
/// golden tests, which compare `lines` byte for byte.
///
/// Concurrency: `Mutex`-protected (`storage`); safe from any thread.
public final class InMemoryLogSink: LogSink {
    private let storage = Mutex<[String]>([])

    public init() {}

    public func write(_ line: String) { storage.withLock { $0.append(line) } }

    /// Every line written so far, in write order, without newlines.
    public var lines: [String] { storage.withLock { $0 } }

    /// Every line decoded with `JSONSerialization` (test convenience; the write path never decodes).
    /// A line that is not a JSON object decodes as `["_invalid": line]`, so a test fails visibly.
    public var records: [[String: Any]] {
        lines.map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? ["_invalid": line]
        }
    }

    public func removeAll() { storage.withLock { $0.removeAll() } }
}
