import CZlib

#if canImport(Glibc)
import Glibc
#endif

/// Compresses one file into a gzip (RFC 1952) file with zlib, streaming in 64 KiB chunks.
///
/// Writes `destination + ".tmp"` first and renames it into place, so a reader never sees a partial
/// `.gz`. Does not delete the source. Used off the request path by `FileLogSink` rotation.
enum GzipFile {
    struct Failure: Error, Equatable {
        let reason: String
    }

    static func compress(source: String, destination: String, level: Int32 = Z_DEFAULT_COMPRESSION) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw Failure(reason: "open_source_failed") }
        defer { close(input) }
        let temporary = destination + ".tmp"
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard output >= 0 else { throw Failure(reason: "open_destination_failed") }
        var succeeded = false
        defer {
            close(output)
            if !succeeded { unlink(temporary) }
        }

        var stream = z_stream()
        guard sl_deflate_init_gzip(&stream, level) == Z_OK else { throw Failure(reason: "deflate_init_failed") }
        defer { deflateEnd(&stream) }
        var inBuffer = [UInt8](repeating: 0, count: 64 * 1024)
        var outBuffer = [UInt8](repeating: 0, count: 64 * 1024)
        var finished = false
        while !finished {
            let count = inBuffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: "read_failed")
            }
            let flush = count == 0 ? Z_FINISH : Z_NO_FLUSH
            var writeError: Int32 = 0
            var status: Int32 = Z_OK
            inBuffer.withUnsafeMutableBufferPointer { inPointer in
                stream.next_in = inPointer.baseAddress
                stream.avail_in = UInt32(count)
                repeat {
                    outBuffer.withUnsafeMutableBufferPointer { outPointer in
                        stream.next_out = outPointer.baseAddress
                        stream.avail_out = UInt32(outPointer.count)
                        status = deflate(&stream, flush)
                        let produced = outPointer.count - Int(stream.avail_out)
                        if produced > 0, writeError == 0 {
                            writeError = FileDescriptorWriter.writeAll(
                                output,
                                UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(outPointer)[0..<produced])
                            )
                        }
                    }
                } while stream.avail_out == 0 && status != Z_STREAM_ERROR
            }
            guard writeError == 0 else { throw Failure(reason: "write_failed") }
            guard status != Z_STREAM_ERROR else { throw Failure(reason: "deflate_failed") }
            finished = status == Z_STREAM_END
        }
        guard fsync(output) == 0 else { throw Failure(reason: "fsync_failed") }
        guard rename(temporary, destination) == 0 else { throw Failure(reason: "rename_failed") }
        succeeded = true
    }
}
