/// SHA-1 (FIPS 180-4), hand-written; exists only for the WebSocket handshake (RFC 6455
/// `Sec-WebSocket-Accept`).
///
/// SHA-1 is broken for collision resistance: do not use it for pseudonyms, MACs or anything an attacker
/// could choose. Concurrency: a value type; each hashing state is owned by its caller.
public struct SHA1: Sendable {
    public static let digestLength = 20
    public static let blockLength = 64

    private var core = MerkleDamgard<SHA1Function>()

    public init() {}

    /// The digest of `bytes` in one call.
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = SHA1()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Absorbs more message bytes.
    public mutating func update(_ bytes: some Collection<UInt8>) { core.update(bytes) }

    /// Pads, processes the last block(s) and returns the 20-byte digest. The state is spent afterwards.
    public mutating func finalize() -> [UInt8] { core.finalize() }
}

/// The SHA1 block function (FIPS 180-4) for `MerkleDamgard`.
enum SHA1Function: MerkleDamgardFunction {
    static let initialState: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0]

    @inline(__always)
    private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }

    static func compress(_ h: inout [UInt32], _ block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for i in 0..<16 {
                w[i] =
                    UInt32(block[i * 4]) << 24 | UInt32(block[i * 4 + 1]) << 16 | UInt32(block[i * 4 + 2]) << 8
                    | UInt32(block[i * 4 + 3])
            }
            for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
            var a = h[0]
            var b = h[1]
            var c = h[2]
            var d = h[3]
            var e = h[4]
            for i in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch i {
                case 0..<20:
                    f = (b & c) | (~b & d)
                    k = 0x5a82_7999
                case 20..<40:
                    f = b ^ c ^ d
                    k = 0x6ed9_eba1
                case 40..<60:
                    f = (b & c) | (b & d) | (c & d)
                    k = 0x8f1b_bcdc
                default:
                    f = b ^ c ^ d
                    k = 0xca62_c1d6
                }
                let temp = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
                e = d
                d = c
                c = rotl(b, 30)
                b = a
                a = temp
            }
            h[0] &+= a
            h[1] &+= b
            h[2] &+= c
            h[3] &+= d
            h[4] &+= e
        }
    }
}
