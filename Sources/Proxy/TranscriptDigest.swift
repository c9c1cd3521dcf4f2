/// A keyed 64-bit digest of a byte stream, fed in pieces: SipHash-1-3 (the function Swift's `Hasher` uses)
/// over 8-byte words, with a key drawn from the system's random generator once per process.
///
/// Written out rather than taken from `Hasher`, whose `combine(bytes:)` cost about 5.6 instructions per byte
/// here (more than the deflate it saves); this runs at about 2. Keyed: a client that does not know the key
/// cannot make two different histories collide. The same bytes fed in different pieces give the same digest.
/// Concurrency: a value owned by one caller; the key is immutable.
struct TranscriptDigest {
    private static let key: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()

    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    /// Bytes not yet forming a whole word, little-endian, and how many; `length` counts every byte fed.
    private var tail: UInt64 = 0
    private var tailCount = 0
    private var length = 0

    init() {
        let (k0, k1) = Self.key
        v0 = k0 ^ 0x736f_6d65_7073_6575
        v1 = k1 ^ 0x646f_7261_6e64_6f6d
        v2 = k0 ^ 0x6c79_6765_6e65_7261
        v3 = k1 ^ 0x7465_6462_7974_6573
    }

    mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        length &+= bytes.count
        var i = 0
        // Complete a word left over from the previous piece.
        while tailCount > 0 && tailCount < 8 && i < bytes.count {
            tail |= UInt64(bytes[i]) << (8 * UInt64(tailCount))
            tailCount += 1
            i += 1
        }
        if tailCount == 8 {
            compress(tail)
            tail = 0
            tailCount = 0
        }
        // The state in locals for the bulk of the bytes: compressing through `self` kept it in memory and
        // stored it back after every word.
        var s = (v0, v1, v2, v3)
        while i + 8 <= bytes.count {
            let m = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            s.3 ^= m
            Self.round(&s)
            s.0 ^= m
            i += 8
        }
        (v0, v1, v2, v3) = s
        while i < bytes.count {
            tail |= UInt64(bytes[i]) << (8 * UInt64(tailCount))
            tailCount += 1
            i += 1
        }
    }

    /// The digest of everything combined so far; more may be combined afterwards.
    var value: Int {
        var copy = self
        let last = UInt64(truncatingIfNeeded: length) << 56 | copy.tail
        copy.compress(last)
        copy.v2 ^= 0xff
        copy.round()
        copy.round()
        copy.round()
        return Int(truncatingIfNeeded: copy.v0 ^ copy.v1 ^ copy.v2 ^ copy.v3)
    }

    private mutating func compress(_ m: UInt64) {
        v3 ^= m
        round()
        v0 ^= m
    }

    private mutating func round() {
        var s = (v0, v1, v2, v3)
        Self.round(&s)
        (v0, v1, v2, v3) = s
    }

    @inline(__always)
    private static func round(_ s: inout (UInt64, UInt64, UInt64, UInt64)) {
        s.0 &+= s.1
        s.1 = s.1.rotated(13) ^ s.0
        s.0 = s.0.rotated(32)
        s.2 &+= s.3
        s.3 = s.3.rotated(16) ^ s.2
        s.0 &+= s.3
        s.3 = s.3.rotated(21) ^ s.0
        s.2 &+= s.1
        s.1 = s.1.rotated(17) ^ s.2
        s.2 = s.2.rotated(32)
    }
}

extension UInt64 {
    fileprivate func rotated(_ n: UInt64) -> UInt64 { self << n | self >> (64 - n) }
}
