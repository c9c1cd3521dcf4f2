import Foundation
import Glibc

/// Reads the configuration file and refuses one whose permissions let other users read credentials or
/// redirect them.
///
/// The rule (docs/configuration.md, "File permissions"): any permission bit for others (`o+rwx`) or
/// group write (`g+w`) is refused always — whoever can write the file can point `baseURL` or
/// `upstream.tokenURL` at their own server and collect tokens; group read is refused only when the file
/// holds an inline credential (`accessToken`, `refreshToken`, `apiKey`, `accountId`, or a client key's
/// `key`), since a file with only `…Env` names and hashes holds nothing secret. Errors name the path and
/// the mode, never a value.
/// Does not decode the configuration (`ProxyConfiguration.decode` does) and does not look at the state
/// directory. Concurrency: stateless.
enum ConfigurationFile {
    /// Keys whose inline value is a credential.
    static let inlineSecretKeys: Set<String> = ["accessToken", "refreshToken", "apiKey", "accountId", "key"]

    /// The file's bytes, after the permission check. Throws `ConfigurationError` `unreadable_file` or
    /// `insecure_permissions`.
    static func read(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConfigurationError(reason: "unreadable_file", detail: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ConfigurationError(reason: "unreadable_file", detail: path)
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ConfigurationError(reason: "unreadable_file", detail: path) }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        // Before the permission check, which reads one copy of a repeated key while the decoder reads the other.
        if let path = duplicateKey(in: data) { throw ConfigurationError(reason: "duplicate_key", detail: path) }
        if let problem = permissionProblem(mode: UInt32(info.st_mode), hasInlineSecret: hasInlineSecret(data)) {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw ConfigurationError(reason: "insecure_permissions", detail: "\(path) has mode \(mode): \(problem)")
        }
        return data
    }

    /// Pure: what is wrong with `mode` for a configuration file, or nil when it is acceptable.
    static func permissionProblem(mode: UInt32, hasInlineSecret: Bool) -> String? {
        if mode & 0o007 != 0 { return "other users have access; run chmod o-rwx on it" }
        if mode & 0o020 != 0 { return "the group may write it; run chmod g-w on it" }
        if hasInlineSecret && mode & 0o040 != 0 {
            return "it holds inline credentials and the group may read it; run chmod 600 on it or use …Env keys"
        }
        return nil
    }

    /// True when an account or client key carries a credential inline (not through an `…Env` name).
    /// A file that is not a JSON object counts as holding none (the decoder reports it).
    static func hasInlineSecret(_ data: Data) -> Bool {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
        let objects = (root["accounts"] as? [[String: Any]] ?? []) + (root["clientKeys"] as? [[String: Any]] ?? [])
        return objects.contains { object in
            object.contains { key, value in
                inlineSecretKeys.contains(key) && !((value as? String)?.isEmpty ?? true)
            }
        }
    }
}
