@testable import HTTPServer

/// libFuzzer target `chunked`: `ChunkedDecoder` over arbitrary bytes taken as a chunked request body.
///
/// Invariants beyond "does not crash or hang": each call consumes no more than it was given; the decoded body
/// never exceeds `maxBodyBytes`; and the body, the result and the bytes consumed up to `done` are the same
/// whether the input arrives at once or in small pieces. When both runs fail, only the fact is compared: a
/// size limit and a syntax error on the same input may be noticed in either order.
@_cdecl("LLVMFuzzerTestOneInput")
public func chunkedFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let bytes = Array(input)
    let whole = ChunkedRun.decode([bytes[...]])
    var split = FuzzSplit(input)
    let pieces = ChunkedRun.decode(split.chunks(of: bytes, maxChunk: 7))
    fuzzInvariant(whole == pieces, "split changed the outcome:\n whole: \(whole)\n split: \(pieces)")
    return 0
}

/// The outcome of decoding one body.
struct ChunkedRun: Equatable {
    static let maxBodyBytes = 1024
    static let maxMetadataBytes = 256

    var body: [UInt8]
    var consumed: Int
    var outcome: String

    static func decode(_ chunks: [ArraySlice<UInt8>]) -> ChunkedRun {
        var decoder = ChunkedDecoder(maxMetadataBytes: maxMetadataBytes)
        var body: [UInt8] = []
        var total = 0
        for chunk in chunks {
            let (consumed, result) = chunk.withUnsafeBytes {
                decoder.decode($0, into: &body, maxBodyBytes: maxBodyBytes)
            }
            fuzzInvariant(consumed >= 0 && consumed <= chunk.count, "consumed \(consumed) of \(chunk.count)")
            fuzzInvariant(body.count <= maxBodyBytes, "body of \(body.count) bytes")
            total += consumed
            switch result {
            case .needMore:
                fuzzInvariant(consumed == chunk.count, "needMore after \(consumed) of \(chunk.count)")
            case .done:
                fuzzInvariant(decoder.isDone, "done but not isDone")
                return ChunkedRun(body: body, consumed: total, outcome: "done")
            case .failed(let error):
                fuzzInvariant(error.status == 400 || error.status == 413, "status \(error.status)")
                return ChunkedRun(body: [], consumed: 0, outcome: "failed")
            }
        }
        return ChunkedRun(body: body, consumed: total, outcome: "needMore")
    }
}
