/// The backend's reasoning items as the simulator models them when `reasoningItems` is on: the reasoning item an
/// answer carries, and the input reasoning (or compaction) items the backend refuses.
///
/// A reasoning model answers with a `reasoning` item before its own whether or not the client asked for it, but the
/// item's `encrypted_content` (the reasoning itself, sealed for the account that produced it) comes only when the
/// request's `include` names `reasoning.encrypted_content`; without it the item is an id and a summary, as the real
/// API sends it to a client such as the OpenAI Python SDK, which does not ask. Sent back as input, sealed content is
/// read only by the account that sealed it (another one: 400 `invalid_encrypted_content`), and an item without
/// content can only be looked up by its id, which with `store:false` the backend never kept: 404
/// `invalid_request_error`, param `input`, code null, "Item with id 'rs_…' not found. Items are not persisted when
/// `store` is set to false. …". The simulator persists nothing (it refuses `store:true`), so every such reference is
/// refused that way.
///
/// It does not model reasoning a stored response kept (`store:true`), nor items other than `reasoning` looked up by
/// id. Pure: decides, never records or answers. Concurrency: stateless; `Sendable`.
enum SimulatedReasoning {
    /// How content an account sealed begins: only that account reads it.
    static func sealPrefix(_ account: String) -> String { "gAAAA-sim-sealed-\(account)-" }

    /// The reasoning item of `account`'s answer to `request`: sealed content only when `include` asks for it.
    static func outputItem(
        _ request: SimulatedRequest,
        account: String,
        suffix: String
    ) -> ResponseEventBuilder.Reasoning {
        request.includesEncryptedReasoning ? .sealed(sealPrefix(account) + suffix) : .withoutContent
    }

    /// The backend's refusal of `request`'s input reasoning and compaction items on `account`; nil when it reads
    /// them all. The real backend's order between the two refusals is not known; a reference to an item it did not
    /// keep is answered first here, as an input it cannot even assemble.
    static func refusal(_ request: SimulatedRequest, account: String) -> (status: Int, body: [UInt8])? {
        if let id = request.reasoningReferences.first {
            return (404, ErrorBodies.itemNotPersisted(id: id))
        }
        if let foreign = request.sealedContent.first(where: { !$0.hasPrefix(sealPrefix(account)) }) {
            let body = ErrorBodies.invalidRequest(
                "The encrypted content \(foreign.prefix(12))... could not be verified.",
                code: "invalid_encrypted_content"
            )
            return (400, body)
        }
        return nil
    }
}
