/// A quota signal as `accounts.json` keeps it (`AccountStoreEntry.Quota`: percent used, whole-second resets) and
/// back. The window lengths are not kept; nothing ranks by them.
extension QuotaSignal {
    init(stored: AccountStoreEntry.Quota) {
        self.init()
        primary.usedRatio = stored.primaryUsedPercent.map { $0 / 100 }
        primary.resetAt = stored.primaryResetAt.map(Double.init)
        secondary.usedRatio = stored.secondaryUsedPercent.map { $0 / 100 }
        secondary.resetAt = stored.secondaryResetAt.map(Double.init)
    }

    func stored(observedAt: Int64) -> AccountStoreEntry.Quota {
        AccountStoreEntry.Quota(
            primaryUsedPercent: primary.usedRatio.map { $0 * 100 },
            secondaryUsedPercent: secondary.usedRatio.map { $0 * 100 },
            primaryResetAt: primary.resetAt.flatMap { Int64(exactly: $0.rounded()) },
            secondaryResetAt: secondary.resetAt.flatMap { Int64(exactly: $0.rounded()) },
            observedAt: observedAt
        )
    }
}
