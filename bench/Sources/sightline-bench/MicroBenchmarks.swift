import Foundation
import HTTPServer
import LogRedaction
import Metrics
import Proxy
import Synchronization
import WireFormats

/// One micro-benchmark's result: time per operation over `iterations`, best of `rounds`.
struct MicroResult {
    let name: String
    let iterations: Int
    let nsPerOp: Double
    let note: String
}

/// Hot-path micro-benchmarks: each runs its operation in a tight loop, several rounds, and keeps the best
/// round (the least disturbed by other work on the machine). Results feed `blackHole` so nothing is
/// optimised away. Single-threaded.
enum MicroBenchmarks {
    nonisolated(unsafe) static var blackHole = 0

    static func measure(
        _ name: String,
        iterations: Int,
        rounds: Int = 5,
        note: String = "",
        _ op: () -> Int
    ) -> MicroResult {
        for _ in 0..<max(1, iterations / 10) { blackHole &+= op() }  // warm up
        var best = Double.infinity
        for _ in 0..<rounds {
            let t0 = MonotonicClock.nanoseconds()
            for _ in 0..<iterations { blackHole &+= op() }
            best = min(best, Double(MonotonicClock.nanoseconds() - t0) / Double(iterations))
        }
        return MicroResult(name: name, iterations: iterations, nsPerOp: best, note: note)
    }

    static func runAll(scale: Double = 1) -> [MicroResult] {
        func n(_ x: Int) -> Int { max(1, Int(Double(x) * scale)) }
        var out: [MicroResult] = []

        // 1. Request body: scan a 1 MB Codex history and splice the fields the proxy owns.
        let body = CodexHistoryBody.make(targetBytes: 1_048_576, cacheKey: "client-key")
        let set: [(key: String, rawJSON: [UInt8])] = [
            (key: "stream", rawJSON: Array("true".utf8)), (key: "store", rawJSON: Array("false".utf8)),
            (key: "prompt_cache_key", rawJSON: JSONEncoding.string("sess_0123456789abcdef")),
        ]
        out.append(
            measure(
                "body rewrite, 1 MB (JSONTopLevel.scan + rewriting 3 fields)",
                iterations: n(200),
                note: "\(body.count) bytes"
            ) {
                guard let top = try? JSONTopLevel.scan(body) else { return -1 }
                return top.rewriting(set: set, remove: []).count
            }
        )
        let body50 = CodexHistoryBody.make(targetBytes: 51_200, cacheKey: "client-key")
        out.append(
            measure("body rewrite, 50 KB", iterations: n(4000), note: "\(body50.count) bytes") {
                guard let top = try? JSONTopLevel.scan(body50) else { return -1 }
                return top.rewriting(set: set, remove: []).count
            }
        )

        // 2. SSE: frame a 200-delta stream and summarise every event, as the proxy does per upstream chunk.
        let stream = sseStream(deltas: 200)
        let eventCount = stream.events
        out.append(
            measure(
                "SSE scan, \(eventCount)-event stream (SSEFramer + SSEEvent.parse + ResponseEventSummary)",
                iterations: n(2000),
                note: "\(stream.bytes.count) bytes; per event ≈ ns/op ÷ \(eventCount)"
            ) {
                var framer = SSEFramer()
                var k = 0
                var offset = 0
                while offset < stream.bytes.count {  // 4 KB chunks, like a socket read
                    let end = min(offset + 4096, stream.bytes.count)
                    for block in (try? framer.feed(stream.bytes[offset..<end])) ?? [] {
                        let data = SSEEvent.parse(block: block)?.data ?? []
                        if let s = try? ResponseEventSummary(data: data), s.isTerminal { k += 1 }
                        k += 1
                    }
                    offset = end
                }
                return k
            }
        )

        // 3. WebSocket: what the bridge and WebSocket sessions do per turn. Encode a client `response.create`
        // frame (masked) and a server event frame; decode a whole stream of server frames read in 4 KB chunks,
        // and a masked client frame, each through the frame parser and the message assembler (UTF-8 check).
        let eventPayloads = Self.eventPayloads(stream.bytes)
        let eventPayload = eventPayloads[eventPayloads.count / 2]
        out.append(
            measure(
                "WebSocket encode, server text frame (one delta event)",
                iterations: n(2_000_000),
                note: "\(eventPayload.count)-byte payload"
            ) {
                WebSocketFrameEncoder.server(.text, eventPayload).count
            }
        )
        out.append(
            measure("WebSocket encode, client text frame, 50 KB (masked)", iterations: n(4000)) {
                WebSocketFrameEncoder.client(.text, body50).count
            }
        )
        var serverStream: [UInt8] = []
        for payload in eventPayloads { serverStream += WebSocketFrameEncoder.server(.text, payload) }
        out.append(
            measure(
                "WebSocket decode, \(eventPayloads.count)-frame server stream (parser + assembler)",
                iterations: n(2000),
                note: "\(serverStream.count) bytes; per frame ≈ ns/op ÷ \(eventPayloads.count)"
            ) {
                Self.decode(serverStream, role: .client)
            }
        )
        let clientFrame = WebSocketFrameEncoder.client(.text, body50)
        out.append(
            measure("WebSocket decode, client text frame, 50 KB (unmask + UTF-8 check)", iterations: n(4000)) {
                Self.decode(clientFrame, role: .server)
            }
        )

        // 4. Metrics: the per-request recording work.
        let registry = MetricRegistry()
        let metrics = SightlineMetrics(registry: registry, version: "bench", revision: "bench")
        let counter = metrics.requests(route: "responses", transport: "http", statusClass: "2xx")
        out.append(
            measure("Counter.increment (pre-resolved series)", iterations: n(10_000_000)) {
                counter.increment(); return 1
            }
        )
        out.append(
            measure(
                "requests(route:transport:statusClass:).increment (label lookup + increment)",
                iterations: n(2_000_000)
            ) {
                metrics.requests(route: "responses", transport: "http", statusClass: "2xx").increment(); return 1
            }
        )
        let histogram = metrics.requestDuration(route: "responses", transport: "http")
        out.append(
            measure("Histogram.observe", iterations: n(5_000_000)) {
                histogram.observe(0.042); return 1
            }
        )
        out.append(
            measure("recovery decision record (label lookup + increment)", iterations: n(2_000_000)) {
                metrics.recoveryDecisions(decision: SightlineMetrics.decisions[0], outcome: "attempted").increment();
                return 1
            }
        )

        // 5. Logs: encode one request record (the access-log line) into a sink that keeps only the last line.
        let sink = LastLineSink()
        let logger = Logger(sinks: [sink])
        let key = [UInt8](repeating: 7, count: 32)
        let pseudonymizer = try! Pseudonymizer(key: key)
        let attrs: [LogAttribute] = [
            LogAttribute("http.request.method", .string("POST")),
            LogAttribute("url.path", .string("/backend-api/codex/responses")),
            LogAttribute("http.response.status_code", .int(200)),
            LogAttribute("sightline.route", .string("responses")),
            LogAttribute("sightline.account", .pseudonym(pseudonymizer.pseudonym(.acct, "sim-account-1"))),
            LogAttribute("sightline.session", .pseudonym(pseudonymizer.pseudonym(.sess, "019a-session"))),
            LogAttribute("gen_ai.request.model", .string("gpt-5.5")),
            LogAttribute("gen_ai.usage.input_tokens", .int(12_800)),
            LogAttribute("gen_ai.usage.output_tokens", .int(512)),
            LogAttribute("sightline.duration_ms", .double(41.7)),
            LogAttribute("sightline.upstream.attempts", .int(1)),
        ]
        out.append(
            measure("log record encode (11 attributes, secret scan, in-memory sink)", iterations: n(200_000)) {
                logger.log(.info, "handled request", event: "sightline.request", attrs); return 1
            }
        )

        // 6. Pseudonym: keyed HMAC-SHA256 of an identifier.
        out.append(
            measure("pseudonym (HMAC-SHA256, 16 hex)", iterations: n(500_000)) {
                pseudonymizer.pseudonym(.acct, "sim-account-1").utf8.count
            }
        )

        // 7. The continuity snapshot: the affinity map at its default bound, saved every 15 s.
        let anchors = AffinityMap(pseudonymizer: pseudonymizer)
        for i in 0..<anchors.maximumEntries {
            anchors.record(
                responseID: "resp_bench_\(i)",
                entry: .init(accountIndex: i % 3, createdAt: 1_000 + Int64(i % 60))
            )
        }
        let accounts = (1...3).map { pseudonymizer.pseudonym(.acct, "sim-account-\($0)") }
        let snapshot = anchors.snapshot(now: 1_100, accounts: accounts)
        out.append(
            measure(
                "affinity snapshot, \(anchors.maximumEntries) anchors (AffinityMap.snapshot)",
                iterations: n(20),
                note: "\(snapshot.count) bytes"
            ) {
                anchors.snapshot(now: 1_100, accounts: accounts).count
            }
        )

        // 8. /metrics render with 50 accounts registered.
        for i in 0..<50 { metrics.registerAccount(pseudonymizer.pseudonym(.acct, "acct-\(i)")) }
        registry.addCollector(ProcessMetrics.collect)
        let rendered = registry.renderBytes()
        out.append(
            measure(
                "/metrics render, 50 accounts (registry.renderBytes)",
                iterations: n(500),
                note: "\(rendered.count) bytes"
            ) {
                registry.renderBytes().count
            }
        )
        return out
    }

    /// The `data` of each event in an SSE stream: what a WebSocket upstream sends as one text frame each.
    static func eventPayloads(_ stream: [UInt8]) -> [[UInt8]] {
        var framer = SSEFramer()
        return ((try? framer.feed(stream[...])) ?? []).compactMap { SSEEvent.parse(block: $0)?.data }
    }

    /// Decodes `bytes` in 4 KB reads, as a connection would; the count of messages, or -1 on an error.
    static func decode(_ bytes: [UInt8], role: WebSocketFrameParser.Role) -> Int {
        var parser = WebSocketFrameParser(role: role, maxFrameBytes: 16 << 20)
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 16 << 20)
        var messages = 0
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + 4096, bytes.count)
            parser.append(bytes[offset..<end])
            offset = end
            do {
                while let frame = try parser.nextFrame() {
                    if case .text = try assembler.push(frame) { messages += 1 }
                }
            } catch { return -1 }
        }
        return messages
    }

    static func sseStream(deltas: Int) -> (bytes: [UInt8], events: Int) {
        var s = ""
        var seq = 0
        func ev(_ type: String, _ json: String) {
            s += "event: \(type)\ndata: {\"type\":\"\(type)\",\"sequence_number\":\(seq),\(json)}\n\n"
            seq += 1
        }
        let resp =
            #""response":{"id":"resp_sim_0123456789abcdef","object":"response","status":"in_progress","model":"gpt-5.5","output":[]}"#
        ev("response.created", resp)
        ev("response.in_progress", resp)
        ev(
            "response.output_item.added",
            #""output_index":0,"item":{"id":"msg_sim_1","type":"message","role":"assistant","content":[]}"#
        )
        ev(
            "response.content_part.added",
            #""output_index":0,"content_index":0,"item_id":"msg_sim_1","part":{"type":"output_text","text":""}"#
        )
        for _ in 0..<deltas {
            ev(
                "response.output_text.delta",
                #""output_index":0,"content_index":0,"item_id":"msg_sim_1","delta":"filler wo""#
            )
        }
        ev("response.output_text.done", #""output_index":0,"content_index":0,"item_id":"msg_sim_1","text":"…""#)
        ev(
            "response.completed",
            #""response":{"id":"resp_sim_0123456789abcdef","object":"response","status":"completed","output":[],"usage":{"input_tokens":12800,"input_tokens_details":{"cached_tokens":12544},"output_tokens":512,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":13312}}"#
        )
        return (Array(s.utf8), seq)
    }
}

/// A log sink that keeps only the last line (an in-memory sink whose memory does not grow in a loop).
/// Holds a lock per write, as a real sink does.
final class LastLineSink: LogSink {
    private let last = Mutex("")
    func write(_ line: String) { last.withLock { $0 = line } }
}
