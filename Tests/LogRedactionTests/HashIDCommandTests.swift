import Foundation
import XCTest

@testable import LogRedaction

final class HashIDCommandTests: XCTestCase {
    private let testKeyHex = Hex.encode((0..<32).map { UInt8($0) })
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "sightline-hashid-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil
    )
        -> (output: String, exitCode: Int32)
    {
        HashIDCommand.run(arguments: arguments, environment: environment, stdin: { stdin })
    }

    private func writeKeyFile(_ name: String = "pseudonym.key") throws -> String {
        let path = directory + "/" + name
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: path,
                contents: Data((testKeyHex + "\n").utf8),
                attributes: [.posixPermissions: 0o600]
            )
        )
        return path
    }

    func testConventionExampleWithKeyFileAndStdin() throws {
        let keyFile = try writeKeyFile()
        let result = run(
            ["hash-id", "--kind", "acct", "--key-file", keyFile, "--stdin"],
            stdin: "user-1234@example.com"
        )
        XCTAssertEqual(result.output, "acct_5214f4a56a0984dd\n")
        XCTAssertEqual(result.exitCode, 0)
    }

    func testKeySourcesAndKindAliases() throws {
        let environment = ["SIGHTLINE_PSEUDONYM_KEY": testKeyHex]
        XCTAssertEqual(
            run(["--kind", "account", "user-1234@example.com"], environment: environment).output,
            "acct_5214f4a56a0984dd\n"
        )
        XCTAssertEqual(run(["--kind=acct", "user-1234@example.com"], environment: environment).exitCode, 0)
        _ = try writeKeyFile()
        XCTAssertEqual(
            run(["--kind", "acct", "--state-dir", directory, "user-1234@example.com"]).output,
            "acct_5214f4a56a0984dd\n"
        )
        let pseudonymizer = try Pseudonymizer(key: Hex.decode(testKeyHex)!)
        for (name, kind) in [("principal", PseudonymKind.prn), ("sess", .sess), ("turn", .turn), ("response", .rid)] {
            XCTAssertEqual(
                run(["--kind", name, "v"], environment: environment).output,
                pseudonymizer.pseudonym(kind, "v") + "\n"
            )
        }
        XCTAssertEqual(
            run(["--kind", "acct", "--stdin"], environment: environment, stdin: "user-1234@example.com\r").output,
            "acct_5214f4a56a0984dd\n"
        )
    }

    /// The key the proxy uses is the one hash-id uses: a non-empty `SIGHTLINE_PSEUDONYM_KEY` wins over `--key-file`,
    /// as it wins over `pseudonymKeyFile` in `serve` and over `--key-file` in `accounts import`; an empty one names no
    /// key. `--key-file` used to win, so hash-id printed a pseudonym the proxy beside it never logged.
    func testTheEnvironmentKeyWinsOverTheKeyFileAsInServe() throws {
        let keyFile = try writeKeyFile()
        let environmentKey = String(repeating: "cd", count: 32)
        let expected = try Pseudonymizer(key: Hex.decode(environmentKey)!).pseudonym(.acct, "user-1234@example.com")
        let withBoth = run(
            ["--kind", "acct", "--key-file", keyFile, "user-1234@example.com"],
            environment: ["SIGHTLINE_PSEUDONYM_KEY": environmentKey]
        )
        XCTAssertEqual(withBoth.output, expected + "\n")
        XCTAssertEqual(
            run(
                ["--kind", "acct", "--key-file", keyFile, "user-1234@example.com"],
                environment: ["SIGHTLINE_PSEUDONYM_KEY": ""]
            ).output,
            "acct_5214f4a56a0984dd\n"
        )
    }

    func testErrors() throws {
        let environment = ["SIGHTLINE_PSEUDONYM_KEY": testKeyHex]
        XCTAssertEqual(run(["v"], environment: environment).exitCode, 2)
        XCTAssertEqual(run(["--kind", "resp", "v"], environment: environment).exitCode, 2)
        XCTAssertEqual(run(["--kind", "acct"], environment: environment).exitCode, 2)
        XCTAssertEqual(run(["--kind", "acct", "a", "b"], environment: environment).exitCode, 2)
        XCTAssertEqual(run(["--kind", "acct", "--stdin", "a"], environment: environment, stdin: "b").exitCode, 2)
        XCTAssertEqual(run(["--kind", "acct", "--stdin"], environment: environment, stdin: nil).exitCode, 2)
        XCTAssertEqual(run(["--kind", "acct", "--bogus", "v"], environment: environment).exitCode, 2)
        XCTAssertEqual(run(["--kind", "acct", "v"]).exitCode, 2, "no key source")
        // The state directory's key is never created by hash-id.
        let missing = run(["--kind", "acct", "--state-dir", directory, "v"])
        XCTAssertEqual(missing.exitCode, 1)
        XCTAssertTrue(missing.output.contains("not_found"), missing.output)
        let keyFile = try writeKeyFile("loose.key")
        XCTAssertEqual(chmod(keyFile, 0o644), 0)
        let loose = run(["--kind", "acct", "--key-file", keyFile, "v"])
        XCTAssertEqual(loose.exitCode, 1)
        XCTAssertTrue(loose.output.contains("insecure_permissions"), loose.output)
        XCTAssertEqual(run(["--help"]).exitCode, 0)
    }
}
