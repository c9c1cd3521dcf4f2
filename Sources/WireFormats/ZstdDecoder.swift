import CZstd

/// Decodes zstd request bodies (Codex sends them with ChatGPT login, `content-encoding: zstd`).
///
/// Uses libzstd's streaming API so the output size is checked as it grows: a small frame that expands past
/// `maxOutputBytes` stops with `too_large` after at most one output block past the limit, whatever its header
/// claims (zip-bomb guard). The decoder window is capped at max(8 MiB, next power of two ≥ `maxOutputBytes`,
/// at most 128 MiB), so a hostile header cannot make libzstd allocate more. Concatenated frames are decoded in
/// sequence. It does not encode.
/// Concurrency: stateless; each call owns its own libzstd context.
public enum ZstdDecoder {
    public static func decode(_ bytes: [UInt8], maxOutputBytes: Int) throws(ZstdError) -> [UInt8] {
        guard !bytes.isEmpty else { throw ZstdError(.truncated, detail: "empty input") }
        guard let stream = ZSTD_createDStream() else { throw ZstdError(.outOfMemory) }
        defer { ZSTD_freeDStream(stream) }
        var windowLog: Int32 = 23
        while windowLog < 27 && (1 << windowLog) < maxOutputBytes { windowLog += 1 }
        _ = ZSTD_DCtx_setParameter(stream, ZSTD_d_windowLogMax, windowLog)

        let chunk = ZSTD_DStreamOutSize()
        var output: [UInt8] = []
        output.reserveCapacity(min(maxOutputBytes, max(bytes.count * 4, chunk)))
        var scratch = [UInt8](repeating: 0, count: chunk)
        var lastResult = 0
        let failure: ZstdError? = bytes.withUnsafeBytes { input -> ZstdError? in
            var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
            while true {
                let (result, produced) = scratch.withUnsafeMutableBytes { out -> (Int, Int) in
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let r = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                    return (r, outBuffer.pos)
                }
                if ZSTD_isError(result) != 0 {
                    let name = String(cString: ZSTD_getErrorName(result))
                    // zstd_errors.h (not in our module map): error results are `-code`, codes < 100 are stable,
                    // and 16 is ZSTD_error_frameParameter_windowTooLarge.
                    let isWindow = 0 &- result == 16
                    return ZstdError(isWindow ? .tooLarge : .corrupt, detail: name)
                }
                if output.count + produced > maxOutputBytes {
                    return ZstdError(.tooLarge, detail: "output exceeds \(maxOutputBytes) bytes")
                }
                output.append(contentsOf: scratch[0..<produced])
                lastResult = result
                // Done when all input is consumed and the decoder has flushed everything it holds.
                if inBuffer.pos == inBuffer.size && produced < chunk { return nil }
            }
        }
        if let failure { throw failure }
        // A non-zero hint after the input ran out means the last frame is incomplete.
        guard lastResult == 0 else { throw ZstdError(.truncated, detail: "input ended inside a frame") }
        return output
    }
}
