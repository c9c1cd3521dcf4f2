import CZlib

/// One-shot gzip (RFC 1952) compression of a response body, via zlib.
///
/// Uses window bits 15 + 16 (the gzip wrapper that `Content-Encoding: gzip` requires; 15 would be
/// zlib and -15 raw deflate). It does not stream: a scrape body is a few hundred kilobytes at most.
/// Returns nil when zlib fails, so the caller sends the body uncompressed instead.
/// Concurrency: stateless; each call owns its own `z_stream`.
public enum Gzip {
    public static func compress(_ input: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard sl_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        // deflateBound is exact for a single Z_FINISH call, so one pass always suffices.
        let capacity = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: capacity)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeLast(Int(stream.avail_out))
        return output
    }
}
