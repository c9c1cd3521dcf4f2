import HTTPServer
import Synchronization

/// The simulator's decisions for every route: given a request, what goes on the wire.
///
/// It authenticates, validates, picks a fault, computes cached tokens and usage, plans the answer and
/// records the request in the log, all under one lock, and returns a `SimulatorOutcome`. It does no I/O
/// and reads time only through the injected `clock`, so tests drive it without sockets.
/// Concurrency: `Sendable`; all state is in `state` behind a `Mutex`. Body parsing happens outside it.
final class SimulatorEngine: Sendable {
    let configuration: SimulatorConfiguration
    let clock: @Sendable () -> Double
    /// Random per instance so ids of two simulator runs never collide.
    let instanceTag: UInt64
    let state: Mutex<SimulatorState>

    init(configuration: SimulatorConfiguration, clock: @escaping @Sendable () -> Double) {
        self.configuration = configuration
        self.clock = clock
        self.instanceTag = UInt64.random(in: 0..<(1 << 32))
        self.state = Mutex(SimulatorState(configuration: configuration, now: clock()))
    }

    /// Which Responses route a request came in on.
    struct Route: Sendable, Equatable {
        var mode: TokenLedger.Mode
        var compact: Bool
    }

    static func bearer(_ headers: HTTPHeaders) -> String? {
        guard let value = headers["authorization"] else { return nil }
        let trimmed = value.trimmingCharacters(in: " \t")
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        return trimmed.dropFirst(7).trimmingCharacters(in: " \t")
    }

    /// The record skeleton every route fills in.
    func record(method: String, path: String, headers: HTTPHeaders, bodyBytes: Int) -> RequestRecord {
        RequestRecord(
            time: clock(),
            method: method,
            path: path,
            status: 0,
            hasPreviousResponseId: false,
            inputItemCount: 0,
            inputBytes: 0,
            bodyBytes: bodyBytes,
            hasAuthorization: headers.contains("authorization"),
            headerNames: headers.entries.map { $0.name.lowercased() }
        )
    }

    func baseHeaders(model: String?, requestId: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add("x-request-id", requestId)
        if let model { headers.add("openai-model", model) }
        return headers
    }

    /// Handles `POST …/responses` and `POST …/responses/compact`.
    func responses(route: Route, path: String, headers: HTTPHeaders, body: [UInt8]) -> SimulatorOutcome {
        var rec = record(method: "POST", path: path, headers: headers, bodyBytes: body.count)
        let parsed: SimulatedRequest
        do {
            let decoded = try SimulatedContentEncoding.decode(body, contentEncoding: headers["content-encoding"])
            parsed = try SimulatedRequest.parse(body: decoded, headers: headers, path: path)
        } catch let error as SimulatorRequestError {
            return finish(&rec, status: 400, headers: HTTPHeaders(), body: ErrorBodies.invalidRequest(error.message))
        } catch {
            return finish(&rec, status: 400, headers: HTTPHeaders(), body: ErrorBodies.invalidRequest("Bad request."))
        }
        rec.model = parsed.model
        rec.promptCacheKey = parsed.promptCacheKey
        rec.sessionId = headers["session-id"] ?? headers["session_id"]
        rec.hasPreviousResponseId = parsed.previousResponseId != nil
        rec.inputItemCount = parsed.inputItemCount
        rec.inputBytes = parsed.canonicalInput.count
        rec.stream = parsed.stream
        rec.turnState = headers["x-codex-turn-state"]
        var headerFault: SimulatedFault?
        if let value = headers["x-sim-fault"] {
            guard let fault = SimulatedFault.parseHeader(value) else {
                let message = "Unknown simulator fault in x-sim-fault: \(value)"
                return finish(
                    &rec,
                    status: 400,
                    headers: HTTPHeaders(),
                    body: ErrorBodies.invalidRequest(message, code: "unknown_sim_fault")
                )
            }
            headerFault = fault
        }
        let now = clock()
        return state.withLock { state in
            plan(route: route, parsed, headers: headers, headerFault: headerFault, now: now, rec: &rec, state: &state)
        }
    }

    /// Stores the record with its final status and returns a complete response; takes the lock.
    func finish(_ rec: inout RequestRecord, status: Int, headers: HTTPHeaders, body: [UInt8]) -> SimulatorOutcome {
        var local = rec
        defer { rec = local }
        return state.withLock { complete(&local, &$0, status: status, headers: headers, body: body) }
    }

    /// The turn state a streamed answer carries (`x-codex-turn-state`; over WebSocket its `response.metadata`
    /// frame): derived from the response's id suffix, so each response has its own and a test can tell which
    /// response's token a later request echoed.
    static func turnState(suffix: String) -> String { "ts_sim_" + suffix }

    func nextIds(_ state: inout SimulatorState) -> (response: String, suffix: String, request: String) {
        state.responseCounter += 1
        let suffix = JSONText.hex(instanceTag, digits: 8) + JSONText.hex(state.responseCounter, digits: 8)
        return ("resp_sim_" + suffix, suffix, "req_sim_" + suffix)
    }
}
