import Foundation

/// A generated Codex-like `/responses` request body of about `targetBytes`: instructions, tools, and an
/// input history of user/assistant messages, function calls and their (long) outputs, ending with a user
/// message so the simulator answers with text.
///
/// Deterministic (no randomness), so every peer gets byte-identical bodies. Without `cacheKey` there is no
/// `prompt_cache_key`: the load client gives each connection its own `session_id` instead.
enum CodexHistoryBody {
    static func make(targetBytes: Int, cacheKey: String? = nil) -> [UInt8] {
        let filler = "The build finished. Output:\\nCompiling module Foo (42 of 97)\\nwarning: unused variable 'x'\\n"
        var items: [String] = []
        var size = 0
        var turn = 0
        while size < targetBytes - 4000 {
            turn += 1
            let callID = "call_bench_\(turn)"
            let output = String(repeating: filler, count: 20)
            let group = [
                #"{"type":"message","role":"user","content":[{"type":"input_text","text":"Step \#(turn): run the tests and fix what fails."}]}"#,
                #"{"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"swift test --filter T\#(turn)\"}","call_id":"\#(callID)"}"#,
                #"{"type":"function_call_output","call_id":"\#(callID)","output":"\#(output)"}"#,
                #"{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Fixed step \#(turn); tests pass."}]}"#,
            ]
            for g in group { size += g.utf8.count + 1 }
            items.append(contentsOf: group)
        }
        items.append(
            #"{"type":"message","role":"user","content":[{"type":"input_text","text":"Summarise what changed."}]}"#
        )
        let tools =
            #"[{"type":"function","name":"exec_command","description":"Runs a shell command.","parameters":{"type":"object","properties":{"cmd":{"type":"string"}},"required":["cmd"]}}]"#
        let body =
            #"{"model":"gpt-5.5","instructions":"You are a coding agent. Be brief.","input":["#
            + items.joined(separator: ",")
            + #"],"tools":\#(tools),"tool_choice":"auto","parallel_tool_calls":false,"reasoning":{"effort":"medium"},"store":false,"stream":true,"include":[]"#
            + (cacheKey.map { #","prompt_cache_key":"\#($0)""# } ?? "") + "}"
        return Array(body.utf8)
    }
}
