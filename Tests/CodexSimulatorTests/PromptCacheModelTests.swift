import XCTest

@testable import CodexSimulator

final class PromptCacheModelTests: XCTestCase {
    private func bytes(_ n: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) &+ seed }
    }

    func testTable() {
        let base = bytes(4096)  // 1024 tokens, 16 blocks
        let grown = base + bytes(1000, seed: 7)
        var changedMiddle = base
        changedMiddle[1000] ^= 0xFF  // inside block 3 (bytes 768..<1024)
        let cases: [(String, [UInt8], String, String?, Int)] = [
            ("same input again, same key and account", base, "acct1", "k", 1024),
            ("grown input keeps the whole previous prefix", grown, "acct1", "k", 1024),
            ("other account starts cold", grown, "acct2", "k", 0),
            ("other key starts cold", grown, "acct1", "other", 0),
            ("change in block 3 keeps 3 blocks", changedMiddle, "acct1", "k", 192),
        ]
        for (name, input, account, key, expected) in cases {
            var model = PromptCacheModel(minimumTokens: 256)
            XCTAssertEqual(model.observe(account: "acct1", promptCacheKey: "k", canonicalInput: base), 0, name)
            XCTAssertEqual(model.observe(account: account, promptCacheKey: key, canonicalInput: input), expected, name)
        }
    }

    /// The real cache is per model, and the tools lead the prompt: either changed, nothing is cached.
    func testAnotherModelOrOtherToolsStartCold() {
        let input = bytes(4096)
        let cases: [(String, String, UInt64, Int)] = [
            ("same model and tools", "gpt-5.5", 7, 1024),
            ("another model", "gpt-5.5-mini", 7, 0),
            ("other tools", "gpt-5.5", 8, 0),
            ("tools dropped", "gpt-5.5", 0, 0),
        ]
        for (name, modelName, tools, expected) in cases {
            var model = PromptCacheModel(minimumTokens: 256)
            _ = model.observe(
                account: "a",
                promptCacheKey: "k",
                model: "gpt-5.5",
                toolsDigest: 7,
                canonicalInput: input
            )
            let cached = model.observe(
                account: "a",
                promptCacheKey: "k",
                model: modelName,
                toolsDigest: tools,
                canonicalInput: input
            )
            XCTAssertEqual(cached, expected, name)
        }
    }

    func testBelowMinimumNeverCaches() {
        var model = PromptCacheModel(minimumTokens: 1024)
        let small = bytes(2048)  // 512 tokens
        _ = model.observe(account: "a", promptCacheKey: nil, canonicalInput: small)
        XCTAssertEqual(model.observe(account: "a", promptCacheKey: nil, canonicalInput: small), 0)
    }

    func testCachedIsMultipleOf64AndAtMostInput() {
        var model = PromptCacheModel(minimumTokens: 1)
        let input = bytes(3000)
        _ = model.observe(account: "a", promptCacheKey: "k", canonicalInput: input)
        let cached = model.observe(account: "a", promptCacheKey: "k", canonicalInput: input)
        XCTAssertEqual(cached % 64, 0)
        XCTAssertEqual(cached, 704)  // 11 whole blocks of 256 bytes
        XCTAssertLessThanOrEqual(cached, PromptCacheModel.inputTokens(input))
    }

    func testBoundedEntriesForgetOldest() {
        var model = PromptCacheModel(minimumTokens: 1)
        model.maxEntries = 2
        let input = bytes(512)
        for key in ["a", "b", "c"] { _ = model.observe(account: "x", promptCacheKey: key, canonicalInput: input) }
        XCTAssertEqual(model.observe(account: "x", promptCacheKey: "a", canonicalInput: input), 0)
        XCTAssertEqual(model.observe(account: "x", promptCacheKey: "c", canonicalInput: input), 128)
    }
}
