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
/// Reasoning items without content are the other kind a request cannot always carry: to a ChatGPT account, which
/// stores nothing to look them up in, every request goes without them (`withoutReferenceOnly`, before sending).
///
/// Pure: bytes in, bytes out.
enum EncryptedReasoning {
    enum Kind: String, Sendable {
        case reasoning, compaction
    }

    /// `input` without its sealed items of `kinds`, or nil when it holds none (or is not an array).
    static func stripped(input: ArraySlice<UInt8>, kinds: Set<Kind>) -> [UInt8]? {
        (try? JSONArray.values(of: input)).flatMap { items in
            without(items) { sealed($0).map { kinds.contains($0.kind) } ?? false }
        }
    }

    /// The request `body` with `input` stripped of `kinds`, or nil when there is nothing to strip.
    static func stripped(body: [UInt8], kinds: Set<Kind>) -> [UInt8]? {
        rewritingInput(of: body) { items in without(items) { sealed($0).map { kinds.contains($0.kind) } ?? false } }
    }

    /// The body without the sealed reasoning items whose content's digest is not in `readable`
    /// (`SealedContentMemory`), or nil when there is none.
    static func stripped(body: [UInt8], keepingReadable readable: Set<Int>) -> [UInt8]? {
        rewritingInput(of: body) { items in
            without(items) { item in
                guard let s = sealed(item), s.kind == .reasoning else { return false }
                return !readable.contains(SealedContentMemory.digest(Array(s.content.utf8)[...]))
            }
        }
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

    /// Whether `item` is a `reasoning` item without `encrypted_content` (absent or null): one the upstream can only
    /// look up by its id, among the items of a stored response. With `store:false`, which the proxy forces on
    /// ChatGPT accounts, it stored none and answers 404 "Item with id 'rs_…' not found. Items are not persisted when
    /// `store` is set to false." A client that does not ask for `include: ["reasoning.encrypted_content"]` (the
    /// OpenAI SDK by default) gets its reasoning only as such items. Compaction items are never looked up by id.
    static func isReferenceOnly(_ item: JSONTopLevel) -> Bool {
        item.string(forKey: "type") == "reasoning" && (item.value(forKey: "encrypted_content")?.kind ?? .null) == .null
    }

    /// The request `body` without its reference-only reasoning items (`isReferenceOnly`), or nil when it holds none
    /// (or its `input` is not an array). For a request to a ChatGPT account, which can never look such an item up:
    /// sent, the request is a 404 (docs/recovery.md, "A request leaves out reasoning it cannot carry"). Callers ask
    /// only for a body whose scan counted such items (`JSONTopLevel.reasoningWithoutContent`), so a Codex turn, whose
    /// reasoning all carries its content, is not parsed item by item.
    static func withoutReferenceOnly(body: [UInt8]) -> [UInt8]? {
        rewritingInput(of: body) { items in
            without(items) { item in item.kind == .object && ((try? item.object()).map(isReferenceOnly) ?? false) }
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
        Set(inputItems(of: body)?.items.compactMap { sealed($0)?.kind } ?? [])
    }

    /// The body's top level and its `input` items, when `input` is an array.
    private static func inputItems(of body: [UInt8]) -> (top: JSONTopLevel, items: [JSONValue])? {
        guard let top = try? JSONTopLevel.scan(body), let input = top.rawValue(forKey: "input"),
            let items = try? JSONArray.values(of: input)
        else { return nil }
        return (top, items)
    }

    /// `body` with `input` replaced by what `transform` makes of its items; nil when it makes nothing.
    private static func rewritingInput(of body: [UInt8], _ transform: ([JSONValue]) -> [UInt8]?) -> [UInt8]? {
        guard let (top, items) = inputItems(of: body), let input = transform(items) else { return nil }
        return top.rewriting(set: [(key: "input", rawJSON: input)])
    }

    /// `items` as a JSON array without those `drop` names; nil when it names none.
    private static func without(_ items: [JSONValue], _ drop: (JSONValue) -> Bool) -> [UInt8]? {
        let kept = items.filter { !drop($0) }
        return kept.count < items.count ? JSONEncoding.array(kept.map { Array($0.bytes) }) : nil
    }

    /// A `reasoning` or `compaction` item with non-null `encrypted_content`: its kind and the content's decoded
    /// string (clients re-serialise items and may escape `/` differently, so the JSON text would not match).
    private static func sealed(_ item: JSONValue) -> (kind: Kind, content: String)? {
        guard item.kind == .object, let object = try? item.object(),
            let kind = object.string(forKey: "type").flatMap(Kind.init(rawValue:)),
            let value = object.value(forKey: "encrypted_content"), value.kind != .null
        else { return nil }
        return (kind, value.string ?? "")
    }
}
