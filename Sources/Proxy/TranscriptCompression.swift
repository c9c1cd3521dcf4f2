import CZlib
import Synchronization

/// Raw deflate (RFC 1951) of transcript item arrays, with the original length kept by the caller.
///
/// Level 1 (fastest): histories are repetitive enough that it keeps most of the ratio at a fraction of
/// the time of the default level, and it runs once per completed response. Raw, without the zlib wrapper:
/// its Adler-32 cost 6% of a proxied request's instructions and guards nothing here (the bytes never leave
/// memory, and the caller checks the inflated length). Deflate streams are reused (`deflateReset`): a new
/// one allocates and clears about 256 KiB, which cost more than compressing a 50 KB history.
/// Streams come in three sizes (`SizeClass`), picked by the input's length: `deflateReset` clears the
/// whole hash table, and at zlib's default size (64 KiB) that clearing cost more than deflating the
/// few-KB output and per-turn input a request stores (docs/benchmarks.md, sixth pass). Every class
/// inflates with the one 32 KiB window `decompress` uses.
/// Safe from any thread: a stream is used by one call at a time; idle ones wait in a small `Mutex` pool.
enum TranscriptCompression {
    /// A stream's window and hash table, by the length of the inputs it takes.
    enum SizeClass: Int, CaseIterable {
        /// Up to 8 KiB: an 8 KiB window (nothing farther back exists) and 2^11 hash entries.
        case small
        /// Up to 64 KiB: a 32 KiB window and 2^14 hash entries.
        case medium
        /// Longer: zlib's defaults, a 32 KiB window and 2^15 hash entries.
        case large

        init(length: Int) {
            self = length <= 8 * 1024 ? .small : length <= 64 * 1024 ? .medium : .large
        }

        var windowBits: Int32 { self == .small ? 13 : 15 }
        var memLevel: Int32 {
            switch self {
            case .small: 4
            case .medium: 7
            case .large: 8
            }
        }
    }

    /// A deflate stream owned by whoever took it from the pool.
    private struct Stream: @unchecked Sendable {
        let z: UnsafeMutablePointer<z_stream>
        let sizeClass: SizeClass
    }

    /// At most this many idle streams of each class are kept (about 40, 200 and 270 KiB each); more
    /// concurrent compressions make their own and end them.
    private static let maxIdle = 2
    private static let idle = Mutex<[[Stream]]>(Array(repeating: [], count: SizeClass.allCases.count))
    /// The window `decompress` inflates with: as large as any class's, so it reads them all.
    private static let windowBits: Int32 = 15

    static func compress(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard let stream = take(SizeClass(length: bytes.count)) else { return nil }
        var finished = false
        defer { giveBack(stream, reusable: finished) }
        let z = stream.z
        let bound = Int(deflateBound(z, uLong(bytes.count)))
        // Uninitialised scratch, then an exact-size copy: keeping the scratch would keep its bound-sized
        // capacity, and the cache, which budgets compressed bytes, would hold ten times its bound in memory.
        let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bound, 1))
        defer { scratch.deallocate() }
        let status = bytes.withUnsafeBufferPointer { source -> Int32 in
            z.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            z.pointee.avail_in = uInt(source.count)
            z.pointee.next_out = scratch.baseAddress
            z.pointee.avail_out = uInt(scratch.count)
            return deflate(z, Z_FINISH)
        }
        guard status == Z_STREAM_END else { return nil }
        finished = true
        let produced = scratch.count - Int(z.pointee.avail_out)
        return Array(UnsafeBufferPointer(rebasing: scratch[0..<produced]))
    }

    static func decompress(_ bytes: [UInt8], originalLength: Int) -> [UInt8]? {
        var z = z_stream()
        guard sl_inflate_init_raw(&z, windowBits) == Z_OK else { return nil }
        defer { inflateEnd(&z) }
        var status: Int32 = Z_DATA_ERROR
        var produced = 0
        let out = [UInt8](unsafeUninitializedCapacity: max(originalLength, 1)) { destination, initialized in
            status = bytes.withUnsafeBufferPointer { source -> Int32 in
                z.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                z.avail_in = uInt(source.count)
                z.next_out = destination.baseAddress
                z.avail_out = uInt(originalLength)
                return inflate(&z, Z_FINISH)
            }
            produced = originalLength - Int(z.avail_out)
            initialized = status == Z_STREAM_END ? produced : 0
        }
        guard status == Z_STREAM_END, produced == originalLength, z.avail_in == 0 else { return nil }
        return out
    }

    private static func take(_ sizeClass: SizeClass) -> Stream? {
        if let stream = idle.withLock({ $0[sizeClass.rawValue].popLast() }) { return stream }
        let z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        z.initialize(to: z_stream())
        guard sl_deflate_init_raw(z, 1, sizeClass.windowBits, sizeClass.memLevel) == Z_OK else {
            z.deallocate()
            return nil
        }
        return Stream(z: z, sizeClass: sizeClass)
    }

    private static func giveBack(_ stream: Stream, reusable: Bool) {
        let kept =
            reusable && deflateReset(stream.z) == Z_OK
            && idle.withLock { pools -> Bool in
                guard pools[stream.sizeClass.rawValue].count < maxIdle else { return false }
                pools[stream.sizeClass.rawValue].append(stream)
                return true
            }
        if !kept {
            deflateEnd(stream.z)
            stream.z.deallocate()
        }
    }
}
