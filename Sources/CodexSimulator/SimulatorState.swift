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
    /// Carried over by `/__sim/reset`, so ids never repeat within one simulator instance.
    var responseCounter: UInt64 = 0
    /// Ids this simulator produced, each with the account that produced it (`"<account>\u{0}<id>"`), for
    /// `httpAnchorsResolve` (bounded FIFO): like the API, where a response id is scoped to its organisation,
    /// an id resolves only on the account that produced it.
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

    mutating func remember(responseId: String, account: String) {
        let key = account + "\u{0}" + responseId
        knownResponses.insert(key)
        knownOrder.append(key)
        if knownOrder.count > 20_000 {
            for id in knownOrder.prefix(10_000) { knownResponses.remove(id) }
            knownOrder.removeFirst(10_000)
        }
    }

    func knows(responseId: String, account: String) -> Bool {
        knownResponses.contains(account + "\u{0}" + responseId)
    }
}
