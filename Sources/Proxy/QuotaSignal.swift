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

    /// The reset time of the fuller window.
    var resetAt: Double? {
        if let s = secondary.usedRatio, let p = primary.usedRatio, s > p { return secondary.resetAt ?? primary.resetAt }
        return primary.resetAt ?? secondary.resetAt
    }

    static func parse(headers: [(String, String)]) -> QuotaSignal {
        var q = QuotaSignal()
        for (rawName, value) in headers {
            let name = rawName.foldedForHeaders
            guard name.hasPrefix("x-codex-") else { continue }
            let v = Double(value.trimming([" "]))
            switch name {
            case "x-codex-primary-used-percent": q.primary.usedRatio = v.map { min(max($0 / 100, 0), 1) }
            case "x-codex-secondary-used-percent": q.secondary.usedRatio = v.map { min(max($0 / 100, 0), 1) }
            case "x-codex-primary-reset-at": q.primary.resetAt = v
            case "x-codex-secondary-reset-at": q.secondary.resetAt = v
            case "x-codex-primary-window-minutes": q.primary.windowMinutes = v
            case "x-codex-secondary-window-minutes": q.secondary.windowMinutes = v
            default: break
            }
        }
        return q
    }
}

extension String {
    func trimming(_ set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
