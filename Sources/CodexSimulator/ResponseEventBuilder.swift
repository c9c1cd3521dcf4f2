/// Builds the SSE bytes of one simulated response, event by event, each with its `sequence_number`.
///
/// A text answer gives the full sequence Codex, `create(stream=True)` and `responses.stream()` accept:
/// `response.created`, `response.in_progress`, `response.output_item.added`, `response.content_part.added`,
/// N × `response.output_text.delta`, `response.output_text.done`, `response.content_part.done`,
/// `response.output_item.done`, `response.completed` (with usage and the output item). A tool call gives
/// created, in_progress, output_item.added, function_call_arguments.delta/done, output_item.done, completed.
/// The failure streams start the same way and end with `response.failed`, `response.incomplete` or a bare
/// `error`. Pure: everything (ids, time, usage) is passed in. Concurrency: a value type; `Sendable`.
struct ResponseEventBuilder: Sendable {
    struct Usage: Sendable, Equatable {
        var inputTokens: Int
        var cachedTokens: Int
        var outputTokens: Int
        var json: String {
            "{\"input_tokens\":\(inputTokens),\"input_tokens_details\":{\"cached_tokens\":\(cachedTokens)},"
                + "\"output_tokens\":\(outputTokens),\"output_tokens_details\":{\"reasoning_tokens\":0},"
                + "\"total_tokens\":\(inputTokens + outputTokens)}"
        }
    }

    var responseId: String
    var model: String
    var createdAt: Int
    /// Suffix for item ids (`msg_sim_<suffix>`, `fc_sim_<suffix>`, `call_sim_<suffix>`, `rs_sim_<suffix>`).
    var itemSuffix: String
    /// A `reasoning` item sent before the answer's own (`reasoningItems`); nil: none.
    var reasoning: Reasoning?

    /// The answer's reasoning item: with its `encrypted_content` when the request's `include` asked for it, else
    /// only its id and (empty) summary, as the backend sends it.
    enum Reasoning: Sendable, Equatable {
        case withoutContent
        case sealed(String)
    }

    /// The built events and which of them are deltas (paced by `deltaDelayMs`).
    struct Events: Sendable {
        var events: [[UInt8]] = []
        var deltaIndices: Range<Int> = 0..<0
    }

    private func response(status: String, output: String, usage: String, extra: String = "") -> String {
        "{\"id\":\(JSONText.quote(responseId)),\"object\":\"response\",\"created_at\":\(createdAt),"
            + "\"model\":\(JSONText.quote(model)),\"status\":\"\(status)\",\(extra)\"output\":\(output),"
            + "\"usage\":\(usage),\"parallel_tool_calls\":false,\"tool_choice\":\"auto\",\"tools\":[],\"store\":false}"
    }

    private func append(_ out: inout Events, _ type: String, _ body: String) {
        let json = "{\"type\":\"\(type)\",\"sequence_number\":\(out.events.count),\(body)}"
        out.events.append(SimulatorSSEEncoder.event(type: type, json: json))
    }

    private func preamble(_ out: inout Events) {
        append(&out, "response.created", "\"response\":" + response(status: "in_progress", output: "[]", usage: "null"))
        append(
            &out,
            "response.in_progress",
            "\"response\":" + response(status: "in_progress", output: "[]", usage: "null")
        )
    }

    /// The whole stream of a successful answer.
    func completed(_ reply: ReplyPlanner.Reply, usage: Usage, deltaCount: Int) -> Events {
        var out = Events()
        preamble(&out)
        // Reasoning first, as the backend sends it, then the answer's item after it.
        var reasoningItem: String?
        if let reasoning {
            var content = ""
            if case .sealed(let sealed) = reasoning { content = ",\"encrypted_content\":\(JSONText.quote(sealed))" }
            let item = "{\"type\":\"reasoning\",\"id\":\"rs_sim_\(itemSuffix)\",\"summary\":[]\(content)}"
            append(&out, "response.output_item.added", "\"output_index\":0,\"item\":\(item)")
            append(&out, "response.output_item.done", "\"output_index\":0,\"item\":\(item)")
            reasoningItem = item
        }
        let index = reasoningItem == nil ? 0 : 1
        let item: String
        switch reply {
        case .text(let text):
            let id = JSONText.quote("msg_sim_\(itemSuffix)")
            append(
                &out,
                "response.output_item.added",
                "\"output_index\":\(index),\"item\":{\"type\":\"message\",\"id\":\(id),\"role\":\"assistant\","
                    + "\"status\":\"in_progress\",\"content\":[]}"
            )
            let where_ = "\"item_id\":\(id),\"output_index\":\(index),\"content_index\":0"
            append(
                &out,
                "response.content_part.added",
                where_ + ",\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}"
            )
            let start = out.events.count
            for chunk in Self.split(text, into: deltaCount) {
                append(&out, "response.output_text.delta", where_ + ",\"delta\":\(JSONText.quote(chunk))")
            }
            out.deltaIndices = start..<out.events.count
            let quoted = JSONText.quote(text)
            append(&out, "response.output_text.done", where_ + ",\"text\":\(quoted)")
            let part = "{\"type\":\"output_text\",\"text\":\(quoted),\"annotations\":[]}"
            append(&out, "response.content_part.done", where_ + ",\"part\":\(part)")
            item =
                "{\"type\":\"message\",\"id\":\(id),\"role\":\"assistant\",\"status\":\"completed\",\"content\":[\(part)]}"
        case .toolCall(let name, let arguments):
            let id = JSONText.quote("fc_sim_\(itemSuffix)")
            let head =
                "\"type\":\"function_call\",\"id\":\(id),\"call_id\":\"call_sim_\(itemSuffix)\",\"name\":\(JSONText.quote(name))"
            append(
                &out,
                "response.output_item.added",
                "\"output_index\":\(index),\"item\":{\(head),\"arguments\":\"\",\"status\":\"in_progress\"}"
            )
            let args = JSONText.quote(arguments)
            out.deltaIndices = out.events.count..<(out.events.count + 1)
            append(
                &out,
                "response.function_call_arguments.delta",
                "\"item_id\":\(id),\"output_index\":\(index),\"delta\":\(args)"
            )
            append(
                &out,
                "response.function_call_arguments.done",
                "\"item_id\":\(id),\"output_index\":\(index),\"arguments\":\(args)"
            )
            item = "{\(head),\"arguments\":\(args),\"status\":\"completed\"}"
        }
        append(&out, "response.output_item.done", "\"output_index\":\(index),\"item\":\(item)")
        append(
            &out,
            "response.completed",
            "\"response\":"
                + response(
                    status: "completed",
                    output: "[" + ((reasoningItem.map { [$0] } ?? []) + [item]).joined(separator: ",") + "]",
                    usage: usage.json
                )
        )
        return out
    }

    /// created, in_progress, then `response.failed` with `code` (and `resets_in_seconds` in the error when given).
    func failed(code: String, message: String, resetsInSeconds: Int? = nil) -> Events {
        var out = Events()
        preamble(&out)
        let reset = resetsInSeconds.map { ",\"resets_in_seconds\":\($0)" } ?? ""
        let error = "\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))\(reset)},"
        append(
            &out,
            "response.failed",
            "\"response\":" + response(status: "failed", output: "[]", usage: "null", extra: error)
        )
        return out
    }

    /// created, in_progress, then `response.incomplete` with `reason`.
    func incomplete(reason: String) -> Events {
        var out = Events()
        preamble(&out)
        let details = "\"incomplete_details\":{\"reason\":\(JSONText.quote(reason))},"
        append(
            &out,
            "response.incomplete",
            "\"response\":" + response(status: "incomplete", output: "[]", usage: "null", extra: details)
        )
        return out
    }

    /// created, then a bare `error` event (which Codex ignores over SSE).
    func bareError(code: String, message: String, param: String?) -> Events {
        var out = Events()
        append(&out, "response.created", "\"response\":" + response(status: "in_progress", output: "[]", usage: "null"))
        append(
            &out,
            "error",
            "\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message)),\"param\":\(JSONText.quoteOrNull(param))"
        )
        return out
    }

    /// The first `count` events of `full`, then the failure: an `error` event shaped as the backend wraps an
    /// HTTP error on WebSocket (`status` and an `error` object), or with `asResponseFailed` a `response.failed`.
    /// A failure after the client has seen output.
    func failure(
        after full: Events,
        count: Int,
        status: Int,
        code: String,
        message: String,
        asResponseFailed: Bool
    ) -> Events {
        var out = Events(
            events: Array(full.events.prefix(count)),
            deltaIndices: full.deltaIndices.clamped(to: 0..<count)
        )
        if asResponseFailed {
            let error = "\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))},"
            append(
                &out,
                "response.failed",
                "\"response\":" + response(status: "failed", output: "[]", usage: "null", extra: error)
            )
        } else {
            // The error's type as the backend names it for the status (an account's refusal is not a server error).
            let type = status >= 500 ? "server_error" : "invalid_request_error"
            let error =
                "\"status\":\(status),\"error\":{\"type\":\(JSONText.quote(type)),\"code\":\(JSONText.quote(code)),"
                + "\"message\":\(JSONText.quote(message))}"
            append(&out, "error", error)
        }
        return out
    }

    /// Splits `text` into `count` (at least 1) pieces of roughly equal length on character boundaries.
    static func split(_ text: String, into count: Int) -> [String] {
        let characters = Array(text)
        let n = max(1, min(count, max(1, characters.count)))
        var pieces: [String] = []
        pieces.reserveCapacity(n)
        for i in 0..<n {
            let lo = characters.count * i / n
            let hi = characters.count * (i + 1) / n
            pieces.append(String(characters[lo..<hi]))
        }
        return pieces
    }
}
