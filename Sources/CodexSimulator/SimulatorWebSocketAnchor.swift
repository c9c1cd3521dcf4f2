/// What one simulated WebSocket connection remembers of its last response, so `previous_response_id`
/// resolves only on the connection that produced it (the backend's connection-local cache with
/// `store:false`, codex-protocol.md §5).
///
/// Keeps the canonical input the response answered (the chain so far) rather than the items themselves:
/// the cache model compares canonical bytes, and a chained request's prompt is this chain, then a marker
/// for the previous output, then the new items. Concurrency: a value; `Sendable`.
struct SimulatorWebSocketAnchor: Sendable, Equatable {
    var responseId: String
    var canonicalInput: [UInt8]
    var lastUserText: String?

    /// The prompt a request chained to this anchor stands for.
    func chained(_ request: SimulatedRequest) -> SimulatedRequest {
        var full = request
        full.canonicalInput = canonicalInput + Array("output\u{1F}\(responseId)\u{1F}\n".utf8) + request.canonicalInput
        if full.lastUserText == nil { full.lastUserText = lastUserText }
        full.previousResponseId = nil
        return full
    }
}
