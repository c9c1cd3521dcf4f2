/// What `GET /__sim/requests` reports about one received request (JSON keys in snake_case).
///
/// Carries no secrets: only whether an `authorization` header was present and the header *names*. The turn
/// state is recorded by value: it is the simulator's own token, and tests compare it with what they were sent.
/// Concurrency: a value type; `Sendable`.
struct RequestRecord: Codable, Sendable, Equatable {
    var time: Double
    var method: String
    var path: String
    var status: Int
    /// Account name the credentials resolved to, nil when they did not.
    var account: String?
    var model: String?
    var promptCacheKey: String?
    /// Value of the `session-id` (or legacy `session_id`) header.
    var sessionId: String?
    var hasPreviousResponseId: Bool
    var inputItemCount: Int
    /// Bytes of canonical input (instructions plus item texts) the cache model saw.
    var inputBytes: Int
    var bodyBytes: Int
    var stream: Bool?
    var cachedTokens: Int?
    var inputTokens: Int?
    /// Name of the applied fault, nil when none.
    var fault: String?
    var hasAuthorization: Bool
    /// Lower-cased header names in arrival order.
    var headerNames: [String]
    var responseId: String?
    /// The turn state the request echoed: its `x-codex-turn-state` header over HTTP, its
    /// `client_metadata["x-codex-turn-state"]` in a WebSocket frame; nil when it carried none.
    var turnState: String?
    /// `websocket` for a `response.create` frame; nil (absent) for HTTP.
    var transport: String?
    /// Id of the WebSocket connection the frame came on (`ws_<n>`); nil for HTTP.
    var connection: String?
}

/// The last `capacity` request records, oldest first.
///
/// A fixed ring so recording stays O(1) under benchmark load. Concurrency: a value type, owned by
/// `SimulatorState` under its lock.
struct RequestLog: Sendable {
    let capacity: Int
    private var storage: [RequestRecord] = []
    private var next = 0

    init(capacity: Int = 1000) { self.capacity = max(1, capacity) }

    mutating func append(_ record: RequestRecord) {
        if storage.count < capacity {
            storage.append(record)
        } else {
            storage[next] = record
        }
        next = (next + 1) % capacity
    }

    var records: [RequestRecord] {
        storage.count < capacity ? storage : Array(storage[next...] + storage[..<next])
    }

    mutating func reset() {
        storage = []
        next = 0
    }
}
