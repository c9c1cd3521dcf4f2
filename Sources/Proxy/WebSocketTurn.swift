import LogRedaction

/// One `response.create` of a downstream WebSocket, from its client frame to the terminal event (or
/// the error frame) sent back: what was asked, what was sent upstream, and how far it got.
///
/// A value owned by `WebSocketSession` and only touched on its queue.
struct WebSocketTurn {
    /// The client's frame, as received.
    var clientFrame: [UInt8]
    var anchor: String?
    var model: String?
    /// False for Codex's prewarm (`generate:false`).
    var generate: Bool
    /// The client's `input` array (`[]` when absent).
    var newItems: [UInt8]
    /// The whole conversation this turn stands for (transcript expansion + new items), when known; what
    /// a replay sends and what the transcript cache stores for this turn's response.
    var fullInput: [UInt8]?
    var continuityKey: ContinuityKey?
    var sessionPseudonym: String?
    var started: Double
    var span: Span

    /// Upstream sends so far (the first included).
    var attempts = 0
    /// The account of the upstream send whose outcome `sightline_upstream_attempts_total` has not counted yet.
    var attemptAccount: Int?
    var excluded = Set<Int>()
    /// The account the anchor was minted on (affinity hit), preferred by selection.
    var preferredAccount: Int?
    /// Accounts whose token this turn refreshed: one refresh per account (a 401 from another account is refreshed,
    /// not read as one a refresh did not cure).
    var refreshedAccounts = Set<Int>()
    /// A replay or strip already happened (the loop guard).
    var replayed = false
    /// The sealed reasoning items were stripped (`reasoning_strip`, first step).
    var reasoningStripped = false
    /// The sealed compaction items were stripped too (second step).
    var compactionStripped = false
    /// Reasoning items without content were left out of a frame to a ChatGPT account (`reasoning_strip`,
    /// `reference_only`): recorded on the first such send only.
    var referenceOnlyStripped = false
    /// The client's frame holds reasoning without content (`JSONTopLevel.reasoningWithoutContent`, counted in the
    /// scan every frame gets): only then is a frame to a ChatGPT account parsed item by item to leave it out.
    var holdsReasoningWithoutContent = false
    /// The `previous_response_id` of the frame actually sent, nil after a replay.
    var sentAnchor: String?
    var sentAt = 0.0
    /// When the current attempt last heard from the upstream (monotonic); nil before its first frame.
    var lastFrameAt: Double?
    /// The link that carries the turn now.
    var linkSerial: Int?
    var accountLabel: String?
    var firstEventSeen = false
    /// An event of this turn reached the client: no recovery from here on.
    var committed = false
    /// Frames held until the first meaningful event (`response.created`, `response.metadata`, …).
    var held: [[UInt8]] = []
    /// `response.output_item.done` items, by `output_index`.
    var items: [(index: Int, bytes: [UInt8])] = []
    /// Decisions waiting for their `succeeded` / `gave_up`.
    var pending: [Decision] = []
    var reusedSession = false
}
