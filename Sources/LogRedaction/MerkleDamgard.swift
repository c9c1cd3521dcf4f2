/// The Merkle–Damgård framing SHA-1 and SHA-256 share (FIPS 180-4 §5): 64-byte blocks, buffering of a
/// partial block, the `0x80 … length` padding and a big-endian digest of the state words. Each algorithm
/// supplies only its initial state and its block compression function.
///
/// Not constant-time with respect to the message, and not for any other block size.
/// Concurrency: a value type; each hashing state is owned by its caller.
protocol MerkleDamgardFunction {
    static var initialState: [UInt32] { get }
    static func compress(_ state: inout [UInt32], _ block: UnsafeRawBufferPointer)
}

struct MerkleDamgard<F: MerkleDamgardFunction>: Sendable {
    static var blockLength: Int { 64 }

    private var state = F.initialState
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    init() {
        pending.reserveCapacity(Self.blockLength)
    }

    /// Absorbs more message bytes.
    mutating func update(_ bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { absorb(UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(bytes).withUnsafeBytes { absorb($0) }
        }
    }

    /// Pads, processes the last block(s) and returns the digest (4 bytes per state word, big-endian).
    /// The state is spent afterwards.
    mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % Self.blockLength != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> shift)) }
        tail.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                F.compress(&state, UnsafeRawBufferPointer(rebasing: raw[offset..<offset + Self.blockLength]))
                offset += Self.blockLength
            }
        }
        pending.removeAll()
        var digest = [UInt8]()
        digest.reserveCapacity(state.count * 4)
        for word in state {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    private mutating func absorb(_ input: UnsafeRawBufferPointer) {
        length &+= UInt64(input.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(Self.blockLength - pending.count, input.count)
            pending.append(contentsOf: input[0..<take])
            offset = take
            if pending.count == Self.blockLength {
                let block = pending
                block.withUnsafeBytes { F.compress(&state, $0) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while input.count - offset >= Self.blockLength {
            F.compress(&state, UnsafeRawBufferPointer(rebasing: input[offset..<offset + Self.blockLength]))
            offset += Self.blockLength
        }
        if offset < input.count { pending.append(contentsOf: input[offset...]) }
    }
}
