import Foundation
import HTTPServer

/// What the simulator needs to know about one Responses request body, extracted in one pass.
///
/// `parse(body:headers:path:)` is the only place that touches the JSON parser, so `JSONSerialization` can
/// later be swapped for `WireFormats`' field scanner. It does not validate the request against the API
/// (`SimulatorEngine` decides what is rejected) and keeps no reference to the parsed objects.
/// Concurrency: a value type; `Sendable`.
struct SimulatedRequest: Sendable, Equatable {
    /// How a tool wants its command: Codex's `exec_command` takes `{"cmd": "…"}`, the older `shell` tool
    /// `{"command": ["bash", "-lc", "…"]}`.
    enum CommandShape: Sendable, Equatable {
        case cmdString
        case commandArray
        case commandString
    }

    struct Tool: Sendable, Equatable {
        var name: String
        var shape: CommandShape
    }

    var model: String = "gpt-5.5"
    /// nil when the body has no `stream` field.
    var stream: Bool?
    var store: Bool?
    var previousResponseId: String?
    var promptCacheKey: String?
    /// 1 for a string `input`.
    var inputItemCount = 0
    /// Instructions plus every input item's type, role and text, in order: what the cache model compares.
    var canonicalInput: [UInt8] = []
    /// Text of the last `role:user` message, if any.
    var lastUserText: String?
    /// Output of the last input item when that item is a `function_call_output`.
    var trailingFunctionCallOutput: String?
    /// True when a `function_call_output` follows the last user message (the turn already ran a tool).
    var toolRanThisTurn = false
    /// FNV-1a of the `tools` array re-serialised with sorted keys (0 without one, or an empty one): the prompt cache
    /// starts cold when it changes (`PromptCacheModel`).
    var toolsDigest: UInt64 = 0
    /// Function tools that can run a shell command (`exec_command`, `shell`), in request order.
    var commandTools: [Tool] = []
    /// The `encrypted_content` of every input `reasoning` and `compaction` item, in order.
    var sealedContent: [String] = []
    /// The `id` of every input `reasoning` item without `encrypted_content` (absent or null), in order: an item the
    /// backend can only look up by its id.
    var reasoningReferences: [String] = []
    /// `include` asks for `reasoning.encrypted_content`.
    var includesEncryptedReasoning = false
    /// `client_metadata["x-codex-turn-state"]`: where a WebSocket frame echoes the turn state of its turn
    /// (codex-protocol.md §5); over HTTP the same token comes as a header instead.
    var clientMetadataTurnState: String?

    /// Parses a JSON request body. Throws `SimulatorRequestError` when the body is not a JSON object or
    /// `input` has the wrong type.
    static func parse(body: [UInt8], headers: HTTPHeaders, path: String) throws -> SimulatedRequest {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            throw SimulatorRequestError(
                reason: "invalid_json",
                message: "We could not parse the JSON body of your request."
            )
        }
        guard let root = object as? [String: Any] else {
            throw SimulatorRequestError(reason: "invalid_json", message: "The request body must be a JSON object.")
        }
        var request = SimulatedRequest()
        if let model = root["model"] as? String { request.model = model }
        request.stream = root["stream"] as? Bool
        request.store = root["store"] as? Bool
        request.previousResponseId = root["previous_response_id"] as? String
        request.promptCacheKey = root["prompt_cache_key"] as? String
        request.clientMetadataTurnState =
            (root["client_metadata"] as? [String: Any])?["x-codex-turn-state"] as? String
        if let instructions = root["instructions"] as? String {
            request.canonicalInput.append(contentsOf: instructions.utf8)
            request.canonicalInput.append(0x0A)
        }
        request.includesEncryptedReasoning =
            (root["include"] as? [Any])?.contains { $0 as? String == "reasoning.encrypted_content" } ?? false
        if let tools = root["tools"] as? [[String: Any]] {
            request.commandTools = tools.compactMap(Self.commandTool)
        }
        // An empty array is no tools, as for the real cache; any other array, whatever its elements, is digested.
        if let tools = root["tools"] as? [Any], !tools.isEmpty,
            let canonical = try? JSONSerialization.data(withJSONObject: tools, options: [.sortedKeys])
        {
            request.toolsDigest = PromptCacheModel.fnv1a(canonical)
        }
        switch root["input"] {
        case let text as String:
            request.inputItemCount = 1
            request.lastUserText = text
            request.appendCanonical(["message", "user", text])
        case let items as [Any]:
            request.inputItemCount = items.count
            for case let item as [String: Any] in items { request.absorb(item) }
        case nil, is NSNull:
            break
        default:
            throw SimulatorRequestError(reason: "invalid_input", message: "Invalid type for 'input'.")
        }
        return request
    }

    private mutating func absorb(_ item: [String: Any]) {
        let role = item["role"] as? String
        let type = (item["type"] as? String) ?? (role != nil ? "message" : "unknown")
        trailingFunctionCallOutput = nil
        switch type {
        case "message":
            let text = Self.text(of: item["content"])
            appendCanonical([type, role ?? "", text])
            if role == "user" {
                lastUserText = text
                toolRanThisTurn = false
            }
        case "function_call_output", "custom_tool_call_output":
            let output = Self.text(of: item["output"])
            appendCanonical([type, item["call_id"] as? String ?? "", output])
            trailingFunctionCallOutput = output
            toolRanThisTurn = true
        case "function_call":
            appendCanonical([type, item["name"] as? String ?? "", item["arguments"] as? String ?? ""])
        case "reasoning":
            appendCanonical([type, item["encrypted_content"] as? String ?? ""])
            if let sealed = item["encrypted_content"] as? String {
                sealedContent.append(sealed)
            } else if let id = item["id"] as? String {
                reasoningReferences.append(id)
            }
        case "compaction":
            appendCanonical([type, item["encrypted_content"] as? String ?? ""])
            if let sealed = item["encrypted_content"] as? String { sealedContent.append(sealed) }
        default:
            appendCanonical([type])
        }
    }

    private mutating func appendCanonical(_ parts: [String]) {
        for part in parts {
            canonicalInput.append(contentsOf: part.utf8)
            canonicalInput.append(0x1F)
        }
        canonicalInput.append(0x0A)
    }

    /// Text of a message `content` or tool `output`: a string, or the `text` of each part joined.
    private static func text(of value: Any?) -> String {
        if let string = value as? String { return string }
        guard let parts = value as? [Any] else { return "" }
        var texts: [String] = []
        for case let part as [String: Any] in parts {
            if let text = part["text"] as? String { texts.append(text) }
        }
        return texts.joined(separator: "\n")
    }

    private static func commandTool(_ tool: [String: Any]) -> Tool? {
        guard let name = tool["name"] as? String, name == "exec_command" || name == "shell" else { return nil }
        let properties = (tool["parameters"] as? [String: Any])?["properties"] as? [String: Any] ?? [:]
        if let cmd = properties["cmd"] as? [String: Any], (cmd["type"] as? String) == "string" {
            return Tool(name: name, shape: .cmdString)
        }
        if let command = properties["command"] as? [String: Any] {
            return Tool(name: name, shape: (command["type"] as? String) == "string" ? .commandString : .commandArray)
        }
        return Tool(name: name, shape: name == "shell" ? .commandArray : .cmdString)
    }
}

/// A request body the simulator cannot read. `reason` is stable (`invalid_json`, `invalid_input`);
/// `message` goes into the 400 body.
struct SimulatorRequestError: Error, Equatable, Sendable {
    var reason: String
    var message: String
}
