/// Frames one server-sent event as the Codex backend does: `event: <type>\ndata: <json>\n\n`.
///
/// Does not build the JSON (see `JSONText`) and does not split multi-line data: every payload is one line
/// of compact JSON. Kept separate so it can later be replaced by `WireFormats`' encoder.
/// Concurrency: stateless; `Sendable`.
enum SimulatorSSEEncoder {
    static func event(type: String, json: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(type.utf8.count + json.utf8.count + 16)
        bytes.append(contentsOf: "event: ".utf8)
        bytes.append(contentsOf: type.utf8)
        bytes.append(contentsOf: "\ndata: ".utf8)
        bytes.append(contentsOf: json.utf8)
        bytes.append(contentsOf: "\n\n".utf8)
        return bytes
    }

    /// A comment line, ignored by SSE parsers; used as a keep-alive.
    static func comment(_ text: String) -> [UInt8] { Array(": \(text)\n\n".utf8) }
}
