/// Decides which fault, if any, applies to the next request of an account.
///
/// Precedence: the request's own `x-sim-fault` header, then the admin queue in the order faults were
/// queued (an entry for a named account or for any account, each with a remaining count), then the random
/// soak mode, then the standing fault (one fault for every request nothing else chose: the benchmark's
/// pacing, which also reaches WebSocket frames, where no request header can). Token-endpoint faults are only
/// taken by token requests (whose account is the one their refresh token belongs to) and the others only by
/// `/responses`. A fault with `stage=handshake` is only taken
/// by a WebSocket upgrade, which answers it instead of the 101, and an upgrade takes no other. A request answered
/// without a stream (`/responses/compact`, answered with JSON, and a WebSocket prewarm) takes only faults that
/// answer before the body; a stream fault stays queued for the next streamed request.
///
/// Pure: no I/O, no clock; the random mode uses its own seeded generator so a soak run is reproducible.
/// Concurrency: a value type, owned by `SimulatorState` under its lock.
struct FaultSchedule: Sendable {
    struct Entry: Sendable, Equatable {
        /// nil: the next matching request of any account.
        var account: String?
        var fault: SimulatedFault
        var remaining: Int
    }

    struct RandomMode: Sendable, Equatable {
        var probability: Double
        var faults: [SimulatedFault]
    }

    private(set) var queue: [Entry] = []
    private(set) var random: RandomMode?
    /// Applies to every request no header, queue entry or random draw gave a fault.
    var standing: SimulatedFault?
    private var generator = SplitMix64(seed: 1)

    mutating func enqueue(account: String?, fault: SimulatedFault, count: Int) {
        guard count > 0 else { return }
        queue.append(Entry(account: account, fault: fault, remaining: count))
    }

    /// Turns the random mode on (`probability` > 0 and at least one fault) or off.
    mutating func setRandom(probability: Double, faults: [SimulatedFault], seed: UInt64) {
        random = probability > 0 && !faults.isEmpty ? RandomMode(probability: min(1, probability), faults: faults) : nil
        generator = SplitMix64(seed: seed)
    }

    mutating func reset() {
        queue = []
        random = nil
        standing = nil
    }

    /// The fault for this request, consuming one count of a queued entry if that is where it came from.
    /// `handshake`: the request is a WebSocket upgrade. `withoutStream`: it is answered without a stream
    /// (`/responses/compact`, a WebSocket prewarm).
    mutating func next(
        account: String?,
        header: SimulatedFault?,
        tokenEndpoint: Bool,
        handshake: Bool = false,
        withoutStream: Bool = false
    ) -> SimulatedFault? {
        func applies(_ fault: SimulatedFault) -> Bool {
            fault.kind.isTokenEndpointFault == tokenEndpoint && fault.isHandshakeFault == handshake
                && !(withoutStream && fault.kind.shapesStream)
        }
        if let header, applies(header) { return header }
        if let index = queue.firstIndex(where: { applies($0.fault) && ($0.account == nil || $0.account == account) }) {
            let fault = queue[index].fault
            queue[index].remaining -= 1
            if queue[index].remaining == 0 { queue.remove(at: index) }
            return fault
        }
        let standing = standing.flatMap { applies($0) ? $0 : nil }
        guard let random else { return standing }
        let candidates = random.faults.filter(applies)
        guard !candidates.isEmpty else { return standing }
        // Draw both numbers every time so the sequence depends only on the seed and the request count.
        let roll = generator.nextUnit()
        let pick = Int(generator.next() % UInt64(candidates.count))
        return roll < random.probability ? candidates[pick] : standing
    }
}

/// A small seeded generator (SplitMix64): reproducible soak runs without Foundation.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
}
