@testable import HTTPServer

/// libFuzzer target `http_request`: `HTTPRequestParser` over arbitrary bytes, as one connection would see
/// them (pipelined requests, bodies of both framings, garbage).
///
/// Invariants beyond "does not crash or hang": every call consumes no more than it was given; a body never
/// exceeds `maxBodyBytes`; and the requests accepted (and whether the connection ends in a refusal) are the
/// same whether the bytes arrive at once or in small pieces. Only the refusal's reason may differ with the
/// split: a head that is both too long and malformed is refused for whichever is noticed first.
@_cdecl("LLVMFuzzerTestOneInput")
public func httpRequestFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let bytes = Array(input)
    let whole = HTTPTranscript.drive([bytes[...]])
    var split = FuzzSplit(input)
    let pieces = HTTPTranscript.drive(split.chunks(of: bytes, maxChunk: 9))
    fuzzInvariant(whole == pieces, "split changed the outcome:\n whole: \(whole)\n split: \(pieces)")
    return 0
}

/// What a connection did with the bytes: one line per event, a refusal normalised to "failed".
enum HTTPTranscript {
    static let maxHeaderBytes = 600
    static let maxBodyBytes = 2048

    static func drive(_ chunks: [ArraySlice<UInt8>]) -> [String] {
        var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        var buffered: [UInt8] = []
        var log: [String] = []
        for chunk in chunks {
            buffered.append(contentsOf: chunk)
            var offset = 0
            var steps = 0
            loop: while true {
                steps += 1
                fuzzInvariant(steps < 100_000, "parser made no progress")
                let available = buffered.count - offset
                let (consumed, event) = buffered.withUnsafeBytes {
                    parser.parse(UnsafeRawBufferPointer(rebasing: $0[offset...]))
                }
                fuzzInvariant(consumed >= 0 && consumed <= available, "consumed \(consumed) of \(available)")
                offset += consumed
                switch event {
                case .needMore:
                    break loop
                case .head(let expectsContinue):
                    log.append("head continue=\(expectsContinue)")
                case .request(let request, let keepAlive):
                    fuzzInvariant(request.body.count <= maxBodyBytes, "body of \(request.body.count) bytes")
                    fuzzInvariant(!request.method.isEmpty, "empty method")
                    let headers = request.headers.map { "\($0.name): \($0.value)" }.joined(separator: "|")
                    log.append(
                        "request \(request.method) \(request.target) 1.\(request.minorVersion) keepAlive=\(keepAlive) "
                            + "headers=[\(headers)] body=\(request.body)"
                    )
                case .failed(let error):
                    fuzzInvariant((400..<500).contains(error.status), "status \(error.status)")
                    log.append("failed")
                    return log
                }
            }
            buffered.removeFirst(offset)
        }
        return log
    }
}
