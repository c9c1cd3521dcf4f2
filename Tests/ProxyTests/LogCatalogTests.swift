import Foundation
import XCTest

/// Every log attribute key and event name the code writes is listed in docs/logs.md. Fails when code
/// adds a field the catalog does not document.
final class LogCatalogTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The keys and event names used in `source` (string literals passed to LogAttribute, setAttribute or event:).
    static func namesUsed(in source: String) -> Set<String> {
        var names = Set<String>()
        let patterns = [#"LogAttribute\("([a-z_.]+)""#, #"setAttribute\("([a-z_.]+)""#, #"event: "([a-z_.]+)""#]
        for pattern in patterns {
            let regex = try! NSRegularExpression(pattern: pattern)
            for m in regex.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                names.insert(String(source[Range(m.range(at: 1), in: source)!]))
            }
        }
        return names
    }

    func testCheckerFindsNames() {
        XCTAssertEqual(
            Self.namesUsed(in: #"x(LogAttribute("a.b", .int(1))) y.setAttribute("c_d", .int(2)) log(event: "e.f")"#),
            ["a.b", "c_d", "e.f"]
        )
    }

    func testEveryLoggedNameIsInTheCatalog() throws {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/logs.md"), encoding: .utf8)
        var used = Set<String>()
        let sources = Self.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        for case let url as URL in files where url.pathExtension == "swift" {
            used.formUnion(Self.namesUsed(in: try String(contentsOf: url, encoding: .utf8)))
        }
        XCTAssertFalse(used.isEmpty)
        let missing = used.filter { !doc.contains("`\($0)`") }.sorted()
        XCTAssertEqual(missing, [], "log names used in code but not documented in docs/logs.md")
    }
}
