/// The byte-level matching behind `SecretScanner`: one left-to-right pass with fixed ASCII triggers.
///
/// Pure functions over a UTF-8 buffer; every trigger byte is ASCII, so multi-byte characters can never
/// start or extend a match. Returns nil output when nothing matched, so the common case allocates nothing.
enum SecretMatcher {
    struct Match {
        /// Replaced byte range in the input.
        var start: Int
        var end: Int
        var detector: SecretDetector
        /// Quotes to put around the replacement (bare JSON scalars become strings).
        var quote: [UInt8] = []
    }

    /// JSON keys and form fields whose values are secrets, lowercase (matched ignoring case, so the camel-case
    /// spellings `refreshToken`, `apiKey`… are the unseparated entries).
    private static let sensitiveKeys: [([UInt8], SecretDetector)] = [
        (Array("refresh_token".utf8), .refreshToken),
        (Array("refreshtoken".utf8), .refreshToken),
        (Array("access_token".utf8), .secretJSONKey),
        (Array("accesstoken".utf8), .secretJSONKey),
        (Array("id_token".utf8), .secretJSONKey),
        (Array("idtoken".utf8), .secretJSONKey),
        (Array("api_key".utf8), .secretJSONKey),
        (Array("apikey".utf8), .secretJSONKey),
        (Array("x-api-key".utf8), .secretJSONKey),
        (Array("clientsecret".utf8), .secretJSONKey),
        (Array("authorization".utf8), .secretJSONKey),
        (Array("password".utf8), .secretJSONKey),
        (Array("client_secret".utf8), .secretJSONKey),
        (Array("secret".utf8), .secretJSONKey),
    ]

    static func scan(_ p: UnsafeBufferPointer<UInt8>) -> (output: [UInt8]?, detections: [String]) {
        var output: [UInt8]?
        var detections: [String] = []
        var copied = 0
        var index = 0
        while index < p.count {
            let match: Match?
            switch p[index] {
            case UInt8(ascii: "s"): match = apiKey(p, index)
            case UInt8(ascii: "r"): match = prefixed(p, index, refreshTokenPrefix, .refreshToken)
            case UInt8(ascii: "e"): match = jwt(p, index)
            case UInt8(ascii: "b"), UInt8(ascii: "B"): match = bearer(p, index)
            case UInt8(ascii: "\""): match = jsonValue(p, index)
            case UInt8(ascii: "="): match = formValue(p, index)
            default: match = nil
            }
            guard let match else {
                index += 1
                continue
            }
            if output == nil { output = Array(unsafeUninitializedCapacity: p.count + 32) { _, count in count = 0 } }
            output!.append(contentsOf: p[copied..<match.start])
            output!.append(contentsOf: match.quote)
            output!.append(contentsOf: match.detector.replacement)
            output!.append(contentsOf: match.quote)
            detections.append(match.detector.name)
            copied = match.end
            index = max(match.end, index + 1)
        }
        if output != nil { output!.append(contentsOf: p[copied..<p.count]) }
        return (output, detections)
    }

    // MARK: Detectors

    /// `sk-` (an API key) or `sess-` (a session key) + 20 or more `[A-Za-z0-9_-]`, not preceded by such a
    /// character (so `disk-…` is safe) unless it is the `0` of a URL-encoded space (`Bearer%20sk-…`).
    static func apiKey(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Match? {
        prefixed(p, i, apiKeyPrefix, .openAIAPIKey) ?? prefixed(p, i, sessionKeyPrefix, .openAIAPIKey)
    }

    private static let apiKeyPrefix = Array("sk-".utf8)
    private static let sessionKeyPrefix = Array("sess-".utf8)
    /// ChatGPT refresh tokens in free text (`rt_…`); under a key they are caught by the key.
    private static let refreshTokenPrefix = Array("rt_".utf8)

    /// `prefix` (exact case) + 20 or more `[A-Za-z0-9_-]` at a token start (see `apiKey`).
    static func prefixed(
        _ p: UnsafeBufferPointer<UInt8>,
        _ i: Int,
        _ prefix: [UInt8],
        _ detector: SecretDetector
    ) -> Match? {
        guard i + prefix.count < p.count else { return nil }
        for offset in 1..<prefix.count where p[i + offset] != prefix[offset] { return nil }
        if i > 0, isBase64URL(p[i - 1]), !(i >= 3 && p[i - 3] == UInt8(ascii: "%") && p[i - 2] == UInt8(ascii: "2")) {
            return nil
        }
        let end = skip(p, from: i + prefix.count, while: isBase64URL)
        return end - (i + prefix.count) >= 20 ? Match(start: i, end: end, detector: detector) : nil
    }

    /// `eyJ…` `.` `eyJ…` `.` signature: header and payload of a JWT are base64url JSON objects.
    static func jwt(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Match? {
        guard hasEyJ(p, i) else { return nil }
        let headerEnd = skip(p, from: i + 3, while: isBase64URL)
        guard headerEnd > i + 3, headerEnd < p.count, p[headerEnd] == UInt8(ascii: "."),
            hasEyJ(p, headerEnd + 1)
        else { return nil }
        let payloadEnd = skip(p, from: headerEnd + 4, while: isBase64URL)
        guard payloadEnd > headerEnd + 4 else { return nil }
        guard payloadEnd < p.count, p[payloadEnd] == UInt8(ascii: ".") else {
            // Cut off before its signature: the payload (an email, an account id) is still worth hiding.
            return payloadEnd - (headerEnd + 1) >= 10 ? Match(start: i, end: payloadEnd, detector: .jwt) : nil
        }
        let end = skip(p, from: payloadEnd + 1, while: isBase64URL)
        return Match(start: i, end: end, detector: .jwt)
    }

    /// `bearer` (any case) at a word start, whitespace, then a token68-ish credential.
    static func bearer(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Match? {
        guard equalsLowercase(p, i, bearerWord) else { return nil }
        if i > 0, isWord(p[i - 1]) { return nil }
        let spaceEnd = skip(p, from: i + bearerWord.count, while: isSpace)
        guard spaceEnd > i + bearerWord.count else { return nil }
        var tokenEnd = skip(p, from: spaceEnd, while: isBearerTokenChar)
        // A `/` escaped as `\/`, as JSON encoders write it, is part of the token.
        while tokenEnd > spaceEnd, tokenEnd + 1 < p.count, p[tokenEnd] == UInt8(ascii: "\\"),
            p[tokenEnd + 1] == UInt8(ascii: "/")
        {
            tokenEnd = skip(p, from: tokenEnd + 2, while: isBearerTokenChar)
        }
        guard tokenEnd > spaceEnd else { return nil }
        let end = skip(p, from: tokenEnd) { $0 == UInt8(ascii: "=") }
        return Match(start: i, end: end, detector: .bearerToken)
    }

    private static let bearerWord = Array("bearer".utf8)

    /// The value after a sensitive JSON key; `i` is the key's opening quote, which may itself be escaped
    /// (`\"`) when the JSON sits inside another JSON string.
    static func jsonValue(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Match? {
        let escaped = i > 0 && p[i - 1] == UInt8(ascii: "\\")
        guard let (keyEnd, detector) = sensitiveKey(p, at: i + 1) else { return nil }
        var j = keyEnd
        if escaped {
            guard j + 1 < p.count, p[j] == UInt8(ascii: "\\"), p[j + 1] == UInt8(ascii: "\"") else { return nil }
            j += 2
        } else {
            guard j < p.count, p[j] == UInt8(ascii: "\"") else { return nil }
            j += 1
        }
        j = skip(p, from: j, while: isSpace)
        guard j < p.count, p[j] == UInt8(ascii: ":") else { return nil }
        j = skip(p, from: j + 1, while: isSpace)
        guard j < p.count else { return nil }
        if !escaped, p[j] == UInt8(ascii: "\"") {
            var q = j + 1
            while q < p.count, p[q] != UInt8(ascii: "\"") { q += p[q] == UInt8(ascii: "\\") ? 2 : 1 }
            let end = min(q, p.count)
            return end > j + 1 ? Match(start: j + 1, end: end, detector: detector) : nil
        }
        if escaped, j + 1 < p.count, p[j] == UInt8(ascii: "\\"), p[j + 1] == UInt8(ascii: "\"") {
            // JSON inside a JSON string: each inner character is one outer character or one outer escape. The
            // inner value ends at an inner quote that no inner backslash escapes: an outer `\"` not preceded by
            // an outer `\\` (the inner backslash). Ending at the first `\"` let the rest of a value holding a
            // quote (`a\\\"b`) through.
            var q = j + 2
            var innerEscape = false
            while q < p.count {
                let outerEscape = p[q] == UInt8(ascii: "\\") && q + 1 < p.count
                let c = outerEscape ? p[q + 1] : p[q]
                if innerEscape {
                    innerEscape = false
                } else if outerEscape, c == UInt8(ascii: "\\") {
                    innerEscape = true
                } else if c == UInt8(ascii: "\"") {
                    break  // the inner value's end (`\"`), or the outer string's (a bare `"`)
                }
                q += outerEscape ? 2 : 1
            }
            let end = min(q, p.count)
            return end > j + 2 ? Match(start: j + 2, end: end, detector: detector) : nil
        }
        // A bare scalar (number, or a malformed unquoted value). Objects, arrays and null are left alone:
        // nested keys are scanned on their own.
        let end = skip(p, from: j) { byte in
            !(byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
                || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "{")
                || byte == UInt8(ascii: "[") || isSpace(byte))
        }
        guard end > j else { return nil }
        let scalar = String(decoding: UnsafeBufferPointer(rebasing: p[j..<end]), as: UTF8.self)
        if scalar == "null" || scalar == "true" || scalar == "false" { return nil }
        let quote: [UInt8] = escaped ? [UInt8(ascii: "\\"), UInt8(ascii: "\"")] : [UInt8(ascii: "\"")]
        return Match(start: j, end: end, detector: detector, quote: quote)
    }

    /// The value of a sensitive form or query field (`refresh_token=…&`); `i` is the `=`.
    static func formValue(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Match? {
        var found: SecretDetector?
        for (key, detector) in sensitiveKeys {
            let start = i - key.count
            guard start >= 0, equalsLowercase(p, start, key) else { continue }
            if start > 0, isWord(p[start - 1]) || p[start - 1] == UInt8(ascii: "-") || p[start - 1] == UInt8(ascii: ".")
            {
                continue
            }
            found = detector
            break
        }
        guard let found else { return nil }
        let end = skip(p, from: i + 1) { byte in
            !(byte == UInt8(ascii: "&") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
                || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "\\")
                || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || isSpace(byte))
        }
        return end > i + 1 ? Match(start: i + 1, end: end, detector: found) : nil
    }

    // MARK: Helpers

    private static func sensitiveKey(_ p: UnsafeBufferPointer<UInt8>, at k: Int) -> (Int, SecretDetector)? {
        guard k < p.count else { return nil }
        let first = lowercase(p[k])
        for (key, detector) in sensitiveKeys where key[0] == first && equalsLowercase(p, k, key) {
            return (k + key.count, detector)
        }
        return nil
    }

    @inline(__always)
    private static func hasEyJ(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        i + 2 < p.count && p[i] == UInt8(ascii: "e") && p[i + 1] == UInt8(ascii: "y") && p[i + 2] == UInt8(ascii: "J")
    }

    @inline(__always)
    private static func skip(_ p: UnsafeBufferPointer<UInt8>, from: Int, while accept: (UInt8) -> Bool) -> Int {
        var j = from
        while j < p.count, accept(p[j]) { j += 1 }
        return j
    }

    /// Whether `p[i...]` starts with `word` (lowercase ASCII), ignoring ASCII case.
    private static func equalsLowercase(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ word: [UInt8]) -> Bool {
        guard i + word.count <= p.count else { return false }
        for offset in 0..<word.count where lowercase(p[i + offset]) != word[offset] { return false }
        return true
    }

    @inline(__always)
    private static func lowercase(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
    }

    @inline(__always)
    private static func isAlnum(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    /// `[A-Za-z0-9_]`, regex `\w` in ASCII.
    @inline(__always)
    private static func isWord(_ b: UInt8) -> Bool { isAlnum(b) || b == UInt8(ascii: "_") }

    /// `[A-Za-z0-9_-]`: API key and base64url characters.
    @inline(__always)
    private static func isBase64URL(_ b: UInt8) -> Bool { isWord(b) || b == UInt8(ascii: "-") }

    /// `[A-Za-z0-9._~+/-]`.
    @inline(__always)
    private static func isBearerTokenChar(_ b: UInt8) -> Bool {
        isBase64URL(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "~") || b == UInt8(ascii: "+")
            || b == UInt8(ascii: "/")
    }

    /// Regex `\s` in ASCII: space, tab, LF, VT, FF, CR.
    @inline(__always)
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0d) }
}
