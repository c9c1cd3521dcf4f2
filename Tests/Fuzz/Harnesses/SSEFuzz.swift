import WireFormats

/// libFuzzer target `sse`: `SSEFramer` and `SSEParser` over an arbitrary event stream.
///
/// Invariants beyond "does not crash or hang": the framer's blocks plus its remainder are exactly the bytes
/// fed, however they were split, and every block ends in a line ending; the parser yields the same events and
/// last event id whether the stream arrives at once or in pieces (the SSE spec makes the split invisible);
/// and if the whole stream overflows `maxEventBytes`, the split one does too (a split stream may overflow
/// earlier, on an event the whole stream completes, so the converse is not required).
@_cdecl("LLVMFuzzerTestOneInput")
public func sseFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let bytes = Array(input)
    var split = FuzzSplit(input)
    let chunks = split.chunks(of: bytes, maxChunk: 11)

    for pieces in [[bytes[...]], chunks] {
        var framer = SSEFramer(maxEventBytes: SSERun.maxEventBytes)
        var joined: [UInt8] = []
        do {
            for piece in pieces {
                for block in try framer.feed(piece) {
                    fuzzInvariant(block.last == 0x0A || block.last == 0x0D, "block does not end a line: \(block)")
                    joined.append(contentsOf: block)
                }
            }
            joined.append(contentsOf: framer.remainder)
            fuzzInvariant(joined == bytes, "blocks + remainder != input")
        } catch {
            fuzzInvariant(error.reason == .eventTooLarge, "unexpected error \(error)")
        }
    }

    let whole = SSERun.parse([bytes])
    let pieces = SSERun.parse(chunks.map { Array($0) })
    if whole.overflowed {
        fuzzInvariant(pieces.overflowed, "whole stream overflowed, split one did not")
    } else if !pieces.overflowed {
        fuzzInvariant(whole == pieces, "split changed the events:\n whole: \(whole)\n split: \(pieces)")
    }
    return 0
}

/// What an `SSEParser` produced from one stream.
struct SSERun: Equatable {
    static let maxEventBytes = 512

    var events: [SSEEvent] = []
    var lastEventID: String?
    var overflowed = false

    static func parse(_ chunks: [[UInt8]]) -> SSERun {
        var parser = SSEParser(maxEventBytes: maxEventBytes)
        var run = SSERun()
        do {
            for chunk in chunks { run.events += try parser.feed(chunk) }
        } catch {
            run.overflowed = true
        }
        run.lastEventID = parser.lastEventID
        return run
    }
}
