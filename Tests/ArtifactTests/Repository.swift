import Foundation

/// Locates and reads the repository's files from the tests, which run from an arbitrary directory.
///
/// Does not cache or write anything. Concurrency: stateless; safe from any thread.
enum Repository {
    /// The repository root: three levels above this source file (`Tests/ArtifactTests/Repository.swift`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: url(relativePath), encoding: .utf8)
    }

    /// Files directly inside `directory` whose names end in `suffix`, sorted by name.
    static func files(in directory: String, suffix: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: url(directory).path)
            .filter { $0.hasSuffix(suffix) }
            .sorted()
            .map { url(directory).appendingPathComponent($0) }
    }
}
