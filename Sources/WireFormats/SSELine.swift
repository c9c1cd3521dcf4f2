import Glibc

/// Line scanning shared by the SSE framer and parser.
enum SSELine {
    /// Bytes before the first CR or LF in `start..<start+count` (`count` when there is none), found with
    /// memchr (vectorised) instead of testing every byte.
    static func contentLength(_ start: UnsafePointer<UInt8>, _ count: Int) -> Int {
        let lf = memchr(start, 0x0A, count).map { UnsafeRawPointer($0) - UnsafeRawPointer(start) } ?? count
        return memchr(start, 0x0D, lf).map { UnsafeRawPointer($0) - UnsafeRawPointer(start) } ?? lf
    }
}
