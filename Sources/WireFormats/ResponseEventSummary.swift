/// The few fields of one Responses API stream event that a proxy routes, logs and counts by.
///
/// Built from the JSON `data` of one SSE event with the byte scanner: the top level is scanned once, the
/// `response` object once, and `usage` / `error` only when present. Nothing else is decoded, so a
/// `response.completed` carrying a large `output` costs one validating pass.
///
/// `error` comes from `response.error` (for `response.failed`) or, for bare `error` events, from a top-level
/// `error` object or else the top-level `code` / `message` / `type` fields (the API's `error` event puts them at
/// the top). Strings here come from the network: map them through a table before using them as labels.
/// Concurrency: an immutable value; `Sendable`.
public struct ResponseEventSummary: Sendable, Equatable {
    public struct ErrorInfo: Sendable, Equatable {
        public var code: String?
        public var message: String?
        public var type: String?
    }

    /// Token counts as Codex reads them (`input_tokens_details.cached_tokens`,
    /// `output_tokens_details.reasoning_tokens`).
    public struct Usage: Sendable, Equatable {
        public var inputTokens: Int?
        public var cachedInputTokens: Int?
        public var outputTokens: Int?
        public var reasoningOutputTokens: Int?
        public var totalTokens: Int?
    }

    /// The event's `type`, e.g. `response.output_text.delta`.
    public var type: String?
    public var sequenceNumber: Int?
    /// `response.id`, when the event carries a response object.
    public var responseID: String?
    /// `response.status` (`in_progress`, `completed`, `failed`, `incomplete`, …).
    public var status: String?
    /// `response.incomplete_details.reason` for `response.incomplete`.
    public var incompleteReason: String?
    /// `output_index` of item events.
    public var outputIndex: Int?
    /// `item.type` of `response.output_item.added/done` (`message`, `function_call`, `reasoning`, …).
    public var itemType: String?
    public var error: ErrorInfo?
    public var usage: Usage?

    /// `response.completed`, `response.failed` or `response.incomplete`.
    public var isTerminal: Bool {
        type == "response.completed" || type == "response.failed" || type == "response.incomplete"
    }

    public init(data: [UInt8]) throws(JSONScanError) {
        try self.init(data: data[...])
    }

    public init(data: ArraySlice<UInt8>) throws(JSONScanError) {
        try self.init(top: JSONTopLevel.scan(object: data))
    }

    /// From an already scanned event object.
    public init(top: JSONTopLevel) throws(JSONScanError) {
        type = top.string(forKey: "type")
        sequenceNumber = top.int(forKey: "sequence_number")
        outputIndex = top.int(forKey: "output_index")
        if let item = try top.object(forKey: "item") { itemType = item.string(forKey: "type") }
        if let response = try top.object(forKey: "response") {
            responseID = response.string(forKey: "id")
            status = response.string(forKey: "status")
            incompleteReason = try response.object(forKey: "incomplete_details")?.string(forKey: "reason")
            if let usage = try response.object(forKey: "usage") { self.usage = try Self.usage(usage) }
            if let error = try response.object(forKey: "error") { self.error = Self.error(error) }
        }
        if error == nil, let error = try top.object(forKey: "error") {
            self.error = Self.error(error)
        } else if error == nil, type == "error" {
            // The API's `error` event carries code and message at the top; its `type` is the event type.
            self.error = ErrorInfo(code: top.string(forKey: "code"), message: top.string(forKey: "message"), type: nil)
        }
    }

    private static func usage(_ usage: JSONTopLevel) throws(JSONScanError) -> Usage {
        Usage(
            inputTokens: usage.int(forKey: "input_tokens"),
            cachedInputTokens: try usage.object(forKey: "input_tokens_details")?.int(forKey: "cached_tokens"),
            outputTokens: usage.int(forKey: "output_tokens"),
            reasoningOutputTokens: try usage.object(forKey: "output_tokens_details")?.int(forKey: "reasoning_tokens"),
            totalTokens: usage.int(forKey: "total_tokens")
        )
    }

    private static func error(_ object: JSONTopLevel) -> ErrorInfo {
        ErrorInfo(
            code: object.string(forKey: "code"),
            message: object.string(forKey: "message"),
            type: object.string(forKey: "type")
        )
    }
}
