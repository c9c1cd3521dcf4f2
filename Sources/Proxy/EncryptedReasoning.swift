import WireFormats

/// Reasoning items that carry `encrypted_content` in a request's `input`.
///
/// That content is sealed by the upstream identity that produced it: another account answers a history holding
/// it with 400 `invalid_encrypted_content` (openai/codex #8119 and the peers' reports of proxies that rotate
/// accounts), which Codex treats as fatal, and every later turn resends the same history. So when a
/// conversation has moved to an account that refuses it, the proxy retries once without those items
/// (`reasoning_strip`, docs/recovery.md): the model loses its earlier private reasoning, never a message, a
/// tool call or a tool output. Compaction items are kept (they hold the conversation itself).
///
/// Pure: bytes in, bytes out.
enum EncryptedReasoning {
    /// `input` without its encrypted reasoning items, or nil when it holds none (or is not an array).
    static func stripped(input: ArraySlice<UInt8>) -> [UInt8]? {
        guard let items = try? JSONArray.values(of: input) else { return nil }
        let kept = items.filter { !isEncryptedReasoning($0) }
        guard kept.count < items.count else { return nil }
        return JSONEncoding.array(kept.map { Array($0.bytes) })
    }

    /// The request `body` with `input` stripped, or nil when there is nothing to strip.
    static func stripped(body: [UInt8]) -> [UInt8]? {
        guard let top = try? JSONTopLevel.scan(body), let input = top.rawValue(forKey: "input"),
            let kept = stripped(input: input)
        else { return nil }
        return top.rewriting(set: [(key: "input", rawJSON: kept)])
    }

    /// Whether `input` holds any encrypted reasoning item.
    static func present(in input: ArraySlice<UInt8>) -> Bool {
        (try? JSONArray.values(of: input))?.contains(where: isEncryptedReasoning) ?? false
    }

    private static func isEncryptedReasoning(_ item: JSONValue) -> Bool {
        guard item.kind == .object, let object = try? item.object(), object.string(forKey: "type") == "reasoning",
            let content = object.value(forKey: "encrypted_content")
        else { return false }
        return content.kind != .null
    }
}
