import WireFormats

/// libFuzzer target `json`: `JSONTopLevel.scan` and `rewriting(set:remove:)` over an arbitrary body.
///
/// Invariants beyond "does not crash or hang": field ranges are ordered and inside the input; every reader
/// (string, int, double, bool, nested object, array elements) runs without trapping; a rewrite that sets one
/// key and removes another re-scans as an object in which the set key reads back exactly, the removed key is
/// gone, and every other key keeps its raw value bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func jsonFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let top: JSONTopLevel
    do {
        top = try JSONTopLevel.scan(bytes)
    } catch {
        // No differential against Foundation here: JSONSerialization accepts a trailing comma
        // (`{"a":[1],}`), which RFC 8259 and this scanner reject, so disagreement is not a bug in itself.
        return 0
    }
    JSONChecks.readAll(top, depth: 0)
    JSONChecks.rewrite(top)
    return 0
}

enum JSONChecks {
    /// Exercises every reader on every member, recursing into nested objects and arrays a few levels.
    static func readAll(_ top: JSONTopLevel, depth: Int) {
        var previousEnd = top.openBrace + 1
        for field in top.fields {
            fuzzInvariant(field.keyRange.lowerBound >= previousEnd, "fields overlap or go backwards")
            fuzzInvariant(field.keyRange.upperBound <= field.valueRange.lowerBound, "key after value")
            fuzzInvariant(field.valueRange.upperBound <= top.closeBrace, "value past the closing brace")
            previousEnd = field.valueRange.upperBound
            let value = JSONValue(bytes: top.bytes[field.valueRange], kind: field.kind)
            _ = value.string
            _ = value.int
            _ = value.double
            _ = value.bool
            guard depth < 4 else { continue }
            if let nested = try? value.object() { readAll(nested, depth: depth + 1) }
            if let elements = try? value.elements() {
                for element in elements {
                    if let nested = try? element.object() { readAll(nested, depth: depth + 1) }
                }
            }
        }
    }

    /// Sets the first key (or "model") to a string with characters that need escaping and removes the last
    /// key, then checks the result.
    static func rewrite(_ top: JSONTopLevel) {
        let setKey = top.fields.first?.key ?? "model"
        let setValue = "fuzz \"quoted\" \\ \u{0} \u{1F600} \(top.fields.count)"
        let removeKey = top.fields.count > 1 ? top.fields.last!.key : "absent-key"
        let out = top.rewriting(set: [(key: setKey, rawJSON: JSONEncoding.string(setValue))], remove: [removeKey])
        let again: JSONTopLevel
        do {
            again = try JSONTopLevel.scan(out)
        } catch {
            fatalError("fuzz invariant violated: rewrite output does not scan (\(error)): \(out)")
        }
        fuzzInvariant(again.string(forKey: setKey) == setValue, "set key does not read back")
        if removeKey != setKey {
            fuzzInvariant(!again.hasKey(removeKey), "removed key still present")
        }
        for field in top.fields where field.key != setKey && field.key != removeKey {
            fuzzInvariant(
                again.rawValue(forKey: field.key) == top.rawValue(forKey: field.key),
                "untouched key \(field.key) changed"
            )
        }
    }
}
