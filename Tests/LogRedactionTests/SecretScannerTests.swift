import Foundation
import SightlineTestSupport
import Synchronization
import XCTest

@testable import LogRedaction

final class SecretScannerTests: XCTestCase {
    private let scanner = SecretScanner()

    private func scrubbed(_ text: String) -> String { scanner.scrub(text).text }

    func testDetectorTable() {
        let cases: [(input: String, output: String, detections: [String])] = [
            (
                "invalid key sk-test-FAKE0123456789abcdefXYZ given",
                "invalid key [REDACTED:openai_api_key] given", ["openai_api_key"]
            ),
            ("k=sk-proj-FAKE_0123456789abcdefghij", "k=[REDACTED:openai_api_key]", ["openai_api_key"]),
            ("(sk-svcacct-FAKE-0123456789abcdefgh)", "([REDACTED:openai_api_key])", ["openai_api_key"]),
            (
                "token eyJhbGciOiJub25lIn0.eyJzdWIiOiJGQUtFIn0.FAKEsig-_x end",
                "token [REDACTED:jwt] end", ["jwt"]
            ),
            ("unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJGQUtFIn0.", "unsigned [REDACTED:jwt]", ["jwt"]),
            (
                "Authorization: Bearer FAKE.abc~def+ghi/jkl== next",
                "Authorization: [REDACTED:bearer_token] next", ["bearer_token"]
            ),
            ("BEARER\tFAKEtoken", "[REDACTED:bearer_token]", ["bearer_token"]),
            (
                #"{"refresh_token":"rt-FAKE-123","token_type":"bearer"}"#,
                #"{"refresh_token":"[REDACTED:refresh_token]","token_type":"bearer"}"#, ["refresh_token"]
            ),
            (
                "grant_type=refresh_token&refresh_token=rt-FAKE-123&client_id=app",
                "grant_type=refresh_token&refresh_token=[REDACTED:refresh_token]&client_id=app", ["refresh_token"]
            ),
            (
                #"{"access_token" : "FAKE-at", "id_token":"FAKE-it", "api_key": "FAKE-k"}"#,
                #"{"access_token" : "[REDACTED:secret_json_key]", "id_token":"[REDACTED:secret_json_key]", "api_key": "[REDACTED:secret_json_key]"}"#,
                ["secret_json_key", "secret_json_key", "secret_json_key"]
            ),
            (
                #"{"Authorization":"Basic FAKE=","password":12345,"secret":null,"client_secret":"FAKE"}"#,
                #"{"Authorization":"[REDACTED:secret_json_key]","password":"[REDACTED:secret_json_key]","secret":null,"client_secret":"[REDACTED:secret_json_key]"}"#,
                ["secret_json_key", "secret_json_key", "secret_json_key"]
            ),
            (
                #"{"error":"{\"password\":\"FAKE-pw\",\"n\":1}"}"#,
                #"{"error":"{\"password\":\"[REDACTED:secret_json_key]\",\"n\":1}"}"#, ["secret_json_key"]
            ),
            (
                #"{"password":"FAKE \"quoted\" pw","ok":true}"#,
                #"{"password":"[REDACTED:secret_json_key]","ok":true}"#, ["secret_json_key"]
            ),
            // JSON in a JSON string, its secret holding a quote (`\\\"`) and a backslash (`\\\\`): all of it goes,
            // not only what came before the quote.
            (
                #"{"error":"{\"password\":\"FAKE\\\"LEAK\\\\tail\",\"n\":1}"}"#,
                #"{"error":"{\"password\":\"[REDACTED:secret_json_key]\",\"n\":1}"}"#, ["secret_json_key"]
            ),
        ]
        for (input, output, detections) in cases {
            let result = scanner.scrub(input)
            XCTAssertEqual(result.text, output, input)
            XCTAssertEqual(result.detections, detections, input)
        }
    }

    /// Spellings a bug hunt found passing through (2026-12-07): every secret below must be gone from the output.
    func testSecretsInTheirOtherSpellingsAreRedacted() {
        let cases: [(input: String, secret: String)] = [
            (#"{"message":"Bearer FAKEabc\/FAKEsecretTail=="}"#, "FAKEsecretTail"),
            ("id eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImZha2VAZXhhbXBsZS5jb20ifQ", "eyJlbWFpbCI6ImZha2VAZXhhbXBsZS5jb20ifQ"),
            ("Invalid refresh token: rt_FAKE0123456789abcdefghijklmnop", "rt_FAKE0123456789abcdefghijklmnop"),
            ("session sess-FAKE0123456789abcdefghijkl", "sess-FAKE0123456789abcdefghijkl"),
            ("Authorization: Bearer%20sk-FAKE0123456789abcdefghij", "sk-FAKE0123456789abcdefghij"),
            (#"{"refreshToken":"FAKE-rt-camel","accessToken":"FAKE-at-camel","apiKey":"FAKE-key-camel"}"#, "FAKE"),
            (#"{"idToken":"FAKE-id","clientSecret":"FAKE-cs"}"#, "FAKE"),
            ("x-api-key=FAKE-header-key; next", "FAKE-header-key"),
            (#"{"x-api-key":"FAKE-json-key"}"#, "FAKE-json-key"),
        ]
        for (input, secret) in cases {
            let output = scrubbed(input)
            XCTAssertFalse(output.contains(secret), "\(input) → \(output)")
            XCTAssertTrue(output.contains("[REDACTED:"), output)
        }
    }

    func testLeavesLookalikesAlone() {
        let benign = [
            #"{"usage":{"input_tokens":12,"cached_tokens":3,"output_tokens":5,"max_output_tokens":100}}"#,
            #"{"input_tokens_details":{"cached_tokens":0},"reasoning_tokens":7,"token_type":"Bearer"}"#,
            "disk-cache-directory-for-tests-and-more-words", "task-0123456789abcdefghijklmnop",
            "sk-short", "eyJhbGciOiJub25lIn0 alone", "an eyJ.eyJ. fragment", "swordfish",
            "bearer", "ubearer token", #"{"secrets":"visible","password_hint":"visible","my_api_key_id":"v"}"#,
            "prefix_api_key=visible", #"{"secret":{"nested":"structure"}}"#, #"{"password":""}"#,
            "héllo wörld ✓ sk-", "", "rt_short", "start_rt_0123456789abcdefghijklmnop",
            "assess-0123456789abcdefghijklmnop",
            #"{"apiKeyId":"visible","refreshTokenExpiry":3600}"#, "an eyJhbGciOiJub25lIn0.eyJ cut",
        ]
        for text in benign {
            let result = scanner.scrub(text)
            XCTAssertEqual(result.text, text)
            XCTAssertEqual(result.detections, [])
        }
    }

    func testNonASCIITextAroundMatchesSurvives() {
        XCTAssertEqual(
            scrubbed("héllo Bearer FAKEtok ✓ sk-test-FAKE0123456789abcdefXYZ ünd"),
            "héllo [REDACTED:bearer_token] ✓ [REDACTED:openai_api_key] ünd"
        )
    }

    func testTruncatedValueIsRedactedToTheEnd() {
        XCTAssertEqual(scrubbed(#"{"password":"FAKE-cut-off"#), #"{"password":"[REDACTED:secret_json_key]"#)
    }

    func testDetectionHookAndDetectorList() {
        let counts = Mutex<[String: Int]>([:])
        let counting = SecretScanner { name in counts.withLock { $0[name, default: 0] += 1 } }
        _ = counting.scrub("Bearer FAKEa and Bearer FAKEb and sk-test-FAKE0123456789abcdefXYZ")
        _ = counting.scrub("nothing here")
        XCTAssertEqual(counts.withLock { $0 }, ["bearer_token": 2, "openai_api_key": 1])
        XCTAssertEqual(
            SecretScanner.detectors,
            ["openai_api_key", "jwt", "bearer_token", "refresh_token", "secret_json_key"]
        )
    }

    // MARK: Property test

    /// Hides fake secrets at random places in random JSON (sometimes JSON inside a JSON string, sometimes
    /// plain text); none may survive, each must be reported once, and the document must still parse.
    func testRandomDocumentsNeverLeakHiddenSecrets() throws {
        var generator = SeededGenerator(seed: 0x5eed)
        let counter = Mutex(0)
        let counting = SecretScanner { _ in counter.withLock { $0 += 1 } }
        for round in 0..<300 {
            var planted: [(secret: String, detector: String)] = []
            var document = randomObject(depth: 0, &generator, &planted)
            let embed = round % 3 == 1
            if embed {
                let inner = String(
                    decoding: try JSONSerialization.data(withJSONObject: document, options: [.withoutEscapingSlashes]),
                    as: UTF8.self
                )
                document = ["error": ["message": inner, "code": "invalid_request"]]
            }
            var text = String(
                decoding: try JSONSerialization.data(withJSONObject: document, options: [.withoutEscapingSlashes]),
                as: UTF8.self
            )
            if round % 3 == 2 {
                let (secret, detector) = freeTextSecret(&generator)
                planted.append((secret, detector))
                text = "upstream 401 (\(secret)) body: " + text
            }
            let before = counter.withLock { $0 }
            let result = counting.scrub(text)
            for (secret, _) in planted {
                XCTAssertFalse(result.text.contains(secret), "round \(round) leaked \(secret) in \(result.text)")
            }
            XCTAssertEqual(result.detections.sorted(), planted.map(\.detector).sorted(), "round \(round): \(text)")
            XCTAssertEqual(counter.withLock { $0 } - before, planted.count)
            let json = round % 3 == 2 ? String(result.text.drop(while: { $0 != "{" })) : result.text
            let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            XCTAssertNotNil(parsed, "round \(round) broke JSON: \(result.text)")
            if !embed, let usage = (parsed?["usage"] as? [String: Any]) {
                XCTAssertEqual(usage["input_tokens"] as? Int, 42)
                XCTAssertEqual(usage["max_output_tokens"] as? Int, 4096)
            }
        }
    }

    private let benignKeys = ["model", "status", "type", "message", "id", "text", "token_type", "items"]
    private let sensitiveKeys: [(String, String)] = [
        ("refresh_token", "refresh_token"), ("access_token", "secret_json_key"), ("id_token", "secret_json_key"),
        ("api_key", "secret_json_key"), ("authorization", "secret_json_key"), ("password", "secret_json_key"),
        ("secret", "secret_json_key"), ("client_secret", "secret_json_key"),
    ]

    private func randomObject(
        depth: Int,
        _ g: inout SeededGenerator,
        _ planted: inout [(secret: String, detector: String)]
    ) -> [String: Any] {
        var object: [String: Any] = [:]
        if depth == 0 {
            object["usage"] = ["input_tokens": 42, "cached_tokens": 7, "output_tokens": 9, "max_output_tokens": 4096]
        }
        for index in 0..<Int.random(in: 1...5, using: &g) {
            let roll = Int.random(in: 0..<10, using: &g)
            if roll < 2 {
                let (key, detector) = sensitiveKeys.randomElement(using: &g)!
                if object[key] != nil { continue }  // A repeated key would overwrite its planted secret.
                if key == "password", Bool.random(using: &g) {
                    let number = Int.random(in: 100_000_000_000...999_999_999_999, using: &g)
                    object[key] = number
                    planted.append((String(number), detector))
                } else {
                    let secret = "FAKE-" + randomToken(24, &g)
                    object[key] = secret
                    planted.append((secret, detector))
                }
            } else if roll < 4 {
                let (secret, detector) = freeTextSecret(&g)
                object[benignKeys.randomElement(using: &g)! + "\(index)"] = "upstream said: \(secret) (request failed)"
                planted.append((secret, detector))
            } else if roll < 6, depth < 3 {
                object["nested\(index)"] = randomObject(depth: depth + 1, &g, &planted)
            } else if roll < 7, depth < 3 {
                object["list\(index)"] = [
                    randomObject(depth: depth + 1, &g, &planted), 1, "disk-usage-is-fine-and-well-within-limits",
                ]
            } else {
                object[benignKeys.randomElement(using: &g)! + "\(index)"] = "plain words café " + randomToken(8, &g)
            }
        }
        return object
    }

    private func freeTextSecret(_ g: inout SeededGenerator) -> (String, String) {
        switch Int.random(in: 0..<4, using: &g) {
        case 0: return ("sk-test-FAKE" + randomToken(24, &g), "openai_api_key")
        case 1: return ("sk-proj-FAKE" + randomToken(30, &g), "openai_api_key")
        case 2:
            return (
                "eyJGQUtF" + randomToken(10, &g) + ".eyJGQUtF" + randomToken(12, &g) + "." + randomToken(16, &g), "jwt"
            )
        default: return ("Bearer FAKE" + randomToken(20, &g), "bearer_token")
        }
    }

    private func randomToken(_ length: Int, _ g: inout SeededGenerator) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        return String((0..<length).map { _ in alphabet.randomElement(using: &g)! })
    }
}
