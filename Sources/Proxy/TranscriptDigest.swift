/// A keyed 64-bit digest of a byte stream, fed in pieces: the NH universal hash (as in UMAC) over 1 KiB
/// blocks, each block's 128-bit sum then fed to SipHash-1-3 with the length last. Both keys are drawn from
/// the system's random generator once per process.
///
/// Why NH: the transcript store digests every turn's whole history, and SipHash-1-3 over it (about 2.9
/// instructions per byte, one serial chain of additions and rotations) was 9 % of a proxied request's
/// instructions at 48 KB and a quarter of the 1 MB path (docs/benchmarks.md, thirteenth pass). NH takes one
/// 64×64→128-bit multiply per 16 bytes, about 0.6 instructions per byte, and its multiplies do not wait on
/// each other. Keyed either way: for two different byte strings of one length, NH's block sums collide with
/// probability at most 2⁻⁶⁴ over its key, and the digests are never shown to anyone, so a client cannot
/// search for a collision; different lengths are told apart by SipHash, which takes the length last.
/// The same bytes fed in different pieces give the same digest.
/// Concurrency: a value owned by one caller; the keys are immutable.
struct TranscriptDigest {
    /// Words per NH block: 128 words, 1 KiB.
    private static let blockWords = 128
    private static let keys: (sip: (UInt64, UInt64), nh: [UInt64]) = {
        var generator = SystemRandomNumberGenerator()
        let sip = (generator.next() as UInt64, generator.next() as UInt64)
        return (sip, (0..<blockWords).map { _ in generator.next() })
    }()

    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    /// The current block's NH sum (mod 2¹²⁸) and how many of its words it holds.
    private var sumLow: UInt64 = 0
    private var sumHigh: UInt64 = 0
    private var word = 0
    /// Bytes not yet forming a whole pair of words, little-endian, and how many; `length` counts every byte fed.
    private var pending: (UInt64, UInt64) = (0, 0)
    private var pendingCount = 0
    private var length = 0

    init() {
        let (k0, k1) = Self.keys.sip
        v0 = k0 ^ 0x736f_6d65_7073_6575
        v1 = k1 ^ 0x646f_7261_6e64_6f6d
        v2 = k0 ^ 0x6c79_6765_6e65_7261
        v3 = k1 ^ 0x7465_6462_7974_6573
    }

    mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        length &+= bytes.count
        var i = 0
        // Complete a pair of words left over from the previous piece.
        if pendingCount > 0 {
            while pendingCount < 16 && i < bytes.count {
                addPending(bytes[i])
                i += 1
            }
            guard pendingCount == 16 else { return }
            absorb(pending.0, pending.1)
            pending = (0, 0)
            pendingCount = 0
        }
        // The sum and the position in locals for the bulk of the bytes, a block's run of pairs in one loop with
        // unchecked arithmetic (its bounds are worked out before it), the key read without a copy.
        if i + 16 <= bytes.count, let base = bytes.baseAddress {
            Self.keys.nh.withUnsafeBufferPointer { keyBuffer in
                let key = keyBuffer.baseAddress!
                var low = sumLow
                var high = sumHigh
                var w = word
                while i + 16 <= bytes.count {
                    let pairs = min((bytes.count - i) / 16, (Self.blockWords - w) / 2)
                    var p = base + i
                    var k = key + w
                    for _ in 0..<pairs {
                        let a = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) &+ k[0]
                        let b = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) &+ k[1]
                        let product = a.multipliedFullWidth(by: b)
                        let (sum, carry) = low.addingReportingOverflow(product.low)
                        low = sum
                        high = high &+ product.high &+ (carry ? 1 : 0)
                        p += 16
                        k += 2
                    }
                    i += 16 * pairs
                    w += 2 * pairs
                    if w == Self.blockWords {
                        sumLow = low
                        sumHigh = high
                        endBlock()
                        low = 0
                        high = 0
                        w = 0
                    }
                }
                sumLow = low
                sumHigh = high
                word = w
            }
        }
        while i < bytes.count {
            addPending(bytes[i])
            i += 1
        }
    }

    /// The digest of everything combined so far; more may be combined afterwards.
    var value: Int {
        var copy = self
        if copy.pendingCount > 0 { copy.absorb(copy.pending.0, copy.pending.1) }  // zero-padded
        if copy.word > 0 { copy.endBlock() }
        copy.compress(UInt64(truncatingIfNeeded: length))
        copy.v2 ^= 0xff
        copy.round()
        copy.round()
        copy.round()
        return Int(truncatingIfNeeded: copy.v0 ^ copy.v1 ^ copy.v2 ^ copy.v3)
    }

    private mutating func addPending(_ byte: UInt8) {
        let shift = 8 * UInt64(pendingCount % 8)
        if pendingCount < 8 { pending.0 |= UInt64(byte) << shift } else { pending.1 |= UInt64(byte) << shift }
        pendingCount += 1
    }

    /// One pair of words into the current block; a full block goes to SipHash.
    private mutating func absorb(_ m0: UInt64, _ m1: UInt64) {
        let product = (m0 &+ Self.keys.nh[word]).multipliedFullWidth(by: m1 &+ Self.keys.nh[word + 1])
        let (sum, carry) = sumLow.addingReportingOverflow(product.low)
        sumLow = sum
        sumHigh = sumHigh &+ product.high &+ (carry ? 1 : 0)
        word += 2
        if word == Self.blockWords { endBlock() }
    }

    private mutating func endBlock() {
        compress(sumLow)
        compress(sumHigh)
        sumLow = 0
        sumHigh = 0
        word = 0
    }

    private mutating func compress(_ m: UInt64) {
        v3 ^= m
        round()
        v0 ^= m
    }

    private mutating func round() {
        v0 &+= v1
        v1 = v1.rotated(13) ^ v0
        v0 = v0.rotated(32)
        v2 &+= v3
        v3 = v3.rotated(16) ^ v2
        v0 &+= v3
        v3 = v3.rotated(21) ^ v0
        v2 &+= v1
        v1 = v1.rotated(17) ^ v2
        v2 = v2.rotated(32)
    }
}

extension UInt64 {
    fileprivate func rotated(_ n: UInt64) -> UInt64 { self << n | self >> (64 - n) }
}
