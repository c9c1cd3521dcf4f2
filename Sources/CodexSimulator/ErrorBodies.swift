/// The JSON error bodies the simulator sends, in the OpenAI shape
/// `{"error":{"message","type","param","code"}}` unless noted.
///
/// Concurrency: stateless; `Sendable`.
enum ErrorBodies {
    static func openAI(message: String, type: String, param: String? = nil, code: String? = nil) -> [UInt8] {
        let error = JSONText.object([
            ("message", JSONText.quote(message)),
            ("type", JSONText.quote(type)),
            ("param", JSONText.quoteOrNull(param)),
            ("code", JSONText.quoteOrNull(code)),
        ])
        return Array("{\"error\":\(error)}".utf8)
    }

    static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> [UInt8] {
        openAI(message: message, type: "invalid_request_error", param: param, code: code)
    }

    static func previousResponseNotFound(id: String?) -> [UInt8] {
        let message = id.map { "Previous response with id '\($0)' not found." } ?? "Previous response not found."
        return invalidRequest(message, param: "previous_response_id", code: "previous_response_not_found")
    }

    /// The 404 of an input item the backend can only find by its `id` when it did not keep it (`store:false`), word
    /// for word as the Responses API answers it; `code` is null.
    static func itemNotPersisted(id: String) -> [UInt8] {
        invalidRequest(
            "Item with id '\(id)' not found. Items are not persisted when `store` is set to false. "
                + "Try again with `store` set to true, or remove this item from your input.",
            param: "input"
        )
    }

    /// The ChatGPT backend's usage-limit 429 (Codex reads `resets_at`; peers also read `resets_in_seconds`).
    /// `resetsAt` is the number's JSON text.
    static func usageLimit(plan: String, resetsAt: String, resetsInSeconds: Int) -> [UInt8] {
        let error = JSONText.object([
            ("type", JSONText.quote("usage_limit_reached")),
            ("message", JSONText.quote("The usage limit has been reached")),
            ("plan_type", JSONText.quote(plan)),
            ("resets_at", resetsAt),
            ("resets_in_seconds", String(resetsInSeconds)),
        ])
        return Array("{\"error\":\(error)}".utf8)
    }

    /// OAuth-style token endpoint error carrying both shapes clients look for: an `error` object with a
    /// `code` (Codex, cpa) and a top-level `error_description`.
    static func token(code: String, message: String) -> [UInt8] {
        let error = JSONText.object([
            ("message", JSONText.quote(message)),
            ("type", JSONText.quote("invalid_request_error")),
            ("param", "null"),
            ("code", JSONText.quote(code)),
        ])
        return Array("{\"error\":\(error),\"error_description\":\(JSONText.quote(message))}".utf8)
    }
}
