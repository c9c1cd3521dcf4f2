import Foundation
import WireFormats

/// Decides whether an HTTP request continues the previous turn of its bridge session, Codex's
/// incremental rule (codex-protocol §5): every non-input field equals the previous request's, and the
/// new input starts with the previous input followed by the previous response's output items. Then
/// only the remaining items go upstream, with `previous_response_id`.
///
/// Prior input items must be equal as JSON values (the same client serialised them both times). Output
/// items come back from the client re-serialised by its SDK (extra `null`s or defaults), so an output
/// item matches on its `id` when both sides have one, otherwise on JSON equality.
/// Pure; never logs item content. Concurrency: a value.
struct BridgeContinuation: Sendable {
    /// The fields that must not change for a delta (everything but `input`, and the proxy-owned ones).
    static let fingerprintFields = [
        "model", "instructions", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "store", "include",
        "service_tier", "prompt_cache_key", "text", "max_output_tokens", "truncation",
    ]

    /// What the previous turn of a bridge session sent and got.
    struct Turn: Sendable {
        var fingerprint: [String: [UInt8]]
        var input: [[UInt8]]
        var output: [[UInt8]]
        var responseID: String
    }

    /// The non-input fields of a request body, raw.
    static func fingerprint(_ top: JSONTopLevel) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for key in fingerprintFields { if let raw = top.rawValue(forKey: key) { out[key] = Array(raw) } }
        return out
    }

    /// The input items of a body (a string input is one user message, which never continues anything).
    static func items(_ top: JSONTopLevel) -> [[UInt8]]? {
        guard top.kind(forKey: "input") == .array, let raw = top.rawValue(forKey: "input"),
            let values = try? JSONArray.values(of: raw)
        else { return nil }
        return values.map { Array($0.bytes) }
    }

    /// The new items when `input` continues `previous`; nil when the request must be sent in full.
    func delta(previous: Turn, fingerprint: [String: [UInt8]], input: [[UInt8]]) -> [[UInt8]]? {
        guard fingerprint == previous.fingerprint else { return nil }
        let prefix = previous.input.count + previous.output.count
        guard input.count > prefix else { return nil }
        for (i, item) in previous.input.enumerated() where !Self.equal(item, input[i]) { return nil }
        for (j, item) in previous.output.enumerated() where !Self.sameOutput(item, input[previous.input.count + j]) {
            return nil
        }
        return Array(input[prefix...])
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a == b { return true }
        guard let x = try? JSONSerialization.jsonObject(with: Data(a), options: [.fragmentsAllowed]) as? NSObject,
            let y = try? JSONSerialization.jsonObject(with: Data(b), options: [.fragmentsAllowed]) as? NSObject
        else { return false }
        return x.isEqual(y)
    }

    static func sameOutput(_ produced: [UInt8], _ resent: [UInt8]) -> Bool {
        let producedID = (try? JSONTopLevel.scan(produced))?.string(forKey: "id")
        let resentID = (try? JSONTopLevel.scan(resent))?.string(forKey: "id")
        if let producedID, let resentID { return producedID == resentID }
        return equal(produced, resent)
    }
}
