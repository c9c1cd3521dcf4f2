import CZstd
import WireFormats

/// libFuzzer target `zstd`: `ZstdDecoder` (the `content-encoding: zstd` request-body decoder) over
/// arbitrary bytes, and over frames libzstd compresses from those bytes.
///
/// Invariants beyond "does not crash or hang":
/// - Arbitrary input, as a body, against libzstd's one-shot `ZSTD_decompressDCtx` into a buffer of the
///   limit (64 KiB here): a decoded body is never longer than the limit and is byte for byte what the
///   one-shot decoder returns; whatever the one-shot decoder refuses, `ZstdDecoder` refuses too; and what
///   the one-shot decoder accepts, `ZstdDecoder` accepts unless the frame asks for a window above its cap
///   (then `too_large`, never another reason) or holds a block larger than its window, which RFC 8878 forbids
///   and libzstd's own streaming decoder refuses too (then `corrupt`, with that decoder's reason). A decoded body of n > 0 bytes decodes the same with a
///   limit of exactly n, and fails `too_large` with n - 1.
/// - The input as plaintext (sometimes repeated, up to twice the limit, so bodies above it occur), compressed by
///   libzstd as two concatenated frames with a level, checksum and content-size flag chosen from the input:
///   decodes to exactly the plaintext with a limit of its length, fails `too_large` one byte below it, and
///   fails `truncated` without its last byte; with the 64 KiB limit a plaintext above it fails `too_large`.
@_cdecl("LLVMFuzzerTestOneInput")
public func zstdFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let bytes = Array(input)
    ZstdRun.againstOneShot(bytes)
    var choices = FuzzSplit(input)
    ZstdRun.roundTrip(bytes, &choices)
    return 0
}

enum ZstdRun {
    static let maxOutputBytes = 64 * 1024
    /// libzstd's name for ZSTD_error_frameParameter_windowTooLarge (16; error results are `-code`).
    static let windowTooLarge = String(cString: ZSTD_getErrorName(0 &- 16))

    // libFuzzer calls the harness on one thread; the contexts are reused to keep executions fast.
    nonisolated(unsafe) static let cctx = ZSTD_createCCtx()
    nonisolated(unsafe) static let dctx = ZSTD_createDCtx()

    static func decode(_ bytes: [UInt8], limit: Int) -> Result<[UInt8], ZstdError> {
        do {
            return .success(try ZstdDecoder.decode(bytes, maxOutputBytes: limit))
        } catch {
            return .failure(error)
        }
    }

    /// libzstd's one-shot decoding into `limit` bytes: the output, or the error code.
    static func oneShot(_ bytes: [UInt8], limit: Int) -> Result<[UInt8], OneShotError> {
        var out = [UInt8](repeating: 0, count: max(limit, 1))
        let r = out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in ZSTD_decompressDCtx(dctx, dst.baseAddress, limit, src.baseAddress, src.count)
            }
        }
        if ZSTD_isError(r) != 0 { return .failure(OneShotError(code: 0 &- r)) }
        return .success(Array(out[0..<r]))
    }

    struct OneShotError: Error { var code: Int }

    /// The error code libzstd's streaming decoder (default window limit) stops `bytes` with, or nil. A fresh
    /// context each time, as `ZstdDecoder` uses: a reused one keeps the larger buffers of earlier frames, into
    /// which an oversized block then fits, so its answer would depend on the inputs before.
    static func streamingError(_ bytes: [UInt8]) -> Int? {
        guard let dstream = ZSTD_createDStream() else { return nil }
        defer { ZSTD_freeDStream(dstream) }
        var out = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        return bytes.withUnsafeBytes { src -> Int? in
            var input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
            while true {
                let (r, produced) = out.withUnsafeMutableBytes { dst -> (Int, Int) in
                    var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                    let r = ZSTD_decompressStream(dstream, &output, &input)
                    return (r, output.pos)
                }
                if ZSTD_isError(r) != 0 { return 0 &- r }
                if input.pos == input.size && produced < out.count { return nil }
            }
        }
    }

    static func againstOneShot(_ bytes: [UInt8]) {
        let ours = decode(bytes, limit: maxOutputBytes)
        if bytes.isEmpty {
            fuzzInvariant(ours == .failure(ZstdError(.truncated, detail: "empty input")), "empty input: \(ours)")
            return
        }
        switch (ours, oneShot(bytes, limit: maxOutputBytes)) {
        case (.success(let body), .success(let reference)):
            fuzzInvariant(body.count <= maxOutputBytes, "decoded \(body.count) bytes, limit \(maxOutputBytes)")
            fuzzInvariant(body == reference, "decoded \(body.count) bytes, libzstd one-shot \(reference.count)")
            checkLimitBoundary(bytes, body)
        case (.success(let body), .failure(let error)):
            fuzzInvariant(false, "decoded \(body.count) bytes that libzstd refuses (error \(error.code))")
        case (.failure(let error), .success(let reference)):
            // The one-shot decoder is laxer than libzstd's own streaming decoder: it takes a block larger than
            // the frame's window, which RFC 8878 forbids (Block_Maximum_Size) and the streaming decoder refuses
            // (dstSize_tooSmall or corruption_detected, by the block's size). Such a frame may be refused too,
            // with the streaming decoder's own reason.
            let streamingRefusal = streamingError(bytes).map { String(cString: ZSTD_getErrorName(0 &- $0)) }
            fuzzInvariant(
                (error.reason == .tooLarge && error.detail == windowTooLarge)
                    || (error.reason == .corrupt && streamingRefusal == error.detail),
                "refused \(reference.count) bytes libzstd decodes: \(error.reason) \(error.detail)"
            )
        case (.failure, .failure):
            break
        }
    }

    /// The limit is inclusive and exact: n bytes pass a limit of n and fail one of n - 1.
    static func checkLimitBoundary(_ bytes: [UInt8], _ body: [UInt8]) {
        guard !body.isEmpty else { return }
        let exact = decode(bytes, limit: body.count)
        fuzzInvariant(exact == .success(body), "limit \(body.count) for \(body.count) bytes: \(exact)")
        let below = decode(bytes, limit: body.count - 1)
        fuzzInvariant(
            below.failureReason == .tooLarge,
            "limit \(body.count - 1) for \(body.count) bytes: \(below.failureReason.map(\.description) ?? "decoded")"
        )
    }

    static func roundTrip(_ bytes: [UInt8], _ choices: inout FuzzSplit) {
        var plain = bytes
        if choices.next(maxChunk: 4) == 1 {
            // Up to twice the limit: enough to cross it, and cheap enough to keep executions fast.
            let copies = min(choices.next(maxChunk: 32), 1 + 2 * maxOutputBytes / max(bytes.count, 1))
            plain = Array([[UInt8]](repeating: bytes, count: copies).joined())
        }
        let cut = choices.next(maxChunk: plain.count + 1) - 1
        var frames = compress(plain[..<cut], &choices)
        frames += compress(plain[cut...], &choices)

        let exact = decode(frames, limit: plain.count)
        fuzzInvariant(exact == .success(plain), "round trip of \(plain.count) bytes: \(exact)")
        if plain.count > 0 {
            let below = decode(frames, limit: plain.count - 1)
            fuzzInvariant(below.failureReason == .tooLarge, "\(plain.count) bytes, limit one less: \(below)")
        }
        let truncated = decode(Array(frames.dropLast()), limit: plain.count)
        fuzzInvariant(truncated.failureReason == .truncated, "frames without their last byte: \(truncated)")
        let bounded = decode(frames, limit: maxOutputBytes)
        if plain.count > maxOutputBytes {
            fuzzInvariant(bounded.failureReason == .tooLarge, "\(plain.count) bytes past the limit: \(bounded)")
        } else {
            fuzzInvariant(bounded == .success(plain), "\(plain.count) bytes within the limit: \(bounded)")
        }
    }

    /// One frame of `plain` at a level from -2 to 5, with or without checksum and content size.
    static func compress(_ plain: ArraySlice<UInt8>, _ choices: inout FuzzSplit) -> [UInt8] {
        _ = ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)
        _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, Int32(choices.next(maxChunk: 8)) - 3)
        _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, Int32(choices.next(maxChunk: 2) - 1))
        _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, Int32(choices.next(maxChunk: 2) - 1))
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(plain.count))
        let n = out.withUnsafeMutableBytes { dst in
            plain.withUnsafeBytes { src in ZSTD_compress2(cctx, dst.baseAddress, dst.count, src.baseAddress, src.count)
            }
        }
        fuzzInvariant(ZSTD_isError(n) == 0, "libzstd could not compress \(plain.count) bytes")
        return Array(out[0..<n])
    }
}

extension Result where Failure == ZstdError {
    var failureReason: ZstdError.Reason? {
        if case .failure(let error) = self { return error.reason }
        return nil
    }
}
