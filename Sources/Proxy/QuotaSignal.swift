import WireFormats

/// Quota facts read from one upstream answer: the `x-codex-{primary,secondary}-*` headers (and, for a
/// 429, the body's `resets_at`). Pure parsing; absent or malformed values stay nil.
struct QuotaSignal: Equatable, Sendable {
    struct Window: Equatable, Sendable {
        /// 0…1.
        var usedRatio: Double?
        /// Unix seconds.
        var resetAt: Double?
        var windowMinutes: Double?
    }

    var primary = Window()
    var secondary = Window()

    var isEmpty: Bool { self == QuotaSignal() }

    /// The larger used ratio of the two windows.
    var usedRatio: Double? {
        switch (primary.usedRatio, secondary.usedRatio) {
        case (let p?, let s?): max(p, s)
        case (let p?, nil): p
        case (nil, let s?): s
        default: nil
        }
    }

    /// The signal as of `now`: a window whose reset time has passed was emptied by that reset, so its used ratio
    /// reads 0 until the upstream reports the new window. Before 2026-12-07 the last report before a reset
    /// (100 % for an account that hit its limit) stood until the account served again, and the selector, which
    /// prefers the most remaining quota, kept passing over the account that had the most.
    func asOf(_ now: Double) -> QuotaSignal {
        var q = self
        if let r = q.primary.resetAt, r <= now, q.primary.usedRatio != nil { q.primary.usedRatio = 0 }
        if let r = q.secondary.resetAt, r <= now, q.secondary.usedRatio != nil { q.secondary.usedRatio = 0 }
        return q
    }

    /// The reset time of the fuller window.
    var resetAt: Double? {
        if let s = secondary.usedRatio, let p = primary.usedRatio, s > p { return secondary.resetAt ?? primary.resetAt }
        return primary.resetAt ?? secondary.resetAt
    }

    /// Byte work, no allocation per header: the lowercased name, the prefix test, the `Set<Character>` trim and
    /// the string `switch` this replaced cost 2.4 % of a proxied request's user CPU, for six headers
    /// (docs/benchmarks.md, seventh pass). Names match ASCII case-insensitively; a value is a finite number
    /// between optional spaces or tabs, anything else stays nil.
    static func parse(headers: [(String, String)]) -> QuotaSignal {
        var q = QuotaSignal()
        for (name, value) in headers {
            guard let field = Field(name) else { continue }
            let v = number(value)
            switch field {
            case .primaryUsedPercent: q.primary.usedRatio = v.map { min(max($0 / 100, 0), 1) }
            case .secondaryUsedPercent: q.secondary.usedRatio = v.map { min(max($0 / 100, 0), 1) }
            case .primaryResetAt: q.primary.resetAt = v
            case .secondaryResetAt: q.secondary.resetAt = v
            case .primaryWindowMinutes: q.primary.windowMinutes = v
            case .secondaryWindowMinutes: q.secondary.windowMinutes = v
            }
        }
        return q
    }

    /// The `codex.rate_limits` event of an upstream WebSocket (codex-protocol.md §7): `rate_limits.primary` and
    /// `.secondary`, each `used_percent`, `window_minutes` and `reset_at` (or `resets_at`), the same facts as the
    /// headers of an HTTP answer. Only the `codex` family counts (`limit_name` absent or `codex`, as codex-lb
    /// reads it); a value that is not a finite number stays nil, a percent is clamped to 0–100: the headers the
    /// event stands for (`headers(rateLimits:)`), read as headers are.
    static func parse(rateLimits event: JSONTopLevel) -> QuotaSignal {
        parse(headers: headers(rateLimits: event))
    }

    /// The `x-codex-{primary,secondary}-{used-percent,window-minutes,reset-at}` headers an HTTP answer carries for
    /// what a `codex.rate_limits` event says (codex family only; finite numbers, as written): what the HTTP bridge
    /// gives its clients, which read quota from headers (Codex's status line; icebear0828/codex-proxy does the
    /// same).
    static func headers(rateLimits event: JSONTopLevel) -> [(String, String)] {
        if let family = event.string(forKey: "limit_name"), family != "codex" { return [] }
        guard let limits = try? event.object(forKey: "rate_limits") else { return [] }
        var out: [(String, String)] = []
        for window in ["primary", "secondary"] {
            guard let w = try? limits.object(forKey: window) else { continue }
            for (header, keys) in [
                ("used-percent", ["used_percent"]), ("window-minutes", ["window_minutes"]),
                ("reset-at", ["reset_at", "resets_at"]),
            ] {
                // The first of the keys that holds a finite number (`reset_at`, else `resets_at`).
                guard
                    let value = keys.lazy.compactMap({ w.value(forKey: $0) })
                        .first(where: { $0.kind == .number && $0.double?.isFinite == true })
                else { continue }
                out.append(("x-codex-\(window)-\(header)", String(decoding: value.bytes, as: UTF8.self)))
            }
        }
        return out
    }

    /// The headers `parse` reads.
    private enum Field: CaseIterable {
        case primaryUsedPercent, secondaryUsedPercent, primaryResetAt, secondaryResetAt
        case primaryWindowMinutes, secondaryWindowMinutes

        var name: String {
            switch self {
            case .primaryUsedPercent: "x-codex-primary-used-percent"
            case .secondaryUsedPercent: "x-codex-secondary-used-percent"
            case .primaryResetAt: "x-codex-primary-reset-at"
            case .secondaryResetAt: "x-codex-secondary-reset-at"
            case .primaryWindowMinutes: "x-codex-primary-window-minutes"
            case .secondaryWindowMinutes: "x-codex-secondary-window-minutes"
            }
        }

        private static let table: [(name: [UInt8], field: Field)] = allCases.map { (Array($0.name.utf8), $0) }
        private static let prefix = Array("x-codex-".utf8)

        init?(_ header: String) {
            let name = header.utf8
            guard name.count > Self.prefix.count, name.prefix(Self.prefix.count).equalsFolded(Self.prefix),
                let found = Self.table.first(where: { name.equalsFolded($0.name) })
            else { return nil }
            self = found.field
        }
    }

    /// A finite number between optional spaces or tabs.
    private static func number(_ value: String) -> Double? {
        guard let v = Double(Substring(value.utf8[...].trimmingBlanks)), v.isFinite else { return nil }
        return v
    }
}
