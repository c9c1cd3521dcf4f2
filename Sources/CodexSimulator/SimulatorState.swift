/// All mutable state of one simulator: credentials, cache, faults, usage, the request log and the ids
/// of responses it produced.
///
/// A plain value so `/__sim/reset` is one assignment and tests can build one directly. Owned by
/// `SimulatorEngine` inside its `Mutex`. Concurrency: a value type; `Sendable`.
struct SimulatorState: Sendable {
    var ledger: TokenLedger
    var cache: PromptCacheModel
    var faults = FaultSchedule()
    var usage: UsageMeter
    var log = RequestLog()
    var responseCounter: UInt64 = 0
    /// Ids this simulator produced, for `httpAnchorsResolve` (bounded FIFO).
    var knownResponses: Set<String> = []
    var knownOrder: [String] = []

    init(configuration: SimulatorConfiguration, now: Double) {
        ledger = TokenLedger(
            accounts: configuration.accounts,
            accessTokenLifetime: Double(configuration.accessTokenLifetimeSeconds),
            now: now
        )
        cache = PromptCacheModel(minimumTokens: configuration.cacheMinimumTokens)
        usage = UsageMeter(
            primaryBudget: configuration.primaryWindowTokenBudget,
            secondaryBudget: configuration.secondaryWindowTokenBudget
        )
    }

    mutating func remember(responseId: String) {
        knownResponses.insert(responseId)
        knownOrder.append(responseId)
        if knownOrder.count > 20_000 {
            for id in knownOrder.prefix(10_000) { knownResponses.remove(id) }
            knownOrder.removeFirst(10_000)
        }
    }
}
