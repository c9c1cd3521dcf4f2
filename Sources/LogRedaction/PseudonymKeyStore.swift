import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Finds the deployment's pseudonym key, creating one on first start.
///
/// Precedence: an explicit hex key (configuration), then `SIGHTLINE_PSEUDONYM_KEY` (hex) in the
/// environment, then `<stateDirectory>/pseudonym.key`, created once from `SystemRandomNumberGenerator`
/// (32 bytes, stored as 64 hex characters and a newline, mode 0600, directory 0700 if missing).
/// Creation is atomic (temp file, fsync, hard link into place, so two racing processes agree on
/// one key). A key file with any group or other permission bit is refused, as ssh refuses such keys.
/// It never logs and never puts key bytes in errors.
/// Concurrency: stateless; safe from any thread (the file system serialises creation).
public enum PseudonymKeyStore {
    public static let environmentVariable = "SIGHTLINE_PSEUDONYM_KEY"
    public static let fileName = "pseudonym.key"

    /// The key to use, from the first source that has one; creates the key file if no source does.
    public static func loadOrCreate(
        explicitKeyHex: String?,
        environment: [String: String],
        stateDirectory: String
    ) throws -> [UInt8] {
        if let explicitKeyHex, !explicitKeyHex.isEmpty {
            return try parseHexKey(explicitKeyHex, source: "configured key")
        }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty {
            return try parseHexKey(fromEnvironment, source: environmentVariable)
        }
        let path = stateDirectory + "/" + fileName
        do {
            return try load(keyFile: path)
        } catch let error as PseudonymKeyError where error.reason == .notFound {
            return try create(at: path, directory: stateDirectory)
        }
    }

    /// The key in `keyFile` (a configured `pseudonymKeyFile`), creating the file (0600) when it does not exist yet, as
    /// the default file is created: the docs promised it, and serve refused to start with `not_found` instead.
    public static func loadOrCreate(keyFile: String) throws -> [UInt8] {
        do {
            return try load(keyFile: keyFile)
        } catch let error as PseudonymKeyError where error.reason == .notFound {
            let directory = (keyFile as NSString).deletingLastPathComponent
            return try create(at: keyFile, directory: directory.isEmpty ? "." : directory)
        }
    }

    /// Reads a key file: 64+ hex characters (surrounding whitespace ignored) or 32+ raw bytes.
    /// Throws `not_found`, `insecure_permissions`, `key_too_short` or `io_failed`.
    public static func load(keyFile path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw PseudonymKeyError(.notFound, detail: "no key file at \(path)") }
            throw ioError("open", path, code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ioError("fstat", path, errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw PseudonymKeyError(.ioFailed, detail: "\(path) is not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw PseudonymKeyError(
                .insecurePermissions,
                detail: "\(path) has mode \(mode); run chmod 600 on it"
            )
        }
        var contents = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while contents.count <= 65536 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError("read", path, errno)
            }
            if count == 0 { break }
            contents.append(contentsOf: buffer[0..<count])
        }
        let key = decodeKeyFile(contents)
        guard key.count >= Pseudonymizer.minimumKeyLength else {
            throw PseudonymKeyError(.keyTooShort, detail: "\(path) holds \(key.count) key bytes; need at least 32")
        }
        return key
    }

    /// Hex text if the trimmed file is all hex, else the raw bytes (for `head -c 32 /dev/urandom > key`).
    static func decodeKeyFile(_ contents: [UInt8]) -> [UInt8] {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }
        guard let first = contents.firstIndex(where: { !isSpace($0) }),
            let last = contents.lastIndex(where: { !isSpace($0) })
        else { return contents }
        let trimmed = contents[first...last]
        if let decoded = Hex.decode(String(decoding: trimmed, as: UTF8.self)) { return decoded }
        return contents
    }

    static func parseHexKey(_ text: String, source: String) throws -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let key = Hex.decode(trimmed) else {
            throw PseudonymKeyError(.invalidHex, detail: "\(source) is not hex")
        }
        guard key.count >= Pseudonymizer.minimumKeyLength else {
            throw PseudonymKeyError(.keyTooShort, detail: "\(source) has \(key.count) bytes; need at least 32")
        }
        return key
    }

    private static func create(at path: String, directory: String) throws -> [UInt8] {
        if !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
            } catch {
                throw PseudonymKeyError(.ioFailed, detail: "cannot create state directory \(directory)")
            }
        }
        var generator = SystemRandomNumberGenerator()
        var key = [UInt8]()
        for _ in 0..<4 {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { key.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        let suffix = Hex.encode((0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let temporary = directory + "/.\(fileName).\(getpid()).\(suffix)"
        try writeSynced(Array((Hex.encode(key) + "\n").utf8), to: temporary)
        defer { unlink(temporary) }
        if link(temporary, path) != 0 {
            let code = errno
            // Someone else created the key first: theirs wins, so every process uses one key.
            if code == EEXIST { return try load(keyFile: path) }
            // File systems without hard links: rename (may replace a racing creator's key).
            guard rename(temporary, path) == 0 else { throw ioError("rename", path, errno) }
        }
        syncDirectory(directory)
        return key
    }

    private static func writeSynced(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ioError("open", path, errno) }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)  // umask can only clear bits, but be explicit about the contract.
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                unlink(path)
                throw ioError("write", path, code)
            }
            offset += written
        }
        guard fsync(fd) == 0 else {
            let code = errno
            unlink(path)
            throw ioError("fsync", path, code)
        }
    }

    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func ioError(_ operation: String, _ path: String, _ code: Int32) -> PseudonymKeyError {
        PseudonymKeyError(.ioFailed, detail: "\(operation) \(path): \(String(cString: strerror(code)))")
    }
}
