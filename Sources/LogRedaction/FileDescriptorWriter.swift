#if canImport(Glibc)
import Glibc
#endif

/// Writes a whole buffer to a file descriptor with `write(2)`, retrying partial writes and `EINTR`,
/// and waiting (bounded) when a non-blocking descriptor reports `EAGAIN`.
///
/// Returns 0 or the `errno` of the failure. No buffering: once it returns 0 the bytes are in the
/// kernel, so `tail -f` sees them.
enum FileDescriptorWriter {
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        var waits = 0
        while offset < bytes.count {
            let written = write(fd, base + offset, bytes.count - offset)
            if written >= 0 {
                offset += written
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN, waits < 10 {
                waits += 1
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 100)
                continue
            }
            return code
        }
        return 0
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }
}
