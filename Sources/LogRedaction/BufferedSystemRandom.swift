import CSightlineSys
import Synchronization

/// The kernel's random bytes, drawn 512 at a time: `SystemRandomNumberGenerator` makes one getrandom(2) call
/// per 8 bytes, which was four system calls per proxied request for its trace and span ids
/// (docs/benchmarks.md, sixth pass). The bytes come from the same generator; only the calls are fewer. If the
/// call fails, words come from `SystemRandomNumberGenerator` instead.
///
/// Not for keys: unused words wait in process memory (keys come from `SystemRandomNumberGenerator` itself).
/// Concurrency: `Sendable`; one process-wide buffer behind a `Mutex`, so no word is handed out twice. A forked
/// child would repeat its parent's unused words; Sightline does not fork.
public struct BufferedSystemRandom: RandomNumberGenerator, Sendable {
    private struct Pool {
        var words = [UInt64](repeating: 0, count: 64)
        var next = 64
    }

    private static let pool = Mutex(Pool())

    public init() {}

    public mutating func next() -> UInt64 {
        let word = Self.pool.withLock { pool -> UInt64? in
            if pool.next == pool.words.count {
                guard pool.words.withUnsafeMutableBytes({ sl_getrandom($0.baseAddress, $0.count) }) == 0 else {
                    return nil
                }
                pool.next = 0
            }
            defer { pool.next += 1 }
            return pool.words[pool.next]
        }
        if let word { return word }
        var system = SystemRandomNumberGenerator()
        return system.next()
    }
}
