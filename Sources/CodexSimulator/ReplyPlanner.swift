import Foundation

/// Decides what the simulated model answers: a text message or a tool call.
///
/// Convention (docs/simulator.md): when the last input item is a `function_call_output`, the answer is
/// `Tool said: <first line of the tool's output>`; otherwise, when the last user message contains
/// `[[tool:<command>]]` and no tool has run since that message, the answer is a `function_call` to the
/// request's first `exec_command` or `shell` tool; otherwise it is a greeting that echoes the user text.
///
/// Pure: no I/O, no randomness (ids are assigned later). Concurrency: stateless; `Sendable`.
enum ReplyPlanner {
    enum Reply: Sendable, Equatable {
        case text(String)
        case toolCall(name: String, arguments: String)
    }

    static let echoLimit = 200

    static func plan(_ request: SimulatedRequest, account: String, textSize: Int = 0) -> Reply {
        if let output = request.trailingFunctionCallOutput {
            return .text(pad("Tool said: \(firstLine(ofToolOutput: output))", to: textSize))
        }
        let userText = request.lastUserText ?? ""
        if !request.toolRanThisTurn, let command = toolCommand(in: userText) {
            guard let tool = request.commandTools.first else {
                return .text(
                    pad("No exec_command or shell tool was offered, so I cannot run: \(command)", to: textSize)
                )
            }
            return .toolCall(name: tool.name, arguments: arguments(for: command, shape: tool.shape))
        }
        var echo = userText
        if echo.count > echoLimit { echo = String(echo.prefix(echoLimit)) + "…" }
        return .text(pad("Hello from the Codex simulator (\(account)): \(echo)", to: textSize))
    }

    /// The command in the first `[[tool:…]]` marker, or nil.
    static func toolCommand(in text: String) -> String? {
        guard let start = text.range(of: "[[tool:"),
            let end = text.range(of: "]]", range: start.upperBound..<text.endIndex)
        else { return nil }
        let command = String(text[start.upperBound..<end.lowerBound])
        return command.isEmpty ? nil : command
    }

    static func arguments(for command: String, shape: SimulatedRequest.CommandShape) -> String {
        switch shape {
        case .cmdString: return JSONText.object([("cmd", JSONText.quote(command))])
        case .commandString: return JSONText.object([("command", JSONText.quote(command))])
        case .commandArray:
            return JSONText.object([("command", "[\"bash\",\"-lc\",\(JSONText.quote(command))]")])
        }
    }

    /// The first line of what the command printed. Codex wraps `exec_command` output in a header that ends
    /// with a line `Output:`; the command's own first line follows it.
    static func firstLine(ofToolOutput output: String) -> String {
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let marker = lines.firstIndex(where: { $0.trimmingCharacters(in: " \r") == "Output:" }) {
            lines = Array(lines[(marker + 1)...])
        }
        return lines.first(where: { !$0.trimmingCharacters(in: " \r\t").isEmpty })?.trimmingCharacters(in: "\r") ?? ""
    }

    /// Appends filler words until `text` is at least `size` bytes, for benchmark answer sizes.
    static func pad(_ text: String, to size: Int) -> String {
        guard text.utf8.count < size else { return text }
        var out = text
        let filler = " lorem ipsum dolor sit amet"
        while out.utf8.count < size { out += filler }
        return out
    }
}
