import WireFormats

/// Items of a request's `input` that carry `encrypted_content`: `reasoning` items and `compaction` items.
///
/// That content is sealed by the upstream identity that produced it: another account answers a history holding
/// it with 400 `invalid_encrypted_content` (openai/codex #8119 and the peers' reports of proxies that rotate
/// accounts), which Codex treats as fatal, and every later turn resends the same history. So when a
/// conversation has moved to an account that refuses it, the proxy retries without them (`reasoning_strip`,
/// docs/recovery.md), in two steps: first the reasoning items (the model loses its earlier private reasoning,
/// never a message, a tool call or a tool output); refused again, the compaction items too (it loses the
/// compacted summary of the work before; the user's messages stay).
///
/// Pure: bytes in, bytes out.
enum EncryptedReasoning {
    enum Kind: String, Sendable {
        case reasoning, compaction
    }

    /// `input` without its sealed items of `kinds`, or nil when it holds none (or is not an array).
    static func stripped(input: ArraySlice<UInt8>, kinds: Set<Kind>) -> [UInt8]? {
        guard let items = try? JSONArray.values(of: input) else { return nil }
        let kept = items.filter { sealedKind($0).map { !kinds.contains($0) } ?? true }
        guard kept.count < items.count else { return nil }
        return JSONEncoding.array(kept.map { Array($0.bytes) })
    }

    /// The request `body` with `input` stripped of `kinds`, or nil when there is nothing to strip.
    static func stripped(body: [UInt8], kinds: Set<Kind>) -> [UInt8]? {
        guard let top = try? JSONTopLevel.scan(body), let input = top.rawValue(forKey: "input"),
            let kept = stripped(input: input, kinds: kinds)
        else { return nil }
        return top.rewriting(set: [(key: "input", rawJSON: kept)])
    }

    /// The body without the sealed reasoning items whose content's digest is not in `readable`
    /// (`SealedContentMemory`), or nil when there is none.
    static func stripped(body: [UInt8], keepingReadable readable: Set<Int>) -> [UInt8]? {
        guard let top = try? JSONTopLevel.scan(body), let input = top.rawValue(forKey: "input"),
            let items = try? JSONArray.values(of: input)
        else { return nil }
        let kept = items.filter { item in
            guard sealedKind(item) == .reasoning, let blob = sealedContent(item) else { return true }
            return readable.contains(SealedContentMemory.digest(blob))
        }
        guard kept.count < items.count else { return nil }
        return top.rewriting(set: [(key: "input", rawJSON: JSONEncoding.array(kept.map { Array($0.bytes) }))])
    }

    /// The sealed content of the reasoning items among `items` (output items, as they came).
    static func reasoningContent(of items: [[UInt8]]) -> [ArraySlice<UInt8>] {
        items.compactMap { bytes in
            guard let value = try? JSONTopLevel.scan(bytes), value.string(forKey: "type") == "reasoning",
                let content = value.string(forKey: "encrypted_content")
            else { return nil }
            return Array(content.utf8)[...]
        }
    }

    /// What the next strip removes: the reasoning items first; once they are gone (or there were none), the
    /// compaction items with whatever reasoning is left.
    static func nextStep(present: Set<Kind>, reasoningStripped: Bool) -> Set<Kind> {
        present.contains(.reasoning) && !reasoningStripped ? [.reasoning] : [.reasoning, .compaction]
    }

    /// The `reason` a strip is recorded with: the upstream's code, marked when it drops compaction items.
    static func reason(_ step: Set<Kind>) -> String {
        step.contains(.compaction) ? "invalid_encrypted_content_compaction" : "invalid_encrypted_content"
    }

    /// The kinds of sealed item the body's `input` holds.
    static func kinds(in body: [UInt8]) -> Set<Kind> {
        guard let top = try? JSONTopLevel.scan(body), let input = top.rawValue(forKey: "input"),
            let items = try? JSONArray.values(of: input)
        else { return [] }
        return Set(items.compactMap(sealedKind))
    }

    /// The decoded string, not its JSON text: clients re-serialise items, and may escape `/` differently.
    private static func sealedContent(_ item: JSONValue) -> ArraySlice<UInt8>? {
        guard let object = try? item.object(), let content = object.string(forKey: "encrypted_content") else {
            return nil
        }
        return Array(content.utf8)[...]
    }

    private static func sealedKind(_ item: JSONValue) -> Kind? {
        guard item.kind == .object, let object = try? item.object(),
            let kind = object.string(forKey: "type").flatMap(Kind.init(rawValue:)),
            let content = object.value(forKey: "encrypted_content"), content.kind != .null
        else { return nil }
        return kind
    }
}
