import LogRedaction

extension ProxyContext {
    /// The anchor's owner when it is not `requester` (`AnchorOwnership`): the affinity map remembers owners
    /// longest (`AffinityMap.ownerTTL`), the transcript cache holds them while it holds the transcript.
    /// Nil when the request may continue the anchor. Skips the lookups for an anonymous request.
    func foreignOwner(of anchor: String, requester: String?, now: Int64) -> String? {
        guard requester != nil else { return nil }
        let owner = affinity.owner(of: anchor, now: now) ?? transcripts.metadata(for: anchor)?.owner
        return AnchorOwnership.isForeign(owner: owner, requester: requester) ? owner : nil
    }

    /// Records a refused foreign anchor: one counter increment, one span event and one log line, with the
    /// pseudonyms of both principals (never the anchor: a `resp_` id is not logged).
    func recordForeignAnchor(transport: String, requester: String?, owner: String, span: Span?, trace: TraceContext?) {
        metrics.foreignAnchorRefusals(transport: transport).increment()
        var attributes = [
            LogAttribute("sightline.transport", .string(transport)),
            LogAttribute("sightline.anchor.owner", .pseudonym(owner)),
        ]
        if let requester { attributes.append(LogAttribute("sightline.principal", .pseudonym(requester))) }
        span?.addEvent("sightline.foreign_anchor", attributes)
        logger.log(.warn, "foreign anchor refused", event: "sightline.foreign_anchor", trace: trace, attributes)
    }
}
