import HTTPServer
import LogRedaction
import WireFormats

/// Turns a downstream request into what every upstream attempt sends: the decoded body with the few
/// top-level fields the proxy owns rewritten in place (`stream`, `store`, `prompt_cache_key`), the
/// continuity key, and the headers that may cross.
///
/// Pure apart from reading `ctx` (configuration and the pseudonymizer). Does not re-serialise the body:
/// a 1 MB Codex history passes through byte for byte except for the spliced fields.
struct RequestPreparer {
    let ctx: ProxyContext

    func prepare(
        route: ProxyRoute,
        request: HTTPRequest,
        principal: String
    ) -> Result<ResponsesExchange.Prepared, ProxyErrorResponse> {
        let principalPseudonym = principal == "anonymous" ? nil : ctx.pseudonymizer.pseudonym(.prn, principal)
        if route == .models {
            return .success(
                ResponsesExchange.Prepared(
                    body: [],
                    clientStreaming: false,
                    model: nil,
                    continuityKey: nil,
                    sessionPseudonym: nil,
                    principalPseudonym: principalPseudonym,
                    anchor: nil,
                    forwardedHeaders: HeaderPolicy.forwardedRequestHeaders(request.headers)
                )
            )
        }
        var body = request.body
        switch request.headers["content-encoding"]?.lowercased() {
        case nil, "identity"?, ""?:
            break
        case "zstd"?:
            do {
                body = try ZstdDecoder.decode(body, maxOutputBytes: ctx.configuration.maxBodyBytes)
            } catch {
                return .failure(ProxyErrorResponse.undecodable(error.reason))
            }
        default:
            return .failure(.unsupportedEncoding)
        }
        guard let top = try? JSONTopLevel.scan(body, countingReasoningWithoutContent: true) else {
            return .failure(.invalidJSON)
        }
        let clientStreaming = top.bool(forKey: "stream") ?? false
        let model = top.string(forKey: "model")
        let anchor = top.string(forKey: "previous_response_id")
        let bodyKey = top.string(forKey: "prompt_cache_key")
        let key = ContinuityKey.resolve(
            bodyPromptCacheKey: bodyKey,
            headers: request.headers,
            principal: principal,
            model: model,
            pseudonym: { ctx.pseudonymizer.pseudonym(.sess, $0) }
        )
        var set: [(key: String, rawJSON: [UInt8])] = []
        if route == .responses {
            set.append((key: "stream", rawJSON: Array("true".utf8)))
            if ctx.pool.isChatGPTOnly {
                set.append((key: "store", rawJSON: Array("false".utf8)))  // the Codex backend rejects store:true
            }
        }
        if let key, bodyKey == nil {
            set.append((key: "prompt_cache_key", rawJSON: JSONEncoding.string(key.value)))
        }
        // A field that already holds exactly what it would be set to is left alone: Codex sends `stream:true`,
        // `store:false` and its own `prompt_cache_key`, so its body goes on as it came instead of being copied
        // whole (its history included) for nothing.
        set.removeAll { entry in Self.holdsAlready(top, entry.key, entry.rawJSON) }
        // Where `input` sits in the body sent on, when it is an array: the transcript takes it from there
        // after the response, without scanning a long history a second time.
        let inputField = top.field(forKey: "input").flatMap { $0.kind == .array ? $0 : nil }
        var rewritten = body
        var input = inputField?.valueRange
        if !set.isEmpty {
            let result = top.rewriting(set: set, remove: [], locating: inputField == nil ? nil : "input")
            rewritten = result.bytes
            input = result.located
        }
        return .success(
            ResponsesExchange.Prepared(
                body: rewritten,
                clientStreaming: route == .responses && clientStreaming,
                model: model,
                continuityKey: key,
                sessionPseudonym: key.map { ctx.pseudonymizer.pseudonym(.sess, $0.value) },
                principalPseudonym: principalPseudonym,
                anchor: anchor,
                forwardedHeaders: HeaderPolicy.forwardedRequestHeaders(request.headers),
                inputArray: input,
                holdsReasoningWithoutContent: (top.reasoningWithoutContent ?? 0) > 0
            )
        )
    }

    /// Whether every member named `key` (one, unless the body repeats it) holds exactly `rawJSON`: setting it would
    /// change no byte. An absent key does not count: setting it adds it.
    static func holdsAlready(_ top: JSONTopLevel, _ key: String, _ rawJSON: [UInt8]) -> Bool {
        var found = false
        for field in top.fields where field.key == key {
            guard top.bytes[field.valueRange].elementsEqual(rawJSON) else { return false }
            found = true
        }
        return found
    }

    /// The `input` field as a JSON array: an array as is, a string as one user message.
    static func inputItems(_ top: JSONTopLevel) -> [UInt8]? {
        guard let value = top.value(forKey: "input") else { return nil }
        switch value.kind {
        case .array:
            return Array(value.bytes)
        case .string:
            guard let text = value.string else { return nil }
            let part = JSONEncoding.object([
                (key: "type", rawJSON: JSONEncoding.string("input_text")),
                (key: "text", rawJSON: JSONEncoding.string(text)),
            ])
            let message = JSONEncoding.object([
                (key: "type", rawJSON: JSONEncoding.string("message")),
                (key: "role", rawJSON: JSONEncoding.string("user")),
                (key: "content", rawJSON: JSONEncoding.array([part])),
            ])
            return JSONEncoding.array([message])
        default:
            return nil
        }
    }
}
