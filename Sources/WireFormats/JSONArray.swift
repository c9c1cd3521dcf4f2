/// Element-level access to a JSON array value without parsing its elements.
///
/// `elements(of:)` validates the array (same scanner and guarantees as `JSONTopLevel`) and returns each element's
/// byte range — used to count or split the `input` items of a request. `concatenate` joins arrays for transcript
/// replay by splicing their contents; it checks only the brackets, so pass arrays that were scanned before.
/// Concurrency: stateless.
public enum JSONArray {
    /// The byte range of every element (indices of the underlying array). Only whitespace may surround the array.
    public static func elements(of array: ArraySlice<UInt8>) throws(JSONScanError) -> [Range<Int>] {
        try values(of: array).map { $0.range }
    }

    /// Every element as a `JSONValue` (raw slice plus kind).
    public static func values(of array: ArraySlice<UInt8>) throws(JSONScanError) -> [JSONValue] {
        let offset = array.startIndex
        let result: Result<[(Range<Int>, JSONValueKind)], JSONScanError> = array.withUnsafeBufferPointer { buffer in
            let scanner = JSONByteScanner(buffer, indexOffset: offset)
            do throws(JSONScanError) {
                let open = scanner.skipWhitespace(0)
                guard open < scanner.end else { throw scanner.error(.emptyInput, open) }
                guard buffer[open] == 0x5B else { throw scanner.error(.notAnArray, open) }
                var found: [(Range<Int>, JSONValueKind)] = []
                let end = try scanner.scanArray(open, depth: 1) { range, kind in
                    found.append(((range.lowerBound + offset)..<(range.upperBound + offset), kind))
                }
                let rest = scanner.skipWhitespace(end)
                guard rest == scanner.end else { throw scanner.error(.trailingGarbage, rest) }
                return .success(found)
            } catch {
                return .failure(error)
            }
        }
        return try result.get().map { JSONValue(bytes: array[$0.0], kind: $0.1) }
    }

    /// One array holding every element of the given arrays, in order: `[a,b]` + `[]` + `[c]` → `[a,b,c]`.
    /// Element bytes are copied verbatim. Throws `notAnArray` if an input is not bracketed.
    public static func concatenate(_ arrays: [ArraySlice<UInt8>]) throws(JSONScanError) -> [UInt8] {
        var inners: [ArraySlice<UInt8>] = []
        inners.reserveCapacity(arrays.count)
        for array in arrays {
            let inner = try innerContent(array)
            if !inner.isEmpty { inners.append(inner) }
        }
        var out: [UInt8] = []
        out.reserveCapacity(inners.reduce(2) { $0 + $1.count + 1 })
        out.append(0x5B)
        for (index, inner) in inners.enumerated() {
            if index > 0 { out.append(0x2C) }
            out.append(contentsOf: inner)
        }
        out.append(0x5D)
        return out
    }

    public static func concatenate(_ arrays: [[UInt8]]) throws(JSONScanError) -> [UInt8] {
        try concatenate(arrays.map { $0[...] })
    }

    /// The bytes between `[` and `]`, trimmed of whitespace.
    private static func innerContent(_ array: ArraySlice<UInt8>) throws(JSONScanError) -> ArraySlice<UInt8> {
        var lo = array.startIndex
        var hi = array.endIndex
        while lo < hi && isWhitespace(array[lo]) { lo += 1 }
        while hi > lo && isWhitespace(array[hi - 1]) { hi -= 1 }
        guard hi - lo >= 2, array[lo] == 0x5B, array[hi - 1] == 0x5D else {
            throw JSONScanError(.notAnArray, offset: lo)
        }
        lo += 1
        hi -= 1
        while lo < hi && isWhitespace(array[lo]) { lo += 1 }
        while hi > lo && isWhitespace(array[hi - 1]) { hi -= 1 }
        return array[lo..<hi]
    }

    private static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
}
