import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe whole-file writes and permission-checked reads for the state directory.
///
/// `write` creates a temporary file next to the target (`.<name>.tmp.<pid>.<random>`, `O_EXCL`), writes
/// every byte, `fsync`s it, renames it over the target and `fsync`s the directory, so after a crash the
/// path holds either the old or the new contents, never a torn mix. `read` refuses files that group or
/// others may read or write (`insecure_permissions`), as ssh refuses such keys: state files hold tokens.
/// It does not lock: two concurrent writers of one path each produce a whole file, and the last rename
/// wins; callers that need ordering serialise their writes (`AccountStore` writes under its lock).
/// It never logs, and errors never contain file contents.
/// Concurrency: stateless; safe from any thread. Blocking I/O: never call it on an event-loop thread.
public enum AtomicFile {
    /// Files larger than this are refused by `read` (state files are small; this bounds memory).
    public static let maximumReadBytes = 64 << 20

    /// Replaces `path` atomically with `bytes`, creating it with `mode` (default 0600).
    /// Throws `AtomicFileError` (`no_space`, `permission_denied`, `io_error`); the target is untouched then.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(AtomicFileError) {
        let (directory, name) = split(path)
        var generator = SystemRandomNumberGenerator()
        let suffix = String(generator.next() & 0xFFFF_FFFF, radix: 16)
        let temporary = directory + "/." + name + ".tmp.\(getpid()).\(suffix)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .system("open", temporary, errno) }
        var closed = false
        do throws(AtomicFileError) {
            // umask may have cleared bits of `mode`; the contract is the exact mode.
            guard fchmod(fd, mode) == 0 else { throw .system("fchmod", temporary, errno) }
            try writeAll(fd, bytes, temporary)
            guard fsync(fd) == 0 else { throw .system("fsync", temporary, errno) }
            closed = true
            guard close(fd) == 0 else { throw .system("close", temporary, errno) }
            guard rename(temporary, path) == 0 else { throw .system("rename", path, errno) }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
        syncDirectory(directory)
    }

    /// `write(_:to:mode:)` for `Data`.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws(AtomicFileError) {
        try write([UInt8](data), to: path, mode: mode)
    }

    /// The whole file. With `requirePrivate` (the default) a file with any group or other permission bit
    /// is refused with `insecure_permissions`. Throws `not_found` when it does not exist.
    public static func read(_ path: String, requirePrivate: Bool = true) throws(AtomicFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open", path, errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system("fstat", path, errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw AtomicFileError(.invalidFile, detail: "\(path) is not a regular file")
        }
        if requirePrivate && info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw AtomicFileError(.insecurePermissions, detail: "\(path) has mode \(mode); run chmod 600 on it")
        }
        guard Int(info.st_size) <= maximumReadBytes else {
            throw AtomicFileError(.invalidFile, detail: "\(path) is larger than \(maximumReadBytes) bytes")
        }
        var contents = [UInt8]()
        contents.reserveCapacity(Int(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system("read", path, errno)
            }
            if count == 0 { break }
            contents.append(contentsOf: buffer[0..<count])
            guard contents.count <= maximumReadBytes else {
                throw AtomicFileError(.invalidFile, detail: "\(path) is larger than \(maximumReadBytes) bytes")
            }
        }
        return contents
    }

    /// `read`, but nil instead of `not_found`.
    public static func readIfExists(_ path: String, requirePrivate: Bool = true) throws(AtomicFileError) -> [UInt8]? {
        do {
            return try read(path, requirePrivate: requirePrivate)
        } catch  where error.reason == .notFound {
            return nil
        }
    }

    /// Creates `path` (and parents) with mode 0700 when missing. An existing directory is left as is.
    public static func ensureDirectory(_ path: String) throws(AtomicFileError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw AtomicFileError(.invalidFile, detail: "\(path) is not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw AtomicFileError(.ioError, detail: "cannot create directory \(path)")
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(AtomicFileError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .system("write", path, errno)
            }
            offset += written
        }
    }

    /// The rename is durable only once the directory entry is: `fsync` the directory too.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
