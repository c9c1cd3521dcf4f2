import Foundation
import WireFormats

extension ConfigurationFile {
    /// `ProxyConfiguration.decode` after the repeated-key check, for configurations that do not come through
    /// `read` (which checks before its permission check). The decoder itself stays free of the scanner, so the
    /// configuration fuzz harness builds it alone.
    static func decode(_ data: Data, environment: [String: String]) throws -> ProxyConfiguration {
        if let path = duplicateKey(in: data) { throw ConfigurationError(reason: "duplicate_key", detail: path) }
        return try ProxyConfiguration.decode(data, environment: environment)
    }

    /// The path of the first key an object in `data` holds twice (`accounts[0].apiKey`), nil when none or when
    /// `data` is no JSON object (the decoder reports that). A repeated key is refused: the two parsers that read a
    /// configuration keep different copies of one (the decoder the first, `JSONSerialization` the last), so an
    /// inline credential in one copy passed the permission check and a typo in one passed the unknown-key check.
    static func duplicateKey(in data: Data) -> String? {
        guard let top = try? JSONTopLevel.scan(Array(data)) else { return nil }
        return duplicateKey(in: top, path: "")
    }

    private static func duplicateKey(in object: JSONTopLevel, path: String) -> String? {
        var seen = Set<String>()
        for field in object.fields {
            let here = path.isEmpty ? field.key : path + "." + field.key
            if !seen.insert(field.key).inserted { return here }
            if let found = duplicateKey(in: object.bytes[field.valueRange], kind: field.kind, path: here) {
                return found
            }
        }
        return nil
    }

    private static func duplicateKey(in value: ArraySlice<UInt8>, kind: JSONValueKind, path: String) -> String? {
        switch kind {
        case .object:
            guard let nested = try? JSONTopLevel.scan(object: value) else { return nil }
            return duplicateKey(in: nested, path: path)
        case .array:
            guard let elements = try? JSONArray.values(of: value) else { return nil }
            for (index, element) in elements.enumerated() {
                if let found = duplicateKey(in: element.bytes, kind: element.kind, path: "\(path)[\(index)]") {
                    return found
                }
            }
            return nil
        default:
            return nil
        }
    }
}
