import Foundation
import HTTPServer
import LogRedaction
import Synchronization
import WireFormats

/// One downstream Responses request, from its parsed body to the last byte sent back, across every
/// upstream attempt it takes.
///
/// Holds SSE events until the first meaningful one arrives, so a failure before that point (an HTTP
/// error, an in-stream `previous_response_not_found`, a drop) can still be recovered — failover, strip-
/// retry, refresh — without the client seeing anything. After the first byte went out, an upstream
/// failure ends the stream with a terminal `response.failed` instead. For `stream:false` clients the
/// events are aggregated into one Response object (nothing is sent before the end, so every failure is
/// still recoverable).
///
/// Concurrency: created on an event-loop thread; upstream callbacks arrive on the same loop (or, with
/// `upstream.onEventLoops` off, on the upstream client's thread), `onClose`/`onWritable` on the loop, the
/// transcript store and answer on a Dispatch queue. Mutable state lives behind `state` (a `Mutex`, so every
/// arrangement is safe); the responder and the upstream transfer are only called outside the lock.
/// Emits: `sightline_requests_total`, `sightline_request_duration_seconds`,
/// `sightline_upstream_first_event_seconds`, `sightline_upstream_attempts_total`, `sightline_tokens_total`,
/// `sightline_request_input_tokens`, recovery decisions through `RecoveryRecorder`, one SERVER span, one
/// CLIENT span per attempt, and the access-log record "request finished".
final class ResponsesExchange: Sendable {
    struct Prepared: Sendable {
        var body: [UInt8]
        var clientStreaming: Bool
        var model: String?
        var continuityKey: ContinuityKey?
        var sessionPseudonym: String?
        var principalPseudonym: String?
        var anchor: String?
        var forwardedHeaders: [(String, String)]
        /// Where the `input` array sits in `body`, when the preparer knows (nil: scan for it).
        var inputArray: Range<Int>? = nil
        /// The client's body holds reasoning without content (`JSONTopLevel.reasoningWithoutContent`, counted in the
        /// preparer's one scan), which an attempt on a ChatGPT account leaves out (`EncryptedReasoning`).
        var holdsReasoningWithoutContent = false

        /// The request's `input` as a JSON array (a string input wrapped as one user message), for the
        /// transcript cache and for rebuilding a replay. Computed when needed rather than held: a copy of
        /// every in-flight history costs memory at high concurrency.
        var inputItems: [UInt8]? { inputSlice.map { Array($0) } }

        /// `inputItems` without a copy where the array sits in `body` as it is.
        var inputSlice: ArraySlice<UInt8>? {
            if let inputArray { return body[inputArray] }
            return (try? JSONTopLevel.scan(body)).flatMap(RequestPreparer.inputItems)?[...]
        }
    }

    enum Mode: Sendable {
        case awaitingHead
        case sse
        case raw
        case errorBody(status: Int)
    }

    struct State: Sendable {
        var attempt = 0
        /// The attempt whose upstream callbacks are still accepted; nil once abandoned or finished.
        var liveAttempt: Int?
        var excluded = Set<Int>()
        var account: Int?
        var transfer: UpstreamTransfer?
        var attemptSpan: Span?
        var attemptStarted = 0.0
        var mode = Mode.awaitingHead
        var upstreamHeaders: [(String, String)] = []
        var framer = SSEFramer()
        var aggregator = ResponseAggregator()
        var errorBody: [UInt8] = []
        var committed = false
        /// `response.created` / `response.in_progress` blocks held until the first meaningful event, so an
        /// in-stream error right after them can still be recovered before the client sees a byte.
        var held: [[UInt8]] = []
        var firstEventSeen = false
        var terminalSeen = false
        /// The class of the upstream's own failure that ended the stream (`response.failed` or a bare `error`);
        /// nil when it ended with `response.completed` or `response.incomplete`.
        var terminalFailure: UpstreamErrorClass?
        /// The status a non-streaming client gets for that failure (`ResponseFailureStatus`, by its code): what a
        /// streaming request that ended with it counts as.
        var terminalFailureStatus: Int?
        var clientClosed = false
        var finished = false
        /// Accounts whose token this request refreshed (or waited for): one refresh per account, so a 401 from an
        /// account the request never refreshed is refreshed, not read as one a refresh did not cure.
        var refreshedAccounts = Set<Int>()
        var continuityRetried = false
        /// The sealed reasoning items were stripped (`reasoning_strip`, first step).
        var reasoningStripped = false
        /// The sealed compaction items were stripped too (second step).
        var compactionStripped = false
        /// Reasoning items without content were left out of an attempt to a ChatGPT account (`reasoning_strip`,
        /// `reference_only`): recorded on the first such attempt only, however many follow.
        var referenceOnlyStripped = false
        /// Another account's sealed reasoning was left out of an attempt: one `reasoning_strip` decision per request,
        /// however many attempts strip it (a retry on the same account after a refresh counted it twice until
        /// 2026-12-07).
        var sealedStripped = false
        var pending: [Decision] = []
        var lastEvent: UpstreamEvent?
        var usageRecorded = false
        /// The body the next attempt sends: the prepared one, or a replay without the anchor.
        var body: [UInt8] = []
        /// The full input the next attempt sends, when it was rebuilt from the transcript.
        var fullInput: [UInt8]?
        /// The request's own `input` is the whole conversation (no anchor): the transcript takes it as is.
        var inputIsComplete = false
        /// The request still carries `previous_response_id`.
        var anchorInBody = false
        /// The account the affinity map says produced the anchor, if it knows.
        var anchorOwner: Int?
        /// The account this request should go back to: the anchor's owner (affinity map), or the account
        /// a refresh or continuity retry happened on. A preference; selection may still move on.
        var preferredAccount: Int?
        /// `response.output_item.done` items by output index, for the transcript cache.
        var outputItems: [(index: Int, item: [UInt8])] = []
        var responseID: String?
        /// The credential generation used by the current attempt (compare-and-set for refresh).
        var generation = 0
        var accountLabel: String?
        var status = 0
    }

    let ctx: ProxyContext
    let route: ProxyRoute
    let responder: HTTPResponder
    let requestQuery: String?
    let started: Double
    let trace: TraceContext
    let serverSpan: Span
    let prepared: Prepared
    let state = Mutex(State())

    init(
        ctx: ProxyContext,
        route: ProxyRoute,
        responder: HTTPResponder,
        query: String?,
        prepared: Prepared,
        trace: TraceContext,
        serverSpan: Span
    ) {
        self.ctx = ctx
        self.route = route
        self.responder = responder
        self.requestQuery = query
        self.prepared = prepared
        self.trace = trace
        self.serverSpan = serverSpan
        started = ctx.monotonic()
    }

    /// Starts the first attempt and arranges for a client disconnect to cancel the upstream transfer.
    /// An anchor another principal owns is answered at once as not found, and one already known dead as
    /// `stream_incomplete`; an anchor's account comes from the affinity map.
    func start() {
        ctx.metrics.inFlightRequests.add(1)
        state.withLock { s in
            s.body = prepared.body
            s.anchorInBody = prepared.anchor != nil
            s.inputIsComplete = prepared.anchor == nil
        }
        if let anchor = prepared.anchor {
            let now = Int64(ctx.now())
            // Before anything else about the anchor: another principal learns nothing of it, dead or alive.
            if let owner = ctx.foreignOwner(of: anchor, requester: prepared.principalPseudonym, now: now) {
                ctx.recordForeignAnchor(
                    transport: "http",
                    requester: prepared.principalPseudonym,
                    owner: owner,
                    span: serverSpan,
                    trace: trace
                )
                respondError(.previousResponseNotFound)
                return
            }
            if ctx.affinity.isDead(responseID: anchor, now: now) {
                recordNow(.deadAnchor, .attempted, reason: "previous_response_not_found")
                recordNow(.deadAnchor, .gaveUp, reason: "previous_response_not_found")
                respondError(.streamIncomplete)
                return
            }
            switch ctx.affinity.lookup(responseID: anchor, now: now) {
            case .hit(let entry) where entry.accountIndex < ctx.pool.accounts.count:
                state.withLock { s in
                    s.preferredAccount = entry.accountIndex
                    s.anchorOwner = entry.accountIndex
                }
            case .hit, .miss, .expired:
                recordNow(.affinityMiss, .attempted, reason: "anchor_owner_unknown")
                state.withLock { $0.pending.append(.affinityMiss) }
            }
        }
        responder.onClose { [self] in
            let transfer = state.withLock { s -> UpstreamTransfer? in
                s.clientClosed = true
                return s.finished ? nil : s.transfer
            }
            transfer?.cancel()
        }
        startAttempt()
    }
}
