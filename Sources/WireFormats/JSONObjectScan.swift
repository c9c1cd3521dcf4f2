/// Key-path lookups into nested objects, e.g. `["response", "usage", "input_tokens"]` in an SSE event.
///
/// Each step is a `JSONTopLevel` scan of the current object (so each level is validated and the last duplicate
/// key wins), then descends into the member's value. It does not index into arrays; use `JSONArray` for those.
/// Concurrency: stateless.
public enum JSONObjectScan {
    /// The value at `path` in `object`, or nil if a key is missing or an intermediate value is not an object.
    /// Throws only if a level that had to be scanned is malformed.
    public static func value(forPath path: [String], in object: ArraySlice<UInt8>) throws(JSONScanError) -> JSONValue? {
        guard let last = path.last else { return nil }
        var current = object
        for key in path.dropLast() {
            guard let next = try JSONTopLevel.scan(object: current).value(forKey: key), next.kind == .object else {
                return nil
            }
            current = next.bytes
        }
        return try JSONTopLevel.scan(object: current).value(forKey: last)
    }

    public static func value(forPath path: [String], in object: [UInt8]) throws(JSONScanError) -> JSONValue? {
        try value(forPath: path, in: object[...])
    }

    public static func string(forPath path: [String], in object: ArraySlice<UInt8>) throws(JSONScanError) -> String? {
        try value(forPath: path, in: object)?.string
    }

    public static func int(forPath path: [String], in object: ArraySlice<UInt8>) throws(JSONScanError) -> Int? {
        try value(forPath: path, in: object)?.int
    }
}
