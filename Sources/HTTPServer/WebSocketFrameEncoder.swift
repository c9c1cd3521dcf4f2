/// Encodes RFC 6455 frames: unmasked for a server, masked with a fresh random key for a client (§5.3).
///
/// Does not fragment: every call produces one frame (a whole message unless `fin` is false). Does not check
/// control-frame limits beyond truncating close reasons to fit 125 bytes. Pure apart from the random mask
/// key. Concurrency: stateless; `Sendable`.
public enum WebSocketFrameEncoder {
    /// One frame with `payload`; `maskingKey` nil means unmasked (server to client).
    public static func encode(
        opcode: WebSocketOpcode,
        payload: [UInt8],
        fin: Bool = true,
        maskingKey: (UInt8, UInt8, UInt8, UInt8)? = nil
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 14)
        appendHeader(opcode, payloadCount: payload.count, fin: fin, masked: maskingKey != nil, to: &out)
        guard let key = maskingKey else {
            out.append(contentsOf: payload)
            return out
        }
        out.append(contentsOf: [key.0, key.1, key.2, key.3])
        var masked = payload
        applyMask(&masked, key: key)
        out.append(contentsOf: masked)
        return out
    }

    /// A server frame (never masked).
    public static func server(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        encode(opcode: opcode, payload: payload, fin: fin)
    }

    /// Appends `server(opcode, payload)` to `out`, so a burst of frames is built in one buffer.
    public static func appendServer(_ opcode: WebSocketOpcode, _ payload: [UInt8], to out: inout [UInt8]) {
        appendHeader(opcode, payloadCount: payload.count, fin: true, masked: false, to: &out)
        out.append(contentsOf: payload)
    }

    /// The first byte, the mask bit and the length (7 bits, or 126 + 16 bits, or 127 + 64 bits).
    private static func appendHeader(
        _ opcode: WebSocketOpcode,
        payloadCount: Int,
        fin: Bool,
        masked: Bool,
        to out: inout [UInt8]
    ) {
        out.append((fin ? 0x80 : 0) | opcode.rawValue)
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payloadCount <= 125 {
            out.append(maskBit | UInt8(payloadCount))
        } else if payloadCount <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(UInt8(payloadCount >> 8))
            out.append(UInt8(payloadCount & 0xFF))
        } else {
            out.append(maskBit | 127)
            let length = UInt64(payloadCount)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((length >> UInt64(shift)) & 0xFF)) }
        }
    }

    /// A client frame, masked with a random key as RFC 6455 requires.
    public static func client(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        let r = UInt32.random(in: .min ... .max)
        let key = (UInt8(r >> 24), UInt8((r >> 16) & 0xFF), UInt8((r >> 8) & 0xFF), UInt8(r & 0xFF))
        return encode(opcode: opcode, payload: payload, fin: fin, maskingKey: key)
    }

    /// The payload of a close frame: the code, then the reason cut to 123 bytes on a character boundary.
    public static func closePayload(code: UInt16, reason: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var used = 0
        for scalar in reason.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if used + bytes.count > 123 { break }
            out.append(contentsOf: bytes)
            used += bytes.count
        }
        return out
    }

    /// XORs `bytes` with the 4-byte key in place; masking and unmasking are the same operation.
    /// Eight bytes at a time: byte by byte took 0.6 ns a byte, 28 µs for a 50 KB `response.create`.
    public static func applyMask(_ bytes: inout [UInt8], key: (UInt8, UInt8, UInt8, UInt8)) {
        let k = (key.0, key.1, key.2, key.3)
        // The key repeated over a word, in memory order, so that word i of the payload (offset 8i, a multiple
        // of 4) lines up with key byte 0.
        let k32 = UInt32(k.0) | UInt32(k.1) << 8 | UInt32(k.2) << 16 | UInt32(k.3) << 24
        let word = UInt64(littleEndian: UInt64(k32) | UInt64(k32) << 32)
        bytes.withUnsafeMutableBytes { raw in
            let n = raw.count
            var i = 0
            while i + 8 <= n {
                let v = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                raw.storeBytes(of: v ^ word, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < n {
                let m: UInt8
                switch i & 3 {
                case 0: m = k.0
                case 1: m = k.1
                case 2: m = k.2
                default: m = k.3
                }
                raw[i] ^= m
                i += 1
            }
        }
    }
}
