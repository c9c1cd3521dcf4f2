import Glibc

/// Stream events a committed stream forwards without reading their data: the closing and opening markers of
/// parts and items (`response.output_text.done`, `response.content_part.added`, …) that repeat what the
/// deltas already carried. Only `response.output_item.done` (the transcript's items), the terminal events and
/// errors need a summary once the client has the stream; everything not listed here still gets one.
///
/// Recognised by the block's first line, `event: <type>` ending in LF, checked on bytes. A block without an
/// `event:` line, or with another type, is not forward-only.
/// Pure; reads only the bytes it is given.
public enum SSEForwardOnly {
    private static let types: [[UInt8]] = [
        "response.output_item.added",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.done",
        "response.output_text.annotation.added",
        "response.refusal.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        "response.reasoning_summary_text.done",
        "response.reasoning_text.done",
        "response.function_call_arguments.done",
        "response.custom_tool_call_input.done",
    ].map { Array($0.utf8) }

    public static func contains(_ block: [UInt8]) -> Bool {
        block.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress, let type = SSELine.eventType(base, p.count) else { return false }
            return types.contains { $0.count == type.count && memcmp($0, base + type.lowerBound, type.count) == 0 }
        }
    }
}
