import LogRedaction
import Metrics
import WireFormats

/// Records the token usage of one completed response, the same for every transport:
/// `sightline_tokens_total{kind}` (input, cached_input, output, reasoning — so a prompt-cache hit ratio
/// can be computed), the per-request input histogram that catches context blowup, and the usage
/// attributes of the request's SERVER span. Stateless; the caller makes sure it runs once per response.
enum UsageRecorder {
    static func record(_ usage: ResponseEventSummary.Usage, metrics: SightlineMetrics, span: Span) {
        let input = max(0, usage.inputTokens ?? 0)
        let cached = max(0, usage.cachedInputTokens ?? 0)
        let output = max(0, usage.outputTokens ?? 0)
        metrics.tokens(kind: "input").increment(by: UInt64(input))
        metrics.tokens(kind: "cached_input").increment(by: UInt64(cached))
        metrics.tokens(kind: "output").increment(by: UInt64(output))
        metrics.tokens(kind: "reasoning").increment(by: UInt64(max(0, usage.reasoningOutputTokens ?? 0)))
        metrics.requestInputTokens.observe(Double(input))
        span.setAttribute("gen_ai.usage.input_tokens", .int(input))
        span.setAttribute("sightline.usage.cached_input_tokens", .int(cached))
        span.setAttribute("gen_ai.usage.output_tokens", .int(output))
    }
}
