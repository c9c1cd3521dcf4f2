import Foundation
import LogRedaction

extension ProxyConfiguration {
    /// The file format. Unknown keys are rejected so a typo does not silently disable a setting.
    private struct File: Codable {
        struct ListenFile: Codable {
            var host: String?
            var port: Int?
        }
        struct MetricsFile: Codable {
            var listen: ListenFile?
            var onMainListener: Bool?
            var tokenSha256: String?
        }
        struct AdminFile: Codable {
            var tokenSha256: String?
        }
        struct AccountFile: Codable {
            var name: String
            var kind: AccountKind?
            var baseURL: String?
            var accountId: String?
            var accountIdEnv: String?
            var accessToken: String?
            var accessTokenEnv: String?
            var refreshToken: String?
            var refreshTokenEnv: String?
            var apiKey: String?
            var apiKeyEnv: String?
            var maxConcurrentRequests: Int?
        }
        struct ClientKeyFile: Codable {
            var name: String
            var sha256: String?
            var key: String?
            var keyEnv: String?
        }
        struct UpstreamFile: Codable {
            var connectTimeoutSeconds: Double?
            var firstByteTimeoutSeconds: Double?
            var idleTimeoutSeconds: Double?
            var verifyTLS: Bool?
            var caFile: String?
            var tokenURL: String?
            var onEventLoops: Bool?
        }
        struct LogFile: Codable {
            var stdout: Bool?
            var file: String?
            var maxBytes: Int?
            var keepSegments: Int?
            var level: String?
        }
        struct ContinuityFile: Codable {
            var transcriptCacheBytes: Int?
            var snapshotSeconds: Double?
        }
        struct LimitsFile: Codable {
            var maxHeaderBytes: Int?
            var maxBodyBytes: Int?
            var headerReadTimeoutSeconds: Double?
            var idleTimeoutSeconds: Double?
            var shutdownDrainSeconds: Double?
            var maxConnections: Int?
            var maxConnectionsPerClient: Int?
            var maxInFlightRequests: Int?
            var maxWebSocketFrameBytes: Int?
            var maxWebSocketMessageBytes: Int?
            var maxDownstreamBacklogBytes: Int?
        }
        var listen: ListenFile?
        var metrics: MetricsFile?
        var admin: AdminFile?
        var eventLoops: Int?
        var pathPrefix: String?
        var httpBridge: Bool?
        var stateDirectory: String?
        var pseudonymKeyFile: String?
        var accounts: [AccountFile]?
        var clientKeys: [ClientKeyFile]?
        var upstream: UpstreamFile?
        var log: LogFile?
        var limits: LimitsFile?
        var continuity: ContinuityFile?
    }

    /// Decodes a configuration; `environment` resolves the `…Env` indirections.
    static func decode(_ data: Data, environment: [String: String]) throws -> ProxyConfiguration {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ConfigurationError(reason: "missing_key", detail: key.stringValue)
        } catch let DecodingError.typeMismatch(_, context) {
            throw ConfigurationError(reason: "wrong_type", detail: keyPath(context.codingPath))
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            // Valid JSON whose value the key cannot hold (a `kind` that names no kind): it was answered "not valid
            // JSON", naming nothing. (A number too large for an integer still is: Foundation reports it without a path.)
            throw ConfigurationError(reason: "invalid_value", detail: keyPath(context.codingPath))
        } catch {
            throw ConfigurationError(reason: "invalid_json", detail: "the configuration is not valid JSON")
        }
        switch unknownKey(in: data, known: file) {
        case .some(nil):
            break
        case .some(let path?):
            throw ConfigurationError(reason: "unknown_key", detail: path)
        case nil:
            // The strict parser refused what the decoder accepted (e.g. raw control characters in a string).
            throw ConfigurationError(reason: "invalid_json", detail: "the configuration is not valid JSON")
        }
        var c = ProxyConfiguration()
        if let l = file.listen {
            c.listen = Listen(host: l.host ?? c.listen.host, port: l.port ?? c.listen.port)
        }
        if let m = file.metrics?.listen {
            c.metricsListen = Listen(host: m.host ?? "127.0.0.1", port: m.port ?? 9787)
        }
        c.metricsOnMainListener = file.metrics?.onMainListener ?? (c.metricsListen == nil)
        if let hex = file.metrics?.tokenSha256 {
            guard let bytes = Hex.decode(hex), bytes.count == 32 else {
                throw ConfigurationError(reason: "invalid_metrics_token", detail: "metrics.tokenSha256")
            }
            c.metricsTokenSHA256 = bytes
        }
        if let hex = file.admin?.tokenSha256 {
            guard let bytes = Hex.decode(hex), bytes.count == 32 else {
                throw ConfigurationError(reason: "invalid_admin_token", detail: "admin.tokenSha256")
            }
            c.adminTokenSHA256 = bytes
        }
        c.eventLoops = file.eventLoops ?? 0
        c.pathPrefix = file.pathPrefix
        c.httpBridge = file.httpBridge ?? false
        c.stateDirectory = file.stateDirectory ?? c.stateDirectory
        c.pseudonymKeyFile = file.pseudonymKeyFile
        func secret(_ inline: String?, _ env: String?, _ field: String, _ account: String) throws -> Secret<String>? {
            if let env {
                guard let value = environment[env], !value.isEmpty else {
                    throw ConfigurationError(reason: "missing_environment", detail: "\(account).\(field) names \(env)")
                }
                return Secret(value)
            }
            return inline.map { Secret($0) }
        }
        var names = Set<String>()
        for (index, a) in (file.accounts ?? []).enumerated() {
            // `accounts.json` refuses an entry without a name (`corrupt_state`): the first start wrote one, and every
            // later start stopped on it.
            guard !a.name.isEmpty else {
                throw ConfigurationError(reason: "invalid_value", detail: "accounts[\(index)].name must not be empty")
            }
            guard names.insert(a.name).inserted else {
                throw ConfigurationError(reason: "duplicate_account", detail: a.name)
            }
            let kind = a.kind ?? (a.apiKey != nil || a.apiKeyEnv != nil ? .apikey : .chatgpt)
            var baseURL =
                a.baseURL ?? (kind == .apikey ? "https://api.openai.com/v1" : "https://chatgpt.com/backend-api/codex")
            while baseURL.hasSuffix("/") { baseURL.removeLast() }
            let account = Account(
                name: a.name,
                kind: kind,
                baseURL: baseURL,
                accountID: try secret(a.accountId, a.accountIdEnv, "accountId", a.name),
                accessToken: try secret(a.accessToken, a.accessTokenEnv, "accessToken", a.name),
                refreshToken: try secret(a.refreshToken, a.refreshTokenEnv, "refreshToken", a.name),
                apiKey: try secret(a.apiKey, a.apiKeyEnv, "apiKey", a.name),
                maxConcurrentRequests: max(1, a.maxConcurrentRequests ?? 64)
            )
            switch kind {
            case .apikey where account.apiKey == nil:
                throw ConfigurationError(reason: "missing_credential", detail: "\(a.name).apiKey")
            case .chatgpt where account.accessToken == nil || account.accountID == nil:
                throw ConfigurationError(reason: "missing_credential", detail: "\(a.name).accessToken/accountId")
            default: break
            }
            c.accounts.append(account)
        }
        for k in file.clientKeys ?? [] {
            // "anonymous" is the principal of every request when no key is configured: a key named so would
            // own nothing and continue anyone's anchors (docs/recovery.md, "Anchors belong to their principal").
            guard k.name != "anonymous", !k.name.isEmpty else {
                throw ConfigurationError(
                    reason: "invalid_client_key",
                    detail: "clientKeys name \"\(k.name)\" is reserved"
                )
            }
            if let hex = k.sha256 {
                guard let bytes = Hex.decode(hex), bytes.count == 32 else {
                    throw ConfigurationError(reason: "invalid_client_key", detail: "\(k.name).sha256")
                }
                c.clientKeys.append(ClientKey(name: k.name, sha256: bytes))
            } else if let value = try secret(k.key, k.keyEnv, "key", k.name) {
                c.clientKeys.append(ClientKey(name: k.name, sha256: SHA256.hash(Array(value.reveal().utf8))))
            } else {
                throw ConfigurationError(reason: "invalid_client_key", detail: "\(k.name) needs sha256, key or keyEnv")
            }
        }
        // One key, one principal: with two names the first configured would win, silently.
        var namesByKey: [[UInt8]: String] = [:]
        for key in c.clientKeys {
            if let other = namesByKey[key.sha256], other != key.name {
                throw ConfigurationError(
                    reason: "duplicate_client_key",
                    detail: "\(other) and \(key.name) have the same key"
                )
            }
            namesByKey[key.sha256] = key.name
        }
        if let u = file.upstream {
            c.upstreamConnectTimeoutSeconds = u.connectTimeoutSeconds ?? c.upstreamConnectTimeoutSeconds
            c.upstreamFirstByteTimeoutSeconds = u.firstByteTimeoutSeconds ?? c.upstreamFirstByteTimeoutSeconds
            c.upstreamIdleTimeoutSeconds = u.idleTimeoutSeconds ?? c.upstreamIdleTimeoutSeconds
            c.verifyTLS = u.verifyTLS ?? true
            c.upstreamOnEventLoops = u.onEventLoops ?? true
            c.caFile = u.caFile
            c.tokenURL = u.tokenURL ?? c.tokenURL
        }
        if let l = file.log {
            c.logStdout = l.stdout ?? c.logStdout
            c.logFile = l.file
            c.logMaxBytes = l.maxBytes ?? c.logMaxBytes
            c.logKeepSegments = l.keepSegments ?? c.logKeepSegments
            if let level = l.level {
                // A level that names none (`warning`, `err`) must not quietly log at INFO: a typo is refused, as an
                // unknown key is.
                guard LogSeverity.allCases.contains(where: { $0.text.lowercased() == level.lowercased() }) else {
                    throw ConfigurationError(
                        reason: "invalid_value",
                        detail: "log.level must be one of trace, debug, info, warn, error, fatal"
                    )
                }
                c.logLevel = level
            }
        }
        if let l = file.limits {
            c.maxHeaderBytes = l.maxHeaderBytes ?? c.maxHeaderBytes
            c.maxBodyBytes = l.maxBodyBytes ?? c.maxBodyBytes
            c.headerReadTimeoutSeconds = l.headerReadTimeoutSeconds ?? c.headerReadTimeoutSeconds
            c.idleTimeoutSeconds = l.idleTimeoutSeconds ?? c.idleTimeoutSeconds
            c.shutdownDrainSeconds = l.shutdownDrainSeconds ?? c.shutdownDrainSeconds
            c.maxConnections = max(1, l.maxConnections ?? c.maxConnections)
            c.maxConnectionsPerClient = max(0, l.maxConnectionsPerClient ?? c.maxConnectionsPerClient)
            c.maxInFlightRequests = max(0, l.maxInFlightRequests ?? c.maxInFlightRequests)
            // A control frame may carry 125 bytes; a smaller frame limit would refuse a client's close frame.
            c.maxWebSocketFrameBytes = max(125, l.maxWebSocketFrameBytes ?? c.maxWebSocketFrameBytes)
            c.maxWebSocketMessageBytes = max(125, l.maxWebSocketMessageBytes ?? c.maxWebSocketMessageBytes)
            // Never below the high-water mark, where a producer that can pause has already paused.
            c.maxDownstreamBacklogBytes = max(
                c.writeHighWaterMark,
                l.maxDownstreamBacklogBytes ?? c.maxDownstreamBacklogBytes
            )
        }
        if let k = file.continuity {
            c.transcriptCacheBytes = k.transcriptCacheBytes ?? c.transcriptCacheBytes
            c.continuitySnapshotSeconds = k.snapshotSeconds ?? c.continuitySnapshotSeconds
        }
        try checkRanges(c)
        return c
    }

    /// `accounts[0].kind`, as the unknown-key check names a path.
    private static func keyPath(_ codingPath: [any CodingKey]) -> String {
        codingPath.reduce("") { path, key in
            if let index = key.intValue { return path + "[\(index)]" }
            return path.isEmpty ? key.stringValue : path + "." + key.stringValue
        }
    }

    /// The longest duration a setting may name: a year, far inside what the timers' nanosecond and
    /// millisecond integers hold.
    static let maximumSettingSeconds: Double = 365 * 24 * 3600

    /// Refuses numbers no setting can mean (`out_of_range`, naming the key): a port beyond 65535 (the socket
    /// call would have kept its low 16 bits and bound another port), a negative size, a duration that is
    /// negative or longer than `maximumSettingSeconds`. `1e300` seconds decoded fine and then trapped at the
    /// first request that turned it into a timer's integer. Sizes a clamp already bounds are not repeated here.
    private static func checkRanges(_ c: ProxyConfiguration) throws {
        var ports = [("listen.port", c.listen.port)]
        if let m = c.metricsListen { ports.append(("metrics.listen.port", m.port)) }
        for (key, port) in ports where !(0...65_535).contains(port) {
            throw ConfigurationError(reason: "out_of_range", detail: "\(key) must be 0–65535")
        }
        let sizes = [
            ("eventLoops", c.eventLoops), ("log.maxBytes", c.logMaxBytes), ("log.keepSegments", c.logKeepSegments),
            ("limits.maxHeaderBytes", c.maxHeaderBytes), ("limits.maxBodyBytes", c.maxBodyBytes),
            ("continuity.transcriptCacheBytes", c.transcriptCacheBytes),
        ]
        for (key, size) in sizes where size < 0 {
            throw ConfigurationError(reason: "out_of_range", detail: "\(key) must not be negative")
        }
        let durations = [
            ("upstream.connectTimeoutSeconds", c.upstreamConnectTimeoutSeconds),
            ("upstream.firstByteTimeoutSeconds", c.upstreamFirstByteTimeoutSeconds),
            ("upstream.idleTimeoutSeconds", c.upstreamIdleTimeoutSeconds),
            ("limits.headerReadTimeoutSeconds", c.headerReadTimeoutSeconds),
            ("limits.idleTimeoutSeconds", c.idleTimeoutSeconds),
            ("limits.shutdownDrainSeconds", c.shutdownDrainSeconds),
            ("continuity.snapshotSeconds", c.continuitySnapshotSeconds),
        ]
        for (key, seconds) in durations where !(0...maximumSettingSeconds).contains(seconds) {
            throw ConfigurationError(reason: "out_of_range", detail: "\(key) must be 0–31536000 seconds")
        }
        // Unlike the silence timers, a connect limit has no "off": 0 made every new HTTPS connection fail after
        // 1 ms over HTTP and every WebSocket handshake at once, while libcurl read it as its own 300 s.
        if c.upstreamConnectTimeoutSeconds < 0.001 {
            throw ConfigurationError(
                reason: "out_of_range",
                detail: "upstream.connectTimeoutSeconds must be at least 0.001 seconds"
            )
        }
    }

    /// The first key of `data` (as a dotted path) that the file format does not know, so a typo cannot
    /// silently disable a setting. Found by re-encoding the decoded file: every known key with a value
    /// survives the round trip, an unknown one does not. Keys given as `null` count as known.
    /// nil when the file cannot be checked at all (the caller treats that as invalid JSON).
    private static func unknownKey(in data: Data, known file: File) -> String?? {
        guard let given = try? JSONSerialization.jsonObject(with: data),
            let encoded = try? JSONEncoder().encode(file),
            let kept = try? JSONSerialization.jsonObject(with: encoded)
        else { return nil }
        return .some(firstUnknown(given, kept, path: ""))
    }

    private static func firstUnknown(_ given: Any, _ kept: Any?, path: String) -> String? {
        if let object = given as? [String: Any] {
            let keptObject = kept as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let child = path.isEmpty ? key : path + "." + key
                if object[key] is NSNull { continue }
                guard keptObject[key] != nil else { return child }
                if let found = firstUnknown(object[key]!, keptObject[key], path: child) { return found }
            }
        } else if let array = given as? [Any] {
            let keptArray = kept as? [Any] ?? []
            for (i, element) in array.enumerated() {
                if let found = firstUnknown(element, i < keptArray.count ? keptArray[i] : nil, path: "\(path)[\(i)]") {
                    return found
                }
            }
        }
        return nil
    }
}
