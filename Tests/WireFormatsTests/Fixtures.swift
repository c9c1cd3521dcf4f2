import Foundation

/// Shared test inputs: realistic Codex request bodies and Responses API event streams (codex-protocol.md §3, §4).
enum Fixtures {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func string(_ b: some Sequence<UInt8>) -> String { String(decoding: Array(b), as: UTF8.self) }

    /// A Codex-like request body of roughly `targetBytes`, with escapes, nested braces in strings, unicode, and a
    /// long `input` history (messages, tool calls and their outputs, encrypted reasoning).
    static func codexBody(targetBytes: Int) -> [UInt8] {
        var items: [String] = []
        items.append(
            #"{"type":"message","id":"msg_dev","role":"developer","content":[{"type":"input_text","text":"<permissions>sandbox: \"workspace-write\" {not: json}</permissions>"}]}"#
        )
        var n = 0
        var size = 0
        while size < targetBytes {
            let item: String
            switch n % 4 {
            case 0:
                item =
                    #"{"type":"message","role":"user","content":[{"type":"input_text","text":"step \#(n): fix the {braces} in \"a\\b\" \u00e9\ud83d\ude00 ["#
                    + String(repeating: "lorem ipsum ", count: 40) + #""}]}"#
            case 1:
                item =
                    #"{"type":"function_call","id":"fc_\#(n)","call_id":"call_\#(n)","name":"exec_command","arguments":"{\"cmd\":[\"ls\",\"-la\"],\"workdir\":\"/tmp/{x}\"}","status":"completed"}"#
            case 2:
                item =
                    #"{"type":"function_call_output","call_id":"call_\#(n - 1)","output":"total 8\ndrwxr-xr-x  2 root root 4096 .\n\\\\server\\share\\ \"quoted\" ]]]}}}"}"#
            default:
                item =
                    #"{"type":"reasoning","id":"rs_\#(n)","summary":[],"encrypted_content":""#
                    + String(repeating: "gAAAAABpZ2VuY3J5cHRlZA", count: 30) + #""}"#
            }
            items.append(item)
            size += item.utf8.count
            n += 1
        }
        let body =
            #"{"model":"gpt-5.5","instructions":"You are a coding agent.\nUse \"tools\" {wisely}.\t\\o/","input":["#
            + items.joined(separator: ",")
            + #"],"tools":[{"type":"function","name":"exec_command","parameters":{"type":"object","properties":{"cmd":{"type":"array"}}}},{"type":"web_search"}],"tool_choice":"auto","parallel_tool_calls":false,"reasoning":{"summary":"auto"},"store":false,"stream":true,"include":["reasoning.encrypted_content"],"prompt_cache_key":"0b8f3c1e-0000-4000-8000-000000000000","client_metadata":{"session_id":"s-1","turn_id":"t-1"}}"#
        return bytes(body)
    }

    static func parse(_ json: [UInt8]) throws -> NSDictionary {
        try XCTUnwrapDictionary(JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed]))
    }

    private static func XCTUnwrapDictionary(_ value: Any) throws -> NSDictionary {
        guard let dictionary = value as? [String: Any] else { throw FixtureError.notAnObject }
        return NSDictionary(dictionary: dictionary)
    }

    enum FixtureError: Error { case notAnObject }

    static let responseObjectCompleted =
        #"{"id":"resp_1","object":"response","created_at":1700000000,"model":"gpt-5.5","status":"completed","output":[],"parallel_tool_calls":true,"tool_choice":"auto","tools":[],"usage":{"input_tokens":123,"input_tokens_details":{"cached_tokens":100},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":130}}"#

    static let messageItem =
        #"{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hello","annotations":[]}]}"#

    static let toolCallItem =
        #"{"type":"function_call","id":"fc_1","call_id":"call_1","name":"exec_command","arguments":"{\"cmd\":[\"ls\"]}","status":"completed"}"#

    /// The full stream from codex-protocol.md §4 with a tool call added at output_index 1; `completed` carries an
    /// empty `output`, as some backends send it.
    static func fullStream(completedOutput: String = "[]") -> String {
        let created =
            #"{"id":"resp_1","object":"response","created_at":1700000000,"model":"gpt-5.5","status":"in_progress","output":[],"usage":null,"parallel_tool_calls":true,"tool_choice":"auto","tools":[]}"#
        let completed = responseObjectCompleted.replacingOccurrences(
            of: #""output":[]"#,
            with: #""output":\#(completedOutput)"#
        )
        let events: [(String, String)] = [
            ("response.created", #"{"type":"response.created","sequence_number":0,"response":\#(created)}"#),
            ("response.in_progress", #"{"type":"response.in_progress","sequence_number":1,"response":\#(created)}"#),
            (
                "response.output_item.added",
                #"{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","status":"in_progress","content":[]}}"#
            ),
            (
                "response.output_text.delta",
                #"{"type":"response.output_text.delta","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello"}"#
            ),
            // Out of order on purpose: the aggregator must order by output_index.
            (
                "response.output_item.done",
                #"{"type":"response.output_item.done","sequence_number":4,"output_index":1,"item":\#(toolCallItem)}"#
            ),
            (
                "response.output_item.done",
                #"{"type":"response.output_item.done","sequence_number":5,"output_index":0,"item":\#(messageItem)}"#
            ),
            ("response.completed", #"{"type":"response.completed","sequence_number":6,"response":\#(completed)}"#),
        ]
        return events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined()
    }
}
