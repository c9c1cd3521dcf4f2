import WireFormats

/// The few fields of an upstream error body the proxy acts on: `error.code`, `error.type` and, for a
/// usage limit, `error.resets_at` (unix seconds; Codex reads it, not `resets_in_seconds`).
/// Pure; a body that is not JSON yields all nils, and a reset that is not a finite number (or a negative
/// `resets_in_seconds`) counts as absent.
struct UpstreamErrorBody: Equatable, Sendable {
    var code: String?
    var type: String?
    var resetsAt: Double?
    var resetsInSeconds: Double?

    init(bytes: [UInt8]) {
        self.init(top: try? JSONTopLevel.scan(bytes))
    }

    /// The error of an in-stream event already scanned: under `response` in a `response.failed`, at the top of an
    /// `error` event or frame.
    init(event top: JSONTopLevel) {
        let failed = top.string(forKey: "type") == "response.failed"
        self.init(top: failed ? (try? top.object(forKey: "response")) ?? nil : top)
    }

    private init(top: JSONTopLevel?) {
        guard let top else { return }
        guard let error = try? top.object(forKey: "error") else {
            code = top.string(forKey: "error")  // token endpoints answer {"error":"invalid_grant"}
            return
        }
        code = error.string(forKey: "code")
        type = error.string(forKey: "type")
        // Only finite times: a number token like `1e400` reads as infinity, and a cooldown until infinity
        // once trapped converting it to whole seconds (docs/accounts.md, "Cooldowns").
        resetsAt = error.double(forKey: "resets_at").flatMap { $0.isFinite ? $0 : nil }
        resetsInSeconds = error.double(forKey: "resets_in_seconds").flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
    }
}
