/// One fault the simulator can inject, with its parameters.
///
/// Faults come from three places (see `FaultSchedule`): the request header `x-sim-fault: <name>[;k=v]…`,
/// the admin queue (`POST /__sim/faults`) and the random soak mode. What each one puts on the wire is
/// decided by `SimulatorEngine` and documented in docs/simulator.md. Unknown names are rejected at parse
/// time, so a typo in a test fails loudly instead of silently passing.
/// Concurrency: a value type; `Sendable`.
struct SimulatedFault: Sendable, Equatable, Codable {
    enum Kind: String, Sendable, CaseIterable, Codable {
        case usageLimit = "usage_limit"
        case rateLimitNoCode = "rate_limit_no_code"
        case tokenInvalidated = "token_invalidated"
        case unauthorized
        case paymentRequired = "payment_required"
        case forbidden
        case serverError = "server_error"
        case badGateway = "bad_gateway"
        case overloaded
        case streamCut = "stream_cut"
        case silence
        case slow
        case previousResponseNotFound = "previous_response_not_found"
        case previousResponseNotFoundInStream = "previous_response_not_found_in_stream"
        case responseFailed = "response_failed"
        case responseIncomplete = "response_incomplete"
        case connectionReset = "connection_reset"
        case tokenServerError = "token_server_error"

        /// True for faults of the token endpoint; the others apply to `/responses` requests.
        var isTokenEndpointFault: Bool { self == .tokenServerError }

        /// True for faults that shape a 200 stream instead of answering before it: a non-streamed answer
        /// (`/responses/compact`) cannot apply them.
        var shapesStream: Bool {
            switch self {
            case .streamCut, .silence, .slow, .responseFailed, .responseIncomplete, .previousResponseNotFoundInStream:
                return true
            case .usageLimit, .rateLimitNoCode, .tokenInvalidated, .unauthorized, .paymentRequired, .forbidden,
                .serverError, .badGateway, .overloaded, .previousResponseNotFound, .connectionReset, .tokenServerError:
                return false
            }
        }
    }

    var kind: Kind
    /// Free-form parameters (`after`, `ms`, `code`, `resets_in_seconds`, `id`, `mode`, `message`, `stage`).
    var parameters: [String: String]

    /// Answers a WebSocket upgrade instead of the 101 (`stage=handshake`), as an HTTP request would be answered.
    var isHandshakeFault: Bool { parameters["stage"] == "handshake" }

    /// Something can take this fault: a handshake fault must be one an upgrade can answer (a status or a reset),
    /// since only an upgrade takes it. A stream fault there would be taken and dropped (the 101 goes out), and a
    /// token-endpoint one never taken at all.
    var isApplicable: Bool { !isHandshakeFault || !(kind.shapesStream || kind.isTokenEndpointFault) }

    init(_ kind: Kind, _ parameters: [String: String] = [:]) {
        self.kind = kind
        self.parameters = parameters
    }

    var name: String { kind.rawValue }

    /// The parameter as an integer: integer text, or any JSON number truncated toward zero (the admin API keeps
    /// `2.5` as its text). Nil when absent or not a number.
    func int(_ key: String) -> Int? {
        guard let text = parameters[key] else { return nil }
        if let value = Int(text) { return value }
        guard JSONText.isNumber(text), let value = Double(text) else { return nil }
        // Out of range saturates, so the caller's bound applies (`resets_in_seconds=1e20`: ten years) rather than
        // the default, as if the parameter had not been given.
        if value >= Double(Int.max) { return .max }
        if value <= Double(Int.min) { return .min }
        return Int(value.rounded(.towardZero))
    }

    /// Parses `name[;key=value]…` (the `x-sim-fault` header). Returns nil for an unknown name.
    static func parseHeader(_ value: String) -> SimulatedFault? {
        let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
        guard let first = parts.first, let kind = Kind(rawValue: first) else { return nil }
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            guard let eq = part.firstIndex(of: "=") else { continue }
            parameters[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return SimulatedFault(kind, parameters)
    }

    /// Builds a fault from an admin JSON object: `fault` names it, every other scalar field except
    /// `account` and `count` becomes a parameter.
    static func fromAdmin(_ object: [String: Any]) -> SimulatedFault? {
        guard let name = object["fault"] as? String, let kind = Kind(rawValue: name) else { return nil }
        var parameters: [String: String] = [:]
        for (key, value) in object where !["fault", "account", "count"].contains(key) {
            switch value {
            // Int before Bool: JSONSerialization yields NSNumber, which bridges 1 to `true` as well.
            case let s as String: parameters[key] = s
            case let n as Int: parameters[key] = String(n)
            // Any other number keeps its text (`1e20` reads as `1e+20`), which `resets_at` writes verbatim and
            // `int(_:)` reads back. `String(Int(d))` trapped on a number outside `Int`'s range.
            case let d as Double: parameters[key] = String(d)
            case let b as Bool: parameters[key] = b ? "true" : "false"
            default: continue
            }
        }
        return SimulatedFault(kind, parameters)
    }
}

extension StringProtocol {
    /// Trims the characters of `set` (ASCII) from both ends, without Foundation's CharacterSet.
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
